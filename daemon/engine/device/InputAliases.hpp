#pragma once
// Names for inputs that change with the desktop: "@input", the sound server's
// default input, and "@output", the monitor of its default output (what the
// user hears: the other side of a call). Resolved when a take starts.

#include "daemon/engine/device/AudioSystem.hpp"
#include "daemon/engine/device/DeviceInfo.hpp"

#include <string>
#include <vector>

namespace recd {

// The name, in `devices`, of the input an alias stands for, as selectDevice
// matches it exactly; any other query as it is. Throws DeviceNotFound naming
// what was looked for when the alias cannot be resolved: recd never records
// another source in its place.
std::string resolveInputAlias(AudioApi api, const std::string& query, const std::vector<DeviceInfo>& devices);

} // namespace recd
