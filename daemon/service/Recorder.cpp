#include "daemon/service/Recorder.hpp"

#include "daemon/engine/device/AudioSystem.hpp"
#include "daemon/engine/device/InputAliases.hpp"
#include "daemon/engine/device/BluetoothInput.hpp"
#include "common/Errors.hpp"
#include "daemon/engine/Log.hpp"
#include "daemon/engine/ThreadName.hpp"
#include "common/WavRepair.hpp"

#include <fmt/format.h>

#include <atomic>
#include <ctime>
#include <thread>
#include <sys/stat.h>

namespace recd {

// A start that waits for its new input's first audio, on a thread of its own:
// up to 2 s (firstBufferTimeout) during which the main loop goes on serving.
struct Recorder::PendingStart {
    CapturePlan plan;
    Reply<std::filesystem::path> reply;
    double checksMs = 0; // for the debug log: devices and checks, before the wait
    std::chrono::steady_clock::time_point opening;
    std::atomic<bool> done{false}; // the thread's result is in (release / acquire)
    std::unique_ptr<CaptureSession> session;
    std::exception_ptr error;
    std::vector<std::function<void()>> then; // calls waiting for the start to settle
    std::jthread thread;                     // last: joined before the rest goes
};

Recorder::Recorder(Config config, std::function<void()> wake, RecoveryMarker marker)
    : config_(std::move(config)), wake_(std::move(wake)), marker_(std::move(marker))
{
    applyPreRoll();
}

void Recorder::setConfig(Config config)
{
    config_ = std::move(config);
    applyPreRoll();
}

void Recorder::setOnBattery(bool onBattery)
{
    if (onBattery == onBattery_)
        return;
    onBattery_ = onBattery;
    if (config_.preRoll <= 0 || config_.preRollOnBattery)
        return;
    log().info(onBattery ? "on battery: the pre-roll's input is closed until mains power is back "
                           "(pre_roll_on_battery = true keeps it)"
                         : "on mains power: the pre-roll's input is kept again");
    applyPreRoll();
}

void Recorder::applyPreRoll()
{
    standby_.reset(); // a stream lent to a running take is closed when the take ends
    if (config_.preRoll <= 0 || (onBattery_ && !config_.preRollOnBattery))
        return;
    // The input a recording with the configured defaults would open, in WAV,
    // which takes every sample format.
    const RecordingRequest defaults = withConfigDefaults(RecordingRequest{});
    const AudioApi api = config_.engine.api;
    // An open input keeps a Bluetooth headset in its call profile (mono, 16 kHz)
    // for as long as it is open, music included: not while idle, unless asked.
    StandbyInput::HoldBack holdBack;
    if (!config_.preRollBluetooth)
        holdBack = [api](const DeviceInfo& device) {
            return isBluetoothInput(api, device)
                       ? std::string("it is a Bluetooth headset, which an open input holds in its low-quality call "
                                     "profile; pre_roll_bluetooth = true in recd.toml keeps it anyway")
                       : std::string();
        };
    standby_ = std::make_shared<StandbyInput>(
        // No file yet: planned as for WAV, which stores every format.
        [defaults, api] { return planFormat(defaults, Destination(), AudioSystem(api).devices()); },
        config_.preRoll,
        config_.engine, streamCloser_, std::chrono::duration<double>(config_.preRollReleaseAfter * 60),
        std::move(holdBack));
}

Recorder::~Recorder()
{
    try {
        finishForExit();
    } catch (const std::exception& e) {
        log().error("finalizing the recording: {}", e.what());
    }
}

void Recorder::finishForExit()
{
    if (pending_) {
        abandonStart();
        pending_->thread.join(); // at once: the wait for audio ends with the stop
        settleStart();
    }
    if (session_)
        finalize(false);
}

CaptureSession& Recorder::current(const char* action) const
{
    if (pending_)
        throw NotRecording(fmt::format("nothing to {} yet: the start of '{}' is still waiting for audio", action,
                                       pending_->plan.destination.path().string()));
    if (!session_ || session_->ended()) {
        if (last_ && !session_)
            throw NotRecording(fmt::format("nothing to {}: not recording (the last recording, '{}', ended: {}, "
                                           "{:.3f} s)",
                                           action, last_->path.string(), stopReasonName(last_->reason),
                                           last_->duration));
        throw NotRecording(fmt::format("nothing to {}: not recording", action));
    }
    return *session_;
}

std::filesystem::path Recorder::nameFile() const
{
    const std::filesystem::path dir = config_.directory;
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) {
        std::filesystem::create_directories(dir, ec);
        if (ec)
            throw IoError(fmt::format("cannot create the recordings directory '{}': {}", dir.string(), ec.message()),
                          ec.category() == std::generic_category() || ec.category() == std::system_category()
                              ? ec.value()
                              : 0);
        ::chmod(dir.c_str(), 0700);
        log().info("created the recordings directory '{}'", dir.string());
    }
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char buf[512];
    const std::size_t n = std::strftime(buf, sizeof buf, config_.nameTemplate.c_str(), &local);
    if (n == 0)
        throw InvalidArgument(fmt::format("name_template '{}' gives an empty file name", config_.nameTemplate));
    const std::filesystem::path name(std::string(buf, n));
    // Two takes in the same second must not collide: add -2, -3, ...
    std::filesystem::path candidate = dir / name;
    for (int i = 2; std::filesystem::exists(std::filesystem::symlink_status(candidate, ec)); ++i)
        candidate = withSuffix(dir / name, std::to_string(i));
    return candidate;
}

