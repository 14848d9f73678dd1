#include "daemon/engine/device/BluetoothInput.hpp"

#include "daemon/engine/device/PulseSources.hpp"

namespace recd {

bool isBluetoothInput(AudioApi api, const DeviceInfo& device)
{
    if (api == AudioApi::Alsa)
        return false;
    const auto source = findPulseSource(device.name);
    return source && source->bluetooth;
}

} // namespace recd
