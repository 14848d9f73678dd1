#pragma once
// A capture source with no device behind it, for the session's unit tests.
//
// Mocked because what these tests check cannot be produced on a sound server
// exactly: a pause, a split or a stop placed on a given frame, a writer stalled
// while a known number of frames arrive. On the rig the server sets the pace,
// and every such check needs a tolerance of tens of milliseconds and seconds of
// waiting. Here the test delivers the frames itself, as fast as it likes, and
// checks every one. What needs a server (the device's clock, its first buffer,
// a lost device) stays in the rig tests.

#include "daemon/engine/capture/CaptureOpener.hpp"
#include "daemon/engine/capture/CaptureSource.hpp"
#include "daemon/engine/capture/WakeEvent.hpp"

#include <atomic>
#include <memory>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace recd::test {

// Delivers the sample-counter signal of the rig (tests/counter-signal: frame n
// of the source holds n, its low 16 bits on the left, the high 16 on the
// right, in 16-bit stereo) or silence, in buffers of bufferFrames, when the
// test says. Its clock is its deliveries: a frame was captured when the buffer
// that brought it was delivered, and nothing is ever on its way, so the frame
// being captured now is the next one to be delivered.
class FakeCaptureSource final : public CaptureSource {
public:
    // firstIndex: the counter value of frame 0, to tell two sources apart.
    // clock: shared by sources on one clock, so that a delivery to all of them
    // is one instant to anyone who asks where they stand (own lock if null).
    FakeCaptureSource(const CaptureFormat& format, unsigned bufferFrames, std::size_t ringFrames,
                      std::uint64_t firstIndex = 0, std::shared_ptr<std::recursive_mutex> clock = nullptr);

    // The next `frames` frames of the counter signal, or zeros (the counter
    // goes on counting under the silence), as fast as the ring takes them.
    // What does not fit is dropped and counted as an overrun, as a device's
    // callback does. From one thread at a time.
    void deliverCounter(std::uint64_t frames);
    void deliverSilence(std::uint64_t frames);
    // One buffer of up to bufferFrames of the counter (or zeros), delivered at
    // `atNs` (not before the last delivery): several sources on one clock,
    // whose buffers are said to arrive at `nominalNs` (progress().lastBufferNs;
    // 0: at this source's own nominal pace).
    void deliverBufferAt(unsigned frames, std::int64_t atNs, std::int64_t nominalNs = 0, bool silent = false);
    // The source dies, as a device that went away: failed() from now on.
    void fail() noexcept { failed_.store(true); }
    // Frames delivered so far, into the ring or dropped: the next counter index.
    std::uint64_t delivered() const;

    ~FakeCaptureSource() override { running_->store(false); }
    void stop() noexcept override
    {
        stopped_.store(true);
        running_->store(false);
    }
    // Until it is stopped or gone: kept by its opener, which outlives it.
    std::shared_ptr<const std::atomic<bool>> running() const { return running_; }
    RingBuffer& ring() noexcept override { return ring_; }
    const CaptureFormat& format() const noexcept override { return format_; }
    unsigned bufferFrames() const noexcept override { return bufferFrames_; }
    void wakeReaderEvery(std::uint64_t everyFrames) noexcept override { wakeEvery_.store(everyFrames); }
    void wakeReader() const noexcept override { wake_.post(); }
    void waitForAudio(std::chrono::nanoseconds timeout) noexcept override { wake_.wait(timeout); }
    void setDelivery(Delivery) noexcept override {}
    unsigned deliveryFrames() const noexcept override { return bufferFrames_; }
    CaptureProgress progress() const noexcept override;
    std::uint64_t positionAt(std::int64_t ns) const noexcept override;
    std::int64_t timeOf(std::uint64_t position) const noexcept override;
    DropCounts drops() const noexcept override;
    std::uint32_t gaps() const noexcept override { return 0; }
    std::int64_t lastGapNs() const noexcept override { return 0; }
    bool failed() const noexcept override { return failed_.load(); }

private:
    void deliver(std::uint64_t frames, bool silent);
    void deliverBuffer(unsigned frames, bool silent, std::int64_t atNs, std::int64_t nominalNs = 0);

