#include "client/InvocationTime.hpp"

#include "common/MonotonicClock.hpp"

#include <cstdio>

namespace recctl {

std::uint64_t invocationUsec()
{
    const auto now = static_cast<std::uint64_t>(recd::monotonicNs());
    // The kernel keeps no start time finer than a clock tick (10 ms) where a
    // process can read it, but it does count, in nanoseconds, the time this task
    // has run and waited to run (/proc/self/schedstat). A process that has just
    // been started has done little else (its libraries come from the page
    // cache), so now minus that is when it began; any time it slept is left out,
    // which errs towards later, never earlier. A task that ran long before it
    // exec'd recctl (a script's own process) would put that far back: past
    // 100 ms the estimate is not used, and main() is the moment.
    std::uint64_t run = 0, waited = 0;
    if (std::FILE* f = std::fopen("/proc/self/schedstat", "re")) {
        if (std::fscanf(f, "%lu %lu", &run, &waited) != 2)
            run = waited = 0;
        std::fclose(f);
    }
    const std::uint64_t age = run + waited;
    const std::uint64_t began = age < 100'000'000 ? now - age : now;
    return began / 1000;
}

} // namespace recctl
