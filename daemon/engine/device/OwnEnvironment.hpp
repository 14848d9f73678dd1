#pragma once
// Variables recd puts in its own environment for libraries that read settings
// only from there (libpulse: PULSE_LATENCY_MSEC, PULSE_PROP_OVERRIDE), and
// which the programs recd runs (on_stop hooks) must not inherit.

#include <string>
#include <string_view>

namespace recd {

// Sets name=value unless the environment already has name (a user's own
// choice wins), and remembers that recd set it. setenv() is unsafe while
// another thread may read the environment: call before any thread starts.
// Returns whether it set the variable.
bool setOwnVariable(const char* name, const std::string& value);

// Whether recd set name itself (rather than inheriting it).
bool isOwnVariable(std::string_view name);

} // namespace recd
