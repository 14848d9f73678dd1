// Nothing lost: what happens to a recording when the machine around it fails.
// recd is SIGKILLed at random moments, the sound server is killed mid-take, the
// file system refuses to grow the file, and signals arrive during finalization.
// Every case checks the audio in the file, and that recd goes on serving.

#include "tests/support/AudioFile.hpp"
#include "tests/support/DaemonFixture.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

using namespace std::chrono_literals;
using namespace recd::test;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
const std::string rigScript = RIG_SCRIPT;


} // namespace

class FaultTest : public DaemonTest {
protected:
    nlohmann::json statusJson() { return nlohmann::json::parse(recctl({"status", "--json"}).out); }
    void expectTone(const std::filesystem::path& path)
    {
        const auto a = readAudioFile(path);
        EXPECT_NEAR(toneFrequency(a.channel(0), a.rate), 440.0, 2.0) << path;
        EXPECT_NEAR(peakDbfs(a.channel(0)), -6.02, 1.0) << path;
    }
};

// SIGKILL (as the OOM killer or a crash would) at 20 random moments. Before any
// repair the file must open and hold the audio up to within one sync interval
// (1 s) and one buffer of the kill; after the next recd starts and repairs it,
// everything written before the kill: all but what the writer had not yet
// written (its 100 ms batch and 50 ms hold-back, SessionWriter.cpp) and the
// delivery on its way: a 43 ms buffer, or up to a relaxed delivery with recd's
// own input on PipeWire (100 ms, which PipeWire sends in whole 43 ms quanta:
// 128 ms; AudioPacing.hpp). So about a third of a second at most.
TEST_F(FaultTest, SigkillAtRandomMomentsLosesAtMostOneSyncInterval)
{
    std::mt19937 random(20261124);
    std::uniform_real_distribution<double> when(0.2, 2.5);
    constexpr int kills = 20;
    int survived = 0;
    double worstBefore = 0, worstAfter = 0;
    for (int i = 0; i < kills; ++i) {
        const auto file = dir / fmt::format("kill{}.wav", i);
        ASSERT_EQ(recctl({"start", file.string()}).exitCode, 0);
        const auto started = Clock::now();
        std::this_thread::sleep_for(std::chrono::duration<double>(when(random)));
        ::kill(daemon->pid(), SIGKILL);
        const double elapsed = seconds(Clock::now() - started);
        daemon->wait(2s);

        const auto before = readAudioFile(file); // throws if it does not open
        const double lossBefore = elapsed - before.duration();
        worstBefore = std::max(worstBefore, lossBefore);
        EXPECT_LT(lossBefore, 1.0 + 0.05) << "kill " << i << " after " << elapsed << " s";

        startDaemon(); // finds the mark, repairs the file
        const auto s = statusJson();
        EXPECT_EQ(s["last_reason"], "recovered");
        EXPECT_EQ(s["last_path"], file.string());
        const auto after = readAudioFile(file);
        const double lossAfter = elapsed - after.duration();
        worstAfter = std::max(worstAfter, lossAfter);
        EXPECT_LT(lossAfter, 0.35) << "kill " << i;
        EXPECT_GE(after.duration(), before.duration());
        if (after.frames > 0) {
            EXPECT_NEAR(toneFrequency(after.channel(0), after.rate), 440.0, 2.0);
        }
        if (lossBefore < 1.05 && lossAfter < 0.35)
            ++survived;
    }
    std::cout << fmt::format("kills survived: {} of {}; worst loss before repair {:.3f} s, after {:.3f} s\n",
                             survived, kills, worstBefore, worstAfter);
    RecordProperty("kills_survived", survived);
    RecordProperty("worst_loss_before_repair_ms", static_cast<int>(worstBefore * 1000));
    RecordProperty("worst_loss_after_repair_ms", static_cast<int>(worstAfter * 1000));
}

