// Silence handling on a rig whose virtual microphone is silent (its signal is
// the 440 Hz tone at volume 0); the test plays a second of the tone into it with
// pacat, so it knows when there is sound and when there is none.

#include "tests/support/AudioFile.hpp"
#include "tests/support/DaemonFixture.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <thread>

using namespace std::chrono_literals;
using namespace recd::test;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Raw s16le stereo at 48 kHz: `length` seconds of 440 Hz at -6 dBFS.
std::filesystem::path writeTone(const std::filesystem::path& dir, double length)
{
    const auto path = dir / "tone.raw";
    std::ofstream out(path, std::ios::binary);
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(length * 48000); ++i) {
        const auto s = static_cast<std::int16_t>(std::lround(0.5 * 32767 * std::sin(2 * M_PI * 440 * i / 48000.0)));
        out.write(reinterpret_cast<const char*>(&s), 2).write(reinterpret_cast<const char*>(&s), 2);
    }
    return path;
}

} // namespace

TEST_F(DaemonTest, StopOnSilenceEndsTheTakeAfterTheSoundAndTrimsTheSilenceToAShortTail)
{
    const auto tone = writeTone(dir.path(), 1.0);
    const auto file = dir / "dictation.wav";
    ASSERT_EQ(recctl({"start", file.string(), "--stop-on-silence", "1.0"}).exitCode, 0);
    const auto started = Clock::now();
    std::this_thread::sleep_for(300ms);
    Child player(playIntoMicrophone(tone, "recd-test-tone"));
    ASSERT_EQ(player.wait(10s), 0);
    const auto toneEnded = Clock::now();
    const auto waited = recctl({"wait"});
    const auto stopped = Clock::now();
    EXPECT_EQ(waited.exitCode, 0) << waited.err;
    // A second of silence after the tone ends the take (give or take a buffer and
    // the player's latency), not before.
    EXPECT_GT(seconds(stopped - toneEnded), 0.8);
    EXPECT_LT(seconds(stopped - toneEnded), 1.5);
    const auto status = nlohmann::json::parse(recctl({"status", "--json"}).out);
    EXPECT_EQ(status["last_reason"], "silence");
    EXPECT_NE(status["last_message"].get<std::string>().find("trimmed to 0.5 s"), std::string::npos)
        << status["last_message"];

    const auto a = readAudioFile(file);
    const auto x = a.channel(0);
    // Silence, the tone, then exactly half a second of trailing silence.
    const double toneEndsAt = seconds(toneEnded - started);
    EXPECT_NEAR(a.duration(), toneEndsAt + 0.5, 0.1);
    const std::int64_t tail = a.rate / 2;
    const std::vector<float> last(x.end() - tail, x.end());
    EXPECT_LT(peakDbfs(last), -50.0) << "the kept tail is silence";
    const std::vector<float> before(x.end() - tail - a.rate / 10, x.end() - tail);
    EXPECT_GT(peakDbfs(before), -7.0) << "the tone ends right before the tail";
    const std::vector<float> toneOnly(x.begin() + a.rate / 2, x.begin() + a.rate);
    EXPECT_NEAR(toneFrequency(toneOnly, a.rate), 440.0, 2.0);
}

TEST_F(DaemonTest, ATakeThatNeverHearsAnythingEndsAfterTheSilenceTime)
{
    const auto file = dir / "forgotten.wav";
    ASSERT_EQ(recctl({"start", file.string(), "-s", "0.7", "--silence-threshold", "-40"}).exitCode, 0);
    const auto t0 = Clock::now();
    EXPECT_EQ(recctl({"wait", "--timeout", "5"}).exitCode, 0);
    EXPECT_LT(seconds(Clock::now() - t0), 1.3);
    EXPECT_NEAR(readAudioFile(file).duration(), 0.5, 0.001) << "silence trimmed to the 0.5 s tail";
}

TEST_F(DaemonTest, SilenceOptionsAreCheckedBeforeAnythingIsCreated)
{
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"-s", "0"}, {"-s", "-1"}, {"-s", "1", "--silence-threshold", "3"}, {"--silence-threshold", "-40"}}) {
        std::vector<std::string> argv{"start", (dir / "bad.wav").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto r = recctl(argv);
        EXPECT_EQ(r.exitCode, 1) << r.err;
        EXPECT_NE(r.err.find("silence"), std::string::npos) << r.err;
        EXPECT_FALSE(std::filesystem::exists(dir / "bad.wav"));
    }
}

