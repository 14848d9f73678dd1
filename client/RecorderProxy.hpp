#pragma once

#include "org.recd.Recorder1.proxy.h"

#include <sdbus-c++/sdbus-c++.h>

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

private:
    // recctl's commands are one call each; they do not listen to signals.
    void onRecordingStarted(const std::string&, const uint64_t&) override {}
    void onRecordingStopped(const std::string&, const double&, const std::string&) override {}
};

} // namespace recctl
