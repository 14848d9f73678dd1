#pragma once
// Runs the real recd and recctl binaries on the rig's private session bus.

#include "tests/support/Process.hpp"
#include "tests/support/TempDir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace recd::test {

std::string recdBinary();
std::string recctlBinary();

// Whether the rig runs PipeWire (with pipewire-pulse) rather than PulseAudio
// (tests/rig, RIG_SERVER).
bool rigRunsPipeWire();
// pacat playing raw s16le stereo 48 kHz into the rig's microphone, on top of its
// tone: 20 ms latency on PulseAudio; on PipeWire 200 ms, as 20 ms would pull the
// whole graph down to 256-frame periods, where this 2-core rig drops audio.
std::vector<std::string> playIntoMicrophone(const std::filesystem::path& raw, const std::string& clientName);
// The rig's microphone (the default input) as recctl devices names it: its id
// differs between PulseAudio and pipewire-pulse.
std::string rigMicrophoneId();

// The file's Broadcast WAV chunk gives the first sample's local date, time
// and samples since midnight (at `rate`), as recd stamped them.
void expectBextAt(const std::filesystem::path& file, std::uint64_t firstSampleUsec, int rate);

class DaemonTest : public ::testing::Test {
protected:
    TempDir dir;
    std::unique_ptr<Child> daemon;

    // Starts recd with a config whose recordings directory is dir/"rec" (plus any
    // extra TOML lines), and waits until it owns its bus name.
    void startDaemon(const std::string& extraConfig = "");
    void SetUp() override { startDaemon(); }
    void TearDown() override;

    // recctl with these arguments, run in `cwd` (default: the scratch directory).
    ProcessResult recctl(const std::vector<std::string>& args, const std::string& cwd = "");
    std::string daemonLog() const;
    std::filesystem::path configPath() const { return dir / "recd.toml"; }
};

} // namespace recd::test
