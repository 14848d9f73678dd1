#pragma once

#include "Container.hpp"
#include "DeviceInfo.hpp"
#include "SampleFormat.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace recd {

// What a caller asks for. Unset fields take the device's or the container's default.
struct RecordingRequest {
    std::filesystem::path path; // absolute
    std::string device;         // id, exact name or unique substring; empty: default input
    std::optional<unsigned> rate;
    std::optional<unsigned> channels;
    std::optional<SampleFormat> sampleFormat;
    std::optional<double> maxDuration; // seconds
    std::optional<double> reconnect;   // seconds to wait for a lost device to return
    std::optional<double> preRoll;     // seconds from before the request to begin with
    std::optional<double> stopOnSilence;    // seconds of continuous silence that end the take
    std::optional<double> splitEvery;       // seconds per file; the take goes on in numbered parts
    bool startOnSound = false;              // armed: writing begins at the first sound above the threshold
    std::optional<double> silenceThreshold; // dBFS; below it is silence
    bool overwrite = false;
    // Write the take into this descriptor (the caller's pipe or file) instead of
    // a file recd creates; the path is then empty. WAV, or raw PCM with rawStream.
    std::shared_ptr<const int> streamFd;
    bool rawStream = false;
};

// A request checked against the devices and resolved to concrete values.
struct CapturePlan {
    std::filesystem::path path;
    DeviceInfo device;
    const Container* container = nullptr;
    unsigned rate = 0;
    unsigned channels = 0;
    SampleFormat sampleFormat = SampleFormat::S16;
    std::optional<std::uint64_t> maxFrames;
    double reconnectSeconds = 0; // 0: a lost device ends the recording
    std::uint64_t preRollFrames = 0;
    std::uint64_t silenceStopFrames = 0; // 0: never stop on silence
    std::uint64_t splitFrames = 0;       // 0: one file; else frames per part, path is part 1
    std::filesystem::path splitBase;     // the path asked for, which the parts are named after
    double silenceThresholdDbfs = -50;
    bool startOnSound = false;
    bool overwrite = false;
    std::shared_ptr<const int> streamFd; // set: the take goes there, and path is "-"
    bool rawStream = false;
};

// `path` with "-suffix" before its extension: take.wav, "2" -> take-2.wav.
std::filesystem::path withSuffix(const std::filesystem::path& path, std::string_view suffix);
// The name of part `n` (from 1) of a take split into parts: take.wav -> take-001.wav.
std::filesystem::path partPath(const std::filesystem::path& path, unsigned n);

constexpr unsigned minRate = 1000;
constexpr unsigned maxRate = 768000;
constexpr unsigned maxChannels = 64;

// Checks that recording to `path` could create the file, without touching it:
// absolute, a file name of sane length, the parent an existing writable directory,
// and the target either absent or (with overwrite) a regular file. Throws
// InvalidArgument, FileExists or IoError.
void checkTargetPath(const std::filesystem::path& path, bool overwrite);

// Validates everything before any device or file is opened, in the order a person
// would fix things: path, numbers, container and format, device, device limits.
CapturePlan planCapture(const RecordingRequest& request, const std::vector<DeviceInfo>& devices);
// The same without looking at the file system: only the path's extension counts.
CapturePlan planFormat(const RecordingRequest& request, const std::vector<DeviceInfo>& devices);

} // namespace recd
