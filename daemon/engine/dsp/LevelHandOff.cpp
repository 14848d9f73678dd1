#include "daemon/engine/dsp/LevelHandOff.hpp"

#include <utility>

namespace recd {

bool LevelHandOff::offer(LevelMeter& meter)
{
    // 90 ms, not 100: the writer passes with each 100 ms delivery, and a pass
    // a little early must not wait for the next.
    const auto now = std::chrono::steady_clock::now();
    if (meter.frames() == 0 || now - lastOffer_ < std::chrono::milliseconds(90))
        return false;
    lastOffer_ = now;
    std::lock_guard lock(mutex_);
    levels_ = meter.take();
    return true;
}

std::optional<Levels> LevelHandOff::take()
{
    std::lock_guard lock(mutex_);
    return std::exchange(levels_, std::nullopt);
}

} // namespace recd
