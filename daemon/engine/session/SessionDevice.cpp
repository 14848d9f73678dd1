// The writer's watch over the device of a take: audio it dropped or paused,
// a device that failed or went silent, and its reconnection. The rest of the
// writer thread is SessionWriter.cpp.
#include "daemon/engine/session/CaptureSession.hpp"
#include "daemon/engine/session/WriterPass.hpp"

#include "common/Errors.hpp"
#include "daemon/engine/Log.hpp"
#include "common/MonotonicClock.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace recd {

// A source that pauses delivering (suspended, stalled) leaves a gap in time
// that the file cannot show: log where, and count it. Likewise audio dropped
// because the writer fell behind.
void CaptureSession::noteDrops(WriterPass& w)
{
    const double at = static_cast<double>(w.timeline.kept()) / plan_.rate;
    if (const std::uint32_t gaps = stream_->gaps(); gaps != w.gapsSeen) {
        const std::int64_t bufferNs = static_cast<std::int64_t>(stream_->bufferFrames()) * 1'000'000'000 /
                                      static_cast<std::int64_t>(plan_.rate);
        gaps_.fetch_add(gaps - w.gapsSeen, std::memory_order_relaxed);
        log().warn("'{}': the device delivered no audio for {} ms, at {:.3f} s in the file", plan_.destination.path().string(),
                   (stream_->lastGapNs() - bufferNs) / 1'000'000, at);
        w.gapsSeen = gaps;
    }
    if (const DropCounts drops = stream_->drops(); drops.overruns != w.overrunsSeen) {
        log().warn("'{}': the writer fell behind and {} frames were dropped so far ({} times), at {:.3f} s "
                   "in the file",
                   plan_.destination.path().string(), drops.overrunFrames, drops.overruns, at);
        w.overrunsSeen = drops.overruns;
    }
}

bool CaptureSession::delivering(std::int64_t now) const
{
    const std::int64_t silentNs = settings_.silentDeviceTimeout.count() * 1'000'000;
    return !stream_->failed() && now - stream_->progress().lastBufferNs <= silentNs;
}

CaptureSession::DeviceHealth CaptureSession::checkDevice(WriterPass& w, std::int64_t now)
{
    if (delivering(now))
        return DeviceHealth::Delivering;
    const bool failed = stream_->failed();
    // Several inputs reopen a lost one themselves (MergedSource), and fail
    // only once none is left or coming back.
    const bool reopens = plan_.reconnectSeconds > 0 && plan_.moreInputs.empty();
    if (reopens && reconnect(w.consumed)) {
        w.ring = &stream_->ring();
        ringTail_ = 0;
        w.gapsSeen = 0;
        w.overrunsSeen = 0;
        return DeviceHealth::Reconnected;
    }
    if (reopens && requests_.stopQueued()) {
        w.timeline.stopNow(w.consumed);
        return DeviceHealth::StoppedWhileAway;
    }
    const char* notBack = plan_.reconnectSeconds > 0 ? " and did not come back" : "";
    endBySelf(StopReason::DeviceLost,
              failed ? fmt::format("the input device '{}' failed{}", plan_.device.name, notBack)
                     : fmt::format("the input device '{}' delivered no audio for {} ms{}", plan_.device.name,
                                   settings_.silentDeviceTimeout.count(), notBack));
    return DeviceHealth::Lost;
}

bool CaptureSession::reconnect(std::uint64_t consumed)
{
    log().warn("'{}': lost the input device '{}'; waiting up to {:.1f} s for it to return", plan_.destination.path().string(),
               plan_.device.name, plan_.reconnectSeconds);
    // The lost stream stays current (status() reads its counters) until a new
    // one replaces it.
    stream_->stop();
    const std::int64_t lostAt = monotonicNs();
    const std::int64_t deadline = lostAt + static_cast<std::int64_t>(plan_.reconnectSeconds * 1e9);
    while (monotonicNs() < deadline && !requests_.stopQueued()) {
        try {
            auto stream = openStream(listedAgain(*opener_, plan_.device));
            std::lock_guard lock(streamMutex_);
            streamBase_.store(consumed);
            lostStreams_.push_back(std::move(stream_));
            stream_ = std::move(stream);
            gaps_.fetch_add(1, std::memory_order_relaxed);
            log().warn("'{}': the input device is back after {:.1f} s; recording goes on at {:.3f} s in the file",
                       plan_.destination.path().string(), (monotonicNs() - lostAt) / 1e9,
                       static_cast<double>(framesInFile_.load()) / plan_.rate);
            return true;
        } catch (const Error& e) {
            log().debug("reconnecting: {}", e.what());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return false;
}

} // namespace recd
