// What scripts build on, with the real recd and recctl on the rig: `recctl wait`
// and the on_stop hook.

#include "tests/support/AudioFile.hpp"
#include "tests/support/DaemonFixture.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sdbus-c++/sdbus-c++.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

using namespace std::chrono_literals;
using namespace recd::test;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

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
        // recd's own PULSE_LATENCY_MSEC (its audio pacing) and
        // PULSE_PROP_OVERRIDE (its streams' names) are not passed on.
        startDaemon("on_stop = \"printf '%s|%s|%s|%s|%s|%s\\\\n' \\\"$RECD_REASON\\\" "
                    "\\\"${PULSE_LATENCY_MSEC-none}\\\" \\\"${PULSE_PROP_OVERRIDE-none}\\\" >> " +
                    (dir / "hook.out").string() + "\"\n");
    }
};

TEST_F(HookTest, OnStopRunsWithThePathAndDurationAndNeverHoldsTheDaemonUp)
{
    const auto file = dir / "with space.wav";
    ASSERT_EQ(recctl({"start", file.string(), "--max-duration", "0.5"}).exitCode, 0);
    ASSERT_EQ(recctl({"wait"}).exitCode, 0);
    ASSERT_TRUE(waitFor([&] { return !readText(dir / "hook.out").empty(); }, 5s)) << daemonLog();
    EXPECT_EQ(readText(dir / "hook.out"), "max_duration|none|none|" + file.string() + "|0.500|max_duration\n");
    EXPECT_TRUE(waitFor([&] { return daemonLog().find("on_stop hook") != std::string::npos &&
                                     daemonLog().find(": done") != std::string::npos; },
                        5s))
        << "the exit status is logged\n" << daemonLog();

    // A cancelled take leaves no file, so no hook runs for it.
    ASSERT_EQ(recctl({"start", (dir / "gone.wav").string()}).exitCode, 0);
    ASSERT_EQ(recctl({"cancel"}).exitCode, 0);
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(readText(dir / "hook.out").find("gone.wav"), std::string::npos);
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

// `recctl start -`: recd writes into recctl's stdout, passed over D-Bus.
TEST_F(DaemonTest, StartDashStreamsWavToStdoutUntilTheTakeStops)
{
    const auto wav = dir / "streamed.wav";
    auto r = run({"sh", "-c", "\"$0\" start - --max-duration 1 > \"$1\"", recctlBinary(), wav.string()});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    const auto a = readAudioFile(wav); // a streaming header: sizes unknown, libsndfile reads to the end
    EXPECT_EQ(a.frames, 48000);
    EXPECT_NEAR(toneFrequency(a.channel(0), a.rate), 440.0, 2.0);

    const auto raw = dir / "streamed.raw";
    r = run({"sh", "-c", "\"$0\" start - --raw --max-duration 0.5 > \"$1\"", recctlBinary(), raw.string()});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(std::filesystem::file_size(raw), 24000u * 4) << "headerless s16 stereo";

    // Stopped by another client: the stream ends and recctl start - returns.
    const auto stopped = dir / "stopped.wav";
    Child streaming({"sh", "-c", "exec \"$0\" start - > \"$1\"", recctlBinary(), stopped.string()});
    // From when the take runs, not from when recctl was spawned: opening the
    // input takes 50-150 ms on PipeWire.
    ASSERT_TRUE(waitFor([&] { return nlohmann::json::parse(recctl({"status", "--json"}).out)["state"] == "recording"; },
                        5s));
    std::this_thread::sleep_for(600ms);
    const auto stop = recctl({"stop"});
    EXPECT_EQ(stop.exitCode, 0);
    EXPECT_EQ(stop.out.substr(0, 2), "-\t");
    EXPECT_EQ(streaming.wait(5s), 0);
    EXPECT_NEAR(readAudioFile(stopped).duration(), 0.6, 0.1);
    EXPECT_FALSE(std::filesystem::exists(dir / "rec")) << "no file of recd's own";
}

TEST_F(DaemonTest, AReaderThatGoesAwayEndsTheStreamAsIoErrorAndRecdGoesOn)
{
    const auto r = run({"sh", "-c", "\"$0\" start - | head -c 20000 > /dev/null", recctlBinary()}, {}, 10s);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    const auto status = recctl({"status"});
    EXPECT_NE(status.out.find("io_error"), std::string::npos) << status.out;
    // recd records again: a take long enough to hold the tone (a stop ends the
    // file at the moment it was run, so one run at once holds a few ms).
    ASSERT_EQ(recctl({"start", (dir / "after.wav").string()}).exitCode, 0);
    std::this_thread::sleep_for(300ms);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
    EXPECT_NEAR(toneFrequency(readAudioFile(dir / "after.wav").channel(0), 48000), 440.0, 2.0);

    // The options are checked: a path with fd, and --raw for a file.
    const auto raw = recctl({"start", (dir / "x.wav").string(), "--raw"});
    EXPECT_EQ(raw.exitCode, 1);
    EXPECT_NE(raw.err.find("--raw is for `recctl start -`"), std::string::npos) << raw.err;
    EXPECT_FALSE(std::filesystem::exists(dir / "x.wav"));
}

// Desktop notifications. No notification daemon can run in the test machine's
// headless session (they draw on a display), so a stand-in that owns
// org.freedesktop.Notifications on the rig's bus records what recd asks for.
namespace {

struct FakeNotificationServer {
    struct Note {
        std::uint32_t replaces;
        std::string summary, body;
        std::uint8_t urgency;
    };
    std::unique_ptr<sdbus::IConnection> bus = sdbus::createSessionBusConnection("org.freedesktop.Notifications");
    std::unique_ptr<sdbus::IObject> object = sdbus::createObject(*bus, "/org/freedesktop/Notifications");
    std::mutex mutex;
    std::vector<Note> notes;

    FakeNotificationServer()
    {
        object->registerMethod("Notify")
            .onInterface("org.freedesktop.Notifications")
            .implementedAs([this](const std::string&, std::uint32_t replaces, const std::string&,
                                  const std::string& summary, const std::string& body, const std::vector<std::string>&,
                                  const std::map<std::string, sdbus::Variant>& hints, std::int32_t) {
                std::lock_guard lock(mutex);
                notes.push_back({replaces, summary, body, hints.at("urgency").get<std::uint8_t>()});
                return static_cast<std::uint32_t>(40 + notes.size());
            });
        object->finishRegistration();
        bus->enterEventLoopAsync();
    }
    std::vector<Note> received(std::size_t atLeast)
    {
        waitFor([&] { std::lock_guard lock(mutex); return notes.size() >= atLeast; }, 3s);
        std::lock_guard lock(mutex);
        return notes;
    }
};

} // namespace

class NotifyTest : public DaemonTest {
protected:
    void SetUp() override { startDaemon("notify = true\n"); }
};

TEST_F(NotifyTest, StartSaveAndFailureEachShowANotification)
{
    FakeNotificationServer server;
    const auto file = dir / "noted.wav";
    ASSERT_EQ(recctl({"start", file.string()}).exitCode, 0);
    auto notes = server.received(1);
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0].summary, "Recording");
    EXPECT_EQ(notes[0].body, file.string());
    std::this_thread::sleep_for(300ms);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
    notes = server.received(2);
    ASSERT_EQ(notes.size(), 2u);
    EXPECT_EQ(notes[1].summary, "Recording saved");
    EXPECT_NE(notes[1].body.find(file.string()), std::string::npos) << notes[1].body;
    EXPECT_EQ(notes[1].replaces, 41u) << "the saved bubble replaces the recording one";

    // A take that fails: its reader goes away.
    run({"sh", "-c", "\"$0\" start - | head -c 1000 > /dev/null", recctlBinary()}, {}, 10s);
    notes = server.received(4);
    ASSERT_EQ(notes.size(), 4u);
    EXPECT_EQ(notes[3].summary, "Recording failed");
    EXPECT_NE(notes[3].body.find("io_error"), std::string::npos) << notes[3].body;
    EXPECT_EQ(notes[3].urgency, 2) << "critical";
}

