#pragma once

#include "org.recd.Recorder1.proxy.h"

#include <sdbus-c++/sdbus-c++.h>

#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace recctl {

// The generated proxy for org.recd.Recorder1, bound to the daemon's name and
// object. Calls on it auto-start the daemon through D-Bus activation.
class RecorderProxy final : public sdbus::ProxyInterfaces<org::recd::Recorder1_proxy> {
public:
    // Hearing signals costs an AddMatch round trip to the bus per signal before
    // the first call (three); a one-shot command such as start or stop, which
    // a hotkey runs and waits for, hears none and goes without them.
    enum class Signals { Ignore, Hear };
    RecorderProxy(sdbus::IConnection& bus, Signals signals)
        : ProxyInterfaces(bus, "org.recd.Recorder1", "/org/recd/Recorder1")
    {
        if (signals == Signals::Hear)
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

// A RecordingStopped signal, as recctl hears it.
struct StoppedTake {
    std::string path;
    double duration = 0;
    std::string reason;
};

// The next take to stop (one whose path `accept` takes, if given), heard on the
// connection's event-loop thread. Set up before looking at the state, so a stop
// in between is not missed.
inline std::future<StoppedTake> nextStop(RecorderProxy& recorder,
                                         std::function<bool(const std::string& path)> accept = {})
{
    struct Once {
        std::promise<StoppedTake> promise;
        std::once_flag flag;
    };
    auto once = std::make_shared<Once>();
    recorder.onStopped = [once, accept](const std::string& path, double duration, const std::string& reason) {
        if (!accept || accept(path))
            std::call_once(once->flag, [&] { once->promise.set_value({path, duration, reason}); });
    };
    return once->promise.get_future();
}

} // namespace recctl