RecordingRequest Recorder::withConfigDefaults(RecordingRequest request) const
{
    if (request.device.empty())
        request.device = config_.device;
    if (!request.rate)
        request.rate = config_.rate;
    if (!request.channels)
        request.channels = config_.channels;
    if (!request.sampleFormat && config_.sampleFormat) {
        // The configured format applies where the container can store it (FLAC
        // cannot store f32), and the container's default elsewhere. A request
        // with no file yet (the pre-roll's) is planned in WAV, which stores
        // every format; an unknown extension is planCapture's to report, in
        // its turn.
        const Container* container = nullptr;
        try {
            container = request.path.empty() && !request.streamFd ? &wavContainer()
                                                                   : &destinationFor(request).container();
        } catch (const Error&) {
        }
        if (container && container->allows(*config_.sampleFormat))
            request.sampleFormat = config_.sampleFormat;
    }
    return request;
}

void Recorder::start(RecordingRequest request, Reply<std::filesystem::path> reply)
{
    if (pending_)
        throw AlreadyRecording(fmt::format("a start is in progress, waiting for audio for '{}'; wait for it, or "
                                           "stop it",
                                           pending_->plan.destination.path().string()));
    if (session_ && !session_->ended())
        throw AlreadyRecording(fmt::format("already recording to '{}'; stop it first (or use toggle)",
                                           session_->plan().destination.path().string()));
    reapEnded();

    if (request.streamFd) {
        // Into the caller's descriptor: planCapture checks the rest.
    } else if (request.path.empty()) {
        request.path = nameFile();
    } else if (!request.path.is_absolute()) {
        throw InvalidArgument(fmt::format("'{}' is not an absolute path; give one that starts with / "
                                          "(recctl makes relative paths absolute), or an empty path for a "
                                          "name from the daemon's directory and name_template",
                                          request.path.string()));
    }
    request = withConfigDefaults(std::move(request));

    const auto t0 = std::chrono::steady_clock::now();
    const auto devices = AudioSystem(config_.engine.api).devices();
    request.device = resolveInputAlias(config_.engine.api, request.device, devices);
    for (auto& input : request.inputs)
        input = resolveInputAlias(config_.engine.api, input, devices);
    CapturePlan plan = planCapture(request, devices);
    const double keeps = standby_ ? standby_->preRollSeconds() : 0.0;
    if (request.preRoll && *request.preRoll > keeps + 1e-9)
        throw InvalidArgument(
            keeps > 0 ? fmt::format("pre_roll {} s is more than the {} s recd keeps; ask for 0 to {} s, or raise "
                                    "pre_roll in recd.toml",
                                    *request.preRoll, keeps, keeps)
                      : fmt::format("pre_roll {} s asked for, but recd keeps no pre-roll; set pre_roll (seconds) in "
                                    "recd.toml to keep the input open while idle",
                                    *request.preRoll));
    // The pre-roll keeps one input: a take of several has none.
    const bool oneInput = plan.moreInputs.empty();
    if (!request.preRoll && oneInput)
        plan.preRollFrames = static_cast<std::uint64_t>(std::llround(keeps * plan.rate));
    RunningInput input;
    if (standby_ && oneInput)
        if (auto running = standby_->take(plan.device, captureFormat(plan)))
            input = std::move(*running);
    const auto t1 = std::chrono::steady_clock::now();
    const EngineSettings settings = config_.engine; // a reload while the start waits changes only the next
    SessionHooks hooks;
    hooks.streamCloser = &streamCloser_;
    hooks.onEnded = wake_;
    hooks.onLevels = wake_;
    hooks.onBegan = wake_;
    hooks.onPartClosed = wake_;
    // The crash mark names the file being written: part 1 once it exists and
    // before audio goes in, each next part as a split take moves on (from the
    // writer thread, hence the lock). A stream leaves no file of recd's to repair.
    if (!plan.destination.streamed())
        hooks.onNewFiles = [this](const std::vector<std::filesystem::path>& paths) {
            std::lock_guard lock(markerMutex_);
            marker_.set(paths);
        };
    using ms = std::chrono::duration<double, std::milli>;
    auto pending = std::make_unique<PendingStart>();
    PendingStart* const p = pending.get();
    p->plan = plan;
    p->reply = std::move(reply);
    p->checksMs = ms(t1 - t0).count();
    p->opening = t1;
    pending_ = std::move(pending);
    // The session, or the error that stopped it, is the start's result.
    const auto open = [p, plan, settings, hooks](RunningInput running, std::stop_token abandon) {
        try {
            p->session = std::make_unique<CaptureSession>(plan, settings, hooks, std::move(running), abandon);
        } catch (...) {
            p->error = std::current_exception();
        }
        p->done.store(true, std::memory_order_release);
    };
    if (input.stream) {
        // The pre-roll's input is running: nothing to wait for.
        open(std::move(input), {});
        settleStart();
        return;
    }
    p->thread = std::jthread([this, open](std::stop_token abandon) {
        nameThisThread("recd-starter");
        open(RunningInput{}, abandon);
        wake_(); // the main loop settles it (reapEnded)
    });
    // "starting" is not announced: it lasts a buffer or two, and what follows
    // it (recording, or idle again) is.
}

