#pragma once
// When recctl was started, on recd's clock (CLOCK_MONOTONIC, microseconds).

#include <cstdint>

namespace recctl {

// The moment this process began, the nearest recctl can get to when the user
// asked: a stop placed there does not record or wait for the ~10 ms recctl takes
// to load its libraries and reach recd. Never earlier than the process began,
// and never more than 100 ms before main(): see the .cpp.
std::uint64_t invocationUsec();

} // namespace recctl
