#pragma once
// The control side's requests of a session's writer thread, and its answers.
//
// A pause, resume or stop is a mark: an action at a capture frame, placed when
// it is asked for (Timeline), queued here and applied by the writer as it
// drains the ring. A drain is a ticket asking the writer to write all that has
// arrived, so that a duration read now is exact. Control calls wait here for
// the writer's answer; the writer collects what was asked once a pass. The
// audio callback never takes this lock: it only wakes the writer (WakeEvent).

#include "daemon/engine/session/Timeline.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

namespace recd {

class WriterRequests {
public:
    // --- the control side

    // Queues a mark and returns its ticket for waitApplied(). A stop's deadline
    // is when the writer gives up on frames that do not come and ends the file
    // where capture got to.
    std::uint64_t mark(Timeline::Action action, std::uint64_t position, std::int64_t deadlineNs);
    // Until the writer applied mark `ticket`, the session ended, or the deadline
    // (CLOCK_MONOTONIC) passed.
    void waitApplied(std::uint64_t ticket, std::int64_t deadlineNs);
    // A stop is queued that the writer has not collected yet.
    bool stopQueued() const;
    // Asks for a drain and returns its ticket for waitDrained().
    std::uint64_t askDrain();
    void waitDrained(std::uint64_t ticket, std::chrono::milliseconds timeout);
    // When the writer last found the ring empty but for what it holds back.
    std::int64_t lastDrainNs() const { return lastDrainNs_.load(std::memory_order_relaxed); }
    bool ended() const { return ended_.load(std::memory_order_acquire); }

    // --- the writer thread

    struct Asked {
        std::vector<std::pair<Timeline::Action, std::uint64_t>> marks;
        std::int64_t stopDeadlineNs = 0; // of the last stop asked, 0 if none
        std::uint64_t drainTicket = 0;   // the drain this pass answers
    };
    // What was asked since the last call: the marks move to the writer's timeline.
    Asked collect();
    // `count` marks have taken effect in the file, in the order they were asked.
    void applied(std::uint64_t count);
    // The ring is drained (but for what the writer holds back): answers drain
    // `ticket`. True if more was asked meanwhile, so the writer must not sleep.
    bool drained(std::uint64_t ticket, std::int64_t nowNs);
    // The writer is done; every wait returns.
    void end();

private:
    mutable std::mutex mutex_;
    std::condition_variable answered_; // marks applied, a drain done, or the end
    std::vector<std::pair<Timeline::Action, std::uint64_t>> marks_;
    std::uint64_t marksAsked_ = 0;
    std::uint64_t marksApplied_ = 0;
    std::uint64_t drainsAsked_ = 0;
    std::uint64_t drainsDone_ = 0;
    std::int64_t stopDeadlineNs_ = 0;
    std::atomic<std::int64_t> lastDrainNs_{0};
    std::atomic<bool> ended_{false};
};

} // namespace recd