TEST_F(DaemonTest, StartOnSoundWaitsArmedAndBeginsAtTheFirstSound)
{
    const auto tone = writeTone(dir.path(), 1.0);
    const auto file = dir / "armed.wav";
    ASSERT_EQ(recctl({"start", file.string(), "--start-on-sound"}).exitCode, 0);
    auto status = nlohmann::json::parse(recctl({"status", "--json"}).out);
    EXPECT_EQ(status["state"], "waiting");
    EXPECT_EQ(status["first_sample_usec"], 0);
    const auto paused = recctl({"pause"});
    EXPECT_EQ(paused.exitCode, 4) << "nothing to pause while waiting";
    std::this_thread::sleep_for(700ms); // silence: nothing is written
    EXPECT_EQ(std::stod(recctl({"duration"}).out), 0.0);

    const double toneStarted =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    Child player(playIntoMicrophone(tone, "recd-test-tone"));
    ASSERT_EQ(player.wait(10s), 0);
    status = nlohmann::json::parse(recctl({"status", "--json"}).out);
    EXPECT_EQ(status["state"], "recording");
    // The first sample is the tone's start, give or take the player's latency.
    // recd times a frame by its stream's clock. The rig's null sink renders up
    // to one delivery (a 2048-frame buffer, 43 ms) ahead of its clock, so its
    // monitor may hand the tone over before the moment it stands for; a real
    // microphone never does. Up to one delivery before the launch counts as on
    // time. On PipeWire the tone reached recd up to 0.3 s after the launch (the
    // player plays through a 200 ms buffer there, playIntoMicrophone).
    const double firstSample = static_cast<double>(status["first_sample_usec"].get<std::uint64_t>()) / 1e6;
    EXPECT_GT(firstSample, toneStarted - 0.043) << (firstSample - toneStarted) * 1000 << " ms after the launch";
    EXPECT_LT(firstSample, toneStarted + (rigRunsPipeWire() ? 0.35 : 0.15))
        << (firstSample - toneStarted) * 1000 << " ms after the launch";
    std::this_thread::sleep_for(300ms);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);

    const auto a = readAudioFile(file);
    const auto x = a.channel(0);
    // The file begins with the tone (within its first 10 ms block) and holds it all.
    const std::vector<float> head(x.begin(), x.begin() + a.rate / 50);
    EXPECT_GT(peakDbfs(head), -7.0) << "no silence before the sound";
    // The tone, then the 300 ms before the stop, timed from pacat's exit. On
    // PipeWire pacat plays with a 200 ms buffer, and its exit can come before
    // the tail has reached the monitor (the file was 1.44 s once there).
    EXPECT_NEAR(a.duration(), 1.0 + 0.3, rigRunsPipeWire() ? 0.2 : 0.12);
    const std::vector<float> body(x.begin() + a.rate / 10, x.begin() + a.rate * 9 / 10);
    EXPECT_NEAR(toneFrequency(body, a.rate), 440.0, 2.0);
    const auto bext = readBroadcastInfo(file);
    ASSERT_TRUE(bext) << "stamped when the sound began";

    // Armed and stopped before any sound: no file is kept.
    const auto never = dir / "never.wav";
    ASSERT_EQ(recctl({"start", never.string(), "--start-on-sound"}).exitCode, 0);
    std::this_thread::sleep_for(300ms);
    const auto stopped = recctl({"stop"});
    EXPECT_EQ(stopped.exitCode, 0);
    EXPECT_FALSE(std::filesystem::exists(never));
    EXPECT_NE(nlohmann::json::parse(recctl({"status", "--json"}).out)["last_message"].get<std::string>().find(
                  "no sound above -50 dBFS was heard"),
              std::string::npos);
}

