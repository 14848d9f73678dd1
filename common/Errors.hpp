#pragma once
// recd's one exception hierarchy, in common/ because recctl reports repair's
// errors with it too. Every failure a caller can act on is one of these; the
// D-Bus layer maps each kind to exactly one error name, in one place
// (daemon/dbus/DbusErrors.cpp). Messages are written for a person: they say what was
// wrong and what is allowed.

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace recd {

enum class ErrorKind {
    InvalidArgument,   // a parameter out of range, malformed or of the wrong kind
    DeviceNotFound,    // no input device matches, or the match is ambiguous
    UnsupportedFormat, // container / sample format / rate / channels not possible together
    FileExists,        // the target exists and overwriting was not asked for
    IoError,           // the file system refused (permissions, disk full, ...)
    DeviceLost,        // the audio device failed, vanished or delivered nothing
    AlreadyRecording,  // a recording is in progress
    NotRecording,      // nothing to act on
    Cancelled,         // a start cancelled while it waited for audio: nothing recorded
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const noexcept { return kind_; }

private:
    ErrorKind kind_;
};

template <ErrorKind K>
class ErrorOf : public Error {
public:
    explicit ErrorOf(const std::string& message) : Error(K, message) {}
};

using InvalidArgument = ErrorOf<ErrorKind::InvalidArgument>;
using DeviceNotFound = ErrorOf<ErrorKind::DeviceNotFound>;
using UnsupportedFormat = ErrorOf<ErrorKind::UnsupportedFormat>;
using FileExists = ErrorOf<ErrorKind::FileExists>;
using DeviceLost = ErrorOf<ErrorKind::DeviceLost>;

// The file system refused. The errno of the call that failed is kept (0 where
// none did, as for "not a directory" found by looking), for what acts on the
// cause rather than the words: a full disk (ENOSPC), a file-size limit (EFBIG).
class IoError : public Error {
public:
    explicit IoError(const std::string& message, int errorNumber = 0)
        : Error(ErrorKind::IoError, message), errorNumber_(errorNumber)
    {
    }
    int errorNumber() const noexcept { return errorNumber_; }

    // The system call that just failed: "WHAT 'SUBJECT': <errno's text>" (or
    // "WHAT: ..." with no subject), errno kept. Call it right after the call,
    // before anything else can change errno.
    static IoError fromErrno(const char* what, const std::string& subject = {})
    {
        const int err = errno;
        std::string message = what;
        if (!subject.empty())
            message += " '" + subject + "'";
        return IoError(message + ": " + std::strerror(err), err);
    }

private:
    int errorNumber_;
};

using AlreadyRecording = ErrorOf<ErrorKind::AlreadyRecording>;
using NotRecording = ErrorOf<ErrorKind::NotRecording>;
using Cancelled = ErrorOf<ErrorKind::Cancelled>;

} // namespace recd
