// Pre-roll on the rig: recd, configured with pre_roll = 2, keeps the virtual
// microphone open while idle and begins every take with the last seconds before
// it was asked to start. Markers (60 ms bursts of 1 kHz, exactly 1 s apart, in
// one pacat stream mixed over the rig's 440 Hz tone) show where in time the
// audio of each file comes from.

#include "tests/support/AudioFile.hpp"
#include "tests/support/DaemonFixture.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <iostream>
#include <thread>

using namespace std::chrono_literals;
using namespace recd::test;

namespace {

constexpr int rate = 48000;
constexpr double markerHz = 1000;
constexpr double markerAmplitude = 0.4;

// Raw s16le stereo: a burst at 0 s and one at 1 s, then silence; 1.6 s in all.
std::filesystem::path writeMarkers(const std::filesystem::path& dir)
{
    const auto path = dir / "markers.raw";
    std::ofstream out(path, std::ios::binary);
    const auto total = static_cast<std::int64_t>(1.6 * rate);
    const auto burst = static_cast<std::int64_t>(0.06 * rate);
    for (std::int64_t i = 0; i < total; ++i) {
        const std::int64_t k = i % rate; // a burst at the start of each second
        const double v = (i < 2 * rate && k < burst) ? markerAmplitude * std::sin(2 * M_PI * markerHz * k / rate) : 0;
        const auto s = static_cast<std::int16_t>(std::lround(v * 32767));
        out.write(reinterpret_cast<const char*>(&s), 2).write(reinterpret_cast<const char*>(&s), 2);
    }
    return path;
}

std::vector<double> markersIn(const std::filesystem::path& file)
{
    const auto a = readAudioFile(file);
    return toneBursts(a.channel(0), a.rate, markerHz, markerAmplitude / 2);
}

class PreRollTest : public DaemonTest {
protected:
    void SetUp() override
    {
        startDaemon("pre_roll = 2\n");
        // The input opens when recd starts; wait until it holds 2 s.
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (daemonLog().find("pre-roll: keeping") == std::string::npos &&
               std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(20ms);
        ASSERT_NE(daemonLog().find("pre-roll: keeping"), std::string::npos) << daemonLog();
        std::this_thread::sleep_for(2100ms);
    }

    nlohmann::json status() { return nlohmann::json::parse(recctl({"status", "--json"}).out); }
};

double wallSeconds()
{
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

} // namespace

TEST_F(PreRollTest, MarkerPlayedBeforeStartIsInTheFileAtItsPlaceAndBackToBackTakesGetTheirFullPreRoll)
{
    const auto raw = writeMarkers(dir.path());
    Child markers(playIntoMicrophone(raw, "recd-test-markers"));
    std::this_thread::sleep_for(500ms); // the first marker sounds now; start half a second later
    const double startCalled = wallSeconds();
    const auto first = dir / "first.wav";
    ASSERT_EQ(recctl({"start", first.string()}).exitCode, 0);
    const auto s1 = status();
    EXPECT_NEAR(s1["pre_roll"].get<double>(), 2.0, 0.001);
    EXPECT_NE(recctl({"status"}).out.find("pre-roll:   2.000 s from before start"), std::string::npos);
    // The file's first sample is 2 s before the request reached recd (a few ms
    // after recctl was launched).
    const double firstSample = static_cast<double>(s1["first_sample_usec"].get<std::uint64_t>()) / 1e6;
    EXPECT_NEAR(firstSample, startCalled - 2.0, 0.05);
    const std::uint64_t firstSampleUsec = s1["first_sample_usec"].get<std::uint64_t>();
    // The second marker (1 s after the first, 60 ms long) is recorded live; the
    // second take then starts within about 1.6 s of the first marker, so that
    // its 2 s of pre-roll hold both, with room for a slow stop under load.
    std::this_thread::sleep_for(1000ms);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);

    // Take two, right after: the pre-roll was not cleared by the first take, so
    // it holds the same two markers again.
    const auto second = dir / "second.wav";
    ASSERT_EQ(recctl({"start", second.string()}).exitCode, 0);
    EXPECT_NEAR(status()["pre_roll"].get<double>(), 2.0, 0.001);
    std::this_thread::sleep_for(300ms);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
    markers.wait(5s);

