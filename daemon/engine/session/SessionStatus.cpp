#include "daemon/engine/session/SessionStatus.hpp"

namespace recd {

std::string_view sessionStateName(SessionState s)
{
    switch (s) {
    case SessionState::Waiting: return "waiting";
    case SessionState::Recording: return "recording";
    case SessionState::Paused: return "paused";
    case SessionState::Stopped: return "stopped";
    }
    return "?";
}

std::string_view stopReasonName(StopReason r)
{
    switch (r) {
    case StopReason::Requested: return "requested";
    case StopReason::MaxDuration: return "max_duration";
    case StopReason::Cancelled: return "cancelled";
    case StopReason::DeviceLost: return "device_lost";
    case StopReason::IoError: return "io_error";
    case StopReason::Error: return "error";
    case StopReason::Recovered: return "recovered";
    case StopReason::Silence: return "silence";
    }
    return "error";
}

} // namespace recd
