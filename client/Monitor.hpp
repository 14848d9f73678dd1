#pragma once

#include "client/RecorderProxy.hpp"

#include <optional>

namespace recctl {

// `recctl monitor`: a live input meter. On a terminal it redraws in place (a
// bar per channel with dBFS and a clip marker, the elapsed time and the state);
// piped, it prints one plain line per update. Ends on Ctrl-C (or SIGTERM), or
// after `count` updates, always unwatching and restoring the terminal.
int runMonitor(sdbus::IConnection& bus, RecorderProxy& recorder, std::optional<unsigned> count);

} // namespace recctl
