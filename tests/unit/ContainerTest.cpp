#include "daemon/engine/file/Container.hpp"
#include "common/Errors.hpp"
#include "common/SampleFormat.hpp"

#include <gtest/gtest.h>
#include <sndfile.h>

using namespace recd;

TEST(SampleFormat, ParsesTheFourNamesAndNothingElse)
{
    EXPECT_EQ(parseSampleFormat("s16"), SampleFormat::S16);
    EXPECT_EQ(parseSampleFormat("s24"), SampleFormat::S24);
    EXPECT_EQ(parseSampleFormat("s32"), SampleFormat::S32);
    EXPECT_EQ(parseSampleFormat("f32"), SampleFormat::F32);
    EXPECT_FALSE(parseSampleFormat("S16"));
    EXPECT_FALSE(parseSampleFormat("u8"));
    EXPECT_FALSE(parseSampleFormat(""));
    EXPECT_EQ(allSampleFormatNames(), "s16, s24, s32, f32");
}

TEST(Container, ChosenByExtensionCaseInsensitively)
{
    EXPECT_EQ(containerForPath("/x/a.wav").name, "WAV");
    EXPECT_EQ(containerForPath("/x/a.WAV").name, "WAV");
    EXPECT_EQ(containerForPath("/x/a.flac").name, "FLAC");
    EXPECT_EQ(containerForPath("/x/a.ogg").name, "Ogg Vorbis");
    EXPECT_EQ(containerForPath("/x/a.opus").name, "Ogg Opus");
    EXPECT_EQ(containerForPath("/x/a.mp3").name, "MP3");
}

TEST(Container, UnknownExtensionListsTheKnownOnes)
{
    try {
        containerForPath("/x/a.aiff");
        FAIL();
    } catch (const UnsupportedFormat& e) {
        EXPECT_NE(std::string(e.what()).find(".wav, .flac, .ogg, .opus, .mp3"), std::string::npos) << e.what();
    }
    EXPECT_THROW(containerForPath("/x/noextension"), UnsupportedFormat);
}

TEST(Container, WavStoresEveryFormat)
{
    const auto& wav = containerForPath("a.wav");
    for (auto f : {SampleFormat::S16, SampleFormat::S24, SampleFormat::S32, SampleFormat::F32})
        EXPECT_EQ(checkFileFormat(wav, f, 48000, 2), f);
    EXPECT_EQ(checkFileFormat(wav, std::nullopt, 48000, 2), SampleFormat::S16);
    EXPECT_EQ(wav.sndfileFormatFor(SampleFormat::S24), SF_FORMAT_RF64 | SF_FORMAT_PCM_24);
}

TEST(Container, FlacRefusesFloatAndS32SayingWhatItTakes)
{
    const auto& flac = containerForPath("a.flac");
    EXPECT_EQ(checkFileFormat(flac, SampleFormat::S24, 48000, 2), SampleFormat::S24);
    try {
        checkFileFormat(flac, SampleFormat::F32, 48000, 2);
        FAIL();
    } catch (const UnsupportedFormat& e) {
        EXPECT_NE(std::string(e.what()).find("s16, s24"), std::string::npos) << e.what();
    }
    EXPECT_THROW(checkFileFormat(flac, SampleFormat::S32, 48000, 2), UnsupportedFormat);
    EXPECT_THROW(checkFileFormat(flac, std::nullopt, 48000, 9), UnsupportedFormat);
}

TEST(Container, LossyContainersTakeNoSampleFormat)
{
    for (const char* name : {"a.ogg", "a.opus", "a.mp3"}) {
        const auto& c = containerForPath(name);
        EXPECT_EQ(checkFileFormat(c, std::nullopt, 48000, 2), SampleFormat::F32) << name;
        EXPECT_THROW(checkFileFormat(c, SampleFormat::S16, 48000, 2), UnsupportedFormat) << name;
    }
}

TEST(Container, OpusAndMp3RatesAndChannels)
{
    EXPECT_THROW(checkFileFormat(containerForPath("a.opus"), std::nullopt, 44100, 2), UnsupportedFormat);
    EXPECT_NO_THROW(checkFileFormat(containerForPath("a.opus"), std::nullopt, 16000, 1));
    EXPECT_THROW(checkFileFormat(containerForPath("a.mp3"), std::nullopt, 96000, 2), UnsupportedFormat);
    EXPECT_THROW(checkFileFormat(containerForPath("a.mp3"), std::nullopt, 48000, 3), UnsupportedFormat);
}
