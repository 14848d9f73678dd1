#include "daemon/engine/session/Timeline.hpp"

#include <algorithm>

namespace recd {

void Timeline::request(Action action, std::uint64_t position)
{
    position = std::max(position, lastPosition_);
    lastPosition_ = position;
    if (action == Action::Stop) {
        stopRequested_ = true;
        stopPosition_ = position;
    }
    pending_.push_back({action, position});
}

void Timeline::stopNow(std::uint64_t position)
{
    stopRequested_ = true;
    stopped_ = true;
    stopPosition_ = position;
    applied_ += pending_.size();
    pending_.clear();
}

void Timeline::apply(Action action)
{
    ++applied_;
    switch (action) {
    case Action::Pause: paused_ = true; break;
    case Action::Resume: paused_ = false; break;
    case Action::Stop: stopped_ = true; break;
    }
}

std::vector<Timeline::Run> Timeline::select(std::uint64_t begin, std::uint64_t frames)
{
    std::vector<Run> runs;
    const std::uint64_t end = begin + frames;
    std::uint64_t at = begin;
    while (at < end && !stopped_) {
        while (!pending_.empty() && pending_.front().position <= at) {
            apply(pending_.front().action);
            pending_.pop_front();
        }
        if (stopped_)
            break;
        std::uint64_t next = end;
        if (!pending_.empty())
            next = std::min(next, pending_.front().position);
        if (!paused_ && kept_ < limit_) {
            const std::uint64_t n = std::min(next - at, limit_ - kept_);
            if (!runs.empty() && runs.back().offset + runs.back().frames == at - begin)
                runs.back().frames += n;
            else
                runs.push_back({at - begin, n});
            kept_ += n;
        }
        at = next;
    }
    // A mark exactly at the end of this chunk takes effect now, so a stop at the
    // last captured frame does not wait for another buffer.
    while (!pending_.empty() && pending_.front().position <= end) {
        apply(pending_.front().action);
        pending_.pop_front();
    }
    return runs;
}

} // namespace recd
