// What scripts build on, with the real recd and recctl on the rig: `recctl wait`
// and the on_stop hook.

#include "AudioFile.hpp"
#include "DaemonFixture.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

using namespace std::chrono_literals;
using namespace recd::test;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string slurp(const std::filesystem::path& p)
{
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout)
{
    const auto deadline = Clock::now() + timeout;
    while (!done()) {
        if (Clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

} // namespace

TEST_F(DaemonTest, WaitBlocksUntilMaxDurationEndsTheTakeAndPrintsWhatStopPrints)
{
    const auto file = dir / "note.wav";
    ASSERT_EQ(recctl({"start", file.string(), "--max-duration", "1.5"}).exitCode, 0);
    const auto t0 = Clock::now();
    const auto r = recctl({"wait"});
    const double waited = seconds(Clock::now() - t0);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.out, file.string() + "\t1.500\n");
    EXPECT_GT(waited, 1.3);
    EXPECT_LT(waited, 2.5);
    EXPECT_EQ(readAudioFile(file).frames, 72000);
}

TEST_F(DaemonTest, WaitReturnsWhenAnotherClientStopsAndHonoursItsTimeout)
{
    const auto file = dir / "meeting.wav";
    ASSERT_EQ(recctl({"start", file.string()}).exitCode, 0);
    const auto timedOut = recctl({"wait", "--timeout", "0.3"});
    EXPECT_EQ(timedOut.exitCode, 6);
    EXPECT_NE(timedOut.err.find("still recording after 0.3 s"), std::string::npos) << timedOut.err;

    ProcessResult waited;
    std::thread waiter([&] { waited = recctl({"wait"}); });
    std::this_thread::sleep_for(500ms);
    const auto stopped = recctl({"stop"});
    waiter.join();
    EXPECT_EQ(stopped.exitCode, 0);
    EXPECT_EQ(waited.exitCode, 0) << waited.err;
    EXPECT_EQ(waited.out, stopped.out) << "wait prints what stop prints";

    const auto idle = recctl({"wait"});
    EXPECT_EQ(idle.exitCode, 4);
    EXPECT_NE(idle.err.find("nothing to wait for: not recording"), std::string::npos) << idle.err;
}

class HookTest : public DaemonTest {
protected:
    void SetUp() override
    {
        // The hook appends its arguments and environment to a file; the words of
        // the command are shell words, its arguments come after them, quoted.
        startDaemon("on_stop = \"printf '%s|%s|%s|%s\\\\n' \\\"$RECD_REASON\\\" >> " + (dir / "hook.out").string() +
                    "\"\n");
    }
};

TEST_F(HookTest, OnStopRunsWithThePathAndDurationAndNeverHoldsTheDaemonUp)
{
    const auto file = dir / "with space.wav";
    ASSERT_EQ(recctl({"start", file.string(), "--max-duration", "0.5"}).exitCode, 0);
    ASSERT_EQ(recctl({"wait"}).exitCode, 0);
    ASSERT_TRUE(waitFor([&] { return !slurp(dir / "hook.out").empty(); }, 5s)) << daemonLog();
    EXPECT_EQ(slurp(dir / "hook.out"), "max_duration|" + file.string() + "|0.500|max_duration\n");
    EXPECT_TRUE(waitFor([&] { return daemonLog().find("on_stop hook") != std::string::npos &&
                                     daemonLog().find(": done") != std::string::npos; },
                        5s))
        << "the exit status is logged\n" << daemonLog();

    // A cancelled take leaves no file, so no hook runs for it.
    ASSERT_EQ(recctl({"start", (dir / "gone.wav").string()}).exitCode, 0);
    ASSERT_EQ(recctl({"cancel"}).exitCode, 0);
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(slurp(dir / "hook.out").find("gone.wav"), std::string::npos);
}

class SlowFailingHookTest : public DaemonTest {
protected:
    void SetUp() override { startDaemon("on_stop = \"sleep 3; exit 7; true\"\n"); }
};

TEST_F(SlowFailingHookTest, ASlowFailingHookChangesNothingAboutTheRecording)
{
    const auto first = dir / "first.wav";
    ASSERT_EQ(recctl({"start", first.string()}).exitCode, 0);
    std::this_thread::sleep_for(300ms);
    const auto t0 = Clock::now();
    const auto stopped = recctl({"stop"});
    EXPECT_EQ(stopped.exitCode, 0);
    EXPECT_LT(seconds(Clock::now() - t0), 1.0) << "stop does not wait for the hook";
    // The daemon serves on while the hook sleeps: the next take starts at once.
    const auto second = dir / "second.wav";
    ASSERT_EQ(recctl({"start", second.string()}).exitCode, 0);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
    EXPECT_GT(readAudioFile(first).duration(), 0.25);
    EXPECT_TRUE(waitFor([&] { return daemonLog().find("failed with exit status 7") != std::string::npos; }, 10s))
        << daemonLog();
}