void Recorder::settleStart()
{
    if (!pending_ || !pending_->done.load(std::memory_order_acquire))
        return;
    const std::unique_ptr<PendingStart> p = std::move(pending_);
    if (p->thread.joinable())
        p->thread.join();
    if (p->session) {
        session_ = std::move(p->session);
        session_->setMetering(metering_);
        log().debug("start: devices and checks {:.1f} ms, capturing after {:.1f} ms more", p->checksMs,
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - p->opening).count());
        for (auto* e : events_) {
            if (!p->plan.startOnSound) // armed: RecordingStarted comes with the first sound
                e->recordingStarted(p->plan.destination, session_->firstSampleUsec());
            e->stateChanged();
        }
        p->reply(p->plan.destination.path(), nullptr);
    } else {
        p->reply({}, p->error);
    }
    for (auto& f : p->then)
        f();
}

// A healthy input's first audio comes within 300 ms of its opening: then the
// take is stopped or cancelled as any other. One that has not is called off
// (the start fails with Cancelled), and the reply says nothing was recorded:
// its path, no audio, no file.
void Recorder::endPendingStart(bool cancelled, std::optional<std::uint64_t> atUsec, Reply<StopResult> reply)
{
    abandonStart();
    afterStart(
        [this, cancelled, atUsec, reply, path = pending_->plan.destination.path()] {
            if (session_)
                return cancelled ? cancel(reply) : stop(atUsec, reply);
            StopResult nothing;
            nothing.path = path;
            nothing.reason = cancelled ? StopReason::Cancelled : StopReason::Requested;
            reply(nothing, nullptr);
        },
        [reply](std::exception_ptr e) { reply({}, e); });
}

