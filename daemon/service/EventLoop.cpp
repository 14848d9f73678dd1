#include "daemon/service/EventLoop.hpp"

#include "daemon/engine/Log.hpp"

#include <sdbus-c++/Error.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <poll.h>
#include <stdexcept>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace recd {

EventLoop::EventLoop(sdbus::IConnection& bus) : bus_(bus)
{
    wakeFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD); // hooks ending
    // Blocked in every thread (threads started later inherit the mask), so the
    // signals arrive only through the signalfd, on this thread.
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signalFd_ = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (wakeFd_ < 0 || signalFd_ < 0)
        throw std::runtime_error(std::string("cannot set up the main loop: ") + std::strerror(errno));
}

EventLoop::~EventLoop()
{
    ::close(wakeFd_);
    ::close(signalFd_);
}

void EventLoop::wake() noexcept
{
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wakeFd_, &one, sizeof one);
}

int EventLoop::run()
{
    for (;;) {
        try {
            while (bus_.processPendingRequest()) {
            }
        } catch (const sdbus::Error& e) {
            log().error("lost the bus connection: {}", e.getMessage());
            return 0;
        }
        const auto pd = bus_.getEventLoopPollData();
        pollfd fds[3] = {{pd.fd, pd.events, 0}, {wakeFd_, POLLIN, 0}, {signalFd_, POLLIN, 0}};
        int timeoutMs = -1; // idle: sleep until something happens, no timer wake-ups
        if (const auto rel = pd.getRelativeTimeout())
            timeoutMs = static_cast<int>((rel->count() + 999) / 1000);
        if (::poll(fds, 3, timeoutMs) < 0) {
            if (errno == EINTR)
                continue;
            throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        }
        if (fds[0].revents & (POLLHUP | POLLERR)) {
            log().error("the bus connection was closed");
            return 0;
        }
        if (fds[1].revents & POLLIN) {
            std::uint64_t count = 0;
            [[maybe_unused]] auto n = ::read(wakeFd_, &count, sizeof count);
            if (onWake)
                onWake();
        }
        if (fds[2].revents & POLLIN) {
            signalfd_siginfo info{};
            if (::read(signalFd_, &info, sizeof info) == sizeof info) {
                if (info.ssi_signo == SIGHUP) {
                    if (onReload)
                        onReload();
                } else if (info.ssi_signo == SIGCHLD) {
                    if (onChild)
                        onChild();
                } else {
                    return static_cast<int>(info.ssi_signo);
                }
            }
        }
    }
}

} // namespace recd
