#include "daemon/dbus/DbusErrors.hpp"

namespace recd {

std::string dbusErrorName(ErrorKind kind)
{
    const std::string prefix = "org.recd.Recorder1.Error.";
    switch (kind) {
    case ErrorKind::InvalidArgument: return prefix + "InvalidArgument";
    case ErrorKind::DeviceNotFound: return prefix + "DeviceNotFound";
    case ErrorKind::UnsupportedFormat: return prefix + "UnsupportedFormat";
    case ErrorKind::FileExists: return prefix + "FileExists";
    case ErrorKind::IoError: return prefix + "IoError";
    case ErrorKind::DeviceLost: return prefix + "DeviceLost";
    case ErrorKind::AlreadyRecording: return prefix + "AlreadyRecording";
    case ErrorKind::NotRecording: return prefix + "NotRecording";
    case ErrorKind::Cancelled: return prefix + "Cancelled";
    }
    return prefix + "Failed";
}

} // namespace recd