void Recorder::abandonStart()
{
    // The thread's wait for the first buffer ends with Cancelled, unless the
    // input delivers within its first 300 ms (openCaptureStream).
    pending_->thread.request_stop();
}

void Recorder::afterStart(std::function<void()> call, std::function<void(std::exception_ptr)> fail)
{
    pending_->then.push_back([call = std::move(call), fail = std::move(fail)] {
        try {
            call();
        } catch (...) {
            fail(std::current_exception());
        }
    });
}

namespace {

// A caller's moment to stop at, on the engine's clock (monotonic nanoseconds).
std::optional<std::int64_t> stopMoment(std::optional<std::uint64_t> usec)
{
    if (!usec)
        return std::nullopt;
    const std::uint64_t nowUsec = monotonicUsec();
    if (*usec == 0 || *usec > nowUsec)
        throw InvalidArgument(fmt::format("the moment to stop at, {} us, is {}; give a CLOCK_MONOTONIC time in "
                                          "microseconds no later than now ({} us)",
                                          *usec, *usec == 0 ? "unset" : "in the future", nowUsec));
    return static_cast<std::int64_t>(*usec) * 1000;
}

} // namespace

void Recorder::toggle(RecordingRequest request, std::optional<std::uint64_t> stopAtUsec,
                      Reply<std::pair<std::string, std::filesystem::path>> reply)
{
    const auto at = stopMoment(stopAtUsec);
    if (pending_)
        // A second press while the first one's start waits takes its turn once
        // the start is done, as if the first had been answered at once: it
        // stops what the first started, or starts if that start failed.
        return afterStart([this, request, stopAtUsec, reply] { toggle(request, stopAtUsec, reply); },
                          [reply](std::exception_ptr e) { reply({}, e); });
    if (session_ && !session_->ended())
        return reply({"idle", finalize(false, at).path}, nullptr);
    start(std::move(request), [reply](std::filesystem::path path, std::exception_ptr error) {
        reply({"recording", std::move(path)}, error);
    });
}

StopResult Recorder::finalize(bool cancelled, std::optional<std::int64_t> atNs)
{
    StopResult r = cancelled ? session_->cancel() : session_->stop(atNs);
    runPartHooks(*session_); // the last part's, before on_stop
    session_.reset();
    if (standby_)
        standby_->warmAgain(); // a released pre-roll comes back for the next take
    marker_.clear();
    last_ = r;
    for (auto* e : events_) {
        e->recordingStopped(r);
        e->stateChanged();
    }
    runStopHook(r);
    return r;
}

void Recorder::setMetering(bool on)
{
    metering_ = on;
    if (session_)
        session_->setMetering(on);
}

std::optional<Levels> Recorder::takeLevels()
{
    if (!session_ || session_->ended() || session_->state() != SessionState::Recording)
        return std::nullopt;
    return session_->takeLevels();
}

namespace {

// A hook's RECD_FILES: every file of a take or a part (one per input with
// layout files), a line each.
std::string oneALine(const std::vector<std::filesystem::path>& paths)
{
    std::string lines;
    for (const auto& path : paths)
        lines += (lines.empty() ? "" : "\n") + path.string();
    return lines;
}

} // namespace

void Recorder::runStopHook(const StopResult& r)
{
    std::error_code ec;
    if (config_.onStop.empty() || r.reason == StopReason::Cancelled || r.streamed ||
        !std::filesystem::exists(r.path, ec))
        return; // no file to hand over
    const std::string duration = fmt::format("{:.3f}", r.duration);
    const std::string reason(stopReasonName(r.reason));
    const std::string files = oneALine(r.files); // a take of several files (layout files) hands over all of them
    hooks_.spawn("on_stop", config_.onStop, {r.path.string(), duration, reason},
                 {{"RECD_PATH", r.path.string()},
                  {"RECD_FILES", files.empty() ? r.path.string() : files},
                  {"RECD_DURATION", duration},
                  {"RECD_REASON", reason}});
}