TEST_F(FaultTest, SoundServerKilledEndsTheTakeAsDeviceLostAndRecdRecordsAgainWhenItReturns)
{
    ASSERT_EQ(recctl({"start", "crash.wav"}).exitCode, 0);
    const auto started = std::chrono::system_clock::now();
    std::this_thread::sleep_for(1s);
    ASSERT_EQ(run({rigScript, "pulse-kill"}).exitCode, 0);
    // From the start to the moment the rig killed the server (it notes when, on
    // the wall clock), not to when the rig's script returned: on a loaded
    // machine a script's start and end take tens of ms, which were counted as
    // audio recd had lost.
    const char* rigDir = std::getenv("RECD_RIG_DIR");
    ASSERT_TRUE(rigDir) << "runs inside tests/rig";
    std::ifstream killedAtFile(std::filesystem::path(rigDir) / "killed-at");
    long long killedAtNs = 0;
    ASSERT_TRUE(killedAtFile >> killedAtNs) << "the rig notes when it killed the server";
    const std::chrono::system_clock::time_point killedAt{
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(killedAtNs))};
    const double elapsed = std::chrono::duration<double>(killedAt - started).count();
    std::this_thread::sleep_for(500ms);

    auto s = statusJson();
    EXPECT_EQ(s["state"], "idle");
    EXPECT_EQ(s["last_reason"], "device_lost");
    EXPECT_NE(s["last_message"].get<std::string>().find("failed"), std::string::npos) << s.dump();
    const auto a = readAudioFile(dir / "crash.wav");
    // What the server still held when it was killed goes with it: a fragment
    // it had not yet sent (recd reads whole 2048-frame fragments, 43 ms), and
    // on PipeWire a second quantum, in its graph and in pipewire-pulse.
    const double inServer = 0.1 + (rigRunsPipeWire() ? 2 : 1) * 2048.0 / 48000;
    EXPECT_NEAR(a.duration(), elapsed, inServer) << "everything captured, and nothing made up after the crash";
    EXPECT_TRUE(silentRuns(a.channel(0), 0.01f, 48).empty());
    expectTone(dir / "crash.wav");
    EXPECT_EQ(recctl({"stop"}).exitCode, 4);

    const auto down = recctl({"start", "nosound.wav"});
    EXPECT_EQ(down.exitCode, 1) << "no sound server: refused, with a reason";
    EXPECT_FALSE(std::filesystem::exists(dir / "nosound.wav"));

    ASSERT_EQ(run({rigScript, "pulse-start"}, {}, 30s).exitCode, 0);
    const auto again = recctl({"start", "after.wav"});
    ASSERT_EQ(again.exitCode, 0) << again.err << "\n(recd was not restarted)";
    std::this_thread::sleep_for(500ms);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
    expectTone(dir / "after.wav");
    EXPECT_TRUE(daemon->running());
}

class FileSizeLimitTest : public FaultTest {
protected:
    // The daemon runs under RLIMIT_FSIZE, so its writes fail with EFBIG as on a
    // full disk (prlimit: no root or loop device needed).
    void SetUp() override { startDaemonUnder({"prlimit", "--fsize=400000"}); }
    void startDaemonUnder(const std::vector<std::string>& wrapper)
    {
        std::ofstream(configPath()) << "directory = \"" << (dir / "rec").string() << "\"\n";
        std::vector<std::string> argv = wrapper;
        for (const auto& a : {recdBinary(), std::string("--config"), configPath().string()})
            argv.push_back(a);
        daemon = std::make_unique<Child>(argv, std::map<std::string, std::string>{
                                                   {"XDG_STATE_HOME", (dir / "state").string()}},
                                         (dir / "recd.log").string());
        for (int i = 0; i < 200 && run({"busctl", "--user", "status", "org.recd.Recorder1"}).exitCode != 0; ++i)
            std::this_thread::sleep_for(20ms);
    }
};

TEST_F(FileSizeLimitTest, AFullDiskEndsTheTakeAsIoErrorKeepingWhatWasWritten)
{
    ASSERT_EQ(recctl({"start", "full.wav"}).exitCode, 0);
    std::this_thread::sleep_for(3s); // 400 kB hold about 2 s of 48 kHz stereo s16
    const auto s = statusJson();
    EXPECT_EQ(s["state"], "idle");
    EXPECT_EQ(s["last_reason"], "io_error");
    const std::string message = s["last_message"];
    EXPECT_NE(message.find((dir / "full.wav").string()), std::string::npos) << message;
    EXPECT_NE(message.find("File too large"), std::string::npos) << message;
    const auto a = readAudioFile(dir / "full.wav");
    EXPECT_GT(a.duration(), 1.9);
    EXPECT_LE(std::filesystem::file_size(dir / "full.wav"), 400000u);
    expectTone(dir / "full.wav");
    // Still serving: a short take fits.
    ASSERT_EQ(recctl({"start", "small.wav"}).exitCode, 0);
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(recctl({"stop"}).exitCode, 0);
    expectTone(dir / "small.wav");
}

