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

// What start, stop, toggle and wait print for a take: with json one object
// (path, and for a take that ended its duration, and `more`), else the line:
// the path, or formatStopped. A path the line cannot carry is refused
// (requireOneLine), saying that the take `happened` ("was stopped and saved").
std::string formatStarted(const std::string& path, bool json, nlohmann::json more = nlohmann::json::object());
std::string formatEnded(const std::string& path, double seconds, bool json, const std::string& happened,
                        nlohmann::json more = nlohmann::json::object());

} // namespace recctl