TEST_F(DaemonTest, NoNotificationUnlessConfigured)
{
    FakeNotificationServer server;
    ASSERT_EQ(recctl({"start", (dir / "quiet.wav").string()}).exitCode, 0);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
    std::this_thread::sleep_for(300ms);
    std::lock_guard lock(server.mutex);
    EXPECT_TRUE(server.notes.empty());
}

// `gdbus call` sends a bare number as an int32 ({'max_duration': <1>}): any
// integer type is a number where one is expected. What is not a number, or not
// a whole one where a count is expected, is refused naming the key, and
// nothing is created.
TEST_F(DaemonTest, GdbusCallsWithIntegersForNumbersAreTakenAndNonNumbersRefused)
{
    const auto call = [](const std::string& path, const std::string& options) {
        return run({"gdbus", "call", "--session", "--dest", "org.recd.Recorder1", "--object-path",
                    "/org/recd/Recorder1", "--method", "org.recd.Recorder1.StartRecording", path, options});
    };
    const auto file = dir / "int.wav";
    const auto started = call(file.string(), "{'max_duration': <1>, 'rate': <16000>, 'channels': <int64 1>}");
    ASSERT_EQ(started.exitCode, 0) << started.err;
    EXPECT_EQ(recctl({"wait"}).exitCode, 0);
    const auto audio = readAudioFile(file);
    EXPECT_EQ(audio.frames, 16000) << "max_duration 1 s at 16 kHz";
    EXPECT_EQ(audio.rate, 16000);
    EXPECT_EQ(audio.channels, 1);

    const auto bad = dir / "bad.wav";
    const auto word = call(bad.string(), "{'max_duration': <'one'>}");
    EXPECT_NE(word.exitCode, 0);
    EXPECT_NE(word.err.find("org.recd.Recorder1.Error.InvalidArgument"), std::string::npos) << word.err;
    EXPECT_NE(word.err.find("option 'max_duration' must be a number (D-Bus type 'd', or any integer type) "
                            "(seconds), not 's'"),
              std::string::npos)
        << word.err;
    const auto negative = call(bad.string(), "{'rate': <-44100>}");
    EXPECT_NE(negative.err.find("option 'rate' must be a whole number from 0 to 4294967295 (samples per second), "
                                "not -44100"),
              std::string::npos)
        << negative.err;
    const auto fraction = call(bad.string(), "{'channels': <1.5>}");
    EXPECT_NE(fraction.err.find("option 'channels' must be a whole number"), std::string::npos) << fraction.err;
    const auto zero = call(bad.string(), "{'max_duration': <0>}");
    EXPECT_NE(zero.err.find("max_duration"), std::string::npos) << "an integer is range-checked as a double is: "
                                                                << zero.err;
    EXPECT_FALSE(std::filesystem::exists(bad));
}

