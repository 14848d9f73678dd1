#pragma once
// Several inputs recorded as one source, so that a take of a meeting (the
// microphone and what the computer plays) goes through the same session,
// writer and files as a take of one input.
//
// Frame n of the merged source is, for every input, the frame captured at the
// same instant: each input's least delayed buffers (CaptureProgress::
// leastDelayed, zeroAt) say which of its frames was captured when the first
// input's frame was, once half a second of them has come. The inputs' frames are then put side by side (one file
// channel per input channel, in the order given) or summed.
//
// The merging runs on the reader's thread, in waitForAudio(): the inputs'
// callbacks stay as they are (never blocking, locking or allocating), and no
// thread of its own wakes for it. The first input's deliveries wake the
// reader; what the others have delivered by then is merged with it, and the
// rest on the next wake-up.
//
// An input whose clock drifts against the first input's (InputDrift) is read
// through a resampler from the moment the drift has moved it 1.5 ms, at the
// ratio that keeps each of its frames beside the first input's frame captured
// at the same instant.
//
// One input that stops delivering (suspended, stalled, lost) does not stop the
// take: once it is further behind the others than three of its deliveries and
// 50 ms (the rule a stream's own gaps are told by), its channels carry
// silence, and the gap is counted with where it began. An input that comes
// back is placed again by its clock, at the frame captured when its audio
// resumed, and its drift is measured anew. With reconnect, an input that
// failed (a source removed) is opened again by an InputReopener and placed
// the same way. The take is paced by the first
// input that delivers; only when none does is the merged source silent, and
// only when all have failed has it failed.

#include "daemon/engine/capture/CaptureSource.hpp"
#include "daemon/engine/capture/InputDrift.hpp"
#include "daemon/engine/capture/InputReopener.hpp"
#include "daemon/engine/dsp/Resampler.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace recd {

class MergedSource final : public CaptureSource {
public:
    // channels: each input's channels side by side; mix: every input summed into
    // one input's channels, each divided by the number of inputs (a fixed
    // headroom: the sum can never clip, at the price of 6 dB per doubling).
    enum class Layout { Channels, Mix };

    // The inputs, opened and delivering, all in one format. The merged source
    // begins at the moment it is made: its frame 0 is each input's frame
    // captured then. ringFrames: the merged ring, which the reader drains.
    // reopen, with reconnectSeconds > 0: how a failed input is opened again.
    MergedSource(std::vector<std::unique_ptr<CaptureSource>> inputs, Layout layout, std::size_t ringFrames,
                 InputReopener::Open reopen = {}, double reconnectSeconds = 0);

    void stop() noexcept override;
    RingBuffer& ring() noexcept override { return ring_; }
    const CaptureFormat& format() const noexcept override { return format_; }
    unsigned bufferFrames() const noexcept override { return inputs_[0]->bufferFrames(); }
    void wakeReaderEvery(std::uint64_t everyFrames) noexcept override;
    void wakeReader() const noexcept override;
    // Waits on the pacing input, then merges what every input has delivered.
    void waitForAudio(std::chrono::nanoseconds timeout) noexcept override;
    void setDelivery(Delivery delivery) noexcept override;
    unsigned deliveryFrames() const noexcept override { return inputs_[0]->deliveryFrames(); }
    CaptureProgress progress() const noexcept override;
    std::uint64_t positionAt(std::int64_t ns) const noexcept override;
    std::int64_t timeOf(std::uint64_t position) const noexcept override;
    DropCounts drops() const noexcept override;
    std::uint32_t gaps() const noexcept override;
    std::int64_t lastGapNs() const noexcept override;
    bool failed() const noexcept override;
    std::vector<InputReport> inputReports() const override;

    // Merges what every input has delivered into the ring; the reader's thread
    // only (waitForAudio calls it).
    void merge();

private:
    // An input that stopped delivering while the others went on: its channels
    // carry silence. Reader's thread; read under mutex_ for the reports.
    struct Fault {
        bool silent = false;
        std::uint64_t silentUntil = 0; // once it is back: the merged frame its audio resumes at (0: not yet known)
        std::uint64_t clockAtStop = 0; // its clock's frames when it stopped
        bool returning = false;        // delivering again, its clock not settled yet: the merge waits for it
        std::uint32_t gaps = 0;
        std::int64_t lastGapFrame = -1; // merged frame
        std::uint64_t silentFrames = 0;
    };

    // An input read through a resampler: what it produced and not yet merged,
    // and where it stands.
    struct Resampled {
        explicit Resampled(const CaptureFormat& f) : resampler(f) {}
        Resampler resampler;
        std::vector<std::byte> produced;
        std::size_t readAt = 0;   // bytes of `produced` already merged
        double inputFrame = 0;    // the input frame (since its start) the next output frame lines up with
        double outputFrames = 0;  // output frames produced since the start
        std::size_t frames(std::size_t frameBytes) const { return (produced.size() - readAt) / frameBytes; }
    };

    void mergeOrFail() noexcept;
    void takeReopened();
    void findFaults();
    void placeAgain(std::size_t i, std::uint64_t merged);
    std::size_t pace() const noexcept; // the input the merged clock follows
    double mergedFrameAt(std::size_t by, std::int64_t ns) const noexcept;
    std::size_t available(std::size_t i);
    std::uint64_t startBeside(std::size_t i, std::uint64_t firstStart) const noexcept;
    bool align() noexcept;
    std::uint64_t firstStart() const noexcept;
    void combine(std::size_t frames) noexcept;
    void measureDrift();
    void resample(std::size_t input);

    std::vector<InputDrift> drift_;                        // per input; the first's unused
    std::vector<std::unique_ptr<Resampled>> resampled_;    // per input; null while read as it is
    std::vector<std::uint64_t> passedFrames_;              // per input: frames read as they are
    std::vector<std::uint64_t> readFrames_;                // per input: frames taken from its ring
    std::vector<Fault> faults_;                            // per input
    std::uint64_t measuredAt_ = 0; // merged frames at the last measurement
    // The reader changes drift_, resampled_, faults_ and starts_ under it;
    // the reports and the clock (positionAt, timeOf) read them.
    mutable std::mutex mutex_;

    // The reader replaces a failed input by its reopened one (under mutex_;
    // the reader's own reads need no lock, the other threads' take it).
    std::vector<std::unique_ptr<CaptureSource>> inputs_;
    std::vector<std::unique_ptr<CaptureSource>> replaced_; // failed inputs, stopped, kept until the end
    std::unique_ptr<InputReopener> reopener_;              // null without reconnect
    Delivery delivery_ = Delivery::Prompt;                 // as asked: a reopened input is asked the same
    Layout layout_;
    CaptureFormat inputFormat_;
    CaptureFormat format_;
    RingBuffer ring_;
    const std::int64_t beganNs_;

    // Reader's thread: each input's frames of one merge, and the merged frames.
    std::vector<std::vector<std::byte>> scratch_;
    std::vector<std::byte> merged_;

    // Per input, set by the reader when merging begins and again when an
    // input comes back (under mutex_): the input's frame that is merged frame
    // 0 (its ring frame q is merged frame q - start, before any resampling).
    std::vector<std::int64_t> starts_;
    std::atomic<bool> aligned_{false};
    // The input whose deliveries wake the reader: the pacing one (pace()).
    std::atomic<std::size_t> waker_{0};
    std::atomic<std::uint64_t> wakeEvery_{0};
    std::atomic<bool> failed_{false};
    std::atomic<std::uint64_t> framesPushed_{0};
};

} // namespace recd
