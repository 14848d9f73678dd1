// split_every on a rig that plays the sample-counter signal (every frame holds
// its own index): the parts of a split take, put end to end, must be exactly the
// frames an unsplit take holds, none lost or doubled at the seams.

#include "tests/support/AudioFile.hpp"
#include "tests/support/DaemonFixture.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <thread>

using namespace std::chrono_literals;
using namespace recd::test;

namespace {

std::string firstLine(const std::string& s) { return s.substr(0, s.find_first_of("\t\n")); }

} // namespace

TEST_F(DaemonTest, SplitPartsPutEndToEndAreExactlyTheTakeToTheFrame)
{
    const auto base = dir / "meeting.wav";
    const auto started = recctl({"start", base.string(), "--split-every", "0.5"});
    ASSERT_EQ(started.exitCode, 0) << started.err;
    EXPECT_EQ(firstLine(started.out), (dir / "meeting-001.wav").string());
    std::this_thread::sleep_for(1700ms);
    const auto status = nlohmann::json::parse(recctl({"status", "--json"}).out);
    EXPECT_EQ(status["part"], 4);
    EXPECT_EQ(status["path"], (dir / "meeting-004.wav").string());
    EXPECT_NE(recctl({"status"}).out.find("part:       4"), std::string::npos);
    const auto stopped = recctl({"stop"});
    ASSERT_EQ(stopped.exitCode, 0);
    EXPECT_EQ(firstLine(stopped.out), (dir / "meeting-004.wav").string()) << "stop names the last part";
    const double duration = std::stod(stopped.out.substr(stopped.out.find('\t') + 1));
    EXPECT_FALSE(std::filesystem::exists(dir / "meeting-005.wav"));
    EXPECT_FALSE(std::filesystem::exists(base)) << "only numbered parts are written";

    std::vector<std::filesystem::path> parts;
    for (int i = 1; i <= 4; ++i)
        parts.push_back(dir / fmt::format("meeting-{:03}.wav", i));
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(readAudioFile(parts[i]).frames, 24000) << parts[i];
    const auto all = readParts(parts);
    const auto c = checkCounter(all);
    EXPECT_EQ(c.lost, 0);
    EXPECT_EQ(c.duplicated, 0);
    EXPECT_TRUE(c.jumps.empty()) << "first jump at frame " << (c.jumps.empty() ? 0 : c.jumps[0].first);
    EXPECT_EQ(c.lastIndex - c.firstIndex + 1, c.counted(all.frames))
        << c.serverSilence << " frames of silence from the sound server (the rig's feeder underran)";
    EXPECT_NEAR(static_cast<double>(all.frames), duration * 48000, 24) << "stop reports the whole take (3 decimals)";

    // Each part's Broadcast WAV time is where it begins in the take.
    for (int i = 0; i < 4; ++i) {
        const auto bext = readBroadcastInfo(parts[i]);
        ASSERT_TRUE(bext) << parts[i];
        const auto first = readBroadcastInfo(parts[0]);
        EXPECT_NEAR(static_cast<double>(bext->timeReference - first->timeReference), 24000.0 * i, 1.0) << parts[i];
    }
}

TEST_F(DaemonTest, CancellingASplitTakeDeletesEveryPart)
{
    const auto base = dir / "oops.wav";
    ASSERT_EQ(recctl({"start", base.string(), "--split-every", "0.3"}).exitCode, 0);
    std::this_thread::sleep_for(800ms);
    ASSERT_EQ(recctl({"cancel"}).exitCode, 0);
    for (int i = 1; i <= 4; ++i)
        EXPECT_FALSE(std::filesystem::exists(dir / fmt::format("oops-{:03}.wav", i))) << i;
}

TEST_F(DaemonTest, SplitIntoANameThatExistsIsRefusedForPartOneAndSkippedLater)
{
    std::ofstream(dir / "taken-001.wav") << "mine";
    const auto r = recctl({"start", (dir / "taken.wav").string(), "--split-every", "0.3"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("taken-001.wav' already exists"), std::string::npos) << r.err;

    std::ofstream(dir / "later-002.wav") << "mine";
    ASSERT_EQ(recctl({"start", (dir / "later.wav").string(), "--split-every", "0.3"}).exitCode, 0);
    std::this_thread::sleep_for(500ms);
    const auto stopped = recctl({"stop"});
    ASSERT_EQ(stopped.exitCode, 0);
    EXPECT_EQ(firstLine(stopped.out), (dir / "later-002-2.wav").string());
    std::ifstream mine(dir / "later-002.wav");
    std::string content;
    mine >> content;
    EXPECT_EQ(content, "mine") << "an existing file is never touched";
    const auto c = checkCounter(readParts({dir / "later-001.wav", dir / "later-002-2.wav"}));
    EXPECT_EQ(c.lost + c.duplicated, 0);
}
