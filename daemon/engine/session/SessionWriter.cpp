// The writer thread of a take: drains the ring into the file, applies the
// control side's marks (WriterRequests), listens for sound and silence, meters,
// and reconnects a lost device. The control side is CaptureSession.cpp.
#include "daemon/engine/session/CaptureSession.hpp"
#include "daemon/engine/session/WriterPass.hpp"

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
    WriterPass w(stream_->format(), plan_.silenceThresholdDbfs);
    if (plan_.maxFrames)
        w.timeline.limit(*plan_.maxFrames);
    w.frameBytes = stream_->format().frameBytes();
    w.ring = &stream_->ring();
    w.consumed = ringTail_;
    w.syncNs = static_cast<std::int64_t>(settings_.syncInterval * 1e9);
    w.nextSyncNs = monotonicNs() + w.syncNs;
    w.holdBackFrames = plan_.rate * writerHoldBack.count() / 1000;
    if (plan_.silenceStopFrames)
        w.silence.emplace(stream_->format(), plan_.silenceThresholdDbfs);
    if (plan_.utteranceGapFrames)
        w.utterances.emplace(*files_, stream_->format(), plan_.silenceThresholdDbfs, plan_.utteranceGapFrames,
                             plan_.utteranceMarginFrames);
    Timeline& timeline = w.timeline;
    bool byItself = false;

    try {
        for (;;) {
            {
                WriterRequests::Asked asked = requests_.collect();
                for (const auto& [action, position] : asked.marks)
                    timeline.request(action, position);
                w.stopDeadline = asked.stopDeadlineNs;
                w.drainTicket = asked.drainTicket;
            }
            const std::uint64_t base = streamBase_.load();
            const auto region = writableRegion(w, base);
            if (!region.empty()) {
                if (!writeRegion(w, region, base))
                    continue; // a waiting take began: write it from its pre-roll
            } else if (timeline.pending() && w.consumed >= startFrame_ &&
                       state_.load(std::memory_order_acquire) != SessionState::Waiting) {
                // A mark at a frame already here (a stop placed at the moment the
                // user asked) takes effect now rather than with the next buffer.
                timeline.select(w.consumed, 0);
                publishApplied(w);
            }
            if (levels_.offer(w.meter) && hooks_.onLevels)
                hooks_.onLevels();
            if (timeline.stopped())
                break;
            if (timeline.limitReached()) {
                endBySelf(StopReason::MaxDuration, {});
                byItself = true;
                break;
            }
            if (w.silence && w.silence->silentFrames() >= plan_.silenceStopFrames) {
                endOnSilence(*w.silence);
                byItself = true;
                break;
            }
            if (state_.load(std::memory_order_acquire) == SessionState::Waiting && timeline.stopRequested()) {
                timeline.stopNow(w.consumed); // stopped before any sound: nothing to write
                break;
            }
            if (!region.empty())
                continue; // more may be waiting right behind the wrap-around
            const std::int64_t now = monotonicNs();
            if (timeline.stopRequested() && now > w.stopDeadline) {
                log().warn("the device delivered {} fewer frames than expected before the stop",
                           timeline.stopPosition() - w.consumed);
                timeline.stopNow(w.consumed);
                break;
            }
            noteDrops(w);
            const DeviceHealth health = checkDevice(w, now);
            if (health == DeviceHealth::Reconnected)
                continue;
            if (health != DeviceHealth::Delivering) {
                byItself = health == DeviceHealth::Lost;
                break;
            }
            syncIfDue(w, now);
            // The ring was empty just now but for the held-back audio: everything
            // else that had arrived is written, and a catchUp() may count it.
            const bool holding = !timeline.pending() && state_.load() == SessionState::Recording;
            heldFrames_.store(holding ? unreadFrames(w) : 0, std::memory_order_relaxed);
            if (requests_.drained(w.drainTicket, monotonicNs()))
                continue;
            waitForWork(w);
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
                  plan_.destination.path().string(), stopReasonName(endReason_), endMessage_.empty() ? "" : ": ", endMessage_);
    }
    requests_.end();
    if (byItself && hooks_.onEnded)
        hooks_.onEnded();
}

std::uint64_t CaptureSession::unreadFrames(const WriterPass& w) const
{
    const std::size_t offset = (w.consumed - streamBase_.load() - ringTail_) * w.frameBytes;
    return (w.ring->readable() - std::min(w.ring->readable(), offset)) / w.frameBytes;
}

// Tells a pause or resume waiting in request() that it took effect.
void CaptureSession::publishApplied(WriterPass& w)
{
    if (w.timeline.applied() == w.appliedSeen)
        return;
    w.appliedSeen = w.timeline.applied();
    requests_.applied(w.appliedSeen);
}

std::span<const std::byte> CaptureSession::writableRegion(WriterPass& w, std::uint64_t base)
{
    auto region = w.ring->peekRegion((w.consumed - base - ringTail_) * w.frameBytes);
    if (startNs_ != 0 && !settleStart(w.timeline.pending() || w.timeline.stopRequested()))
        return {}; // nothing is written before the first frame is known
    if (!w.timeline.pending() && state_.load(std::memory_order_acquire) != SessionState::Waiting &&
        delivering(monotonicNs())) {
        // The newest holdBack of audio stays unwritten until a later pass, so
        // that a stop placed at a moment just before it arrived
        // (StopRecordingAt: the press, reported by a client that took a while
        // to start) never finds those frames written already. Not once the
        // device stopped delivering: nothing comes after them, and they would
        // be lost when the take reconnects or ends.
        const std::uint64_t unread = unreadFrames(w);
        region = region.first(
            std::min<std::size_t>(region.size(), (unread - std::min(unread, w.holdBackFrames)) * w.frameBytes));
    }
    return region;
}

