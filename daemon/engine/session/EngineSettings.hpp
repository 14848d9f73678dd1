#pragma once
// The engine's tunables: plain values from recd.toml, the same for every take.
// What a session calls back, and the services it is lent, are SessionHooks.

#include "daemon/engine/capture/AudioPacing.hpp"
#include "daemon/engine/device/AudioSystem.hpp"

#include <sys/types.h>

#include <chrono>

namespace recd {

struct EngineSettings {
    AudioApi api = AudioSystem::defaultApi();
    // Frames per callback ("buffer" or "chunk"): the audio API hands over this
    // many frames at a time (frames / rate: 2048 frames are 42.7 ms at 48 kHz,
    // 46.4 ms at 44.1 kHz). It is also the latency recd asks of the sound server,
    // which sets how often the server and every client in its graph wake, and a
    // start waits for the first buffer before it can say "capturing". 0: the
    // default, defaultBufferFrames (AudioPacing.hpp says why it is that large).
    unsigned bufferFrames = 0;
    unsigned framesPerBuffer() const { return bufferFrames ? bufferFrames : defaultBufferFrames; }
    // The ring between the callback and the writer: how long the disk may stall
    // before audio is dropped.
    double ringSeconds = 10.0;
    // How often the WAV header is brought up to date and the data synced, bounding
    // what a crash or power cut can lose.
    double syncInterval = 1.0;
    // "Started" means audio arrived; if none does within this, the start fails.
    std::chrono::milliseconds firstBufferTimeout{2000};
    // A running device that delivers nothing for this long is treated as lost.
    std::chrono::milliseconds silentDeviceTimeout{2000};
    mode_t fileMode = 0600;
};

} // namespace recd