void Recorder::runPartHooks(CaptureSession& session)
{
    for (const auto& part : session.takeClosedParts()) {
        if (config_.onPart.empty())
            continue; // taken all the same: they are handed over once or never
        const std::string duration = fmt::format("{:.3f}", part.seconds);
        const std::string number = std::to_string(part.number);
        hooks_.spawn("on_part", config_.onPart, {part.paths.front().string(), duration, number},
                     {{"RECD_PATH", part.paths.front().string()},
                      {"RECD_FILES", oneALine(part.paths)},
                      {"RECD_DURATION", duration},
                      {"RECD_PART", number}});
    }
}

std::filesystem::path Recorder::folder() const
{
    if (last_ && !last_->streamed && last_->path.has_parent_path())
        return last_->path.parent_path();
    return config_.directory;
}

void Recorder::openFolder() { hooks_.spawn("open the folder", "xdg-open", {folder().string()}, {}); }

void Recorder::stop(std::optional<std::uint64_t> atUsec, Reply<StopResult> reply)
{
    const auto at = stopMoment(atUsec);
    if (pending_)
        return endPendingStart(false, atUsec, std::move(reply));
    current("stop");
    reply(finalize(false, at), nullptr);
}

void Recorder::cancel(Reply<StopResult> reply)
{
    if (pending_)
        return endPendingStart(true, std::nullopt, std::move(reply));
    current("cancel");
    reply(finalize(true), nullptr);
}

void Recorder::recoverInterrupted()
{
    const auto paths = marker_.pending();
    if (paths.empty())
        return;
    StopResult r;
    r.path = paths.front();
    r.files = paths;
    r.reason = StopReason::Recovered;
    // A take of one file per input left them all: each is repaired, and the
    // first (whose length the others share) is what the take is known by.
    for (const auto& path : paths) {
        try {
            const WavRepairReport report = repairWav(path);
            if (path == paths.front()) {
                r.duration = report.newSeconds();
                r.frames = report.blockAlign ? report.newDataBytes / report.blockAlign : 0;
            }
            r.message += (r.message.empty() ? "" : "; ") + report.describe(path);
            log().warn("recovered the recording a previous recd was writing when it died: {}", report.describe(path));
        } catch (const Error& e) {
            r.message += (r.message.empty() ? "" : "; ") + std::string(e.what());
            log().warn("a previous recd died while writing '{}'; not repaired: {}", path.string(), e.what());
        }
    }
    marker_.clear();
    last_ = r;
    for (auto* e : events_)
        e->recordingStopped(r);
    runStopHook(r);
}

void Recorder::reapEnded()
{
    settleStart();
    if (session_ && session_->takeBegan())
        for (auto* e : events_) {
            e->recordingStarted(session_->plan().destination.withPath(session_->status().path),
                                session_->firstSampleUsec());
            e->stateChanged();
        }
    if (session_)
        runPartHooks(*session_);
    if (session_ && session_->ended())
        finalize(false);
}

void Recorder::setPaused(bool paused)
{
    auto& s = current(paused ? "pause" : "resume");
    if ((s.state() == SessionState::Paused) == paused)
        return;
    s.setPaused(paused);
    for (auto* e : events_)
        e->stateChanged();
}

double Recorder::duration() const { return session_ ? session_->duration() : 0.0; }

std::string Recorder::stateName() const
{
    if (pending_)
        return "starting";
    if (!session_ || session_->ended())
        return "idle";
    return std::string(sessionStateName(session_->state()));
}

std::filesystem::path Recorder::path() const
{
    if (pending_)
        return pending_->plan.destination.path();
    return session_ ? session_->plan().destination.path() : std::filesystem::path();
}

RecorderStatus Recorder::status() const
{
    RecorderStatus s;
    s.state = stateName();
    if (pending_)
        s.starting = pending_->plan.destination.path();
    if (session_) {
        s.session = session_->status();
        s.firstSampleUsec = session_->firstSampleUsec();
    }
    s.last = last_;
    s.preRoll = standby_ ? (standby_->released()            ? "released"
                            : !standby_->heldBack().empty() ? "bluetooth"
                                                            : "kept")
                : config_.preRoll > 0 && onBattery_ && !config_.preRollOnBattery ? "paused"
                                                                                  : "off";
    return s;
}

std::vector<DeviceInfo> Recorder::devices() const { return AudioSystem(config_.engine.api).devices(); }

} // namespace recd
