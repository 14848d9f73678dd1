#pragma once
// How long recctl waits for recd to answer, and what it says when recd does not.

#include <sdbus-c++/sdbus-c++.h>

#include <chrono>
#include <string>

namespace recctl {

// How long each call recctl makes may take before recctl gives up with exit 3,
// D-Bus activation included for the first one. Without it a failed activation
// waits out the bus's own timeout (25 s, or 120 s for a service start), and a
// hotkey hangs that long. The default, 4.5 s, covers a cold start (tens of ms)
// plus recd's own 2 s wait for the first audio of a slow input, such as a
// Bluetooth microphone waking up; RECCTL_TIMEOUT (seconds) changes it. What
// recctl waits for between calls, a take's end for `wait` and `start -`,
// levels for `monitor`, is not bounded by it.
std::chrono::microseconds callTimeout();

// The message for an error that means recd could not be reached (exit 3): what
// happened, in words, and where to look. bus may be null (no session bus).
std::string unreachableMessage(const sdbus::Error& error, sdbus::IConnection* bus);

} // namespace recctl
