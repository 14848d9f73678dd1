#include "daemon/engine/capture/CaptureOpener.hpp"

#include "common/Errors.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace recd {

DeviceInfo listedAgain(CaptureOpener& opener, const DeviceInfo& device)
{
    const auto devices = opener.devices();
    const auto it =
        std::find_if(devices.begin(), devices.end(), [&](const DeviceInfo& d) { return d.id == device.id; });
    if (it == devices.end())
        throw DeviceLost(fmt::format("the input device '{}' is not back (yet)", device.name));
    return *it;
}

} // namespace recd
