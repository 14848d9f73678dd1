#pragma once
// Private to the engine: the mapping from our API names to RtAudio's.

#include "AudioSystem.hpp"

#include <RtAudio.h>

namespace recd {

inline RtAudio::Api toRtAudioApi(AudioApi api)
{
    return api == AudioApi::Pulse ? RtAudio::LINUX_PULSE : RtAudio::LINUX_ALSA;
}

} // namespace recd
