// The control side of a take: opening it, pause, resume, stop, cancel, and what
// it reports. The writer thread's side is SessionWriter.cpp.
#include "daemon/engine/session/CaptureSession.hpp"

#include "common/Errors.hpp"
#include "daemon/engine/Log.hpp"
#include "common/MonotonicClock.hpp"
#include "daemon/engine/capture/DeviceOpener.hpp"
#include "daemon/engine/capture/MergedSource.hpp"
#include "daemon/engine/capture/StreamCloser.hpp"
#include "daemon/engine/ThreadName.hpp"

#include <cmath>
#include <utility>

namespace recd {

CaptureSession::CaptureSession(const CapturePlan& plan, const EngineSettings& settings, SessionHooks hooks,
                               RunningInput input, std::stop_token abandon)
    : plan_(plan), settings_(settings), hooks_(std::move(hooks)),
      ownOpener_(hooks_.opener ? nullptr : std::make_unique<DeviceOpener>(settings.api, settings.firstBufferTimeout)),
      opener_(hooks_.opener ? hooks_.opener : ownOpener_.get()), giveBack_(std::move(input.giveBack)),
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
        stream_ = openInputs(abandon);
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

    const FileSpec first{plan.destination, plan.sampleFormat,     plan.rate,       plan.channels,
                         plan.overwrite,   settings_.fileMode,    firstSampleUsec_.load(), plan.device.name};
    try {
        // With a file per input, each file's bext description names its input.
        std::vector<std::string> sources;
        if (plan.files > 1) {
            sources.push_back(plan.device.name);
            for (const auto& input : plan.moreInputs)
                sources.push_back(input.name);
        }
        TakeFiles::Parts parts{plan.inParts(), plan.splitFrames,
                               [this](const std::vector<std::filesystem::path>& paths, std::uint64_t frames) {
                                   {
                                       std::lock_guard lock(closedPartsMutex_);
                                       closedParts_.push_back({files_->part(), paths,
                                                               static_cast<double>(frames) / plan_.rate});
                                   }
                                   if (hooks_.onPartClosed)
                                       hooks_.onPartClosed();
                               }};
        files_ = std::make_unique<TakeFiles>(first, sources, plan.splitBase, std::move(parts), hooks_.onNewFiles);
    } catch (...) {
        releaseStreams();
        throw;
    }
    writerThread_ = std::thread([this] {
        nameThisThread("recd-writer");
        runWriter();
    });
    log().info("recording '{}' from '{}': {} Hz, {} ch, {}{}", plan.destination.path().string(), plan.device.name, plan.rate,
               plan.channels, sampleFormatName(plan.sampleFormat),
               preRollFrames_ ? fmt::format(", with {:.3f} s of pre-roll", static_cast<double>(preRollFrames_) / plan.rate)
                              : std::string());
}

CaptureSession::~CaptureSession()
{
    if (!finalized_) {
        try {
            stop();
        } catch (const std::exception& e) {
            log().error("stopping '{}': {}", plan_.destination.path().string(), e.what());
        }
    }
}

void CaptureSession::releaseStreams()
{
    std::lock_guard lock(streamMutex_);
    finalDrops_ = dropCounts();
    stream_->wakeReaderEvery(0); // nobody waits on it any more
    if (giveBack_ && !stream_->failed() && endReason_ != StopReason::DeviceLost)
        giveBack_(std::move(stream_), ringTail_); // the pre-roll goes on from where the take ended
    else if (hooks_.streamCloser)
        hooks_.streamCloser->close(std::move(stream_));
    else
        stream_->stop(); // kept, stopped, for status()
    if (hooks_.streamCloser) {
        for (auto& lost : lostStreams_)
            hooks_.streamCloser->close(std::move(lost));
        lostStreams_.clear();
    }
}

std::size_t CaptureSession::ringFrames() const
{
    const auto frames = static_cast<std::size_t>(std::ceil(settings_.ringSeconds * plan_.rate));
    return std::max<std::size_t>(frames, 4 * settings_.framesPerBuffer());
}

std::unique_ptr<CaptureSource> CaptureSession::openStream(const DeviceInfo& device, std::stop_token abandon) const
{
    return opener_->open(device, captureFormat(plan_), settings_.framesPerBuffer(), ringFrames(), abandon);
}