    CaptureFormat format_;
    unsigned bufferFrames_;
    RingBuffer ring_;
    WakeEvent wake_;
    std::atomic<std::uint64_t> wakeEvery_{0};
    std::uint64_t sincePost_ = 0;
    std::atomic<bool> failed_{false};
    std::atomic<bool> stopped_{false};
    std::shared_ptr<std::atomic<bool>> running_ = std::make_shared<std::atomic<bool>>(true);

    std::shared_ptr<std::recursive_mutex> clock_; // guards what follows
    // (when, frames in the ring's count after it): one per buffer delivered.
    std::vector<std::pair<std::int64_t, std::uint64_t>> deliveries_;
    std::uint64_t delivered_ = 0;
    std::int64_t lastNominalNs_ = 0;
    // Where the first buffer (since a stall) and the last put frame 0, by
    // their nominal times: progress().leastDelayed.
    CaptureProgress::LeastDelayed firstZero_, lastZero_;
    DropCounts drops_;
    const std::uint64_t firstIndex_;
    std::vector<std::int16_t> buffer_;
};

// Opens FakeCaptureSources for the inputs it lists, device(1) and device(2),
// whose counters begin at 0 and at secondCounter: each delivers its first
// buffer (of the counter, or silence) before open() returns, as a device's must.
// The sources one take opens share one clock: their first buffers of the
// counter are stamped with one instant, and deliverCounterToAll keeps them
// together after that.
class FakeCaptureOpener final : public CaptureOpener {
public:
    static constexpr std::uint64_t secondCounter = 1'000'000;
    static DeviceInfo device(int which = 1);

    std::unique_ptr<CaptureSource> open(const DeviceInfo& device, const CaptureFormat& format, unsigned bufferFrames,
                                        std::size_t ringFrames, std::stop_token abandon = {}) override;
    // device() while plugged in, nothing after unplug().
    std::vector<DeviceInfo> devices() override;
    void unplug(bool unplugged) { unplugged_.store(unplugged); }
    void firstBufferSilent(bool silent) { firstBufferSilent_.store(silent); }

    // The source opened last (owned by the session that opened it), and how
    // many have been opened.
    FakeCaptureSource& source();
    int opened() const { return opened_.load(); }
    // The next `frames` of the counter to every source opened so far, buffer by
    // buffer, each buffer at one instant for all: inputs on one clock. With
    // `secondSpeed`, the sources after the first deliver that many frames per
    // frame of the first: a clock that runs fast (1.001: 0.1 %) or slow.
    void deliverCounterToAll(std::uint64_t frames, double secondSpeed = 1.0);
    // What source `index` (in the order opened) gets from deliverCounterToAll:
    // the counter; zeros (the counter goes on under them), as a muted
    // microphone; or nothing, as a suspended or stalled device. The others go on.
    enum class Feed { Counter, Silence, Stalled };
    void feed(std::size_t index, Feed feed);

private:
    std::mutex mutex_;
    std::vector<FakeCaptureSource*> sources_;
    std::vector<std::shared_ptr<const std::atomic<bool>>> running_; // each source's running()
    std::shared_ptr<std::recursive_mutex> clock_ = std::make_shared<std::recursive_mutex>();
    std::optional<std::int64_t> firstBufferNs_;
    std::uint64_t sharedFrames_ = 0; // frames of the shared clock since firstBufferNs_
    std::int64_t lastAt_ = 0;        // the instant of the last delivery to all
    unsigned rate_ = 48000;
    std::int64_t nominalNs() const;
    std::vector<Feed> feeds_;
    double owedToOthers_ = 0; // fractional frames the faster sources are due
    std::atomic<FakeCaptureSource*> last_{nullptr};
    std::atomic<int> opened_{0};
    std::atomic<bool> unplugged_{false};
    std::atomic<bool> firstBufferSilent_{false};
};

} // namespace recd::test
