#include "CaptureSession.hpp"
#include "ThreadName.hpp"

#include "Errors.hpp"
#include "Log.hpp"
#include "SilenceDetector.hpp"

#include <cmath>
#include <ctime>
#include <utility>

namespace recd {

namespace {

// How much audio the writer waits for before it wakes to write it. Each wake-up
// is a context switch, the largest part of recd's CPU while recording
// (measured: with a 5 ms poll the writer woke 200 times a second and used half
// of recd's CPU; on a 50 ms timer it woke 20 times a second whatever the
// buffer). The callback wakes it through the stream's WakeEvent once this much
// has arrived, or with each buffer while a control request waits for frames
// (see below); control requests wake it at once, so pause, resume and stop are
// acted on without delay. Not more: what is in the ring and not yet written is
// what a crash (kill -9) loses, and the Level signal's levels come from here
// about ten times a second.
constexpr auto writerBatch = std::chrono::milliseconds(100);
// How far behind the newest audio the writer stays between requests: how far
// back a StopRecordingAt moment can lie and still end the file exactly there
// (a client reports the press, and reaches recd some 20 ms later).
constexpr auto writerHoldBack = std::chrono::milliseconds(50);
// With no audio at all the writer still looks this often: to notice a device
// that stopped delivering, and to sync the file on time.
constexpr auto housekeepingEvery = std::chrono::milliseconds(500);
// While a pause, resume or stop waits for the frames still on their way from the
// device, the writer wakes with each buffer, and at least this often to notice
// the deadline for frames that do not come.
constexpr auto markPoll = std::chrono::milliseconds(20);

std::int64_t realtimeNs()
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

} // namespace

std::string_view sessionStateName(SessionState s)
{
    switch (s) {
    case SessionState::Waiting: return "waiting";
    case SessionState::Recording: return "recording";
    case SessionState::Paused: return "paused";
    case SessionState::Stopped: return "stopped";
    }
    return "?";
}

std::string_view stopReasonName(StopReason r)
{
    switch (r) {
    case StopReason::Requested: return "requested";
    case StopReason::MaxDuration: return "max_duration";
    case StopReason::Cancelled: return "cancelled";
    case StopReason::DeviceLost: return "device_lost";
    case StopReason::IoError: return "io_error";
    case StopReason::Error: return "error";
    case StopReason::Recovered: return "recovered";
    case StopReason::Silence: return "silence";
    }
    return "error";
}

CaptureSession::CaptureSession(const CapturePlan& plan, const EngineSettings& settings, EndedNotifier onEnded,
                               RunningInput input, std::stop_token abandon)
    : plan_(plan), settings_(settings), onEnded_(std::move(onEnded)), giveBack_(std::move(input.giveBack)),
      retainFrames_(input.retainFrames)
{
    if (input.stream) {
        // A running stream: the file begins up to preRollFrames before the frame
        // being captured now, as far back as the ring still holds.
        stream_ = std::move(input.stream);
        ringTail_ = input.readFrame;
        const std::uint64_t now = stream_->positionNow();
        startFrame_ = std::max(input.readFrame, now - std::min(now, plan.preRollFrames));
        preRollFrames_ = now - std::min(now, startFrame_.load());
    } else {
        // A new stream: the file begins at the frame being captured now, as the
        // caller is told "started". The first buffer, which had to arrive before
        // that could be said, began up to one buffer earlier (10.7 ms at 512
        // frames); leaving it out lines the file up with the moment start
        // returns, and nothing said after "started" is lost. (A pre-roll keeps
        // what came before the request, on purpose.)
        stream_ = openStream(plan.device, abandon);
        startNs_ = monotonicNs();
        startFrame_ = stream_->positionAt(startNs_);
        ringTail_ = 0;
    }
    if (plan.startOnSound) {
        // Armed: the writer scans for sound, keeping the pre-roll's worth behind
        // it in the ring (at most half the ring, so the callback never finds it full).
        state_.store(SessionState::Waiting, std::memory_order_release);
        const std::uint64_t ringFrames = stream_->ring().capacity() / stream_->format().frameBytes();
        retainFrames_ = std::min(std::max(retainFrames_, plan.preRollFrames), ringFrames / 2);
    } else {
        firstSampleUsec_.store(wallTimeOf(startFrame_), std::memory_order_release);
    }

    currentPath_ = plan.path;
    try {
        writer_ = std::make_unique<SoundFileWriter>(fileSpec(plan.path, 0));
    } catch (...) {
        releaseStreams();
        throw;
    }
    // Before the writer thread writes a frame: a crash from then on finds the
    // file named (RecoveryMarker), as each later part is named before its first.
    if (settings_.onNewFile)
        settings_.onNewFile(plan.path);
    writerThread_ = std::thread([this] {
        nameThisThread("recd-writer");
        runWriter();
    });
    log().info("recording '{}' from '{}': {} Hz, {} ch, {}{}", plan.path.string(), plan.device.name, plan.rate,
               plan.channels, sampleFormatName(plan.sampleFormat),
               preRollFrames_ ? fmt::format(", with {:.3f} s of pre-roll", static_cast<double>(preRollFrames_) / plan.rate)
                              : std::string());
}

void CaptureSession::releaseStreams()
{
    std::lock_guard lock(streamMutex_);
    finalDrops_ = dropCounters();
    stream_->wakeReaderEvery(0); // nobody waits on it any more
    if (giveBack_ && !stream_->failed() && endReason_ != StopReason::DeviceLost)
        giveBack_(std::move(stream_), ringTail_); // the pre-roll goes on from where the take ended
    else if (settings_.streamCloser)
        settings_.streamCloser->close(std::move(stream_));
    else
        stream_->stop(); // kept, stopped, for status()
    if (settings_.streamCloser) {
        for (auto& lost : lostStreams_)
            settings_.streamCloser->close(std::move(lost));
        lostStreams_.clear();
    }
}

std::unique_ptr<CaptureStream> CaptureSession::openStream(const DeviceInfo& device, std::stop_token abandon) const
{
    const auto ringFrames = static_cast<std::size_t>(std::ceil(settings_.ringSeconds * plan_.rate));
    return openCaptureStream(settings_.api, device, captureFormat(plan_),
                             settings_.framesPerBuffer(),
                             std::max<std::size_t>(ringFrames, 4 * settings_.framesPerBuffer()),
                             settings_.firstBufferTimeout, abandon);
}

bool CaptureSession::stopPending()
{
    std::lock_guard lock(marksMutex_);
    for (const auto& [action, position] : marks_)
        if (action == Timeline::Action::Stop)
            return true;
    return false;
}

bool CaptureSession::reconnect(std::uint64_t consumed)
{
    log().warn("'{}': lost the input device '{}'; waiting up to {:.1f} s for it to return", plan_.path.string(),
               plan_.device.name, plan_.reconnectSeconds);
    // The lost stream stays current (status() reads its counters) until a new
    // one replaces it.
    stream_->stop();
    const std::int64_t lostAt = monotonicNs();
    const std::int64_t deadline = lostAt + static_cast<std::int64_t>(plan_.reconnectSeconds * 1e9);
    while (monotonicNs() < deadline && !stopPending()) {
        try {
            // The same device, by id, as the audio system lists it now.
            const auto devices = AudioSystem(settings_.api).devices();
            const auto it = std::find_if(devices.begin(), devices.end(),
                                         [&](const DeviceInfo& d) { return d.id == plan_.device.id; });
            if (it != devices.end()) {
                auto stream = openStream(*it); // its index may have changed as devices came and went
                std::lock_guard lock(streamMutex_);
                streamBase_.store(consumed);
                lostStreams_.push_back(std::move(stream_));
                stream_ = std::move(stream);
                gaps_.fetch_add(1, std::memory_order_relaxed);
                log().warn("'{}': the input device is back after {:.1f} s; recording goes on at {:.3f} s in the file",
                           plan_.path.string(), (monotonicNs() - lostAt) / 1e9,
                           static_cast<double>(framesInFile_.load()) / plan_.rate);
                return true;
            }
        } catch (const Error& e) {
            log().debug("reconnecting: {}", e.what());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return false;
}

CaptureSession::~CaptureSession()
{
    if (!finalized_) {
        try {
            stop();
        } catch (const std::exception& e) {
            log().error("stopping '{}': {}", plan_.path.string(), e.what());
        }
    }
}

void CaptureSession::request(Timeline::Action action, std::optional<std::int64_t> atNs)
{
    std::uint64_t local, pushed;
    {
        std::lock_guard streamLock(streamMutex_);
        local = stream_ ? stream_->positionAt(atNs.value_or(monotonicNs())) : 0;
        // A moment before the take began (a stop racing the start, or asked
        // before the first sound) would leave an empty file, which FLAC and MP3
        // cannot even hold: such a stop counts from when it arrived.
        if (atNs && stream_ && streamBase_.load() + local <= startFrame_.load())
            local = stream_->positionNow();
        pushed = stream_ ? stream_->progress().framesPushed : 0;
    }
    const std::uint64_t position = streamBase_.load() + local;
    std::unique_lock lock(marksMutex_);
    marks_.emplace_back(action, position);
    const std::uint64_t target = ++marksRequested_;
    // Wait for the frames in flight, plus slack for a late buffer; past that the
    // device is not delivering, and the request takes effect when (if) they come.
    const std::uint64_t inFlight = local - std::min(local, pushed);
    const std::int64_t deadline =
        monotonicNs() + static_cast<std::int64_t>(inFlight * 1'000'000'000 / plan_.rate) + 250'000'000;
    if (action == Timeline::Action::Stop)
        stopDeadlineNs_ = deadline; // the writer then ends the file where capture got to
    lock.unlock(); // not held with streamMutex_: the writer takes them one at a time
    wakeWriter();
    if (action == Timeline::Action::Stop)
        return; // stop() joins the writer
    lock.lock();
    // A pause or resume returns once it has taken effect in the file, so that
    // the duration read right after it is final for the paused stretch.
    const auto timeout = std::chrono::nanoseconds(std::max<std::int64_t>(0, deadline - monotonicNs()));
    marksDone_.wait_for(lock, timeout, [&] { return marksApplied_ >= target || ended(); });
}

void CaptureSession::setPaused(bool paused)
{
    if (finalized_ || ended())
        throw NotRecording("the recording has already ended");
    if (state() == SessionState::Waiting)
        throw NotRecording("the take is waiting for sound (start_on_sound); there is nothing to pause yet");
    const SessionState target = paused ? SessionState::Paused : SessionState::Recording;
    if (state() == target)
        return;
    request(paused ? Timeline::Action::Pause : Timeline::Action::Resume);
    state_.store(target, std::memory_order_release);
    log().info("{} '{}'", paused ? "paused" : "resumed", plan_.path.string());
}

bool CaptureSession::settleStart(bool now)
{
    // A new stream's first buffer says where its clock stands only roughly: it
    // can arrive up to a buffer later than the steady rhythm of those that
    // follow (seen on PulseAudio as takes 43 ms too long, 1 in 2). The frame
    // captured at the start is therefore placed again once a quarter of a
    // second of buffers has set the clock (CaptureStream::positionAt), and
    // before anything is written; at once if a request comes first, so that the
    // start and the request are placed by the same clock.
    const std::uint64_t settleFrames = std::max<std::uint64_t>(plan_.rate / 4, 3ULL * stream_->bufferFrames());
    if (!now && stream_->progress().framesPushed < settleFrames)
        return false;
    startFrame_ = stream_->positionAt(startNs_);
    placeFirstSample(startFrame_);
    startNs_ = 0;
    return true;
}

void CaptureSession::endBySelf(StopReason reason, std::string message)
{
    endReason_ = reason;
    endMessage_ = std::move(message);
}

void CaptureSession::placeFirstSample(std::uint64_t frame)
{
    const std::uint64_t first = wallTimeOf(frame);
    firstSampleUsec_.store(first, std::memory_order_release);
    writer_->stampFirstSample(first);
}

std::uint64_t CaptureSession::wallTimeOf(std::uint64_t frame) const
{
    // By the stream's clock, as starts and stops are placed: the wall clock now,
    // less how long ago (CLOCK_MONOTONIC) that frame was captured. A stream
    // with no audio yet has no clock (a start stopped before its first buffer):
    // its first frame is now.
    const std::int64_t at = stream_->progress().framesPushed ? stream_->timeOf(frame) : monotonicNs();
    return static_cast<std::uint64_t>((realtimeNs() - (monotonicNs() - at)) / 1000);
}

FileSpec CaptureSession::fileSpec(const std::filesystem::path& path, std::uint64_t fileFrame) const
{
    const std::uint64_t first = firstSampleUsec_.load(std::memory_order_acquire);
    const std::uint64_t firstSampleUsec = first ? first + fileFrame * 1'000'000 / plan_.rate : 0;
    return FileSpec{path,      plan_.container,   plan_.sampleFormat, plan_.rate,     plan_.channels,
                    plan_.overwrite, settings_.fileMode, firstSampleUsec, plan_.device.name, plan_.streamFd,
                    plan_.rawStream};
}

void CaptureSession::startNextPart(std::uint64_t fileFrame)
{
    // The part just filled is final before the next one exists: a crash now
    // leaves every finished part whole.
    writer_->close();
    ++part_;
    const std::filesystem::path& base = plan_.splitBase;
    std::filesystem::path next = partPath(base, part_);
    std::unique_ptr<SoundFileWriter> writer;
    for (int attempt = 2;; ++attempt) {
        try {
            writer = std::make_unique<SoundFileWriter>(fileSpec(next, fileFrame));
            break;
        } catch (const FileExists&) {
            // Never stop a take over a name: go on under the next free one.
            const std::filesystem::path wanted = partPath(base, part_);
            next = withSuffix(wanted, std::to_string(attempt));
            log().warn("'{}' exists; part {} goes to '{}'", wanted.string(), part_, next.string());
        }
    }
    {
        std::lock_guard lock(streamMutex_);
        finishedParts_.push_back(currentPath_);
        currentPath_ = next;
        writer_ = std::move(writer);
    }
    partStart_ = fileFrame;
    if (settings_.onNewFile)
        settings_.onNewFile(next);
    log().info("recording goes on in part {}, '{}', at {:.3f} s", part_, next.string(),
               static_cast<double>(fileFrame) / plan_.rate);
}

void CaptureSession::begin(std::uint64_t soundAt, std::uint64_t base)
{
    startFrame_ = std::max(base + ringTail_, soundAt - std::min(soundAt, plan_.preRollFrames));
    preRollFrames_ = soundAt - startFrame_;
    placeFirstSample(startFrame_ - base);
    state_.store(SessionState::Recording, std::memory_order_release);
    began_.store(true);
    log().info("'{}': sound above {:.0f} dBFS; recording begins{}", plan_.path.string(), plan_.silenceThresholdDbfs,
               preRollFrames_ ? fmt::format(" with {:.3f} s before it", static_cast<double>(preRollFrames_) / plan_.rate)
                              : std::string());
    if (settings_.onBegan)
        settings_.onBegan();
}

void CaptureSession::endOnSilence(const SilenceDetector& silence)
{
    // Keep a short tail of the silence, so the take does not end on a cut.
    const std::uint64_t tail = std::min<std::uint64_t>(silence.silentFrames(), plan_.rate / 2);
    const std::uint64_t keep = std::max(silence.silentSince() + tail, partStart_);
    const bool trimmed = writer_->truncate(keep - partStart_);
    if (trimmed)
        framesInFile_.store(keep, std::memory_order_relaxed);
    endBySelf(StopReason::Silence,
              fmt::format("no sound above {:.0f} dBFS for {:.1f} s{}", plan_.silenceThresholdDbfs,
                          static_cast<double>(plan_.silenceStopFrames) / plan_.rate,
                          trimmed ? fmt::format("; trailing silence trimmed to {:.1f} s",
                                                static_cast<double>(tail) / plan_.rate)
                                  : std::string("; this container keeps the trailing silence")));
}

void CaptureSession::runWriter()
{
    Timeline timeline;
    if (plan_.maxFrames)
        timeline.limit(*plan_.maxFrames);
    const std::size_t frameBytes = stream_->format().frameBytes();
    RingBuffer* ring = &stream_->ring();
    // Where the writer stands on the session's capture timeline. The ring frees
    // only what lies more than retainFrames_ behind it (a pre-roll keeps its last
    // seconds for the next take); ringTail_ is where the ring's reader stands, in
    // the current stream's own frame numbers.
    std::uint64_t consumed = ringTail_;
    // Frames that have arrived in the ring and that the writer has not reached.
    const auto unreadFrames = [&]() -> std::uint64_t {
        const std::size_t offset = (consumed - streamBase_.load() - ringTail_) * frameBytes;
        return (ring->readable() - std::min(ring->readable(), offset)) / frameBytes;
    };
    std::int64_t stopDeadline = 0;
    auto lastSync = std::chrono::steady_clock::now();
    const auto syncEvery = std::chrono::duration<double>(settings_.syncInterval);
    const std::int64_t silentNs = settings_.silentDeviceTimeout.count() * 1'000'000;
    const std::int64_t bufferNs =
        static_cast<std::int64_t>(stream_->bufferFrames()) * 1'000'000'000 / static_cast<std::int64_t>(plan_.rate);
    const std::uint64_t holdBackFrames = plan_.rate * writerHoldBack.count() / 1000;
    std::uint32_t gapsSeen = 0;
    std::uint32_t overrunsSeen = 0;
    std::uint64_t appliedSeen = 0;
    std::uint64_t drainTicket = 0; // the catchUp() request this pass answers
    bool byItself = false;
    LevelMeter meter(stream_->format());
    SilenceDetector sound(stream_->format(), plan_.silenceThresholdDbfs); // start_on_sound
    auto lastLevels = std::chrono::steady_clock::now();
    std::optional<SilenceDetector> silence;
    if (plan_.silenceStopFrames)
        silence.emplace(stream_->format(), plan_.silenceThresholdDbfs);

    // Tells a pause or resume waiting in request() that it took effect.
    const auto publishApplied = [&] {
        if (timeline.applied() == appliedSeen)
            return;
        appliedSeen = timeline.applied();
        {
            std::lock_guard lock(marksMutex_);
            marksApplied_ = appliedSeen;
        }
        marksDone_.notify_all();
    };

    try {
        for (;;) {
            {
                std::lock_guard lock(marksMutex_);
                for (const auto& [action, position] : marks_)
                    timeline.request(action, position);
                marks_.clear();
                stopDeadline = stopDeadlineNs_;
                drainTicket = drainsRequested_;
            }
            const std::uint64_t base = streamBase_.load();
            const std::size_t offset = (consumed - base - ringTail_) * frameBytes;
            auto region = ring->peekRegion(offset);
            if (startNs_ != 0 && !settleStart(timeline.pending() || timeline.stopRequested()))
                region = {}; // nothing is written before the first frame is known
            if (!timeline.pending() && state_.load(std::memory_order_acquire) != SessionState::Waiting) {
                // The newest holdBack of audio stays unwritten until a later pass,
                // so that a stop placed at a moment just before it arrived
                // (StopRecordingAt: the press, reported by a client that took a
                // while to start) never finds those frames written already.
                const std::uint64_t unread = unreadFrames();
                region = region.first(std::min<std::size_t>(region.size(),
                                                            (unread - std::min(unread, holdBackFrames)) * frameBytes));
            }
            if (!region.empty()) {
                const std::uint64_t frames = region.size() / frameBytes;
                std::uint64_t taken = frames;
                if (state_.load(std::memory_order_acquire) == SessionState::Waiting) {
                    // Armed: listen, write nothing, until a 10 ms block is loud.
                    sound.feed(region.data(), frames, consumed);
                    if (sound.heardSound()) {
                        begin(sound.firstSoundAt(), base);
                        consumed = startFrame_; // back into the pre-roll the ring kept
                        continue;
                    }
                } else if (consumed < startFrame_) {
                    taken = std::min(frames, startFrame_ - consumed); // older than the pre-roll
                } else {
                    if (settings_.beforeWrite)
                        settings_.beforeWrite(timeline.kept());
                    std::uint64_t fileFrame = timeline.kept();
                    for (const auto& run : timeline.select(consumed, frames)) {
                        for (std::uint64_t done = 0; done < run.frames;) {
                            // A new part when this one is full and there is more to
                            // write: never an empty last part, never a frame twice.
                            if (plan_.splitFrames && fileFrame - partStart_ == plan_.splitFrames)
                                startNextPart(fileFrame);
                            const std::uint64_t n =
                                plan_.splitFrames
                                    ? std::min(run.frames - done, plan_.splitFrames - (fileFrame - partStart_))
                                    : run.frames - done;
                            const std::byte* data = region.data() + (run.offset + done) * frameBytes;
                            writer_->write(data, n);
                            if (silence)
                                silence->feed(data, n, fileFrame);
                            if (metering_.load(std::memory_order_relaxed))
                                meter.feed(data, n);
                            fileFrame += n;
                            done += n;
                        }
                    }
                    publishApplied();
                    // What follows the stop stays in the ring for the next take's pre-roll.
                    if (timeline.stopped())
                        taken = std::min(frames, timeline.stopPosition() - std::min(timeline.stopPosition(), consumed));
                    framesInFile_.store(timeline.kept(), std::memory_order_relaxed);
                }
                consumed += taken;
                const std::uint64_t local = consumed - base;
                const std::uint64_t keepFrom = local - std::min(local, retainFrames_);
                if (keepFrom > ringTail_) {
                    ring->consume((keepFrom - ringTail_) * frameBytes);
                    ringTail_ = keepFrom;
                }
            } else if (timeline.pending() && consumed >= startFrame_ &&
                       state_.load(std::memory_order_acquire) != SessionState::Waiting) {
                // A mark at a frame already here (a stop placed at the moment the
                // user asked) takes effect now rather than with the next buffer.
                timeline.select(consumed, 0);
                publishApplied();
            }
            // About ten times a second, on the writer's 50 ms rhythm.
            if (meter.frames() > 0 && std::chrono::steady_clock::now() - lastLevels >= std::chrono::milliseconds(90)) {
                lastLevels = std::chrono::steady_clock::now();
                {
                    std::lock_guard lock(levelsMutex_);
                    levels_ = meter.take();
                }
                if (settings_.onLevels)
                    settings_.onLevels();
            }
            if (timeline.stopped())
                break;
            if (timeline.limitReached()) {
                endBySelf(StopReason::MaxDuration, {});
                byItself = true;
                break;
            }
            if (silence && silence->silentFrames() >= plan_.silenceStopFrames) {
                endOnSilence(*silence);
                byItself = true;
                break;
            }
            if (state_.load(std::memory_order_acquire) == SessionState::Waiting && timeline.stopRequested()) {
                timeline.stopNow(consumed); // stopped before any sound: nothing to write
                break;
            }
            if (!region.empty())
                continue; // more may be waiting right behind the wrap-around
            const std::int64_t now = monotonicNs();
            if (timeline.stopRequested() && now > stopDeadline) {
                log().warn("the device delivered {} fewer frames than expected before the stop",
                           timeline.stopPosition() - consumed);
                timeline.stopNow(consumed);
                break;
            }
            const CaptureProgress progress = stream_->progress();
            // A source that pauses delivering (suspended, stalled) leaves a gap in
            // time that the file cannot show: log where, and count it.
            if (const std::uint32_t gaps = stream_->gaps(); gaps != gapsSeen) {
                gaps_.fetch_add(gaps - gapsSeen, std::memory_order_relaxed);
                log().warn("'{}': the device delivered no audio for {} ms, at {:.3f} s in the file",
                           plan_.path.string(), (stream_->lastGapNs() - bufferNs) / 1'000'000,
                           static_cast<double>(timeline.kept()) / plan_.rate);
                gapsSeen = gaps;
            }
            if (const std::uint32_t overruns = stream_->overruns(); overruns != overrunsSeen) {
                log().warn("'{}': the writer fell behind and {} frames were dropped so far ({} times), at {:.3f} s "
                           "in the file",
                           plan_.path.string(), stream_->overrunFrames(), overruns,
                           static_cast<double>(timeline.kept()) / plan_.rate);
                overrunsSeen = overruns;
            }
            const bool failed = stream_->failed();
            if (failed || now - progress.lastBufferNs > silentNs) {
                if (plan_.reconnectSeconds > 0 && reconnect(consumed)) {
                    ring = &stream_->ring();
                    ringTail_ = 0;
                    gapsSeen = 0;
                    overrunsSeen = 0;
                    continue;
                }
                if (plan_.reconnectSeconds > 0 && stopPending()) {
                    timeline.stopNow(consumed);
                    break;
                }
                endBySelf(StopReason::DeviceLost,
                          failed ? fmt::format("the input device '{}' failed{}", plan_.device.name,
                                               plan_.reconnectSeconds > 0 ? " and did not come back" : "")
                                 : fmt::format("the input device '{}' delivered no audio for {} ms{}",
                                               plan_.device.name, settings_.silentDeviceTimeout.count(),
                                               plan_.reconnectSeconds > 0 ? " and did not come back" : ""));
                byItself = true;
                break;
            }
            if (std::chrono::steady_clock::now() - lastSync >= syncEvery) {
                writer_->sync();
                lastSync = std::chrono::steady_clock::now();
            }
            bool asked;
            {
                std::lock_guard lock(marksMutex_);
                // The ring was empty just now but for the held-back audio:
                // everything else that had arrived is written.
                lastDrainNs_.store(monotonicNs(), std::memory_order_relaxed);
                const bool holding = !timeline.pending() && state_.load() == SessionState::Recording;
                heldFrames_.store(holding ? unreadFrames() : 0, std::memory_order_relaxed);
                if (drainsDone_ != drainTicket) {
                    drainsDone_ = drainTicket;
                    marksDone_.notify_all();
                }
                asked = !marks_.empty() || drainsRequested_ != drainsDone_;
            }
            if (asked)
                continue;
            // A request made from here on posts the stream's wake-up, which the
            // wait then finds: none is lost between this look and the wait.
            const auto batch = timeline.pending() ? std::chrono::milliseconds(0) : writerBatch;
            stream_->wakeReaderEvery(std::max<std::uint64_t>(1, plan_.rate * batch.count() / 1000));
            const auto untilSync = std::chrono::duration_cast<std::chrono::nanoseconds>(
                syncEvery - (std::chrono::steady_clock::now() - lastSync));
            stream_->waitForAudio(timeline.pending()
                                      ? std::chrono::nanoseconds(markPoll)
                                      : std::clamp<std::chrono::nanoseconds>(untilSync, std::chrono::milliseconds(1),
                                                                             housekeepingEvery));
        }
    } catch (const Error& e) {
        endBySelf(e.kind() == ErrorKind::IoError ? StopReason::IoError : StopReason::Error, e.what());
        byItself = true;
    } catch (const std::exception& e) {
        endBySelf(StopReason::Error, e.what());
        byItself = true;
    }
    if (byItself) {
        // A take cut short by a fault is an error in the journal (`journalctl -p err`
        // finds it); one that reached its limit or silence ended as asked.
        const bool fault = endReason_ == StopReason::DeviceLost || endReason_ == StopReason::IoError ||
                           endReason_ == StopReason::Error;
        log().log(fault ? spdlog::level::err : spdlog::level::info, "recording '{}' ended: {}{}{}",
                  plan_.path.string(), stopReasonName(endReason_), endMessage_.empty() ? "" : ": ", endMessage_);
    }
    {
        std::lock_guard lock(marksMutex_); // a pause waiting on marksDone_ must not miss it
        ended_.store(true, std::memory_order_release);
    }
    marksDone_.notify_all();
    if (byItself && onEnded_)
        onEnded_();
}

StopResult CaptureSession::stop(std::optional<std::int64_t> atNs)
{
    if (finalized_)
        return result_;
    const std::int64_t t0 = monotonicNs();
    if (!ended())
        request(Timeline::Action::Stop, atNs);
    if (writerThread_.joinable())
        writerThread_.join();
    const std::int64_t t1 = monotonicNs();

    result_.path = currentPath_;
    result_.reason = endReason_;
    result_.message = endMessage_;
    if (state() == SessionState::Waiting) {
        // Armed and stopped before any sound: an empty file helps nobody.
        writer_->discard();
        result_.message = fmt::format("no sound above {:.0f} dBFS was heard; no file was kept",
                                      plan_.silenceThresholdDbfs);
        releaseStreams();
        finalized_ = true;
        state_.store(SessionState::Stopped, std::memory_order_release);
        log().info("stopped '{}' while waiting for sound: {}", plan_.path.string(), result_.message);
        return result_;
    }
    try {
        writer_->close();
    } catch (const Error& e) {
        if (result_.reason == StopReason::Requested) {
            result_.reason = StopReason::IoError;
            result_.message = e.what();
        }
        log().error("{}", e.what());
    }
    const std::int64_t t2 = monotonicNs();
    result_.frames = framesInFile_.load();
    result_.duration = static_cast<double>(result_.frames) / plan_.rate;
    const std::uint64_t captured = stream_->progress().framesPushed;
    releaseStreams();
    finalized_ = true;
    state_.store(SessionState::Stopped, std::memory_order_release);
    log().debug("stop: tail {:.1f} ms, file closed {:.1f} ms", (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    log().info("stopped '{}' ({}): {:.3f} s, {} frames; overruns {} ({} frames), input overflows {}, captured {}",
               plan_.path.string(), stopReasonName(result_.reason), result_.duration, result_.frames,
               finalDrops_.overruns, finalDrops_.overrunFrames, finalDrops_.inputOverflows, captured);
    return result_;
}

StopResult CaptureSession::cancel()
{
    StopResult r = stop();
    writer_->discard();
    for (const auto& part : finishedParts_) {
        std::error_code ec;
        std::filesystem::remove(part, ec);
    }
    r.reason = StopReason::Cancelled;
    result_ = r;
    log().info("cancelled and deleted '{}'", plan_.path.string());
    return r;
}

CaptureSession::DropCounters CaptureSession::dropCounters() const
{
    DropCounters d;
    auto add = [&d](const CaptureStream& stream) {
        d.overruns += stream.overruns();
        d.overrunFrames += stream.overrunFrames();
        d.inputOverflows += stream.inputOverflows();
    };
    add(*stream_);
    for (const auto& lost : lostStreams_)
        add(*lost);
    return d;
}

std::optional<Levels> CaptureSession::takeLevels()
{
    std::lock_guard lock(levelsMutex_);
    return std::exchange(levels_, std::nullopt);
}

void CaptureSession::wakeWriter() const
{
    std::lock_guard lock(streamMutex_);
    if (stream_)
        stream_->wakeReader();
}

void CaptureSession::catchUp() const
{
    if (state() != SessionState::Recording || ended())
        return; // paused, waiting or over: the count is final
    if (monotonicNs() - lastDrainNs_.load(std::memory_order_relaxed) < 10'000'000)
        return;
    std::unique_lock lock(marksMutex_);
    const std::uint64_t ticket = ++drainsRequested_;
    lock.unlock();
    wakeWriter();
    lock.lock();
    marksDone_.wait_for(lock, std::chrono::milliseconds(25), [&] { return drainsDone_ >= ticket || ended(); });
}

std::uint64_t CaptureSession::frames() const
{
    const std::uint64_t inFile = framesInFile_.load(std::memory_order_relaxed);
    if (ended() || state() != SessionState::Recording)
        return inFile;
    const std::uint64_t all = inFile + heldFrames_.load(std::memory_order_relaxed);
    return plan_.maxFrames ? std::min(all, *plan_.maxFrames) : all;
}

double CaptureSession::duration() const
{
    catchUp();
    return static_cast<double>(frames()) / plan_.rate;
}

SessionStatus CaptureSession::status() const
{
    SessionStatus s;
    s.state = state();
    {
        std::lock_guard lock(streamMutex_);
        s.path = currentPath_;
        s.part = part_;
        }
    s.deviceId = plan_.device.id;
    s.deviceName = plan_.device.name;
    s.rate = plan_.rate;
    s.channels = plan_.channels;
    s.sampleFormat = plan_.sampleFormat;
    catchUp();
    s.frames = frames();
    s.preRoll = static_cast<double>(preRollFrames_) / plan_.rate;
    s.duration = static_cast<double>(s.frames) / plan_.rate;
    {
        std::lock_guard lock(streamMutex_);
        const DropCounters drops = stream_ ? dropCounters() : finalDrops_;
        s.overruns = drops.overruns;
        s.overrunFrames = drops.overrunFrames;
        s.inputOverflows = drops.inputOverflows;
    }
    s.gaps = gaps_.load(std::memory_order_relaxed);
    s.bytes = writer_->bytesOnDisk();
    return s;
}

} // namespace recd
