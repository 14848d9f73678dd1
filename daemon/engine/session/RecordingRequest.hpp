#pragma once

#include "daemon/engine/capture/MergedSource.hpp"
#include "daemon/engine/file/Container.hpp"
#include "daemon/engine/file/Destination.hpp"
#include "daemon/engine/file/FileNames.hpp"
#include "daemon/engine/device/DeviceInfo.hpp"
#include "common/SampleFormat.hpp"
#include "common/StartOptions.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace recd {

// What a caller asks for: where, and the options (StartOptions.hpp). Unset
// options take the device's or the container's default.
struct RecordingRequest : StartOptions {
    std::filesystem::path path; // absolute; empty with streamFd
};

// A request checked against the devices and resolved to concrete values.
struct CapturePlan {
    Destination destination;
    DeviceInfo device; // the input, or the first of several
    // Several inputs (option inputs): the ones after `device`, in the order
    // given, and how their channels go into the file.
    std::vector<DeviceInfo> moreInputs;
    MergedSource::Layout layout = MergedSource::Layout::Channels;
    // Files written side by side: with layout files one per input, each
    // holding that input's channels of the merged source; else 1.
    unsigned files = 1;
    unsigned rate = 0;
    unsigned channels = 0;      // each file's
    unsigned inputChannels = 0; // each input's
    SampleFormat sampleFormat = SampleFormat::S16;
    std::optional<std::uint64_t> maxFrames;
    double reconnectSeconds = 0; // 0: a lost device ends the recording
    std::uint64_t preRollFrames = 0;
    std::uint64_t silenceStopFrames = 0; // 0: never stop on silence
    std::uint64_t splitFrames = 0;       // 0: one file; else frames per part, the destination is part 1
    // split_on_silence: silent frames that end an utterance (0: off), and the
    // silence kept at each end of an utterance's part. The destination is part 1.
    std::uint64_t utteranceGapFrames = 0;
    std::uint64_t utteranceMarginFrames = 0;
    std::filesystem::path splitBase;     // the path asked for, which the parts and files are named after (takeFilePath)
    double silenceThresholdDbfs = -50;
    bool startOnSound = false;
    bool overwrite = false;

    // Whether the take's files are numbered parts (split_every, split_on_silence).
    bool inParts() const { return splitFrames || utteranceGapFrames; }
};

// Where a request's take goes: its descriptor (option fd), or its file in the
// container the path's extension names (UnsupportedFormat for an unknown one).
Destination destinationFor(const RecordingRequest& request);



// Checks that recording to `path` could create the file, without touching it:
// absolute, a file name of sane length, the parent an existing writable directory,
// and the target either absent or (with overwrite) a regular file. Throws
// InvalidArgument, FileExists or IoError.
void checkTargetPath(const std::filesystem::path& path, bool overwrite);

// Validates everything before any device or file is opened, in the order a person
// would fix things: path, numbers, container and format, device, device limits.
CapturePlan planCapture(const RecordingRequest& request, const std::vector<DeviceInfo>& devices);
// The same without looking at the file system, for a take into `destination`.
CapturePlan planFormat(const RecordingRequest& request, const Destination& destination,
                       const std::vector<DeviceInfo>& devices);

} // namespace recd
