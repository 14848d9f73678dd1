#include "client/ExitCode.hpp"

namespace recctl {

ExitCode exitCodeFor(std::string_view name)
{
    if (name == "org.recd.Recorder1.Error.NotRecording")
        return NothingToActOn;
    if (name == "org.recd.Recorder1.Error.AlreadyRecording")
        return AlreadyRecording;
    if (name.rfind("org.recd.", 0) == 0)
        return Failed;
    // Everything the bus says about reaching the service: no such name, no
    // activation file, activation failed or timed out, no reply, no bus at all.
    if (name.rfind("org.freedesktop.DBus.Error.", 0) == 0 && name != "org.freedesktop.DBus.Error.InvalidArgs" &&
        name != "org.freedesktop.DBus.Error.UnknownMethod")
        return Unreachable;
    if (name.rfind("org.freedesktop.systemd1.", 0) == 0 || name.rfind("System.Error.", 0) == 0)
        return Unreachable;
    return Failed;
}

} // namespace recctl