bool CaptureSession::writeRegion(WriterPass& w, std::span<const std::byte> region, std::uint64_t base)
{
    Timeline& timeline = w.timeline;
    const std::uint64_t frames = region.size() / w.frameBytes;
    std::uint64_t taken = frames;
    if (state_.load(std::memory_order_acquire) == SessionState::Waiting) {
        // Armed: listen, write nothing, until a 10 ms block is loud.
        w.sound.feed(region.data(), frames, w.consumed);
        if (w.sound.heardSound()) {
            begin(w.sound.firstSoundAt(), base);
            w.consumed = startFrame_; // back into the pre-roll the ring kept
            return false;
        }
    } else if (w.consumed < startFrame_) {
        taken = std::min(frames, startFrame_ - w.consumed); // older than the pre-roll
    } else {
        if (hooks_.beforeWrite)
            hooks_.beforeWrite(timeline.kept());
        std::uint64_t fileFrame = timeline.kept();
        for (const auto& run : timeline.select(w.consumed, frames)) {
            const std::byte* data = region.data() + run.offset * w.frameBytes;
            if (w.utterances)
                w.utterances->write(data, run.frames, fileFrame);
            else
                files_->write(data, run.frames, fileFrame);
            if (w.silence)
                w.silence->feed(data, run.frames, fileFrame);
            if (levels_.watched())
                w.meter.feed(data, run.frames);
            fileFrame += run.frames;
        }
        // Counted before a pause waiting in request() is told it took effect:
        // the duration read right after the pause returns is final. Frames the
        // last pass counted as held leave that count first, so that frames()
        // never counts them twice (it may count them late, for a moment).
        const std::uint64_t wrote = timeline.kept() - framesInFile_.load(std::memory_order_relaxed);
        const std::uint64_t held = heldFrames_.load(std::memory_order_relaxed);
        heldFrames_.store(held - std::min(held, wrote), std::memory_order_relaxed);
        framesInFile_.store(timeline.kept(), std::memory_order_release);
        publishApplied(w);
        // What follows the stop stays in the ring for the next take's pre-roll.
        if (timeline.stopped())
            taken = std::min(frames, timeline.stopPosition() - std::min(timeline.stopPosition(), w.consumed));
    }
    w.consumed += taken;
    const std::uint64_t local = w.consumed - base;
    const std::uint64_t keepFrom = local - std::min(local, retainFrames_);
    if (keepFrom > ringTail_) {
        w.ring->consume((keepFrom - ringTail_) * w.frameBytes);
        ringTail_ = keepFrom;
    }
    return true;
}

void CaptureSession::syncIfDue(WriterPass& w, std::int64_t now)
{
    if (now < w.nextSyncNs)
        return;
    files_->sync();
    // The file now holds the audio up to the frame the writer reached, captured
    // a little before now (the held-back audio and the delivery on its way):
    // the next sync is due an interval after that frame, so that a crash loses
    // at most sync_interval of audio. Not sooner than half an interval from
    // now, should the writer be far behind.
    w.nextSyncNs = std::max(stream_->timeOf(w.consumed - streamBase_.load()) + w.syncNs, now + w.syncNs / 2);
}

// A request made from here on posts the stream's wake-up, which the wait then
// finds: none is lost between the writer's last look and the wait.
void CaptureSession::waitForWork(WriterPass& w)
{
    const bool pending = w.timeline.pending();
    // Prompt too until the start is placed: the stream's clock, which places
    // it, learns from many small deliveries sooner than from a few large ones.
    paceDelivery(pending || startNs_ != 0);
    const auto batch = pending ? std::chrono::milliseconds(0) : writerBatch;
    stream_->wakeReaderEvery(std::max<std::uint64_t>(1, plan_.rate * batch.count() / 1000));
    const auto untilSync = std::chrono::nanoseconds(w.nextSyncNs - monotonicNs());
    stream_->waitForAudio(pending ? std::chrono::nanoseconds(markPoll)
                                  : std::clamp<std::chrono::nanoseconds>(untilSync, std::chrono::milliseconds(1),
                                                                         housekeepingEvery));
}

bool CaptureSession::settleStart(bool now)
{
    // A new stream's first buffer says where its clock stands only roughly: it
    // can arrive up to a buffer later than the steady rhythm of those that
    // follow (seen on PulseAudio as takes 43 ms too long, 1 in 2). The frame
    // captured at the start is therefore placed again once a quarter of a
    // second of buffers has set the clock (CaptureSource::positionAt), and
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
    log().info("'{}': sound above {:.0f} dBFS; recording begins{}", plan_.destination.path().string(), plan_.silenceThresholdDbfs,
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

// A mark waits on the frames up to its moment: those should come with the next
// buffer, not the next relaxed delivery.
void CaptureSession::paceDelivery(bool prompt)
{
    stream_->setDelivery(prompt ? CaptureSource::Delivery::Prompt : CaptureSource::Delivery::Relaxed);
    if (const unsigned granted = stream_->deliveryFrames(); granted != loggedDeliveryFrames_) {
        log().debug("'{}': the server delivers {} frames at a time{}", plan_.destination.path().string(), granted,
                    prompt ? " (prompt)" : "");
        loggedDeliveryFrames_ = granted;
    }
}

} // namespace recd
