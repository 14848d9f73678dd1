#pragma once
// Global shortcuts through the desktop portal (config shortcuts = true):
// "Toggle recording" and "Push to talk", bound with
// org.freedesktop.portal.GlobalShortcuts, which (unlike a desktop's own key
// bindings) reports both the press and the release.
//
// The portal's calls answer through the request/response pattern: a method
// returns a Request object's path, and the result comes later as that
// object's Response signal. Each Response is listened for before the call
// is made (its path is known beforehand from the handle_token), and every
// call is asynchronous: the daemon's main loop never waits for the portal.
// Nothing runs on a timer; only a key press or release wakes recd.

#include "daemon/service/Recorder.hpp"

#include <sdbus-c++/sdbus-c++.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace recd {

class GlobalShortcuts final : public RecorderEvents {
public:
    // The app id the portal knows recd by; recd ships org.recd.recd.desktop.
    static constexpr const char* appId = "org.recd.recd";

    GlobalShortcuts(sdbus::IConnection& bus, Recorder& recorder);
    ~GlobalShortcuts();
    // Follows the config (at start-up, and after a reload): binds the
    // shortcuts when turned on, closes their session when turned off, and
    // binds them anew in a new session when the keys asked for changed (a
    // session's shortcuts can be bound once).
    void apply();

    void recordingStarted(const Destination&, std::uint64_t) override {}
    void recordingStopped(const StopResult&) override;
    void stateChanged() override {}

private:
    using Results = std::map<std::string, sdbus::Variant>;

    void registerAppId();
    void createSession();
    void bindShortcuts();
    void closeSession();
    // Calls `method` on the portal with `args` and hands the Response's
    // results to `then`; a refused call or a response other than 0 is
    // logged, with what recd does instead.
    template <class... Args>
    void request(const std::string& method, const std::string& token, std::function<void(const Results&)> then,
                 Args&&... args);
    void listenToShortcuts();
    void activated(const std::string& id, std::uint64_t timestampMs);
    void deactivated(const std::string& id, std::uint64_t timestampMs);
    // The release that will not come (the session closed, the portal left):
    // a push-to-talk take is stopped now.
    void releaseLost(const std::string& why);
    void unavailable(const std::string& why);

    sdbus::IConnection& bus_;
    Recorder& recorder_;
    std::unique_ptr<sdbus::IProxy> portal_;
    std::string sessionHandle_;
    // What the session is for: whether shortcuts are wanted, with which
    // keys, and its generation (a reply for an older one is ignored).
    bool wanted_ = false;
    std::string toggleTrigger_, pushToTalkTrigger_;
    unsigned generation_ = 0;
    bool registered_ = false; // the app id, once per connection
    std::map<std::string, sdbus::Slot> requests_; // Response matches, by request path
    std::vector<sdbus::Slot> matches_;                     // Activated, Deactivated, Closed, the portal leaving
    unsigned nextToken_ = 0;

    // What is held down: by shortcut id, the portal's time of the press
    // and when recd heard it (CLOCK_MONOTONIC µs).
    struct Press {
        std::uint64_t portalMs = 0;
        std::uint64_t heardUsec = 0;
    };
    std::map<std::string, Press> held_;
    bool pushToTalkTake_ = false; // the running take (or start) is push to talk's
};

} // namespace recd
