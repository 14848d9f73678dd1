#pragma once
// Private to the engine: the mapping from our API names to RtAudio's.

#include "daemon/engine/device/AudioSystem.hpp"

#include <RtAudio.h>

#include <mutex>

namespace recd {

inline RtAudio::Api toRtAudioApi(AudioApi api)
{
    return api == AudioApi::Alsa ? RtAudio::LINUX_ALSA : RtAudio::LINUX_PULSE; // PulseNative lists devices here too
}

// RtAudio 5.2's PulseAudio back end keeps its device list and the main loop that
// fills it in process-wide globals (rt_pa_info, rt_pa_mainloop_api). Two threads
// listing devices at once (ListDevices on the main thread, a start on the starter
// thread) could quit each other's loop, leaving one waiting forever, and opening
// a stream reads that list. Every RtAudio call that lists devices or opens a
// stream holds this lock.
inline std::mutex& rtAudioDeviceListLock()
{
    static std::mutex lock;
    return lock;
}

} // namespace recd
