#pragma once
// The levels the writer measures, handed to whoever shows them (the Level
// signal). The writer meters only while someone watches, hands a reading over
// about ten times a second, and the reader takes the newest. A mutex is fine
// here: both sides are ordinary threads, never the audio callback.

#include "daemon/engine/dsp/LevelMeter.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>

namespace recd {

class LevelHandOff {
public:
    void watch(bool on) noexcept { watched_.store(on, std::memory_order_relaxed); }
    bool watched() const noexcept { return watched_.load(std::memory_order_relaxed); }
    // Writer thread: hands over what `meter` measured if it measured anything
    // and a tenth of a second has passed since the last hand-over; true if it did.
    bool offer(LevelMeter& meter);
    // The newest reading not yet taken.
    std::optional<Levels> take();

private:
    std::atomic<bool> watched_{false};
    std::chrono::steady_clock::time_point lastOffer_ = std::chrono::steady_clock::now(); // writer thread
    std::mutex mutex_;
    std::optional<Levels> levels_; // guarded by mutex_
};

} // namespace recd
