#include "daemon/engine/session/WriterRequests.hpp"

#include "common/MonotonicClock.hpp"

#include <algorithm>

namespace recd {

std::uint64_t WriterRequests::mark(Timeline::Action action, std::uint64_t position, std::int64_t deadlineNs)
{
    std::lock_guard lock(mutex_);
    marks_.emplace_back(action, position);
    if (action == Timeline::Action::Stop)
        stopDeadlineNs_ = deadlineNs;
    return ++marksAsked_;
}

void WriterRequests::waitApplied(std::uint64_t ticket, std::int64_t deadlineNs)
{
    std::unique_lock lock(mutex_);
    const auto timeout = std::chrono::nanoseconds(std::max<std::int64_t>(0, deadlineNs - monotonicNs()));
    answered_.wait_for(lock, timeout, [&] { return marksApplied_ >= ticket || ended(); });
}

bool WriterRequests::stopQueued() const
{
    std::lock_guard lock(mutex_);
    return std::any_of(marks_.begin(), marks_.end(),
                       [](const auto& m) { return m.first == Timeline::Action::Stop; });
}

std::uint64_t WriterRequests::askDrain()
{
    std::lock_guard lock(mutex_);
    return ++drainsAsked_;
}

void WriterRequests::waitDrained(std::uint64_t ticket, std::chrono::milliseconds timeout)
{
    std::unique_lock lock(mutex_);
    answered_.wait_for(lock, timeout, [&] { return drainsDone_ >= ticket || ended(); });
}

WriterRequests::Asked WriterRequests::collect()
{
    std::lock_guard lock(mutex_);
    Asked asked;
    asked.marks = std::exchange(marks_, {});
    asked.stopDeadlineNs = stopDeadlineNs_;
    asked.drainTicket = drainsAsked_;
    return asked;
}

void WriterRequests::applied(std::uint64_t count)
{
    {
        std::lock_guard lock(mutex_);
        marksApplied_ = count;
    }
    answered_.notify_all();
}

bool WriterRequests::drained(std::uint64_t ticket, std::int64_t nowNs)
{
    std::lock_guard lock(mutex_);
    lastDrainNs_.store(nowNs, std::memory_order_relaxed);
    if (drainsDone_ != ticket) {
        drainsDone_ = ticket;
        answered_.notify_all();
    }
    return !marks_.empty() || drainsAsked_ != drainsDone_;
}

void WriterRequests::end()
{
    {
        std::lock_guard lock(mutex_); // a wait that just checked ended() must not miss it
        ended_.store(true, std::memory_order_release);
    }
    answered_.notify_all();
}

} // namespace recd
