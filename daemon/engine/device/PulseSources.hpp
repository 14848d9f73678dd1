#pragma once
// What the sound server (PulseAudio or pipewire-pulse) says about a source.

#include <optional>
#include <string>

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

} // namespace recd
