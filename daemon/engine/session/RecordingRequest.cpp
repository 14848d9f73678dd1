#include "daemon/engine/session/RecordingRequest.hpp"

#include "daemon/engine/device/DeviceSelector.hpp"
#include "common/Errors.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace recd {

void checkTargetPath(const std::filesystem::path& path, bool overwrite)
{
    const std::string text = path.string();
    if (text.empty())
        throw InvalidArgument("the file path is empty; give an absolute path such as /home/me/take.wav");
    if (text.find('\0') != std::string::npos)
        throw InvalidArgument("the file path contains a NUL byte");
    if (!path.is_absolute())
        throw InvalidArgument(fmt::format("'{}' is not an absolute path; give one that starts with /", text));
    if (text.size() >= PATH_MAX)
        throw InvalidArgument(fmt::format("the file path is {} bytes long; the limit is {}", text.size(), PATH_MAX - 1));
    const std::string name = path.filename().string();
    if (name.empty() || name == "." || name == "..")
        throw InvalidArgument(fmt::format("'{}' names a directory, not a file", text));
    if (name.size() > NAME_MAX)
        throw InvalidArgument(fmt::format("the file name is {} bytes long; the limit is {}", name.size(), NAME_MAX));

    const std::filesystem::path parent = path.parent_path();
    struct stat st{};
    if (::stat(parent.c_str(), &st) != 0)
        throw IoError::fromErrno("cannot record into", parent.string());
    if (!S_ISDIR(st.st_mode))
        throw IoError(fmt::format("cannot record into '{}': it is not a directory", parent.string()));
    if (::access(parent.c_str(), W_OK | X_OK) != 0)
        throw IoError::fromErrno("cannot record into", parent.string());

    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT)
            return;
        throw IoError::fromErrno("cannot check", text);
    }
    if (S_ISLNK(st.st_mode))
        throw InvalidArgument(fmt::format("'{}' is a symbolic link; recd writes only regular files, never through a link", text));
    if (S_ISDIR(st.st_mode))
        throw InvalidArgument(fmt::format("'{}' is a directory; give a file name inside it", text));
    if (!S_ISREG(st.st_mode))
        throw InvalidArgument(fmt::format("'{}' is not a regular file (a device, FIFO or socket); recd writes only regular files", text));
    if (!overwrite)
        throw FileExists(fmt::format("'{}' already exists; choose another name or ask to overwrite it", text));
}

CapturePlan planCapture(const RecordingRequest& request, const std::vector<DeviceInfo>& devices)
{
    checkRanges(request);
    if (request.streamFd) {
        // Into the caller's descriptor: no file of recd's own, so no path checks.
        if (!request.path.empty())
            throw InvalidArgument(fmt::format("a take streamed to a descriptor (option fd) has no file; give an "
                                              "empty path, not '{}'",
                                              request.path.string()));
        if (request.splitEvery)
            throw InvalidArgument("split_every needs files; a take streamed to a descriptor (option fd) cannot "
                                  "be split");
        return planFormat(request, destinationFor(request), devices);
    }
    if (request.rawStream)
        throw InvalidArgument("raw is for a take streamed to a descriptor (option fd); files get a header");
    // A split take begins with part 1: that is the file that must not exist.
    RecordingRequest first = request;
    if (request.splitEvery)
        first.path = partPath(request.path, 1);
    checkTargetPath(first.path, request.overwrite);
    CapturePlan plan = planFormat(first, destinationFor(first), devices);
    plan.splitBase = request.path;
    return plan;
}

Destination destinationFor(const RecordingRequest& request)
{
    if (request.streamFd)
        return Destination::descriptor(request.streamFd,
                                       request.rawStream ? Destination::Framing::Raw : Destination::Framing::Wav);
    return Destination::file(request.path, containerForPath(request.path));
}

CapturePlan planFormat(const RecordingRequest& request, const Destination& destination,
                       const std::vector<DeviceInfo>& devices)
{
    checkRanges(request);
    if (request.silenceThreshold && !request.stopOnSilence && !request.startOnSound)
        throw InvalidArgument("silence_threshold needs stop_on_silence (seconds of silence that end the take) or "
                              "start_on_sound");

    CapturePlan plan;
    plan.destination = destination;
    plan.reconnectSeconds = request.reconnect.value_or(0);
    plan.overwrite = request.overwrite;

    const DeviceInfo& device = selectDevice(devices, request.device);
    plan.device = device;
    plan.channels = request.channels.value_or(std::min(2u, device.inputChannels));
    plan.rate = request.rate.value_or(device.preferredRate ? device.preferredRate : 48000);
    if (plan.channels > device.inputChannels)
        throw UnsupportedFormat(fmt::format("'{}' has {} input channel{}; {} were asked for", device.name,
                                            device.inputChannels, device.inputChannels == 1 ? "" : "s",
                                            plan.channels));
    if (!device.sampleRates.empty() &&
        std::find(device.sampleRates.begin(), device.sampleRates.end(), plan.rate) == device.sampleRates.end())
        throw UnsupportedFormat(fmt::format("'{}' cannot record at {} Hz; it supports {} Hz", device.name, plan.rate,
                                            fmt::join(device.sampleRates, ", ")));
    plan.sampleFormat = checkFileFormat(destination.container(), request.sampleFormat, plan.rate, plan.channels);
    if (request.splitEvery)
        plan.splitFrames = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(*request.splitEvery * plan.rate)));
    if (request.stopOnSilence)
        plan.silenceStopFrames = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(*request.stopOnSilence * plan.rate)));
    plan.silenceThresholdDbfs = request.silenceThreshold.value_or(-50.0);
    plan.startOnSound = request.startOnSound;
    if (request.preRoll)
        plan.preRollFrames = static_cast<std::uint64_t>(std::llround(*request.preRoll * plan.rate));
    if (request.maxDuration)
        plan.maxFrames = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(*request.maxDuration * plan.rate)));
    return plan;
}

} // namespace recd
