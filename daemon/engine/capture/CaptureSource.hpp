#pragma once
// What a take reads audio from: a running input that fills a ring, keeps a clock
// of when its frames were captured, and counts what it dropped. CaptureStream is
// the one on a device (RtAudio or recd's own PulseAudio input); a test feeds the
// session from one of its own (tests/support/FakeCaptureSource.hpp), which is
// why the writer, the marks and the splits can be tested to the frame without a
// sound server.

#include "common/MonotonicClock.hpp"
#include "daemon/engine/CaptureFormat.hpp"
#include "daemon/engine/capture/RingBuffer.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace recd {

// Where capture stands: how many frames have been pushed into the ring, and
// when (CLOCK_MONOTONIC) the last buffer arrived. Read together, consistently.
struct CaptureProgress {
    std::uint64_t framesPushed = 0;
    std::int64_t lastBufferNs = 0;
    std::int64_t firstBufferNs = 0;
    // The stream's clock against CLOCK_MONOTONIC: clockFrames have arrived (into
    // the ring or dropped by an overrun), and frame n arrives, at the mean delay
    // seen lately, at anchorNs + n / rate. See CaptureStream::Core::publish.
    std::uint64_t clockFrames = 0;
    std::int64_t anchorNs = 0;
    // The least delayed buffers: what a buffer's arrival, less the frames up
    // to its end, says about when frame 0 was captured, for the buffer that
    // came closest (the lowest) in each of the last two whole quarter seconds
    // of the clock, the earlier first. See zeroAt.
    struct LeastDelayed {
        std::int64_t arrivedNs = 0; // 0: none yet
        std::int64_t zeroNs = 0;
    };
    LeastDelayed leastDelayed[2];
};

// When the source's frame 0 was captured, as its least delayed buffers put it
// at the instant `ns`: on the line through the two, so that sources compared
// at one instant are compared alike while the delay a server adds moves
// (PulseAudio's null sink moved it 5 ms a second in a take's first second).
// 0 until a quarter second has passed.
inline std::int64_t zeroAt(const CaptureProgress& p, std::int64_t ns) noexcept
{
    const auto& [a, b] = p.leastDelayed;
    if (a.arrivedNs == 0 || b.arrivedNs <= a.arrivedNs)
        return b.arrivedNs ? b.zeroNs : a.zeroNs;
    const double along = static_cast<double>(ns - a.arrivedNs) / static_cast<double>(b.arrivedNs - a.arrivedNs);
    return a.zeroNs + static_cast<std::int64_t>(along * static_cast<double>(b.zeroNs - a.zeroNs));
}

// Audio a source lost, counted where it was lost.
struct DropCounts {
    std::uint32_t overruns = 0;       // deliveries that found the ring full
    std::uint64_t overrunFrames = 0;  // frames those deliveries dropped
    std::uint32_t inputOverflows = 0; // buffers the audio API said it lost
    DropCounts& operator+=(const DropCounts& o)
    {
        overruns += o.overruns;
        overrunFrames += o.overrunFrames;
        inputOverflows += o.inputOverflows;
        return *this;
    }
};

// What one input of a source has been through: for a source of several
// inputs (MergedSource), one each, in order.
struct InputReport {
    DropCounts drops;
    std::uint32_t gaps = 0;
    double driftPpm = 0;    // how much faster its clock runs than the first input's, as measured
    bool corrected = false; // its drift is resampled away
    // Of one input among several: the source's frame where it last stopped
    // delivering while the others went on (-1: never), and the frames of
    // silence that stood in for it.
    std::int64_t lastGapFrame = -1;
    std::uint64_t silentFrames = 0;
};

class CaptureSource {
public:
    virtual ~CaptureSource() = default;

    // Stops delivering. Never throws, and does not wait long for a device
    // (CaptureStream::stop).
    virtual void stop() noexcept = 0;

    // The ring the source fills and the reader drains.
    virtual RingBuffer& ring() noexcept = 0;
    virtual const CaptureFormat& format() const noexcept = 0;
    // Frames per buffer the source hands over.
    virtual unsigned bufferFrames() const noexcept = 0;

    // The reader's wake-up: posted each time at least `everyFrames` have been
    // pushed since the last post (0: never, the default), so that the reader
    // sleeps until there is enough to write instead of polling. wakeReader()
    // posts it at once (a control request); waitForAudio() is the reader's wait.
    virtual void wakeReaderEvery(std::uint64_t everyFrames) noexcept = 0;
    virtual void wakeReader() const noexcept = 0;
    virtual void waitForAudio(std::chrono::nanoseconds timeout) noexcept = 0;

    // How soon the source hands audio over: Prompt, a delivery per buffer,
    // while someone waits on the frames up to a moment (a pause, resume or
    // stop); Relaxed, fewer and larger deliveries, while nobody does
    // (AudioPacing.hpp). A source that cannot change its pace ignores it.
    enum class Delivery { Prompt, Relaxed };
    virtual void setDelivery(Delivery delivery) noexcept = 0;
    // Frames per delivery as the source now hands them over.
    virtual unsigned deliveryFrames() const noexcept = 0;

    virtual CaptureProgress progress() const noexcept = 0;
    // The frame (counted in the ring's frames since the source opened) being
    // captured at monotonic time `ns`: counted back from the last buffer for a
    // moment already delivered, or forward by the frames that have reached the
    // device since and are on their way.
    virtual std::uint64_t positionAt(std::int64_t ns) const noexcept = 0;
    std::uint64_t positionNow() const noexcept { return positionAt(monotonicNs()); }
    // The other way round: when (CLOCK_MONOTONIC ns) the frame at this position
    // was captured, by the same clock.
    virtual std::int64_t timeOf(std::uint64_t position) const noexcept = 0;

    virtual DropCounts drops() const noexcept = 0;
    // Times the source paused delivering, and how long the last pause was.
    virtual std::uint32_t gaps() const noexcept = 0;
    virtual std::int64_t lastGapNs() const noexcept = 0;
    // The source died (its device went away, its server failed): it delivers
    // nothing more.
    virtual bool failed() const noexcept = 0;
    // Each input's report; a source of one input has one.
    virtual std::vector<InputReport> inputReports() const { return {InputReport{drops(), gaps(), 0, false, -1, 0}}; }
};

} // namespace recd
