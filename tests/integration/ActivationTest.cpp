// D-Bus activation for real: the rig's private bus has a services directory with
// the built activation file, and no recd is running. The first recctl call must
// start recd and succeed.

#include "tests/support/AudioFile.hpp"
#include "tests/support/DaemonFixture.hpp"
#include "tests/support/Process.hpp"
#include "tests/support/TempDir.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace recd::test;
using namespace std::chrono_literals;

namespace {
bool daemonOnBus() { return run({"busctl", "--user", "status", "org.recd.Recorder1"}).exitCode == 0; }
} // namespace

TEST(Activation, FirstRecctlStartStartsTheDaemon)
{
    ASSERT_FALSE(daemonOnBus()) << "no recd may be running before the test";
    TempDir dir;
    const auto t0 = std::chrono::steady_clock::now();
    const auto start = run({recctlBinary(), "start", (dir / "activated.wav").string()});
    const auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_EQ(start.exitCode, 0) << start.err;
    EXPECT_EQ(start.out, (dir / "activated.wav").string() + "\n");
    EXPECT_TRUE(daemonOnBus());
    EXPECT_LT(took, 5s);

    std::this_thread::sleep_for(500ms);
    const auto stop = run({recctlBinary(), "stop"});
    ASSERT_EQ(stop.exitCode, 0) << stop.err;
    const auto a = readAudioFile(dir / "activated.wav");
    EXPECT_GT(a.duration(), 0.45);
    EXPECT_NEAR(toneFrequency(a.channel(0), a.rate), 440.0, 2.0);

    // The activated daemon stays and serves the next call.
    EXPECT_EQ(run({recctlBinary(), "status"}).exitCode, 0);
    // And goes away cleanly when asked (the rig would otherwise end it).
    const auto pid = run({"busctl", "--user", "call", "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionUnixProcessID", "s", "org.recd.Recorder1"});
    ASSERT_EQ(pid.exitCode, 0) << pid.err;
    const int daemonPid = std::stoi(pid.out.substr(2));
    ::kill(daemonPid, SIGTERM);
    for (int i = 0; i < 100 && daemonOnBus(); ++i)
        std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(daemonOnBus());
}
