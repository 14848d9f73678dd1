#pragma once
// recctl's line output ("PATH<TAB>SECONDS", a path per line) is split by
// scripts at tabs and newlines, so a path holding either cannot be carried
// in it; --json can carry any path.

#include "client/ExitCode.hpp"

#include <stdexcept>
#include <string>

namespace recctl {

inline bool carriesOnALine(const std::string& path) { return path.find_first_of("\t\n") == std::string::npos; }

// A path that line output cannot carry, for the message that says what to do.
class PathNotOnALine : public std::runtime_error {
public:
    PathNotOnALine(const std::string& message, ExitCode code) : std::runtime_error(message), code(code) {}
    ExitCode code; // Usage when refused before the call, Failed when the take was acted on
};

// Throws PathNotOnALine for a path with a tab or a newline; `what` says what
// happened to it ("was not started", "was stopped and saved"), and `code` is
// the exit code that says so.
void requireOneLine(const std::string& path, const std::string& what, ExitCode code = Failed);

} // namespace recctl
