#pragma once
// Desktop notifications (config notify = true): a bubble through
// org.freedesktop.Notifications when a recording starts, when it is saved and
// when it fails, so a take left running or lost to a fault does not go unseen.

#include "daemon/service/Recorder.hpp"

#include <sdbus-c++/sdbus-c++.h>

#include <memory>

namespace recd {

class DesktopNotifier final : public RecorderEvents {
public:
    DesktopNotifier(sdbus::IConnection& bus, Recorder& recorder);
    ~DesktopNotifier();

    void recordingStarted(const Destination& destination, std::uint64_t firstSampleUsec) override;
    void recordingStopped(const StopResult& result) override;
    void stateChanged() override {}

private:
    // Asynchronous: the daemon never waits for the notification server, and
    // one that is missing costs a logged line, nothing more.
    void notify(const std::string& summary, const std::string& body, bool urgent);

    Recorder& recorder_;
    std::unique_ptr<sdbus::IProxy> proxy_;
    std::uint32_t shown_ = 0; // the bubble to replace, so a take's stop replaces its start
};

} // namespace recd
