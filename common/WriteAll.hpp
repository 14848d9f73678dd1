#pragma once
// write(2) until all of it is written: a write may be cut short (a pipe, a
// signal), and an interrupted one is tried again.

#include <cerrno>
#include <cstddef>
#include <unistd.h>

namespace recd {

// The bytes written: all of them, or fewer where write(2) failed (errno says why).
inline std::size_t writeAll(int fd, const void* data, std::size_t bytes) noexcept
{
    std::size_t done = 0;
    while (done < bytes) {
        const ssize_t n = ::write(fd, static_cast<const char*>(data) + done, bytes - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += static_cast<std::size_t>(n);
    }
    return done;
}

} // namespace recd
