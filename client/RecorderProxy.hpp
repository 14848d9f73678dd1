#pragma once

#include "org.recd.Recorder1.proxy.h"

#include <sdbus-c++/sdbus-c++.h>

#include <functional>
#include <string>
#include <vector>

namespace recctl {

// The generated proxy for org.recd.Recorder1, bound to the daemon's name and
// object. Calls on it auto-start the daemon through D-Bus activation.
class RecorderProxy final : public sdbus::ProxyInterfaces<org::recd::Recorder1_proxy> {
public:
    explicit RecorderProxy(sdbus::IConnection& bus)
        : ProxyInterfaces(bus, "org.recd.Recorder1", "/org/recd/Recorder1")
    {
        registerProxy();
    }
    ~RecorderProxy() { unregisterProxy(); }

    // Called on the connection's event-loop thread; only `recctl wait` listens.
    std::function<void(const std::string& path, double duration, const std::string& reason)> onStopped;
    std::function<void(const std::vector<double>& peak, const std::vector<double>& rms, double elapsed)> onLevels;

private:
    void onRecordingStarted(const std::string&, const uint64_t&) override {}
    void onLevel(const std::vector<double>& peak, const std::vector<double>& rms, const double& elapsed) override
    {
        if (onLevels)
            onLevels(peak, rms, elapsed);
    }
    void onRecordingStopped(const std::string& path, const double& duration, const std::string& reason) override
    {
        if (onStopped)
            onStopped(path, duration, reason);
    }
};

} // namespace recctl
