// The live level: the Level signal and `recctl monitor`, with the real recd on
// the rig, whose virtual microphone plays a 440 Hz tone at -6 dBFS peak (so
// -9 dBFS RMS) on both channels.

#include "tests/support/DaemonFixture.hpp"
#include "client/RecorderProxy.hpp"

#include <gtest/gtest.h>
#include <sdbus-c++/sdbus-c++.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;
using namespace recd::test;

namespace {

// A D-Bus client on a connection of its own that counts the Level signals it
// hears; it asks for them (WatchLevels) only when told to.
struct LevelClient {
    std::unique_ptr<sdbus::IConnection> bus = sdbus::createSessionBusConnection();
    recctl::RecorderProxy proxy{*bus, recctl::RecorderProxy::Signals::Hear};
    std::mutex mutex;
    std::vector<std::vector<double>> peaks, rms;

    LevelClient()
    {
        proxy.onLevels = [this](const std::vector<double>& p, const std::vector<double>& r, double) {
            std::lock_guard lock(mutex);
            peaks.push_back(p);
            rms.push_back(r);
        };
        bus->enterEventLoopAsync();
    }
    std::size_t count()
    {
        std::lock_guard lock(mutex);
        return peaks.size();
    }
};

} // namespace

TEST_F(DaemonTest, LevelSignalsComeAboutTenTimesASecondOnlyWhileSomeoneWatches)
{
    LevelClient passive; // listens, never asks
    ASSERT_EQ(recctl({"start", (dir / "meter.wav").string()}).exitCode, 0);
    std::this_thread::sleep_for(600ms);
    EXPECT_EQ(passive.count(), 0u) << "no Level signal while nobody watches";

    auto watcher = std::make_unique<LevelClient>();
    watcher->proxy.WatchLevels();
    watcher->proxy.WatchLevels(); // twice is harmless
    std::this_thread::sleep_for(300ms);
    const std::size_t before = watcher->count();
    std::this_thread::sleep_for(1000ms);
    const std::size_t inASecond = watcher->count() - before;
    EXPECT_GE(inASecond, 7u);
    EXPECT_LE(inASecond, 13u);
    {
        std::lock_guard lock(watcher->mutex);
        ASSERT_FALSE(watcher->peaks.empty());
        const auto& p = watcher->peaks.back();
        const auto& r = watcher->rms.back();
        ASSERT_EQ(p.size(), 2u);
        for (int c = 0; c < 2; ++c) {
            EXPECT_NEAR(p[c], -6.02, 0.5) << "channel " << c;
            EXPECT_NEAR(r[c], -9.03, 0.5) << "channel " << c;
        }
    }

    // The watcher leaves the bus without unwatching: recd notices and stops.
    watcher.reset();
    std::this_thread::sleep_for(300ms);
    const std::size_t afterLeaving = passive.count();
    std::this_thread::sleep_for(600ms);
    EXPECT_EQ(passive.count(), afterLeaving) << "no Level signal after the last watcher left";
    EXPECT_NE(daemonLog().find("no longer watches the levels (0 watching)"), std::string::npos) << daemonLog();
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
}

TEST_F(DaemonTest, MonitorPrintsPlainLinesWhenPipedAndEndsCleanlyOnCtrlC)
{
    ASSERT_EQ(recctl({"start", (dir / "monitored.wav").string()}).exitCode, 0);
    const auto r = recctl({"monitor", "--count", "5"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    int lines = 0;
    for (std::size_t at = 0; (at = r.out.find("recording elapsed=", at)) != std::string::npos; ++at)
        ++lines;
    EXPECT_GE(lines, 5) << r.out;
    EXPECT_NE(r.out.find("L:peak=-6.0,rms=-9.0"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("\x1b"), std::string::npos) << "no terminal codes in a pipe";

    Child monitor({recctlBinary(), "monitor"}, {}, (dir / "monitor.err").string());
    std::this_thread::sleep_for(700ms);
    EXPECT_EQ(monitor.stop(SIGINT), 0) << "Ctrl-C leaves it with exit 0";
    std::this_thread::sleep_for(100ms);
    EXPECT_NE(daemonLog().find("no longer watches the levels (0 watching)"), std::string::npos) << daemonLog();
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);

    // While idle it says so, and still ends on Ctrl-C.
    Child idle({recctlBinary(), "monitor"}, {}, (dir / "idle.err").string());
    std::this_thread::sleep_for(800ms);
    EXPECT_EQ(idle.stop(SIGINT), 0);
}
