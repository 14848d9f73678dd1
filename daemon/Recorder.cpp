#include "Recorder.hpp"

#include "AudioSystem.hpp"
#include "BluetoothInput.hpp"
#include "Errors.hpp"
#include "Log.hpp"
#include "WavRepair.hpp"

#include <fmt/format.h>

#include <ctime>
#include <sys/stat.h>

namespace recd {

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
    // The input a recording with the configured defaults would open. Only the
    // extension of the path counts: WAV takes every sample format.
    RecordingRequest defaults;
    defaults.path = "/pre-roll.wav";
    defaults.device = config_.device;
    defaults.rate = config_.rate;
    defaults.channels = config_.channels;
    defaults.sampleFormat = config_.sampleFormat;
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
        [defaults, api] { return planFormat(defaults, AudioSystem(api).devices()); }, config_.preRoll,
        config_.engine, streamCloser_, std::chrono::duration<double>(config_.preRollReleaseAfter * 60),
        std::move(holdBack));
}

Recorder::~Recorder()
{
    if (session_)
        stop();
}

CaptureSession& Recorder::current(const char* action) const
{
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

std::filesystem::path Recorder::start(RecordingRequest request)
{
    if (session_ && !session_->ended())
        throw AlreadyRecording(fmt::format("already recording to '{}'; stop it first (or use toggle)",
                                           session_->plan().path.string()));
    reapEnded();

    if (request.device.empty())
        request.device = config_.device;
    if (!request.rate)
        request.rate = config_.rate;
    if (!request.channels)
        request.channels = config_.channels;
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
    if (!request.sampleFormat && config_.sampleFormat) {
        // The configured format applies where the container can store it.
        const Container* container = nullptr;
        try {
            container = &containerForPath(request.path);
        } catch (const Error&) {
        }
        if (container && container->allows(*config_.sampleFormat))
            request.sampleFormat = config_.sampleFormat;
    }

    const auto t0 = std::chrono::steady_clock::now();
    const AudioSystem audio(config_.engine.api);
    CapturePlan plan = planCapture(request, audio.devices());
    const double keeps = standby_ ? standby_->preRollSeconds() : 0.0;
    if (request.preRoll && *request.preRoll > keeps + 1e-9)
        throw InvalidArgument(
            keeps > 0 ? fmt::format("pre_roll {} s is more than the {} s recd keeps; ask for 0 to {} s, or raise "
                                    "pre_roll in recd.toml",
                                    *request.preRoll, keeps, keeps)
                      : fmt::format("pre_roll {} s asked for, but recd keeps no pre-roll; set pre_roll (seconds) in "
                                    "recd.toml to keep the input open while idle",
                                    *request.preRoll));
    if (!request.preRoll)
        plan.preRollFrames = static_cast<std::uint64_t>(std::llround(keeps * plan.rate));
    RunningInput input;
    if (standby_)
        if (auto running = standby_->take(plan.device, captureFormat(plan)))
            input = std::move(*running);
    const auto t1 = std::chrono::steady_clock::now();
    EngineSettings settings = config_.engine;
    settings.streamCloser = &streamCloser_;
    settings.onLevels = wake_;
    settings.onBegan = wake_;
    // The crash mark names the file being written: part 1 once it exists and
    // before audio goes in, each next part as a split take moves on (from the
    // writer thread, hence the lock). A stream leaves no file of recd's to repair.
    if (!plan.streamFd)
        settings.onNewFile = [this](const std::filesystem::path& path) {
            std::lock_guard lock(markerMutex_);
            marker_.set(path);
        };
    session_ = std::make_unique<CaptureSession>(plan, settings, wake_, std::move(input));
    session_->setMetering(metering_);
    using ms = std::chrono::duration<double, std::milli>;
    log().debug("start: devices and checks {:.1f} ms, capturing after {:.1f} ms more", ms(t1 - t0).count(),
                ms(std::chrono::steady_clock::now() - t1).count());
    for (auto* e : events_) {
        if (!plan.startOnSound) // armed: RecordingStarted comes with the first sound
            e->recordingStarted(plan.path, session_->firstSampleUsec());
        e->stateChanged();
    }
    return plan.path;
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

std::pair<std::string, std::filesystem::path> Recorder::toggle(RecordingRequest request,
                                                               std::optional<std::uint64_t> stopAtUsec)
{
    const auto at = stopMoment(stopAtUsec);
    if (session_ && !session_->ended()) {
        const StopResult r = finalize(false, at);
        return {"idle", r.path};
    }
    return {"recording", start(std::move(request))};
}

StopResult Recorder::finalize(bool cancelled, std::optional<std::int64_t> atNs)
{
    StopResult r = cancelled ? session_->cancel() : session_->stop(atNs);
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

void Recorder::runStopHook(const StopResult& r)
{
    std::error_code ec;
    if (config_.onStop.empty() || r.reason == StopReason::Cancelled || r.path == "-" ||
        !std::filesystem::exists(r.path, ec))
        return; // no file to hand over
    const std::string duration = fmt::format("{:.3f}", r.duration);
    const std::string reason(stopReasonName(r.reason));
    hooks_.spawn("on_stop", config_.onStop, {r.path.string(), duration, reason},
                 {{"RECD_PATH", r.path.string()}, {"RECD_DURATION", duration}, {"RECD_REASON", reason}});
}

StopResult Recorder::stop(std::optional<std::uint64_t> atUsec)
{
    const auto at = stopMoment(atUsec);
    current("stop");
    return finalize(false, at);
}

StopResult Recorder::cancel()
{
    current("cancel");
    return finalize(true);
}

void Recorder::recoverInterrupted()
{
    const auto path = marker_.pending();
    if (!path)
        return;
    StopResult r;
    r.path = *path;
    r.reason = StopReason::Recovered;
    try {
        const WavRepairReport report = repairWav(*path);
        r.duration = report.newSeconds();
        r.frames = report.blockAlign ? report.newDataBytes / report.blockAlign : 0;
        r.message = report.describe(*path);
        log().warn("recovered the recording a previous recd was writing when it died: {}", r.message);
    } catch (const Error& e) {
        r.message = e.what();
        log().warn("a previous recd died while writing '{}'; not repaired: {}", path->string(), e.what());
    }
    marker_.clear();
    last_ = r;
    for (auto* e : events_)
        e->recordingStopped(r);
    runStopHook(r);
}

void Recorder::reapEnded()
{
    if (session_ && session_->takeBegan())
        for (auto* e : events_) {
            e->recordingStarted(session_->status().path, session_->firstSampleUsec());
            e->stateChanged();
        }
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
    if (!session_ || session_->ended())
        return "idle";
    return std::string(sessionStateName(session_->state()));
}

std::filesystem::path Recorder::path() const { return session_ ? session_->plan().path : std::filesystem::path(); }

RecorderStatus Recorder::status() const
{
    RecorderStatus s;
    s.state = stateName();
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
