#pragma once

#include "daemon/engine/device/DeviceInfo.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace recd {

// Which of RtAudio's Linux back ends carries the audio. See README "Audio API"
// for what was measured: both deliver every frame once the stream runs; PulseAudio
// (also served by PipeWire) names real sources, where ALSA offers one "default".
// PulseNative: recd's own libpulse input (PulseInput.hpp) instead of RtAudio's,
// with the same devices as Pulse.
enum class AudioApi { Pulse, Alsa, PulseNative };

std::optional<AudioApi> parseAudioApi(std::string_view name);
std::string_view audioApiName(AudioApi api);

// The device layer: enumerates input devices of one API. Every call asks the
// audio system afresh, so devices plugged in since the last call show up.
class AudioSystem {
public:
    explicit AudioSystem(AudioApi api) : api_(api) {}

    // RtAudio's PulseAudio input where this RtAudio was built with it, else ALSA.
    static AudioApi defaultApi();

    AudioApi api() const { return api_; }
    std::vector<DeviceInfo> devices() const; // inputs and outputs; selectDevice() picks inputs

private:
    AudioApi api_;
};

} // namespace recd
