#pragma once
// Whether an input is a Bluetooth headset's microphone, which an open stream
// holds in its low-quality call profile (HSP/HFP) for as long as it is open.

#include "daemon/engine/device/AudioSystem.hpp"
#include "daemon/engine/device/DeviceInfo.hpp"

namespace recd {

// Asks the sound server (PulseAudio or pipewire-pulse) about the source the
// device is: Bluetooth when its device.bus is "bluetooth" or its name is BlueZ's
// (bluez_input.*, bluez_source.*). RtAudio names sources by their description,
// so that is what is matched. False when the server cannot be asked, and for
// ALSA, whose "default" says nothing of what is behind it.
bool isBluetoothInput(AudioApi api, const DeviceInfo& device);

} // namespace recd
