// The writer thread of a take: drains the ring into the file, applies the
// control side's marks (WriterRequests), listens for sound and silence, meters,
// and reconnects a lost device. The control side is CaptureSession.cpp.
#include "daemon/engine/session/CaptureSession.hpp"

#include "daemon/engine/device/AudioSystem.hpp"
#include "common/Errors.hpp"
#include "daemon/engine/Log.hpp"
#include "common/MonotonicClock.hpp"
#include "daemon/engine/dsp/SilenceDetector.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

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

} // namespace

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
    const auto syncNs = static_cast<std::int64_t>(settings_.syncInterval * 1e9);
    std::int64_t nextSyncNs = monotonicNs() + syncNs;
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
        requests_.applied(appliedSeen);
    };

    try {
        for (;;) {
            {
                WriterRequests::Asked asked = requests_.collect();
                for (const auto& [action, position] : asked.marks)
                    timeline.request(action, position);
                stopDeadline = asked.stopDeadlineNs;
                drainTicket = asked.drainTicket;
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
                    if (hooks_.beforeWrite)
                        hooks_.beforeWrite(timeline.kept());
                    std::uint64_t fileFrame = timeline.kept();
                    for (const auto& run : timeline.select(consumed, frames)) {
                        const std::byte* data = region.data() + run.offset * frameBytes;
                        files_->write(data, run.frames, fileFrame);
                        if (silence)
                            silence->feed(data, run.frames, fileFrame);
                        if (metering_.load(std::memory_order_relaxed))
                            meter.feed(data, run.frames);
                        fileFrame += run.frames;
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
                handOffLevels(meter);
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
                if (plan_.reconnectSeconds > 0 && requests_.stopQueued()) {
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
            if (now >= nextSyncNs) {
                files_->sync();
                // The file now holds the audio up to the frame the writer reached,
                // captured a little before now (the held-back audio and the buffer
                // on its way): the next sync is due an interval after that frame,
                // so that a crash loses at most sync_interval of audio. Not sooner
                // than half an interval from now, should the writer be far behind.
                nextSyncNs = std::max(stream_->timeOf(consumed - streamBase_.load()) + syncNs, now + syncNs / 2);
            }
            // The ring was empty just now but for the held-back audio: everything
            // else that had arrived is written, and a catchUp() may count it.
            const bool holding = !timeline.pending() && state_.load() == SessionState::Recording;
            heldFrames_.store(holding ? unreadFrames() : 0, std::memory_order_relaxed);
            if (requests_.drained(drainTicket, monotonicNs()))
                continue;
            // A request made from here on posts the stream's wake-up, which the
            // wait then finds: none is lost between this look and the wait.
            // A mark waits on the frames up to its moment: those should come
            // with the next buffer, not the next relaxed delivery.
            stream_->setDelivery(timeline.pending() ? CaptureStream::Delivery::Prompt
                                                    : CaptureStream::Delivery::Relaxed);
            const auto batch = timeline.pending() ? std::chrono::milliseconds(0) : writerBatch;
            stream_->wakeReaderEvery(std::max<std::uint64_t>(1, plan_.rate * batch.count() / 1000));
            const auto untilSync = std::chrono::nanoseconds(nextSyncNs - monotonicNs());
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
        log().log(isFault(endReason_) ? spdlog::level::err : spdlog::level::info, "recording '{}' ended: {}{}{}",
                  plan_.path.string(), stopReasonName(endReason_), endMessage_.empty() ? "" : ": ", endMessage_);
    }
    requests_.end();
    if (byItself && hooks_.onEnded)
        hooks_.onEnded();
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
    files_->stampFirstSample(first);
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
    if (hooks_.onBegan)
        hooks_.onBegan();
}

void CaptureSession::endOnSilence(const SilenceDetector& silence)
{
    // Keep a short tail of the silence, so the take does not end on a cut.
    const std::uint64_t tail = std::min<std::uint64_t>(silence.silentFrames(), plan_.rate / 2);
    const auto kept = files_->truncate(silence.silentSince() + tail);
    const bool trimmed = kept.has_value();
    if (trimmed)
        framesInFile_.store(*kept, std::memory_order_relaxed);
    endBySelf(StopReason::Silence,
              fmt::format("no sound above {:.0f} dBFS for {:.1f} s{}", plan_.silenceThresholdDbfs,
                          static_cast<double>(plan_.silenceStopFrames) / plan_.rate,
                          trimmed ? fmt::format("; trailing silence trimmed to {:.1f} s",
                                                static_cast<double>(tail) / plan_.rate)
                                  : std::string("; this container keeps the trailing silence")));
}

void CaptureSession::handOffLevels(LevelMeter& meter)
{
    {
        std::lock_guard lock(levelsMutex_);
        levels_ = meter.take();
    }
    if (hooks_.onLevels)
        hooks_.onLevels();
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
    while (monotonicNs() < deadline && !requests_.stopQueued()) {
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

} // namespace recd
