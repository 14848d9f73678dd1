#pragma once

#include "AudioPacing.hpp"
#include "CaptureStream.hpp"
#include "RecordingRequest.hpp"
#include "RingBuffer.hpp"
#include "LevelMeter.hpp"
#include "SoundFileWriter.hpp"
#include "StreamCloser.hpp"
#include "Timeline.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace recd {

// Engine-wide settings that are not part of a single request.
struct EngineSettings {
    AudioApi api = AudioSystem::defaultApi();
    // Frames per callback ("buffer" or "chunk"): the audio API hands over this
    // many frames at a time (frames / rate: 2048 frames are 42.7 ms at 48 kHz,
    // 46.4 ms at 44.1 kHz). It is also the latency recd asks of the sound server,
    // which sets how often the server and every client in its graph wake, and a
    // start waits for the first buffer before it can say "capturing". 0: the
    // default, defaultBufferFrames (AudioPacing.hpp says why it is that large).
    unsigned bufferFrames = 0;
    unsigned framesPerBuffer() const { return bufferFrames ? bufferFrames : defaultBufferFrames; }
    // The ring between the callback and the writer: how long the disk may stall
    // before audio is dropped.
    double ringSeconds = 10.0;
    // How often the WAV header is brought up to date and the data synced, bounding
    // what a crash or power cut can lose.
    double syncInterval = 1.0;
    // "Started" means audio arrived; if none does within this, the start fails.
    std::chrono::milliseconds firstBufferTimeout{2000};
    // A running device that delivers nothing for this long is treated as lost.
    std::chrono::milliseconds silentDeviceTimeout{2000};
    mode_t fileMode = 0600;
    // Where a finished session's streams are closed, after its file is final, so
    // that a stop does not wait for the device. Null: the session closes them
    // itself before stop() returns.
    StreamCloser* streamCloser = nullptr;
    // Called on the writer thread before each write, with the frames in the file
    // so far. For tests only: a disk that stalls for seconds on cue cannot be
    // produced in a container, so a test stalls the writer here instead.
    std::function<void(std::uint64_t framesInFile)> beforeWrite;
    // Called on the writer thread each time new levels are ready (about every
    // 100 ms of audio, only while metering is on): it must only wake the owner.
    std::function<void()> onLevels;
    // Called on the writer thread when a take armed with start_on_sound hears
    // sound and begins: it must only wake the owner.
    std::function<void()> onBegan;
    // Called with each file the take writes, before audio goes into it: the
    // first from the constructor, each next part of a split take on the writer
    // thread.
    std::function<void(const std::filesystem::path&)> onNewFile;
};

// A stream that is already running, handed to a session by a pre-roll
// (StandbyInput) instead of the session opening one.
struct RunningInput {
    std::unique_ptr<CaptureStream> stream; // null: the session opens its own
    std::uint64_t readFrame = 0;           // where the ring's reader stands, in the stream's frames
    // Frames the session leaves in the ring behind what it has written, so that
    // after the take the ring still holds the last seconds for the next pre-roll.
    std::uint64_t retainFrames = 0;
    // Takes the stream back when the take ends with the stream healthy, with where
    // the ring's reader then stands.
    std::function<void(std::unique_ptr<CaptureStream>, std::uint64_t readFrame)> giveBack;
};

inline CaptureFormat captureFormat(const CapturePlan& plan) { return {plan.rate, plan.channels, plan.sampleFormat}; }

// Waiting: armed by start_on_sound, nothing written until the first sound.
enum class SessionState { Waiting, Recording, Paused, Stopped };
std::string_view sessionStateName(SessionState s);

enum class StopReason { Requested, MaxDuration, Cancelled, DeviceLost, IoError, Error, Recovered, Silence };
std::string_view stopReasonName(StopReason r);

