#pragma once

#include "daemon/engine/capture/CaptureOpener.hpp"
#include "daemon/engine/capture/CaptureSource.hpp"
#include "daemon/engine/session/EngineSettings.hpp"
#include "daemon/engine/dsp/LevelHandOff.hpp"
#include "daemon/engine/session/RecordingRequest.hpp"
#include "daemon/engine/session/RunningInput.hpp"
#include "daemon/engine/session/SessionHooks.hpp"
#include "daemon/engine/session/SessionStatus.hpp"
#include "daemon/engine/file/TakeFiles.hpp"
#include "daemon/engine/session/Timeline.hpp"
#include "daemon/engine/session/WriterRequests.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <span>
#include <thread>
#include <vector>

namespace recd {

// The format each input of a plan is opened in.
inline CaptureFormat captureFormat(const CapturePlan& plan)
{
    return {plan.rate, plan.inputChannels, plan.sampleFormat};
}

// One recording, from the first buffer to the finalized file.
//
// Owns the capture stream, the ring and the writer thread that drains it into
// the file. Control calls (pause, resume, stop, cancel) come from one thread at a
// time; status() and duration() may be called from any thread. The control side
// is CaptureSession.cpp, the writer thread's side SessionWriter.cpp; they meet in
// WriterRequests (marks and drains) and in the atomics below.
class CaptureSession {
public:
    // Opens the device, waits until the first buffer of audio has arrived, then
    // creates the file. Throws (DeviceLost, FileExists, IoError, ...) with nothing
    // left on disk if any step fails.
    // With a running input, it starts at once: the file begins with up to
    // plan.preRollFrames of the audio the ring holds from before the request.
    // A stop asked of `abandon` while it waits for the first buffer ends the
    // wait with Cancelled, nothing left behind (see openCaptureStream).
    CaptureSession(const CapturePlan& plan, const EngineSettings& settings, SessionHooks hooks = {},
                   RunningInput input = {}, std::stop_token abandon = {});
    ~CaptureSession();
    CaptureSession(const CaptureSession&) = delete;
    CaptureSession& operator=(const CaptureSession&) = delete;

    // Pausing leaves the audio captured until resume out of the file. Setting the
    // state it already has is a no-op.
    void setPaused(bool paused);
    void pause() { setPaused(true); }
    void resume() { setPaused(false); }
    // Ends the recording at the frame being captured now, keeping the tail that
    // is still on its way from the device, and finalizes the file. If the session
    // already ended by itself, returns how it ended.
    // With `atNs` (monotonic time, not in the future) it ends at the frame being
    // captured then, say when the user pressed the key, and does not wait for the
    // audio that came after; where the writer has already written past that
    // moment (it holds back only the newest 50 ms), the file ends where it got
    // to, since a written frame is never taken back.
    StopResult stop(std::optional<std::int64_t> atNs = std::nullopt);
    // Stops and deletes the file.
    StopResult cancel();
    // Finalizes a session that ended by itself (or stops it).
    StopResult finish() { return stop(); }

    bool ended() const { return requests_.ended(); }
    SessionState state() const { return state_.load(std::memory_order_acquire); }
    // Both bring the count of frames written up to date first (catchUp()).
    SessionStatus status() const;
    double duration() const;
    // Frames in the file, and those the writer holds back for a moment but will
    // write (see writerHoldBack); within the max duration.
    std::uint64_t frames() const;
    const CapturePlan& plan() const { return plan_; }
    // Wall-clock time of the first sample in the file, microseconds since the epoch.
    // 0 while waiting for sound.
    std::uint64_t firstSampleUsec() const { return firstSampleUsec_.load(std::memory_order_acquire); }
    // True once, after a waiting take heard sound and began writing.
    bool takeBegan() { return began_.exchange(false); }
    // Level metering of the audio written (peak and RMS per channel), for a live
    // meter. Off by default: measuring costs CPU nobody may be looking at.
    void setMetering(bool on) { levels_.watch(on); }
    // The levels measured since the last call, if any are ready.
    std::optional<Levels> takeLevels();
    // Frames at the head of the file captured before the request (pre-roll).
    std::uint64_t preRollFrames() const { return preRollFrames_; }
    // The parts made final since the last call (SessionHooks::onPartClosed),
    // the last one included once the take is stopped; not those of a cancel.
    struct ClosedPart {
        unsigned number = 0;
        std::vector<std::filesystem::path> paths; // one per file (layout files), in the order of the inputs
        double seconds = 0;
    };
    std::vector<ClosedPart> takeClosedParts();

private:
    // --- the control side (CaptureSession.cpp)
    // Turns a pause, resume or stop into the capture frame at `atNs`, or now.
    void request(Timeline::Action action, std::optional<std::int64_t> atNs = std::nullopt);
    // The writer drains the ring every 100 ms, so the frames it has written can be
    // that far behind what has arrived: a duration read twice half a second apart
    // could be off by that much. While recording, this wakes the writer and waits
    // (25 ms at most) until it has written everything that arrived, unless it did
    // within the last 10 ms, about one delivery (as right after a Level signal).
    void catchUp() const;
    // Wakes the writer for a request (the stream's WakeEvent, which it sleeps on).
    void wakeWriter() const;
    // Opens the device in the plan's format and waits for its first buffer;
    // throws DeviceLost.
    std::unique_ptr<CaptureSource> openStream(const DeviceInfo& device, std::stop_token abandon = {}) const;
    // Opens the plan's input, or its inputs merged into one source (MergedSource).
    std::unique_ptr<CaptureSource> openInputs(std::stop_token abandon = {}) const;
    std::size_t ringFrames() const;
    // Drops over every stream of the take (also those lost before a
    // reconnect). Caller holds streamMutex_.
    DropCounts dropCounts() const;
    // Gives the stream back to the pre-roll or closes it, and the lost ones too.
    void releaseStreams();
    // The wall-clock time of capture frame `frame` of the current stream, in µs.
    std::uint64_t wallTimeOf(std::uint64_t frame) const;

