#pragma once
// The daemon's single-threaded main loop, in the MPD manner: one poll() over the
// bus connection, a wake-up eventfd and a signalfd. Every D-Bus call, signal
// emission and session change happens on this thread, so the Recorder needs no
// locks; other threads (the engine's writer) only write to the eventfd.

#include <sdbus-c++/IConnection.h>

#include <functional>

namespace recd {

class EventLoop {
public:
    explicit EventLoop(sdbus::IConnection& bus);
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Safe from any thread, and cheap: one write(2) to an eventfd.
    void wake() noexcept;

    std::function<void()> onWake;
    std::function<void()> onReload; // SIGHUP
    std::function<void()> onChild;  // SIGCHLD: a hook ended
    // Runs until SIGTERM or SIGINT, or until the bus connection is lost.
    // Returns the signal number, or 0 if the bus went away.
    int run();

private:
    sdbus::IConnection& bus_;
    int wakeFd_ = -1;
    int signalFd_ = -1;
};

} // namespace recd