struct SessionStatus {
    SessionState state = SessionState::Recording;
    std::filesystem::path path;
    std::string deviceId;
    std::string deviceName;
    unsigned rate = 0;
    unsigned channels = 0;
    SampleFormat sampleFormat = SampleFormat::S16;
    std::uint64_t frames = 0;
    double duration = 0;
    std::uint32_t overruns = 0;
    std::uint64_t overrunFrames = 0;
    std::uint32_t inputOverflows = 0;
    double preRoll = 0; // seconds at the head of the file from before the request
    unsigned part = 1;  // with split_every: the number of the part being written
    std::uint32_t gaps = 0; // times the device stopped delivering for a while (suspended, stalled)
    std::uint64_t bytes = 0;
};

struct StopResult {
    std::filesystem::path path;
    std::uint64_t frames = 0;
    double duration = 0;
    StopReason reason = StopReason::Requested;
    std::string message; // why, when the reason is a fault
};

// One recording, from the first buffer to the finalized file.
//
// Owns the capture stream, the ring and the writer thread that drains it into
// the file. Control calls (pause, resume, stop, cancel) come from one thread at a
// time; status() and duration() may be called from any thread.
class CaptureSession {
public:
    // Called on the writer thread when the session ends by itself (max_duration,
    // device lost, write error). It must only wake the owner, who then calls
    // finish(); it must not call back into the session.
    using EndedNotifier = std::function<void()>;

