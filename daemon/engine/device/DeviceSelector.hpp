#pragma once

#include "daemon/engine/device/DeviceInfo.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace recd {

// Picks the input device a query names, from a list of devices:
//   empty query          -> the default input device
//   exact id             -> that device
//   exact name           -> that device
//   case-insensitive substring of a name or id, matching one device -> that device
// An ambiguous substring throws DeviceNotFound listing the candidates; no match
// throws DeviceNotFound listing every input device. Devices without input
// channels are never chosen.
const DeviceInfo& selectDevice(const std::vector<DeviceInfo>& devices, std::string_view query);

// "pulse" + "Monitor of Foo (2)" -> "pulse:monitor-of-foo-2"
std::string deviceId(std::string_view api, std::string_view name);

// Gives each device its id, with "-2", "-3", ... appended where names collide.
void assignDeviceIds(std::vector<DeviceInfo>& devices, std::string_view api);

} // namespace recd
