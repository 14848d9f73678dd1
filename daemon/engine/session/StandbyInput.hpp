#pragma once

#include "daemon/engine/session/EngineSettings.hpp"
#include "daemon/engine/session/RecordingRequest.hpp"
#include "daemon/engine/session/RunningInput.hpp"
#include "daemon/engine/capture/DeviceOpener.hpp"
#include "daemon/engine/capture/StreamCloser.hpp"

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace recd {

// The pre-roll ("time machine"): keeps the input open while no recording runs
// and the last seconds of its audio in the stream's ring, so that a recording
// can begin with the words spoken just before it was asked for.
//
// A thread of its own opens the stream, frees what is older than the pre-roll
// about ten times a second, and reopens the stream when it fails. A recording
// borrows the running stream (take()) and hands it back when it ends, with the
// ring still holding the last pre-roll seconds, so back-to-back takes each get
// their full pre-roll.
class StandbyInput : public std::enable_shared_from_this<StandbyInput> {
public:
    // plan() says which device and format to keep open; it is asked again before
    // every (re)open, so a device that comes and goes is found again. It throws
    // (DeviceNotFound, ...) while there is nothing to open. Owned by a shared_ptr:
    // a stream lent out comes back only while the StandbyInput still exists.
    //
    // releaseAfter (zero: never): after this long with no take, the stream is
    // closed, so that the microphone (and the desktop's "in use" indicator, and
    // a headset's call profile) is not held for nothing. It stays closed until
    // warmAgain(), which the owner calls when a take ends.
    //
    // holdBack(device) says why that input must not be kept open while idle
    // (empty: it may be); it is asked before each open, and asked again every
    // 10 s while it says no.
    using HoldBack = std::function<std::string(const DeviceInfo&)>;
    StandbyInput(std::function<CapturePlan()> plan, double preRollSeconds, const EngineSettings& settings,
                 StreamCloser& closer, std::chrono::duration<double> releaseAfter = {}, HoldBack holdBack = {});
    ~StandbyInput();
    StandbyInput(const StandbyInput&) = delete;
    StandbyInput& operator=(const StandbyInput&) = delete;

    double preRollSeconds() const { return preRollSeconds_; }

    // Whether the stream was closed after releaseAfter idle (and not warmed since).
    bool released() const;
    // Why the input is not kept open (holdBack's answer), or empty.
    std::string heldBack() const;
    // Opens the stream again if it was released; the idle time counts from now.
    void warmAgain();

    // The running stream, if it is this device in this format and healthy; the
    // session gives it back when it ends. Nothing when the stream is not open
    // (yet, or any more) or is something else: the caller opens its own.
    std::optional<RunningInput> take(const DeviceInfo& device, const CaptureFormat& format);

private:
    void run();
    void giveBack(std::unique_ptr<CaptureSource> stream, std::uint64_t readFrame);
    void drain(); // caller holds mutex_

    std::function<CapturePlan()> plan_;
    HoldBack holdBack_;
    const double preRollSeconds_;
    const std::chrono::duration<double> releaseAfter_;
    EngineSettings settings_;
    DeviceOpener opener_;
    StreamCloser& closer_;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::unique_ptr<CaptureSource> stream_; // null while lent to a session or not open
    DeviceInfo device_;                     // what stream_ is
    std::uint64_t readFrame_ = 0;
    std::uint64_t retainFrames_ = 0;
    bool lent_ = false;
    bool released_ = false;
    std::string heldBack_;
    std::chrono::steady_clock::time_point idleSince_ = std::chrono::steady_clock::now();
    bool quit_ = false;
    std::thread thread_;
};

} // namespace recd
