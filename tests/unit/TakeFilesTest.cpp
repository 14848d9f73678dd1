// The parts of a split take, on real files in a temporary directory: no sound
// server is needed to check that parts meet to the frame, whatever the sizes of
// the writes that cross a seam.

#include "tests/support/AudioFile.hpp"
#include "daemon/engine/file/Container.hpp"
#include "common/Errors.hpp"
#include "daemon/engine/file/FileNames.hpp"
#include "daemon/engine/file/TakeFiles.hpp"
#include "tests/support/TempDir.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <vector>

using namespace recd;
using namespace recd::test;

namespace {

// Mono s16 frames whose value is their index in the take (mod 30000): a frame
// lost, doubled or moved across a seam shows as a step other than 1.
std::vector<std::int16_t> counting(std::uint64_t from, std::uint64_t frames)
{
    std::vector<std::int16_t> v(frames);
    for (std::uint64_t i = 0; i < frames; ++i)
        v[i] = static_cast<std::int16_t>((from + i) % 30000);
    return v;
}

FileSpec monoWav(const std::filesystem::path& path)
{
    FileSpec spec;
    spec.destination = Destination::file(path, containerForPath(path));
    spec.rate = 8000;
    spec.channels = 1;
    spec.firstSampleUsec = 1'700'000'000'000'000;
    return spec;
}

std::vector<long> valuesOf(const std::filesystem::path& path)
{
    const auto a = readAudioFile(path);
    std::vector<long> out;
    for (float s : a.samples)
        out.push_back(std::lround(s * 32768.0f));
    return out;
}

// A take of `partFrames` frames per part, with its first `frames` counting frames
// written in one go.
std::unique_ptr<TakeFiles> writeTake(const std::filesystem::path& base, std::uint64_t partFrames, std::uint64_t frames)
{
    auto files = std::make_unique<TakeFiles>(monoWav(partPath(base, 1)), std::vector<std::string>{}, base,
                                             TakeFiles::Parts{true, partFrames, {}}, TakeFiles::OnNewFiles{});
    const auto values = counting(0, frames);
    files->write(reinterpret_cast<const std::byte*>(values.data()), frames, 0);
    return files;
}

} // namespace

TEST(TakeFiles, PartsMeetToTheFrameWhateverTheWriteSizes)
{
    TempDir dir;
    const auto base = dir.path() / "take.wav";
    std::vector<std::filesystem::path> announced;
    TakeFiles files(monoWav(partPath(base, 1)), {}, base, TakeFiles::Parts{true, 1000, {}},
                    [&](const std::vector<std::filesystem::path>& p) { announced.push_back(p.at(0)); });
    std::mt19937 random(7);
    std::uint64_t written = 0;
    while (written < 3500) {
        const std::uint64_t n = std::min<std::uint64_t>(3500 - written, std::uniform_int_distribution<int>(1, 1700)(random));
        const auto frames = counting(written, n);
        files.write(reinterpret_cast<const std::byte*>(frames.data()), n, written);
        written += n;
    }
    EXPECT_EQ(files.part(), 4u);
    EXPECT_EQ(files.currentPath(), partPath(base, 4));
    files.close();

    ASSERT_EQ(announced.size(), 4u) << "each part is announced before audio goes in";
    std::vector<long> all;
    for (unsigned i = 1; i <= 4; ++i) {
        EXPECT_EQ(announced[i - 1], partPath(base, i));
        const auto part = valuesOf(partPath(base, i));
        EXPECT_EQ(part.size(), i < 4 ? 1000u : 500u) << "part " << i;
        all.insert(all.end(), part.begin(), part.end());
    }
    ASSERT_EQ(all.size(), 3500u);
    for (std::size_t i = 0; i < all.size(); ++i)
        ASSERT_EQ(all[i], static_cast<long>(i)) << "frame " << i;
    // Each part's time stamp is where it begins in the take: 1000 frames at 8 kHz.
    const auto second = readBroadcastInfo(partPath(base, 2));
    ASSERT_TRUE(second);
    const auto first = readBroadcastInfo(partPath(base, 1));
    ASSERT_TRUE(first);
    EXPECT_EQ(second->timeReference - first->timeReference, 1000u);
}

TEST(TakeFiles, AFullPartIsNeverFollowedByAnEmptyOne)
{
    TempDir dir;
    const auto base = dir.path() / "exact.wav";
    const auto files = writeTake(base, 1000, 2000);
    files->close();
    EXPECT_EQ(files->part(), 2u);
    EXPECT_FALSE(std::filesystem::exists(partPath(base, 3)));
}

TEST(TakeFiles, APartWhoseNameIsTakenGoesOnUnderTheNextFreeName)
{
    TempDir dir;
    const auto base = dir.path() / "busy.wav";
    std::ofstream(partPath(base, 2)) << "someone else's";
    const auto files = writeTake(base, 100, 150);
    files->close();
    EXPECT_EQ(files->currentPath(), withSuffix(partPath(base, 2), "2"));
    std::ifstream untouched(partPath(base, 2));
    std::string text;
    std::getline(untouched, text);
    EXPECT_EQ(text, "someone else's");
    EXPECT_EQ(valuesOf(files->currentPath()).size(), 50u);
}

TEST(TakeFiles, DiscardAllDeletesEveryPart)
{
    TempDir dir;
    const auto base = dir.path() / "gone.wav";
    const auto files = writeTake(base, 100, 250);
    files->close();
    files->discardAll();
    EXPECT_TRUE(dir.entries().empty());
}

TEST(TakeFiles, TruncateCutsWithinTheCurrentPartOnly)
{
    TempDir dir;
    const auto base = dir.path() / "cut.wav";
    const auto files = writeTake(base, 1000, 1600);
    EXPECT_EQ(files->truncate(1200), std::optional<std::uint64_t>(1200));
    EXPECT_EQ(files->truncate(500), std::optional<std::uint64_t>(1000)) << "a finished part is never cut";
    files->close();
    EXPECT_EQ(valuesOf(partPath(base, 1)).size(), 1000u);
    EXPECT_EQ(valuesOf(partPath(base, 2)).size(), 0u);
}
