// The real-time path of a capture stream: what runs on the audio API's thread
// (RtAudio's callback, or libpulse's read callback through PulseInput).
#include "daemon/engine/capture/CaptureStreamCore.hpp"

#include "common/MonotonicClock.hpp"
#include "daemon/engine/ThreadName.hpp"

#include <algorithm>

namespace recd {

// The real-time path. Runs on the audio API's thread once per buffer; it must
// finish well within one buffer's time and must never block, lock or allocate:
// it copies into the pre-allocated lock-free ring and publishes counters with
// atomics. When the ring is full it drops the buffer and counts it, because
// waiting for the writer would stall the device and lose audio anyway.
int CaptureStream::Core::onAudio(void*, void* input, unsigned frames, double, unsigned status, void* self) noexcept
{
    auto& s = *static_cast<Core*>(self);
    if (s.abandoned.load(std::memory_order_relaxed))
        return 2; // abort: nobody reads this stream any more
    if (s.failed.load(std::memory_order_relaxed))
        return 2; // its source was removed (CaptureStream::watchSource): what comes now is another source's
    if (streamErrors.load(std::memory_order_relaxed) != s.errorsAtOpen) {
        s.failed.store(true, std::memory_order_relaxed);
        return 2; // the buffer is stale: never write it, and stop the stream
    }
    if (s.startNs == 0)
        nameThisThread("recd-audio"); // once: prctl(2), which neither blocks nor allocates
    const std::int64_t now = monotonicNs();
    // Defence in depth against a back end that loops without reading: a device
    // cannot deliver more audio than time has passed, plus what it had buffered.
    // More than a second ahead of real time means the data is not real.
    if (s.startNs == 0)
        s.startNs = now;
    s.framesDelivered += frames;
    if (s.framesDelivered > static_cast<std::uint64_t>((now - s.startNs) / 1'000'000) * s.format.rate / 1000 +
                                s.format.rate + 2ULL * s.bufferFrames) {
        s.failed.store(true, std::memory_order_relaxed);
        return 2;
    }
    const std::size_t frameBytes = s.format.frameBytes();
    // Silence that is not audio from the device, at the head of a new stream:
    // - RtAudio 5.2 (ALSA and PulseAudio alike) calls the callback before its
    //   first read, so the first buffer is the zero-filled initial one
    //   (measured: every take began with exactly 1024 zero frames);
    // - PipeWire hands a newly linked capture stream one graph period of zeros
    //   before the source's first data reaches it (measured on the rig: 2048
    //   frames, in parec's recordings too).
    // Dropping them keeps that fake silence out of the file and makes "the first
    // buffer arrived" mean audio. All-zero buffers are dropped only until the
    // first one that is not, and for at most leadingSilenceLimit: a source that
    // is really digital silence (a muted microphone) is recorded after that.
    // The scan is a read of memory already there: no lock, no allocation.
    if (!s.sawSound) {
        const auto* bytes = static_cast<const unsigned char*>(input);
        bool allZero = true;
        for (std::size_t i = 0; i < frames * frameBytes && allZero; ++i)
            allZero = bytes[i] == 0;
        const bool first = !s.sawFirstCallback;
        s.sawFirstCallback = true;
        const std::uint64_t limit = s.format.rate * leadingSilenceLimit.count() / 1000;
        if (allZero && (first || s.leadingZeroFrames + frames <= limit)) {
            s.leadingZeroFrames += first ? 0 : frames;
            return 0;
        }
        s.sawSound = true;
    }
    if (status & RTAUDIO_INPUT_OVERFLOW) {
        // RtAudio 5.2's ALSA back end calls the callback before it reads, and a
        // read that overran leaves the buffer as it was: the buffer flagged with
        // the overflow is the previous one again, not audio (seen as a repeated
        // 512-frame block that pulled a 440 Hz tone down to 428 Hz). It is counted
        // and dropped: a gap is honest, a repeat is not.
        s.inputOverflows.fetch_add(1, std::memory_order_relaxed);
        return 0;
    }
    // A source that pauses delivering (suspended, stalled) leaves a gap in time
    // the file cannot show. Only this thread sees buffers one by one, so it
    // measures the time between them; more than three buffers' time plus 50 ms of
    // scheduling slack is a gap. A buffer is the one asked for: libpulse hands
    // over what the server sent, which can be a sliver after a full fragment's
    // wait, and a sliver's time made every such wait a gap.
    const std::int64_t previous = s.lastBufferNs.load(std::memory_order_relaxed);
    const std::int64_t bufferNs =
        static_cast<std::int64_t>(std::max(frames, s.bufferFrames)) * 1'000'000'000 / s.format.rate;
    const bool gap = previous != 0 && now - previous > 3 * bufferNs + 50'000'000;
    if (gap) {
        s.lastGapNs.store(now - previous, std::memory_order_relaxed);
        s.gaps.fetch_add(1, std::memory_order_release);
    }
    const std::size_t written = s.ring.write(static_cast<const std::byte*>(input), frames * frameBytes);
    const std::uint64_t pushed = written / frameBytes;
    if (pushed < frames) {
        s.overruns.fetch_add(1, std::memory_order_relaxed);
        s.overrunFrames.fetch_add(frames - pushed, std::memory_order_relaxed);
    }
    s.publish(pushed, frames, now, gap);
    // The reader sleeps until enough has arrived to be worth a write: each
    // wake-up is a context switch, the largest part of what recording costs.
    // Posting is one non-blocking write(2) (WakeEvent.hpp): no lock, no wait.
    s.framesSincePost += pushed;
    if (const std::uint64_t every = s.wakeEveryFrames.load(std::memory_order_relaxed);
        every > 0 && s.framesSincePost >= every) {
        s.framesSincePost = 0;
        s.readerWake.post();
    }
    return 0;
}

// Where the stream's clock stands. A buffer arrives some time after its
// frames were captured, and that delay varies from buffer to buffer: a server
// hands over a block at a time and may render it ahead (PulseAudio's null sink
// does), and a thread is scheduled late. Counting from the last buffer's arrival
// (as recd once did) is then off by up to a buffer, 43 ms at 2048 frames, and
// differently at the start and at the stop of a take. The anchor is the mean of
// what the buffers say about when the stream's frame 0 arrived (each one's
// arrival minus the frames up to its end): over all of them for the first 16,
// then over about the last 16, so that it follows a device clock that runs
// apart from CLOCK_MONOTONIC. A gap in delivery (a suspended source) restarts
// it, as the frames no longer count time from the start.
void CaptureStream::Core::publish(std::uint64_t pushed, std::uint64_t frames, std::int64_t nowNs,
                                  bool afterGap) noexcept
{
    const std::uint64_t clock = clockFrames.load(std::memory_order_relaxed) + frames;
    const std::int64_t offset = nowNs - static_cast<std::int64_t>(clock * 1'000'000'000 / format.rate);
    const std::int64_t anchor = anchorNs.load(std::memory_order_relaxed);
    const bool restart = clockFrames.load(std::memory_order_relaxed) == 0 || afterGap;
    if (restart)
        anchorBuffers = 0;
    anchorBuffers = std::min<std::int64_t>(anchorBuffers + 1, 16);
    // Beside the mean, the least delayed buffer of each quarter second of the
    // clock, of the last two whole ones, through which zeroAt draws a line.
    // Every buffer counts here: a reader sampling the clock at its wake-ups
    // saw one in several. A line, not the lowest alone: PulseAudio's null sink
    // moved the delay by 5 ms a second early in a take, and two streams of
    // one source whose lowest buffers came a buffer apart in time were placed
    // 15 to 58 frames apart by it. Whole windows only: the lowest of a window
    // just begun can be a buffer a loaded machine delivered 9 ms late, and a
    // line through it placed a stream 157 frames off on PipeWire.
    if (restart) {
        leastDelayed[0] = leastDelayed[1] = {};
        leastDelayedNow = {nowNs, offset};
        windowEndFrames = clock + format.rate / 4;
    } else if (clock > windowEndFrames) {
        leastDelayed[0] = leastDelayed[1];
        leastDelayed[1] = leastDelayedNow;
        leastDelayedNow = {nowNs, offset};
        windowEndFrames = clock + format.rate / 4;
    } else if (offset < leastDelayedNow.zeroNs) {
        leastDelayedNow = {nowNs, offset};
    }
    const std::uint32_t before = seq.load(std::memory_order_relaxed);
    seq.store(before + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    if (framesPushed.load(std::memory_order_relaxed) == 0 && pushed > 0)
        firstBufferNs.store(nowNs, std::memory_order_relaxed);
    framesPushed.store(framesPushed.load(std::memory_order_relaxed) + pushed, std::memory_order_relaxed);
    lastBufferNs.store(nowNs, std::memory_order_relaxed);
    clockFrames.store(clock, std::memory_order_relaxed);
    anchorNs.store(anchorBuffers == 1 ? offset : anchor + (offset - anchor) / anchorBuffers,
                   std::memory_order_relaxed);
    leastDelayedNs[0].store(leastDelayed[0].arrivedNs, std::memory_order_relaxed);
    leastDelayedNs[1].store(leastDelayed[0].zeroNs, std::memory_order_relaxed);
    leastDelayedNs[2].store(leastDelayed[1].arrivedNs, std::memory_order_relaxed);
    leastDelayedNs[3].store(leastDelayed[1].zeroNs, std::memory_order_relaxed);
    seq.store(before + 2, std::memory_order_release);
}

} // namespace recd