    const auto m1 = markersIn(first);
    ASSERT_EQ(m1.size(), 2u) << "markers in the first take";
    std::cout << "first take: markers at " << m1[0] << " and " << m1[1] << " s, first sample "
              << (firstSample - (startCalled - 2.0)) * 1000 << " ms after start was called minus 2 s\n";
    // The first marker sounded half a second before start: in the pre-roll, about
    // 1.5 s in (plus pacat's latency and the few ms recctl takes to reach recd).
    EXPECT_GT(m1[0], 1.40);
    EXPECT_LT(m1[0], 1.70);
    // Pre-roll and live audio are one timeline: the markers are exactly 1 s apart.
    EXPECT_NEAR(m1[1] - m1[0], 1.0, 0.010);
    // The Broadcast WAV time stamp is that of the first pre-roll sample.
    expectBextAt(first, firstSampleUsec, rate);

    const auto m2 = markersIn(second);
    ASSERT_EQ(m2.size(), 2u) << "markers in the second take" << (m2.empty() ? "" : ", one at " + std::to_string(m2[0]));
    EXPECT_LT(m2[1], 2.0) << "both markers are in the second take's pre-roll";
    EXPECT_NEAR(m2[1] - m2[0], 1.0, 0.010);
}

TEST_F(PreRollTest, PreRollOptionTakesUpToTheConfiguredAmount)
{
    const auto file = dir / "half.wav";
    ASSERT_EQ(recctl({"start", file.string(), "--pre-roll", "0.5"}).exitCode, 0);
    const auto started = std::chrono::steady_clock::now();
    EXPECT_NEAR(status()["pre_roll"].get<double>(), 0.5, 0.001);
    std::this_thread::sleep_for(1s);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
    // The wall time plus the pre-roll, plus the few ms recctl takes to reach recd.
    const double duration = readAudioFile(file).duration();
    EXPECT_GT(duration, wall + 0.5);
    EXPECT_LT(duration, wall + 0.5 + 0.06);

    // More than recd keeps is refused, naming what is allowed, and creates nothing.
    const auto refused = dir / "refused.wav";
    const auto r = recctl({"start", refused.string(), "--pre-roll", "3"});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.err.find("pre_roll 3 s is more than the 2 s recd keeps"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(refused));
    EXPECT_EQ(status()["state"], "idle");
}

TEST_F(PreRollTest, ATakeInAnotherFormatOpensItsOwnStreamWithoutPreRoll)
{
    const auto file = dir / "mono.wav";
    ASSERT_EQ(recctl({"start", file.string(), "--channels", "1"}).exitCode, 0);
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(status()["pre_roll"].get<double>(), 0.0);
    std::this_thread::sleep_for(500ms);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
    const double duration = readAudioFile(file).duration();
    EXPECT_GT(duration, wall);
    EXPECT_LT(duration, wall + 0.06);
    // The pre-roll went on meanwhile: the next take in its format has it all.
    const auto next = dir / "next.wav";
    ASSERT_EQ(recctl({"start", next.string()}).exitCode, 0);
    EXPECT_NEAR(status()["pre_roll"].get<double>(), 2.0, 0.001);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
}

class NoPreRollTest : public DaemonTest {}; // the default config: pre_roll 0

TEST_F(NoPreRollTest, PreRollOptionIsRefusedWhenRecdKeepsNone)
{
    const auto file = dir / "refused.wav";
    const auto r = recctl({"start", file.string(), "--pre-roll", "1"});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.err.find("recd keeps no pre-roll; set pre_roll"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(file));
    // Without pre_roll the input is closed while idle.
    EXPECT_EQ(daemonLog().find("pre-roll: keeping"), std::string::npos);
}

TEST_F(NoPreRollTest, WavFilesCarryTheTimeOfTheirFirstSampleInABextChunk)
{
    const auto file = dir / "stamped.wav";
    ASSERT_EQ(recctl({"start", file.string()}).exitCode, 0);
    // Once the stream's clock has placed the first frame for good (a quarter of
    // a second in; CaptureSession::settleStart).
    std::this_thread::sleep_for(400ms);
    const auto asked = recctl({"status", "--json"});
    ASSERT_EQ(asked.exitCode, 0) << asked.err << daemonLog();
    const auto status = nlohmann::json::parse(asked.out);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
    expectBextAt(file, status["first_sample_usec"].get<std::uint64_t>(), rate);
    // Other containers have no bext chunk; a FLAC take works as before.
    const auto flac = dir / "plain.flac";
    ASSERT_EQ(recctl({"start", flac.string()}).exitCode, 0);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
    EXPECT_FALSE(readBroadcastInfo(flac));
}
