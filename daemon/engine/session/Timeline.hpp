#pragma once
// Decides which captured frames go into the file.
//
// Control requests (pause, resume, stop) are turned into absolute capture frame
// positions when they are made, and the writer applies them as it drains the ring.
// So a pause or stop cuts at the frame that was being captured when it was asked
// for, not at whatever the writer happened to have drained: the tail that was
// still in flight is kept, and paused audio never reaches the file, to the frame.

#include <cstdint>
#include <deque>
#include <limits>
#include <vector>

namespace recd {

class Timeline {
public:
    enum class Action { Pause, Resume, Stop };

    // Positions are clamped to be non-decreasing, in the order requests are made.
    void request(Action action, std::uint64_t position);
    // At most this many frames in the file (max_duration).
    void limit(std::uint64_t frames) { limit_ = frames; }

    struct Run {
        std::uint64_t offset; // from the start of the chunk
        std::uint64_t frames;
    };
    // The runs of the captured chunk [begin, begin + frames) that belong in the
    // file. Chunks must be given in order and without gaps.
    std::vector<Run> select(std::uint64_t begin, std::uint64_t frames);

    bool stopped() const { return stopped_; }         // a stop position was passed
    bool limitReached() const { return kept_ >= limit_; }
    bool paused() const { return paused_; }
    bool stopRequested() const { return stopRequested_; }
    // Requests not yet reached by the frames given to select().
    bool pending() const { return !pending_.empty(); }
    // Requests that have taken effect so far.
    std::uint64_t applied() const { return applied_; }
    std::uint64_t kept() const { return kept_; }
    // The capture position the file ends at, once a stop was requested.
    std::uint64_t stopPosition() const { return stopPosition_; }
    // Ends the file where capture got to (the device delivered no more).
    void stopNow(std::uint64_t position);

private:
    void apply(Action action);

    struct Mark {
        Action action;
        std::uint64_t position;
    };
    std::deque<Mark> pending_;
    std::uint64_t lastPosition_ = 0;
    std::uint64_t limit_ = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t kept_ = 0;
    std::uint64_t applied_ = 0;
    std::uint64_t stopPosition_ = 0;
    bool paused_ = false;
    bool stopped_ = false;
    bool stopRequested_ = false;
};

} // namespace recd
