#pragma once
// Private to the engine: the mapping from our API names to RtAudio's.

#include "AudioSystem.hpp"

#include <RtAudio.h>

namespace recd {

inline RtAudio::Api toRtAudioApi(AudioApi api)
{
    return api == AudioApi::Alsa ? RtAudio::LINUX_ALSA : RtAudio::LINUX_PULSE; // PulseNative lists devices here too
}

} // namespace recd