TEST_F(FaultTest, ASecondSigtermDuringFinalizationStillLeavesAValidFile)
{
    ASSERT_EQ(recctl({"start", "twice.wav"}).exitCode, 0);
    std::this_thread::sleep_for(1s);
    ::kill(daemon->pid(), SIGTERM);
    ::kill(daemon->pid(), SIGTERM);
    ::kill(daemon->pid(), SIGINT);
    EXPECT_EQ(daemon->wait(1s), 0);
    daemon.reset();
    const auto a = readAudioFile(dir / "twice.wav");
    EXPECT_NEAR(a.duration(), 1.0, 0.1);
    expectTone(dir / "twice.wav");
}

// A main loop that fails ends the daemon, but not before the take is final.
// The failure is real, not a hook: poll(2) refuses more descriptors than
// RLIMIT_NOFILE allows (EINVAL), and prlimit lowers that limit of the running
// recd to 1 while it polls 3. The next call it serves lets its loop poll again.
TEST_F(FaultTest, AFailedMainLoopFinalizesTheTakeBeforeRecdExits)
{
    ASSERT_EQ(recctl({"start", "fatal.wav"}).exitCode, 0);
    std::this_thread::sleep_for(1s);
    ASSERT_EQ(run({"prlimit", fmt::format("--pid={}", daemon->pid()), "--nofile=1:"}).exitCode, 0);
    recctl({"status"});
    EXPECT_EQ(daemon->wait(5s), 1) << daemonLog(); // a failure, which the unit restarts
    daemon.reset();
    EXPECT_NE(daemonLog().find("the main loop failed: poll: Invalid argument"), std::string::npos) << daemonLog();
    const auto a = readAudioFile(dir / "fatal.wav");
    EXPECT_NEAR(a.duration(), 1.0, 0.15);
    expectTone(dir / "fatal.wav");
    // Final, so nothing is left for the next recd to repair.
    EXPECT_FALSE(std::filesystem::exists(dir / "state" / "recd" / "recording.json"));
}

TEST_F(FaultTest, SighupReloadsTheConfigAndKeepsTheOldOneIfTheNewIsBad)
{
    std::ofstream(configPath()) << "directory = \"" << (dir / "other").string() << "\"\n";
    ::kill(daemon->pid(), SIGHUP);
    std::this_thread::sleep_for(200ms);
    auto r = recctl({"start"});
    ASSERT_EQ(r.exitCode, 0);
    EXPECT_EQ(std::filesystem::path(r.out.substr(0, r.out.size() - 1)).parent_path(), dir / "other");
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);

    std::ofstream(configPath()) << "directory = 42\n";
    ::kill(daemon->pid(), SIGHUP);
    std::this_thread::sleep_for(200ms);
    EXPECT_TRUE(daemon->running());
    EXPECT_NE(daemonLog().find("kept the old configuration"), std::string::npos);
    r = recctl({"start"});
    ASSERT_EQ(r.exitCode, 0);
    EXPECT_EQ(std::filesystem::path(r.out.substr(0, r.out.size() - 1)).parent_path(), dir / "other");
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
}

// Suspending the sound server's source (pactl suspend-sink on the virtual
// microphone's sink suspends its monitor): a short suspension is a gap that is
// logged and counted while the take goes on; one past the 2 s watchdog is
// handled like a lost device, and the take never hangs.
TEST_F(FaultTest, ASuspendedSourceIsAGapWhenShortAndDeviceLostWhenLong)
{
    if (rigRunsPipeWire())
        GTEST_SKIP() << "pipewire-pulse does not suspend a sink whose monitor is being recorded (pactl "
                        "suspend-sink returns 0 and the audio goes on), so no silent source can be made this way";
    ASSERT_EQ(recctl({"start", "gap.wav"}).exitCode, 0);
    std::this_thread::sleep_for(700ms);
    ASSERT_EQ(run({"pactl", "suspend-sink", "recd_mic", "1"}).exitCode, 0);
    std::this_thread::sleep_for(700ms);
    ASSERT_EQ(run({"pactl", "suspend-sink", "recd_mic", "0"}).exitCode, 0);
    std::this_thread::sleep_for(700ms);
    auto s = statusJson();
    EXPECT_EQ(s["state"], "recording");
    EXPECT_EQ(s["gaps"], 1);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
    EXPECT_NE(daemonLog().find("delivered no audio for"), std::string::npos);
    const auto a = readAudioFile(dir / "gap.wav");
    EXPECT_NEAR(a.duration(), 1.4, 0.15) << "the suspended time is not in the file";
    expectTone(dir / "gap.wav");

    ASSERT_EQ(recctl({"start", "long.wav"}).exitCode, 0);
    std::this_thread::sleep_for(500ms);
    const auto suspended = Clock::now();
    ASSERT_EQ(run({"pactl", "suspend-sink", "recd_mic", "1"}).exitCode, 0);
    while (statusJson()["state"] != "idle" && Clock::now() - suspended < 6s)
        std::this_thread::sleep_for(50ms);
    const double detected = seconds(Clock::now() - suspended);
    ASSERT_EQ(run({"pactl", "suspend-sink", "recd_mic", "0"}).exitCode, 0);
    s = statusJson();
    EXPECT_EQ(s["last_reason"], "device_lost");
    EXPECT_LT(detected, 3.0) << "the 2 s watchdog, plus at most 0.5 s to give up on the blocked stream";
    EXPECT_NEAR(readAudioFile(dir / "long.wav").duration(), 0.5, 0.1);
    std::cout << fmt::format("silent source detected after {:.2f} s\n", detected);
    // And records again once the source is back.
    ASSERT_EQ(recctl({"start", "back.wav"}).exitCode, 0);
    std::this_thread::sleep_for(300ms);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
    expectTone(dir / "back.wav");
}

