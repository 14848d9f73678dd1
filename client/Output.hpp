#pragma once
// How recctl shows what the daemon returns: plain text for people and scripts,
// or JSON with --json.

#include <nlohmann/json.hpp>
#include <sdbus-c++/Types.h>

#include <map>
#include <string>
#include <vector>

namespace recctl {

using Dict = std::map<std::string, sdbus::Variant>;

nlohmann::json toJson(const sdbus::Variant& v);
nlohmann::json toJson(const Dict& d);

std::string formatStatus(const Dict& status);
std::string formatDevices(const std::vector<Dict>& devices);
// "/abs/file.wav\t12.345": what stop (and toggle, when it stops) prints.
std::string formatStopped(const std::string& path, double seconds);

} // namespace recctl
