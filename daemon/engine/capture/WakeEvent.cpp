#include "daemon/engine/capture/WakeEvent.hpp"

#include "common/Errors.hpp"

#include <cstdint>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace recd {

WakeEvent::WakeEvent() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC))
{
    if (fd_ < 0)
        throw IoError::fromErrno("cannot create an eventfd");
}

WakeEvent::~WakeEvent() { ::close(fd_); }

void WakeEvent::post() const noexcept
{
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(fd_, &one, sizeof one);
}

void WakeEvent::wait(std::chrono::nanoseconds timeout) const noexcept
{
    pollfd p{fd_, POLLIN, 0};
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
    if (::poll(&p, 1, static_cast<int>(ms < 0 ? 0 : ms)) > 0) {
        std::uint64_t posts = 0;
        [[maybe_unused]] const auto n = ::read(fd_, &posts, sizeof posts);
    }
}

} // namespace recd
