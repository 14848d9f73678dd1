#include "daemon/engine/device/AudioSystem.hpp"

#include "daemon/engine/device/DeviceSelector.hpp"
#include "common/Errors.hpp"
#include "daemon/engine/Log.hpp"
#include "daemon/engine/device/RtAudioApi.hpp"

#include <RtAudio.h>

namespace recd {

std::optional<AudioApi> parseAudioApi(std::string_view name)
{
    if (name == "pulse" || name == "pulseaudio")
        return AudioApi::Pulse;
    if (name == "alsa")
        return AudioApi::Alsa;
    if (name == "pulse-native")
        return AudioApi::PulseNative;
    return std::nullopt;
}

std::string_view audioApiName(AudioApi api)
{
    switch (api) {
    case AudioApi::Pulse: return "pulse";
    case AudioApi::Alsa: return "alsa";
    case AudioApi::PulseNative: return "pulse-native";
    }
    return "pulse";
}

AudioApi AudioSystem::defaultApi()
{
    std::vector<RtAudio::Api> compiled;
    RtAudio::getCompiledApi(compiled);
    // RtAudio's PulseAudio input. recd's own (PulseNative) wakes half as
    // often, but two takes in two CI runs with it as the default held a
    // discontinuity (a 440 Hz tone read as 416 and 435 Hz), not yet explained:
    // it stays opt-in until that is.
    for (auto a : compiled)
        if (a == RtAudio::LINUX_PULSE)
            return AudioApi::Pulse;
    return AudioApi::Alsa;
}

std::vector<DeviceInfo> AudioSystem::devices() const
{
    std::vector<DeviceInfo> out;
    try {
        std::lock_guard lock(rtAudioDeviceListLock());
        RtAudio audio(toRtAudioApi(api_));
        audio.showWarnings(false);
        const unsigned count = audio.getDeviceCount();
        for (unsigned i = 0; i < count; ++i) {
            RtAudio::DeviceInfo info = audio.getDeviceInfo(i);
            if (!info.probed)
                continue;
            DeviceInfo d;
            d.name = info.name;
            d.index = i;
            d.inputChannels = info.inputChannels;
            d.sampleRates = info.sampleRates;
            d.preferredRate = info.preferredSampleRate;
            d.isDefault = info.isDefaultInput && info.inputChannels > 0;
            out.push_back(std::move(d));
        }
    } catch (const RtAudioError& e) {
        throw DeviceNotFound(fmt::format("cannot list {} audio devices: {}", audioApiName(api_), e.getMessage()));
    }
    // The native input lists and names PulseAudio's devices as RtAudio's does.
    assignDeviceIds(out, audioApiName(api_ == AudioApi::PulseNative ? AudioApi::Pulse : api_));
    return out;
}

} // namespace recd