    // Opens the device, waits until the first buffer of audio has arrived, then
    // creates the file. Throws (DeviceLost, FileExists, IoError, ...) with nothing
    // left on disk if any step fails.
    // With a running input, it starts at once: the file begins with up to
    // plan.preRollFrames of the audio the ring holds from before the request.
    // A stop asked of `abandon` while it waits for the first buffer ends the
    // wait with Cancelled, nothing left behind (see openCaptureStream).
    CaptureSession(const CapturePlan& plan, const EngineSettings& settings, EndedNotifier onEnded = {},
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
    // moment (it writes every 50 ms), the file ends where it got to, since a
    // written frame is never taken back.
    StopResult stop(std::optional<std::int64_t> atNs = std::nullopt);
    // Stops and deletes the file.
    StopResult cancel();
    // Finalizes a session that ended by itself (or stops it).
    StopResult finish() { return stop(); }

    bool ended() const { return ended_.load(std::memory_order_acquire); }
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
    void setMetering(bool on) { metering_.store(on, std::memory_order_relaxed); }
    // The levels measured since the last call, if any are ready.
    std::optional<Levels> takeLevels();
    // Frames at the head of the file captured before the request (pre-roll).
    std::uint64_t preRollFrames() const { return preRollFrames_; }

private:
    // Turns a pause, resume or stop into the capture frame at `atNs`, or now.
    void request(Timeline::Action action, std::optional<std::int64_t> atNs = std::nullopt);
    // The writer drains the ring every 50 ms, so the frames it has written can be
    // that far behind what has arrived: a duration read twice half a second apart
    // could be off by 50 ms. While recording, this wakes the writer and waits
    // (25 ms at most) until it has written everything that arrived, unless it did
    // within the last 10 ms, about one delivery (as right after a Level signal).
    void catchUp() const;
    // Wakes the writer for a request (the stream's WakeEvent, which it sleeps on).
    void wakeWriter() const;
    // Writer thread: places a new stream's first frame again once its clock has
    // settled (or `now`); false while it has not.
    bool settleStart(bool now);
    void runWriter();
    // Opens the device in the plan's format and waits for its first buffer;
    // throws DeviceLost.
    std::unique_ptr<CaptureStream> openStream(const DeviceInfo& device, std::stop_token abandon = {}) const;
    // After the device was lost: waits up to plan.reconnectSeconds for it to
    // return and swaps in a new stream. False if it did not, or a stop came first.
    bool reconnect(std::uint64_t consumed);
    bool stopPending();
    // Drop counters over every stream of the take (also those lost before a
    // reconnect). Caller holds streamMutex_.
    struct DropCounters {
        std::uint32_t overruns = 0;
        std::uint64_t overrunFrames = 0;
        std::uint32_t inputOverflows = 0;
    };
    DropCounters dropCounters() const;
    void endBySelf(StopReason reason, std::string message);
    void endOnSilence(const class SilenceDetector& silence);
    // A waiting take heard sound at capture frame `soundAt`: it begins there,
    // with the pre-roll before it.
    void begin(std::uint64_t soundAt, std::uint64_t base);
    FileSpec fileSpec(const std::filesystem::path& path, std::uint64_t fileFrame) const;
    // Finalizes the current part and goes on in the next (split_every).
    void startNextPart(std::uint64_t fileFrame);
    // The wall-clock time of capture frame `frame` of the current stream, in µs.
    std::uint64_t wallTimeOf(std::uint64_t frame) const;
    // The file's first sample is the stream's `frame`: its wall-clock time for
    // GetStatus and the file's time stamp (bext).
    void placeFirstSample(std::uint64_t frame);
    // Gives the stream back to the pre-roll or closes it, and the lost ones too.
    void releaseStreams();

    CapturePlan plan_;
    EngineSettings settings_;
    EndedNotifier onEnded_;
    // Swapped by the writer thread when it reconnects; other threads read it
    // under streamMutex_. Frames of the current stream are numbered from
    // streamBase_ on the session's capture timeline.
    std::unique_ptr<CaptureStream> stream_;
    std::vector<std::unique_ptr<CaptureStream>> lostStreams_;
    DropCounters finalDrops_; // once stop() has let go of the streams
    mutable std::mutex streamMutex_;
    std::atomic<std::uint64_t> streamBase_{0};
    std::unique_ptr<SoundFileWriter> writer_; // replaced by the writer thread, under streamMutex_, between parts
    std::filesystem::path currentPath_;        // likewise
    std::vector<std::filesystem::path> finishedParts_;
    unsigned part_ = 1;
    std::uint64_t partStart_ = 0; // writer thread: the file frame the current part begins at
    std::thread writerThread_;
    std::atomic<std::uint64_t> firstSampleUsec_{0};
    std::atomic<bool> began_{false};
    std::function<void(std::unique_ptr<CaptureStream>, std::uint64_t)> giveBack_;
    std::uint64_t retainFrames_ = 0;
    // A new stream's start moment (CLOCK_MONOTONIC), until settleStart() placed
    // its frame; 0 after that, and with a running input.
    std::int64_t startNs_ = 0;
    std::atomic<std::uint64_t> startFrame_{0}; // the first frame of the file, in the first stream's frames (moved by the writer on the first sound)
    std::uint64_t preRollFrames_ = 0;
    std::uint64_t ringTail_ = 0;     // writer thread (then stop()): the ring reader, in the current stream's frames

    mutable std::mutex marksMutex_; // control thread <-> writer thread; never the callback
    mutable std::condition_variable marksDone_; // the writer applied requests, or drained the ring
    mutable std::uint64_t drainsRequested_ = 0; // guarded by marksMutex_: catchUp() tickets
    std::uint64_t drainsDone_ = 0;              // likewise: the last ticket the writer answered
    std::atomic<std::int64_t> lastDrainNs_{0};  // when the writer last found the ring empty
    std::uint64_t marksRequested_ = 0;    // guarded by marksMutex_
    std::uint64_t marksApplied_ = 0;      // likewise
    std::vector<std::pair<Timeline::Action, std::uint64_t>> marks_;
    std::int64_t stopDeadlineNs_ = 0; // guarded by marksMutex_

    std::atomic<bool> metering_{false};
    std::mutex levelsMutex_;
    std::optional<Levels> levels_; // guarded by levelsMutex_
    std::atomic<SessionState> state_{SessionState::Recording};
    std::atomic<std::uint64_t> framesInFile_{0};
    std::atomic<std::uint64_t> heldFrames_{0}; // arrived, held back by the writer, not yet in the file
    std::atomic<std::uint32_t> gaps_{0};
    std::atomic<bool> ended_{false};
    StopReason endReason_ = StopReason::Requested; // written by the writer before ended_
    std::string endMessage_;
    bool finalized_ = false;
    StopResult result_;
};

} // namespace recd
