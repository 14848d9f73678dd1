#pragma once
// A stream that is already running, handed to a session by a pre-roll
// (StandbyInput) instead of the session opening one.

#include "daemon/engine/capture/CaptureSource.hpp"

#include <cstdint>
#include <functional>
#include <memory>

namespace recd {

struct RunningInput {
    std::unique_ptr<CaptureSource> stream; // null: the session opens its own
    std::uint64_t readFrame = 0;           // where the ring's reader stands, in the stream's frames
    // Frames the session leaves in the ring behind what it has written, so that
    // after the take the ring still holds the last seconds for the next pre-roll.
    std::uint64_t retainFrames = 0;
    // Takes the stream back when the take ends with the stream healthy, with where
    // the ring's reader then stands.
    std::function<void(std::unique_ptr<CaptureSource>, std::uint64_t readFrame)> giveBack;
};

} // namespace recd
