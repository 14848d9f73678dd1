#pragma once
// The recorder service: one recording at a time, defaults from the config,
// file naming, and the events a front end publishes. Plain C++: the D-Bus
// adaptor translates calls into these methods and exceptions into error names.
// All methods run on the daemon's main thread.

#include "CaptureSession.hpp"
#include "StandbyInput.hpp"
#include "Config.hpp"
#include "HookRunner.hpp"
#include "RecordingRequest.hpp"
#include "RecoveryMarker.hpp"

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
    virtual void recordingStarted(const std::filesystem::path& path, std::uint64_t firstSampleUsec) = 0;
    virtual void recordingStopped(const StopResult& result) = 0;
    virtual void stateChanged() = 0;
};

struct RecorderStatus {
    std::string state = "idle"; // idle, recording, paused
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

    std::filesystem::path start(RecordingRequest request);
    // Starts when idle, stops when recording or paused (at `stopAtUsec`, as
    // stop() does); returns the new state and the path started or stopped.
    std::pair<std::string, std::filesystem::path> toggle(RecordingRequest request,
                                                         std::optional<std::uint64_t> stopAtUsec = std::nullopt);
    // Ends the take at the moment `atUsec` (CLOCK_MONOTONIC microseconds, when
    // the user asked: a command's start, a key press), or at the moment the call
    // arrives. InvalidArgument for a moment that is unset or in the future.
    StopResult stop(std::optional<std::uint64_t> atUsec = std::nullopt);
    void pause() { setPaused(true); }
    void resume() { setPaused(false); }
    void setPaused(bool paused);
    StopResult cancel();
    double duration() const;
    RecorderStatus status() const;
    std::string stateName() const;
    std::filesystem::path path() const;
    std::vector<DeviceInfo> devices() const;

    // Finalizes a recording that ended by itself (max_duration, device lost, ...).
    void reapEnded();
    // Repairs the file of a recording a killed predecessor left marked, and
    // reports it as stopped with reason "recovered". Call once at start-up.
    void recoverInterrupted();
    // Whether levels are measured for a live meter (while someone watches).
    void setMetering(bool on);
    // The levels of the running take measured since the last call, if any.
    std::optional<Levels> takeLevels();
    // Collects hooks that have ended (on SIGCHLD).
    void reapHooks() { hooks_.reap(); }
    void setConfig(Config config);
    // The power source (PowerSource): on battery, the pre-roll's input is closed
    // unless the config keeps it (pre_roll_on_battery).
    void setOnBattery(bool onBattery);
    const Config& config() const { return config_; }

private:
    CaptureSession& current(const char* action) const;
    std::filesystem::path nameFile() const;
    StopResult finalize(bool cancel, std::optional<std::int64_t> atNs = std::nullopt);
    // Starts, restarts or ends the pre-roll to match config_.
    void applyPreRoll();
    // Runs config on_stop for a recording that left a file.
    void runStopHook(const StopResult& r);

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
};

} // namespace recd
