#pragma once
// What a take is doing and how it ended: the values the engine reports to its
// owner (Recorder), who turns them into D-Bus properties and replies.

#include "common/SampleFormat.hpp"
#include "daemon/engine/capture/CaptureSource.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace recd {

// Waiting: armed by start_on_sound, nothing written until the first sound.
enum class SessionState { Waiting, Recording, Paused, Stopped };
std::string_view sessionStateName(SessionState s);

enum class StopReason { Requested, MaxDuration, Cancelled, DeviceLost, IoError, Error, Recovered, Silence };
std::string_view stopReasonName(StopReason r);

// A take cut short by a fault (as opposed to one that ended as asked).
inline bool isFault(StopReason r)
{
    return r == StopReason::DeviceLost || r == StopReason::IoError || r == StopReason::Error;
}

// One input of a take: which, and what it has been through.
struct InputStatus {
    std::string deviceId;
    std::string deviceName;
    unsigned channels = 0; // as it is captured
    InputReport report;
    std::filesystem::path file; // with layout files: the file (current part) it is written to
    // Seconds into the take (pauses included) where it last stopped delivering
    // while the others went on (-1: never), and the seconds of silence in its place.
    double lastGapAt = -1;
    double silence = 0;
};

struct SessionStatus {
    SessionState state = SessionState::Recording;
    std::filesystem::path path;
    std::string deviceId;
    std::string deviceName;
    unsigned rate = 0;
    unsigned channels = 0;
    SampleFormat sampleFormat = SampleFormat::S16;
    std::uint64_t frames = 0;
    double duration = 0;
    std::uint32_t overruns = 0;
    std::uint64_t overrunFrames = 0;
    std::uint32_t inputOverflows = 0;
    double preRoll = 0; // seconds at the head of the file from before the request
    unsigned part = 1;  // with split_every or split_on_silence: the part being written (between utterances, the last)
    std::uint32_t gaps = 0; // times the device stopped delivering for a while (suspended, stalled)
    std::uint64_t bytes = 0;
    std::vector<InputStatus> inputs; // in the order given; one for a take of one input
};

struct StopResult {
    std::filesystem::path path;
    std::uint64_t frames = 0;
    double duration = 0;
    StopReason reason = StopReason::Requested;
    std::string message; // why, when the reason is a fault
    bool streamed = false; // into a descriptor: there is no file, and path is "-"
    // Every file's last part (layout files: one per input, path the first's).
    std::vector<std::filesystem::path> files;
};

} // namespace recd
