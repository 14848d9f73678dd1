#pragma once
// What a take's writer thread carries from one pass to the next: private to
// the writer's files (SessionWriter.cpp, SessionDevice.cpp).

#include "daemon/engine/capture/RingBuffer.hpp"
#include "daemon/engine/dsp/LevelMeter.hpp"
#include "daemon/engine/dsp/SilenceDetector.hpp"
#include "daemon/engine/session/CaptureSession.hpp"
#include "daemon/engine/session/Timeline.hpp"
#include "daemon/engine/session/UtteranceSplitter.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace recd {

struct CaptureSession::WriterPass {
    WriterPass(const CaptureFormat& format, double thresholdDbfs) : meter(format), sound(format, thresholdDbfs) {}

    Timeline timeline;
    std::size_t frameBytes = 0;
    RingBuffer* ring = nullptr;
    // Where the writer stands on the session's capture timeline. The ring frees
    // only what lies more than retainFrames_ behind it (a pre-roll keeps its last
    // seconds for the next take); ringTail_ is where the ring's reader stands, in
    // the current stream's own frame numbers.
    std::uint64_t consumed = 0;
    std::int64_t stopDeadline = 0;
    std::int64_t syncNs = 0;
    std::int64_t nextSyncNs = 0;
    std::uint64_t holdBackFrames = 0;
    std::uint32_t gapsSeen = 0;
    std::uint32_t overrunsSeen = 0;
    std::uint64_t appliedSeen = 0;
    std::uint64_t drainTicket = 0; // the catchUp() request this pass answers
    LevelMeter meter;
    SilenceDetector sound; // start_on_sound
    std::optional<SilenceDetector> silence; // stop_on_silence
    std::optional<UtteranceSplitter> utterances; // split_on_silence
};

} // namespace recd
