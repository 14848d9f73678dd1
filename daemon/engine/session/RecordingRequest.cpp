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
        if (request.splitEvery || request.splitOnSilence)
            throw InvalidArgument(fmt::format("{} needs files; a take streamed to a descriptor (option fd) cannot "
                                              "be split",
                                              request.splitEvery ? "split_every" : "split_on_silence"));
        if (request.layout == "files")
            throw InvalidArgument("layout files writes a file per input; a take streamed to one descriptor (option "
                                  "fd) can hold them side by side with layout channels");
        return planFormat(request, destinationFor(request), devices);
    }
    if (request.rawStream)
        throw InvalidArgument("raw is for a take streamed to a descriptor (option fd); files get a header");
    // A split take begins with part 1, and a take of one file per input with
    // each input's file: those are the files that must not exist.
    const auto files = static_cast<unsigned>(request.layout == "files" ? std::max<std::size_t>(1, request.inputs.size()) : 1);
    RecordingRequest first = request;
    for (unsigned file = files; file-- > 0;) {
        first.path = takeFilePath(request.path, file, files, request.splitEvery || request.splitOnSilence ? 1 : 0);
        checkTargetPath(first.path, request.overwrite);
    }
    CapturePlan plan = planFormat(first, destinationFor(first), devices);
    plan.splitBase = request.path;
    return plan;
}

namespace {

// The inputs a request names: `device`, or each of `inputs` in order.
std::vector<DeviceInfo> selectInputs(const RecordingRequest& request, const std::vector<DeviceInfo>& devices)
{
    if (request.inputs.empty())
        return {selectDevice(devices, request.device)};
    if (!request.device.empty())
        throw InvalidArgument(fmt::format("give either device ('{}') or inputs ({}), not both; inputs lists every "
                                          "input of the take, the first included",
                                          request.device, fmt::join(request.inputs, ", ")));
    if (request.preRoll && *request.preRoll > 0)
        throw InvalidArgument("pre_roll keeps one input open between takes; a take of several inputs has none: "
                              "leave pre_roll out (or 0), or record one input");
    std::vector<DeviceInfo> inputs;
    for (const auto& query : request.inputs) {
        if (query.empty())
            throw InvalidArgument("an entry of inputs is empty; give a device id, exact name, unique substring, "
                                  "@input or @output");
        inputs.push_back(selectDevice(devices, query));
    }
    return inputs;
}

// How the inputs go into files: merged side by side (channels, and files,
// which then writes each input's channels to a file of its own) or summed.
void planLayout(CapturePlan& plan, const std::string& layout, std::size_t inputs)
{
    if (layout.empty() || layout == "channels")
        return;
    if (layout != "mix" && layout != "files")
        throw InvalidArgument(fmt::format("layout '{}' is not known; use channels (each input's channels side by "
                                          "side in one file, in the order given), files (one file per input) or "
                                          "mix (the inputs summed)",
                                          layout));
    if (inputs < 2)
        throw InvalidArgument(fmt::format("layout {} is for several inputs; give two or more in inputs", layout));
    if (layout == "mix")
        plan.layout = MergedSource::Layout::Mix;
    else
        plan.files = static_cast<unsigned>(inputs);
}

} // namespace

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
    if (request.silenceThreshold && !request.stopOnSilence && !request.startOnSound && !request.splitOnSilence)
        throw InvalidArgument("silence_threshold needs stop_on_silence (seconds of silence that end the take), "
                              "split_on_silence or start_on_sound");
    if (request.splitOnSilence && request.splitEvery)
        throw InvalidArgument("give split_every (a part every so many seconds) or split_on_silence (a part per "
                              "utterance), not both");
    if (request.splitOnSilence && request.stopOnSilence && *request.stopOnSilence <= *request.splitOnSilence)
        throw InvalidArgument(fmt::format("stop_on_silence ({} s) must be longer than split_on_silence ({} s): "
                                          "the silence that ends an utterance would end the take first",
                                          *request.stopOnSilence, *request.splitOnSilence));

    CapturePlan plan;
    plan.destination = destination;
    plan.reconnectSeconds = request.reconnect.value_or(0);
    plan.overwrite = request.overwrite;

    const std::vector<DeviceInfo> inputs = selectInputs(request, devices);
    plan.device = inputs.front();
    plan.moreInputs.assign(inputs.begin() + 1, inputs.end());
    planLayout(plan, request.layout, inputs.size());
    unsigned fewest = inputs.front().inputChannels;
    for (const auto& input : inputs)
        fewest = std::min(fewest, input.inputChannels);
    plan.inputChannels = request.channels.value_or(std::min(2u, fewest));
    plan.rate = request.rate.value_or(plan.device.preferredRate ? plan.device.preferredRate : 48000);
    for (const auto& device : inputs) {
        if (plan.inputChannels > device.inputChannels)
            throw UnsupportedFormat(fmt::format("'{}' has {} input channel{}; {} were asked for", device.name,
                                                device.inputChannels, device.inputChannels == 1 ? "" : "s",
                                                plan.inputChannels));
        if (!device.sampleRates.empty() &&
            std::find(device.sampleRates.begin(), device.sampleRates.end(), plan.rate) == device.sampleRates.end())
            throw UnsupportedFormat(fmt::format("'{}' cannot record at {} Hz; it supports {} Hz", device.name,
                                                plan.rate, fmt::join(device.sampleRates, ", ")));
    }
    plan.channels = plan.layout == MergedSource::Layout::Channels
                        ? plan.inputChannels * static_cast<unsigned>(inputs.size()) / plan.files
                        : plan.inputChannels;
    // The file's channels against the container's limit, before anything starts.
    plan.sampleFormat = checkFileFormat(destination.container(), request.sampleFormat, plan.rate, plan.channels);
    if (request.splitEvery)
        plan.splitFrames = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(*request.splitEvery * plan.rate)));
    if (request.splitOnSilence) {
        plan.utteranceGapFrames = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(*request.splitOnSilence * plan.rate)));
        plan.utteranceMarginFrames = std::min<std::uint64_t>(plan.rate / 4, plan.utteranceGapFrames / 2);
    }
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
