#pragma once
#include <spdlog/spdlog.h>

#include <memory>

namespace recd {

// The engine's logger. It writes to stderr, never stdout: stdout belongs to the
// programs that embed the engine (recctl-like tools print results there), and
// under systemd stderr goes to the journal.
spdlog::logger& log();

} // namespace recd
