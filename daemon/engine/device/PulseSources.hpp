#pragma once
// What the sound server (PulseAudio or pipewire-pulse) says about a source.

#include <optional>
#include <string>
#include <vector>

namespace recd {

struct PulseSource {
    std::string name;       // the server's name, which a stream connects to
    bool bluetooth = false; // device.bus "bluetooth", or BlueZ's bluez_* name
};

// The source whose description is `description` (RtAudio names sources by
// their description), asked of the server afresh; nothing when the server
// cannot be asked or has no such source. Waits for the answer on the kept
// connection (PulseConnection.hpp): off the audio path only.
std::optional<PulseSource> findPulseSource(const std::string& description);

// The names a device list may give the server's default input, or the
// monitor of its default output (what the user hears), asked afresh: the
// source's description, which RtAudio names a source by on PulseAudio, and
// for a monitor the description of the sink it monitors, which RtAudio names
// it by on pipewire-pulse. Empty when the server cannot be asked or has no
// such default.
enum class DefaultSource { Input, OutputMonitor };
std::vector<std::string> defaultSourceNames(DefaultSource which);

} // namespace recd