// recctl's line output is split at tabs and newlines: a path with either is
// refused there before anything starts, and --json carries it.
TEST_F(DaemonTest, APathWithATabOrNewlineNeedsJsonOutput)
{
    for (const std::string name : {"a\tb.wav", "a\nb.wav"}) {
        const auto file = (dir / name).string();
        for (const char* command : {"start", "toggle"}) {
            const auto refused = recctl({command, file});
            EXPECT_EQ(refused.exitCode, 2) << command;
            EXPECT_NE(refused.err.find("has a tab or a newline, which recctl's line output cannot carry"),
                      std::string::npos)
                << refused.err;
            EXPECT_NE(refused.err.find("Add --json"), std::string::npos) << refused.err;
        }
        EXPECT_FALSE(std::filesystem::exists(file));
        EXPECT_EQ(nlohmann::json::parse(recctl({"status", "--json"}).out)["state"], "idle");

        const auto started = recctl({"start", file, "--json"});
        ASSERT_EQ(started.exitCode, 0) << started.err;
        EXPECT_EQ(nlohmann::json::parse(started.out)["path"], file);
        std::this_thread::sleep_for(300ms);
        const auto stopped = recctl({"stop", "--json"});
        ASSERT_EQ(stopped.exitCode, 0) << stopped.err;
        const auto out = nlohmann::json::parse(stopped.out);
        EXPECT_EQ(out["path"], file);
        EXPECT_EQ(readAudioFile(file).frames, out["frames"].get<std::uint64_t>());
    }

    // A take another client started under such a name: `recctl stop` stops and
    // saves it, and says it cannot print the line (exit 1).
    const auto file = (dir / "c\td.wav").string();
    ASSERT_EQ(recctl({"toggle", file, "--json"}).exitCode, 0);
    std::this_thread::sleep_for(300ms);
    const auto stopped = recctl({"stop"});
    EXPECT_EQ(stopped.exitCode, 1);
    EXPECT_EQ(stopped.out, "");
    EXPECT_NE(stopped.err.find("it was stopped and saved"), std::string::npos) << stopped.err;
    EXPECT_GT(readAudioFile(file).frames, 0);
}