// The dictation pipeline of the README, as far as it can run here: a part per
// utterance at 16 kHz mono, each handed to on_part as it closes (the test's
// hook notes it where the README's would run whisper-cli).
class UtteranceTest : public DaemonTest {
protected:
    void SetUp() override
    {
        // The hook's own arguments (path, duration, part) follow the
        // command's: seven fields, the last three from "$@".
        startDaemon("on_part = \"printf '%s|%s|%s|%s|%s|%s|%s\\\\n' \\\"$RECD_PART\\\" \\\"$RECD_PATH\\\" "
                    "\\\"$RECD_DURATION\\\" \\\"$3\\\" >> " +
                    (dir / "parts.out").string() + "\"\n");
    }
    std::vector<std::string> handedOver()
    {
        std::ifstream in(dir / "parts.out");
        std::vector<std::string> lines;
        for (std::string line; std::getline(in, line);)
            lines.push_back(line);
        return lines;
    }
};

TEST_F(UtteranceTest, SplitOnSilenceHandsEachUtteranceToOnPartAsItEnds)
{
    const auto first = writeTone(dir.path(), 1.0);
    const auto file = dir / "note.wav";
    ASSERT_EQ(recctl({"start", "--start-on-sound", "--split-on-silence", "0.8", "-r", "16000", "-c", "1",
                      file.string()})
                  .exitCode,
              0);
    {
        Child player(playIntoMicrophone(first, "recd-test-tone"));
        ASSERT_EQ(player.wait(10s), 0);
    }
    // 0.8 s of silence ends the first utterance: its part is handed over
    // while the take goes on.
    EXPECT_TRUE(waitFor([&] { return handedOver().size() == 1; }, 3s));
    const auto one = dir / "note-001.wav";
    ASSERT_EQ(handedOver().size(), 1u);
    EXPECT_EQ(handedOver()[0].substr(0, 2 + one.string().size()), "1|" + one.string());
    EXPECT_EQ(handedOver()[0].substr(handedOver()[0].size() - 2), "|1") << "the part's number is the third argument";
    std::this_thread::sleep_for(500ms);
    const auto second = writeTone(dir.path(), 0.7);
    {
        Child player(playIntoMicrophone(second, "recd-test-tone"));
        ASSERT_EQ(player.wait(10s), 0);
    }
    std::this_thread::sleep_for(500ms);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
    EXPECT_TRUE(waitFor([&] { return handedOver().size() == 2; }, 3s));
    const auto two = dir / "note-002.wav";
    ASSERT_EQ(handedOver().size(), 2u);
    EXPECT_EQ(handedOver()[1].substr(0, 2 + two.string().size()), "2|" + two.string());
    EXPECT_FALSE(std::filesystem::exists(dir / "note-003.wav"));

    // Each part: the utterance at 16 kHz mono, with a quarter second of
    // silence after it, and before it but for the first (the take began at
    // the sound); its duration as the hook was told.
    for (const auto& [path, tone] : std::vector<std::pair<std::filesystem::path, double>>{{one, 1.0}, {two, 0.7}}) {
        const auto a = readAudioFile(path);
        EXPECT_EQ(a.rate, 16000);
        EXPECT_EQ(a.channels, 1);
        const bool isFirst = path == one;
        EXPECT_NEAR(a.duration(), (isFirst ? 0.0 : 0.25) + tone + 0.25, 0.12) << path;
        const auto x = a.channel(0);
        const std::int64_t quarter = a.rate / 4 - a.rate / 50; // within the margin, a block of 10 ms aside
        const std::vector<float> tail(x.end() - quarter, x.end());
        EXPECT_LT(peakDbfs(tail), -50.0) << path << ": the tail is silence";
        if (!isFirst) {
            const std::vector<float> lead(x.begin(), x.begin() + quarter);
            EXPECT_LT(peakDbfs(lead), -50.0) << path << ": the lead is silence";
        }
        const std::int64_t toneAt = isFirst ? a.rate / 10 : a.rate / 4 + a.rate / 10;
        const std::vector<float> middle(x.begin() + toneAt, x.begin() + toneAt + a.rate / 2);
        EXPECT_NEAR(toneFrequency(middle, a.rate), 440.0, 2.0) << path;
        const auto line = handedOver()[isFirst ? 0 : 1];
        EXPECT_NE(line.find(fmt::format("|{:.3f}|", a.duration())), std::string::npos) << line;
        EXPECT_EQ(line.substr(line.size() - 2), isFirst ? "|1" : "|2") << line;
    }
}
