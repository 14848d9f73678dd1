#pragma once
// recd's clock: CLOCK_MONOTONIC. Every timing in the engine reads it, and so do
// the moments clients pass to StopRecordingAt (GLib's g_get_monotonic_time()
// reads the same clock).

#include <cstdint>
#include <ctime>

namespace recd {

// vDSO: no system call, safe on the audio thread.
inline std::int64_t monotonicNs() noexcept
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline std::uint64_t monotonicUsec() noexcept
{
    return static_cast<std::uint64_t>(monotonicNs() / 1000);
}

// The wall clock (CLOCK_REALTIME), only to stamp a moment for people and files
// (a take's first sample); every duration is measured on monotonicNs().
inline std::int64_t realtimeNs() noexcept
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

} // namespace recd