std::unique_ptr<CaptureSource> CaptureSession::openInputs(std::stop_token abandon) const
{
    if (plan_.moreInputs.empty())
        return openStream(plan_.device, abandon);
    std::vector<std::unique_ptr<CaptureSource>> inputs;
    inputs.push_back(openStream(plan_.device, abandon));
    for (const auto& device : plan_.moreInputs)
        inputs.push_back(openStream(device, abandon));
    // A failed input opened again (reconnect), by what the reopener holds
    // itself: it may outlive this session, in the stream closer.
    std::vector<DeviceInfo> devices{plan_.device};
    devices.insert(devices.end(), plan_.moreInputs.begin(), plan_.moreInputs.end());
    auto reopen = [opener = opener_, devices = std::move(devices), format = captureFormat(plan_),
                   frames = settings_.framesPerBuffer(), ring = ringFrames()](std::size_t i, std::stop_token stop) {
        return opener->open(listedAgain(*opener, devices.at(i)), format, frames, ring, stop);
    };
    return std::make_unique<MergedSource>(std::move(inputs), plan_.layout, ringFrames(), std::move(reopen),
                                          plan_.reconnectSeconds);
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
    // Wait for the frames in flight, plus slack for a late buffer; past that the
    // device is not delivering, and the request takes effect when (if) they come.
    const std::uint64_t inFlight = local - std::min(local, pushed);
    const std::int64_t deadline =
        monotonicNs() + static_cast<std::int64_t>(inFlight * 1'000'000'000 / plan_.rate) + 250'000'000;
    const std::uint64_t ticket = requests_.mark(action, streamBase_.load() + local, deadline);
    wakeWriter();
    if (action == Timeline::Action::Stop)
        return; // stop() joins the writer
    // A pause or resume returns once it has taken effect in the file, so that
    // the duration read right after it is final for the paused stretch.
    requests_.waitApplied(ticket, deadline);
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
    log().info("{} '{}'", paused ? "paused" : "resumed", plan_.destination.path().string());
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

    result_.files = files_->currentPaths();
    result_.path = result_.files.front();
    result_.streamed = plan_.destination.streamed();
    result_.reason = endReason_;
    result_.message = endMessage_;
    if (state() == SessionState::Waiting) {
        // Armed and stopped before any sound: an empty file helps nobody.
        files_->discard();
        result_.message = fmt::format("no sound above {:.0f} dBFS was heard; no file was kept",
                                      plan_.silenceThresholdDbfs);
        releaseStreams();
        finalized_ = true;
        state_.store(SessionState::Stopped, std::memory_order_release);
        log().info("stopped '{}' while waiting for sound: {}", plan_.destination.path().string(), result_.message);
        return result_;
    }
    try {
        files_->close();
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
               plan_.destination.path().string(), stopReasonName(result_.reason), result_.duration, result_.frames,
               finalDrops_.overruns, finalDrops_.overrunFrames, finalDrops_.inputOverflows, captured);
    return result_;
}

StopResult CaptureSession::cancel()
{
    StopResult r = stop();
    files_->discardAll();
    {
        std::lock_guard lock(closedPartsMutex_);
        closedParts_.clear(); // deleted: nothing to hand over
    }
    r.reason = StopReason::Cancelled;
    result_ = r;
    log().info("cancelled and deleted '{}'", plan_.destination.path().string());
    return r;
}

DropCounts CaptureSession::dropCounts() const
{
    DropCounts d = stream_->drops();
    for (const auto& lost : lostStreams_)
        d += lost->drops();
    return d;
}

std::vector<CaptureSession::ClosedPart> CaptureSession::takeClosedParts()
{
    std::lock_guard lock(closedPartsMutex_);
    return std::exchange(closedParts_, {});
}

std::optional<Levels> CaptureSession::takeLevels()
{
    return levels_.take();
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
    if (monotonicNs() - requests_.lastDrainNs() < 10'000'000)
        return;
    const std::uint64_t ticket = requests_.askDrain();
    wakeWriter();
    requests_.waitDrained(ticket, std::chrono::milliseconds(25));
}

std::uint64_t CaptureSession::frames() const
{
    const std::uint64_t inFile = framesInFile_.load(std::memory_order_acquire); // before heldFrames_: see writeRegion
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
    const std::vector<std::filesystem::path> paths = files_->currentPaths();
    s.path = paths.front();
    s.part = files_->part();
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
        const DropCounts drops = stream_ ? dropCounts() : finalDrops_;
        s.overruns = drops.overruns;
        s.overrunFrames = drops.overrunFrames;
        s.inputOverflows = drops.inputOverflows;
        const auto reports = stream_ ? stream_->inputReports() : std::vector<InputReport>{};
        for (std::size_t i = 0; i <= plan_.moreInputs.size(); ++i) {
            const DeviceInfo& d = i == 0 ? plan_.device : plan_.moreInputs[i - 1];
            const InputReport report = i < reports.size() ? reports[i] : InputReport{};
            const std::int64_t start = static_cast<std::int64_t>(startFrame_.load());
            s.inputs.push_back({d.id, d.name, plan_.inputChannels, report,
                                paths.size() > 1 ? paths[i] : std::filesystem::path(),
                                report.lastGapFrame < 0 ? -1.0
                                                        : static_cast<double>(std::max<std::int64_t>(0, report.lastGapFrame - start)) / plan_.rate,
                                static_cast<double>(report.silentFrames) / plan_.rate});
        }
    }
    s.gaps = gaps_.load(std::memory_order_relaxed);
    s.bytes = files_->bytesOnDisk();
    return s;
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

} // namespace recd