    // --- the writer thread (SessionWriter.cpp)
    void runWriter();
    struct WriterPass; // what the writer carries from one pass to the next
    // Frames that have arrived in the ring and that the writer has not reached.
    std::uint64_t unreadFrames(const WriterPass& w) const;
    void publishApplied(WriterPass& w);
    // What the writer may take from the ring now: nothing before the first
    // frame is placed, and never the newest hold-back while nothing waits and
    // the device delivers.
    std::span<const std::byte> writableRegion(WriterPass& w, std::uint64_t base);
    // Writes (or, while armed, listens to) a region and frees what the ring
    // need not keep. False when a waiting take just began.
    bool writeRegion(WriterPass& w, std::span<const std::byte> region, std::uint64_t base);
    void noteDrops(WriterPass& w);
    // Whether the device still delivers: not failed, and not silent for
    // settings_.silentDeviceTimeout.
    bool delivering(std::int64_t now) const;
    enum class DeviceHealth { Delivering, Reconnected, StoppedWhileAway, Lost };
    // A device that failed or went silent: reconnect, or end the take.
    DeviceHealth checkDevice(WriterPass& w, std::int64_t now);
    void syncIfDue(WriterPass& w, std::int64_t now);
    // Sleeps until there is enough to write, a request, or housekeeping.
    void waitForWork(WriterPass& w);
    // Places a new stream's first frame again once its clock has settled (or
    // `now`); false while it has not.
    bool settleStart(bool now);
    // After the device was lost: waits up to plan.reconnectSeconds for it to
    // return and swaps in a new stream. False if it did not, or a stop came first.
    bool reconnect(std::uint64_t consumed);
    void endBySelf(StopReason reason, std::string message);
    void endOnSilence(const class SilenceDetector& silence);
    // A waiting take heard sound at capture frame `soundAt`: it begins there,
    // with the pre-roll before it.
    void begin(std::uint64_t soundAt, std::uint64_t base);
    // The file's first sample is the stream's `frame`: its wall-clock time for
    // GetStatus and the file's time stamp (bext).
    void placeFirstSample(std::uint64_t frame);
    // Writer thread: asks the stream for prompt deliveries while a mark or the
    // start's placing waits on its frames, relaxed ones otherwise
    // (AudioPacing.hpp), and logs what the server grants when that changes.
    void paceDelivery(bool prompt);

    CapturePlan plan_;
    EngineSettings settings_;
    SessionHooks hooks_;
    std::unique_ptr<CaptureOpener> ownOpener_; // when the hooks lend none: the devices
    CaptureOpener* opener_;
    // Swapped by the writer thread when it reconnects; other threads read it
    // under streamMutex_. Frames of the current stream are numbered from
    // streamBase_ on the session's capture timeline.
    std::unique_ptr<CaptureSource> stream_;
    std::vector<std::unique_ptr<CaptureSource>> lostStreams_;
    DropCounts finalDrops_; // once stop() has let go of the streams
    mutable std::mutex streamMutex_;
    std::atomic<std::uint64_t> streamBase_{0};
    std::unique_ptr<TakeFiles> files_;
    std::thread writerThread_;
    std::atomic<std::uint64_t> firstSampleUsec_{0};
    std::atomic<bool> began_{false};
    std::function<void(std::unique_ptr<CaptureSource>, std::uint64_t)> giveBack_;
    std::uint64_t retainFrames_ = 0;
    // A new stream's start moment (CLOCK_MONOTONIC), until settleStart() placed
    // its frame; 0 after that, and with a running input.
    std::int64_t startNs_ = 0;
    std::atomic<std::uint64_t> startFrame_{0}; // the first frame of the file, in the first stream's frames (moved by the writer on the first sound)
    std::uint64_t preRollFrames_ = 0;
    std::uint64_t ringTail_ = 0; // writer thread (then stop()): the ring reader, in the current stream's frames

    mutable WriterRequests requests_; // control thread <-> writer thread; never the callback

    LevelHandOff levels_; // writer thread -> takeLevels()
    std::atomic<SessionState> state_{SessionState::Recording};
    std::atomic<std::uint64_t> framesInFile_{0};
    std::atomic<std::uint64_t> heldFrames_{0}; // arrived, held back by the writer, not yet in the file
    unsigned loggedDeliveryFrames_ = 0;        // writer thread: what paceDelivery last logged
    std::atomic<std::uint32_t> gaps_{0};
    StopReason endReason_ = StopReason::Requested; // written by the writer before it ends requests_
    std::string endMessage_;
    bool finalized_ = false;
    StopResult result_;
    std::mutex closedPartsMutex_; // the writer thread closes parts; the owner takes them
    std::vector<ClosedPart> closedParts_;
};

} // namespace recd