// With reconnect, a take survives the sound server's crash and restart: recd
// waits for the device to come back and goes on writing into the same file.
TEST_F(FaultTest, ReconnectGoesOnInTheSameFileWhenTheDeviceReturns)
{
    ASSERT_EQ(recctl({"start", "survivor.wav", "--reconnect", "20"}).exitCode, 0);
    std::this_thread::sleep_for(1s);
    ASSERT_EQ(run({rigScript, "pulse-kill"}).exitCode, 0);
    std::this_thread::sleep_for(1s);
    EXPECT_EQ(statusJson()["state"], "recording") << "waiting for the device, not ended";
    ASSERT_EQ(run({rigScript, "pulse-start"}, {}, 30s).exitCode, 0);
    const auto deadline = Clock::now() + 10s;
    while (statusJson()["gaps"] < 1 && Clock::now() < deadline)
        std::this_thread::sleep_for(100ms);
    const double before = statusJson()["duration"];
    std::this_thread::sleep_for(1s);
    auto s = statusJson();
    EXPECT_EQ(s["state"], "recording");
    // The outage is a gap. A server that has just started may stutter once more
    // while it warms up (measured: one 88 ms pause in delivery), so at most 2.
    EXPECT_GE(s["gaps"], 1);
    EXPECT_LE(s["gaps"], 2);
    // The duration moves a delivery at a time: 100 ms once relaxed (recd's own
    // input on PipeWire), so one more or less in the second is no fault (seen:
    // 1.1 in a CI run).
    EXPECT_NEAR(s["duration"].get<double>() - before, 1.0, 0.15) << "recording again";
    const auto stop = recctl({"stop"});
    ASSERT_EQ(stop.exitCode, 0) << stop.err;
    const auto a = readAudioFile(dir / "survivor.wav");
    EXPECT_GT(a.duration(), 1.9);
    // The tone before the crash and after the return, apart: the seam between
    // them, and the restarted server's first moments, are not a steady tone.
    const auto x = a.channel(0);
    const std::vector<float> beforeCrash(x.begin() + a.rate / 10, x.begin() + a.rate * 9 / 10);
    const std::vector<float> afterReturn(x.end() - a.rate * 8 / 10, x.end() - a.rate / 10);
    EXPECT_NEAR(toneFrequency(beforeCrash, a.rate), 440.0, 2.0);
    EXPECT_NEAR(toneFrequency(afterReturn, a.rate), 440.0, 2.0);
    EXPECT_NE(daemonLog().find("the input device is back"), std::string::npos);

    // Without it returning in time, the take ends as device_lost after the wait.
    ASSERT_EQ(recctl({"start", "gone.wav", "--reconnect", "1"}).exitCode, 0);
    std::this_thread::sleep_for(500ms);
    ASSERT_EQ(run({rigScript, "pulse-kill"}).exitCode, 0);
    std::this_thread::sleep_for(2s);
    s = statusJson();
    EXPECT_EQ(s["state"], "idle");
    EXPECT_EQ(s["last_reason"], "device_lost");
    EXPECT_NE(s["last_message"].get<std::string>().find("did not come back"), std::string::npos) << s.dump();
    EXPECT_NO_THROW(readAudioFile(dir / "gone.wav"));
    ASSERT_EQ(run({rigScript, "pulse-start"}, {}, 30s).exitCode, 0);
}
