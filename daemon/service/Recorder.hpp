#pragma once
// The recorder service: one recording at a time, defaults from the config,
// file naming, and the events a front end publishes. Plain C++: the D-Bus
// adaptor translates calls into these methods and exceptions into error names.
// All methods run on the daemon's main thread.

#include "daemon/engine/session/CaptureSession.hpp"
#include "daemon/engine/session/StandbyInput.hpp"
#include "daemon/service/Config.hpp"
#include "daemon/service/HookRunner.hpp"
#include "daemon/engine/session/RecordingRequest.hpp"
#include "daemon/service/RecoveryMarker.hpp"

#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace recd {

class RecorderEvents {
public:
    virtual ~RecorderEvents() = default;
    virtual void recordingStarted(const Destination& destination, std::uint64_t firstSampleUsec) = 0;
    virtual void recordingStopped(const StopResult& result) = 0;
    virtual void stateChanged() = 0;
};

// How a call that may wait for audio is answered: once it is done, on the main
// thread, with its value, or with the error that ended it (then the value is
// empty).
template <class T>
using Reply = std::function<void(T value, std::exception_ptr error)>;

struct RecorderStatus {
    std::string state = "idle"; // idle, starting, waiting, recording, paused
    std::filesystem::path starting; // the take a start waits for audio for
    std::optional<SessionStatus> session;
    std::uint64_t firstSampleUsec = 0;
    std::optional<StopResult> last; // the last recording that ended
    // The pre-roll's input: "off" (pre_roll 0), "kept" (open, or opening),
    // "released" (closed after pre_roll_release_after with no take; a take
    // started now has no pre-roll), "paused" (closed while on battery), or
    // "bluetooth" (the input is a Bluetooth headset's, not kept while idle).
    std::string preRoll = "off";
};

class Recorder {
public:
    // `wake` is called from the writer thread when a recording ends by itself;
    // the owner must then call reapEnded() on the main thread.
    Recorder(Config config, std::function<void()> wake, RecoveryMarker marker = RecoveryMarker());
    // Who hears about starts, stops and state changes (the D-Bus adaptor).
    // Who hears about starts, stops and state changes: the D-Bus adaptor, the
    // desktop notifier.
    void addEvents(RecorderEvents* events) { events_.push_back(events); }
    void removeEvents(RecorderEvents* events) { std::erase(events_, events); }
    ~Recorder();

    // Starts a take. What can be checked at once is refused here, by throwing
    // (the path, the format, the device). Opening a new input and waiting for
    // its first audio (up to 2 s) run on a thread of their own, so that the
    // main loop goes on serving meanwhile (state "starting"); `reply` comes
    // once the take is capturing, or with the error that ended the start. A
    // take that begins from the pre-roll's running input replies at once.
    void start(RecordingRequest request, Reply<std::filesystem::path> reply);
    // Starts when idle, stops when starting, recording or paused (at
    // `stopAtUsec`, as stop() does); replies with the new state and the path
    // started or stopped.
    void toggle(RecordingRequest request, std::optional<std::uint64_t> stopAtUsec,
                Reply<std::pair<std::string, std::filesystem::path>> reply);
    // Ends the take at the moment `atUsec` (CLOCK_MONOTONIC microseconds, when
    // the user asked: a command's start, a key press), or at the moment the call
    // arrives. InvalidArgument for a moment that is unset or in the future.
    // While a start waits for audio, a stop or a cancel lets a healthy input
    // deliver (up to 300 ms from its opening) and then acts on the take; an
    // input that has not delivered by then is called off: the start fails with
    // Cancelled, nothing recorded, and a stop finds nothing to stop.
    void stop(std::optional<std::uint64_t> atUsec, Reply<StopResult> reply);
    void cancel(Reply<StopResult> reply);
    void pause() { setPaused(true); }
    void resume() { setPaused(false); }
    void setPaused(bool paused);
    // Before the daemon exits: a start is abandoned, a take finalized.
    void finishForExit();
    double duration() const;
    RecorderStatus status() const;
    std::string stateName() const;
    std::filesystem::path path() const;
    std::vector<DeviceInfo> devices() const;

    // On the main thread when woken: answers a start that is done, and
    // finalizes a recording that ended by itself (max_duration, device lost, ...).
    void reapEnded();
    // Repairs the file of a recording a killed predecessor left marked, and
    // reports it as stopped with reason "recovered". Call once at start-up.
    void recoverInterrupted();
    // Whether levels are measured for a live meter (while someone watches).
    void setMetering(bool on);
    // The levels of the running take measured since the last call, if any.
    std::optional<Levels> takeLevels();
    // The folder of the last take, or the recordings directory.
    std::filesystem::path folder() const;
    // Opens folder() with xdg-open, without waiting for it: where the
    // desktop's file manager cannot be asked over D-Bus (TrayMenu). It runs
    // as recd's child, under recd's unit and its sandbox.
    void openFolder();
    // Collects hooks that have ended (on SIGCHLD).
    void reapHooks() { hooks_.reap(); }
    void setConfig(Config config);
    // The power source (PowerSource): on battery, the pre-roll's input is closed
    // unless the config keeps it (pre_roll_on_battery).
    void setOnBattery(bool onBattery);
    const Config& config() const { return config_; }

private:
    struct PendingStart;
    // Takes over the session a start made, or answers its error; then runs
    // what waited for it (a stop, a cancel).
    void settleStart();
    // Ends a pending start's wait for audio (see openCaptureStream).
    void abandonStart();
    // A stop or cancel that came while a start waited for audio.
    void endPendingStart(bool cancelled, std::optional<std::uint64_t> atUsec, Reply<StopResult> reply);
    // Runs `call` once the pending start is settled; what it throws goes to
    // `fail`.
    void afterStart(std::function<void()> call, std::function<void(std::exception_ptr)> fail);
    CaptureSession& current(const char* action) const;
    std::filesystem::path nameFile() const;
    // The configured device, rate, channels and sample format, where the
    // request leaves them open (the format where the path's container can
    // store it). The one place config defaults reach a request.
    RecordingRequest withConfigDefaults(RecordingRequest request) const;
    StopResult finalize(bool cancel, std::optional<std::int64_t> atNs = std::nullopt);
    // Starts, restarts or ends the pre-roll to match config_.
    void applyPreRoll();
    // Runs config on_stop for a recording that left a file.
    void runStopHook(const StopResult& r);
    // Runs config on_part for each part the session made final since the last call.
    void runPartHooks(CaptureSession& session);

    Config config_;
    std::vector<RecorderEvents*> events_;
    std::function<void()> wake_;
    StreamCloser streamCloser_; // outlives session_, which hands it its streams
    std::shared_ptr<StandbyInput> standby_; // the pre-roll, while config pre_roll > 0
    bool onBattery_ = false;
    std::unique_ptr<CaptureSession> session_;
    std::optional<StopResult> last_;
    RecoveryMarker marker_;
    HookRunner hooks_;
    std::mutex markerMutex_; // the writer thread sets the mark when a split take moves on
    bool metering_ = false;
    std::unique_ptr<PendingStart> pending_; // last: its thread is joined before the rest goes
};

} // namespace recd
