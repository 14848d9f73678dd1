#pragma once
// Names the calling thread (at most 15 characters), so that top -H, perf and
// bench/run's per-thread figures tell recd's threads apart.

#include <pthread.h>

namespace recd {

inline void nameThisThread(const char* name) noexcept { pthread_setname_np(pthread_self(), name); }

} // namespace recd
