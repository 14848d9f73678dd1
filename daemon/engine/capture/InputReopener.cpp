#include "daemon/engine/capture/InputReopener.hpp"

#include "common/MonotonicClock.hpp"
#include "daemon/engine/Log.hpp"
#include "daemon/engine/ThreadName.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>

namespace recd {

InputReopener::InputReopener(std::size_t inputs, double seconds, Open open)
    : open_(std::move(open)), waitNs_(static_cast<std::int64_t>(seconds * 1e9)), deadlines_(inputs, 0),
      toStop_(inputs, nullptr), reopened_(inputs), thread_([this](std::stop_token stop) { run(stop); })
{
}

void InputReopener::lost(std::size_t i, CaptureSource& input)
{
    {
        std::lock_guard lock(mutex_);
        deadlines_.at(i) = monotonicNs() + waitNs_;
        toStop_.at(i) = &input;
    }
    changed_.notify_all();
}

std::unique_ptr<CaptureSource> InputReopener::take(std::size_t i)
{
    std::lock_guard lock(mutex_);
    return std::move(reopened_.at(i));
}

bool InputReopener::waiting(std::size_t i) const
{
    std::lock_guard lock(mutex_);
    return deadlines_.at(i) != 0 || reopened_.at(i) != nullptr;
}

void InputReopener::run(std::stop_token stop)
{
    nameThisThread("recd-reopen");
    std::unique_lock lock(mutex_);
    const auto anyLost = [this] {
        return std::any_of(deadlines_.begin(), deadlines_.end(), [](std::int64_t d) { return d != 0; });
    };
    while (!stop.stop_requested()) {
        // Asleep until an input is lost: no timer runs while all deliver.
        if (!changed_.wait(lock, stop, anyLost))
            return;
        for (std::size_t i = 0; i < deadlines_.size() && !stop.stop_requested(); ++i) {
            if (deadlines_[i] == 0)
                continue;
            // Stopping waits for the device: never under the lock the reader
            // takes.
            if (CaptureSource* lostInput = std::exchange(toStop_[i], nullptr)) {
                lock.unlock();
                lostInput->stop();
                lock.lock();
            }
            if (monotonicNs() > deadlines_[i]) {
                log().warn("input {} did not come back within {:.1f} s; its channels stay silent", i + 1,
                           static_cast<double>(waitNs_) / 1e9);
                deadlines_[i] = 0;
                continue;
            }
            // Opening waits for the first buffer: likewise.
            lock.unlock();
            std::unique_ptr<CaptureSource> input;
            try {
                input = open_(i, stop);
            } catch (const std::exception& e) {
                log().debug("reopening input {}: {}", i + 1, e.what());
            }
            lock.lock();
            if (input) {
                reopened_[i] = std::move(input);
                deadlines_[i] = 0;
            }
        }
        if (anyLost())
            changed_.wait_for(lock, stop, std::chrono::milliseconds(250), [] { return false; });
    }
}

} // namespace recd
