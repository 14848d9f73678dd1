#pragma once
// recctl's exit codes, distinct so scripts can branch (`recctl stop || recctl start`).

#include <string_view>

namespace recctl {

enum ExitCode : int {
    Success = 0,
    Failed = 1,           // the operation failed; the message says why
    Usage = 2,            // bad command line
    Unreachable = 3,      // the daemon could not be reached or activated
    NothingToActOn = 4,   // NotRecording: stop, pause, resume or cancel while idle
    AlreadyRecording = 5, // start while recording
    TimedOut = 6,         // wait --timeout passed with the recording still running
};

// The exit code for a D-Bus error name.
ExitCode exitCodeFor(std::string_view dbusErrorName);

} // namespace recctl
