#include "daemon/service/Config.hpp"
#include "tests/support/TempDir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

using namespace recd;
using recd::test::TempDir;

namespace {
class ConfigTest : public ::testing::Test {
protected:
    TempDir dir;
    std::filesystem::path write(const std::string& text)
    {
        const auto p = dir / "recd.toml";
        std::ofstream(p) << text;
        return p;
    }
    std::string errorOf(const std::string& text)
    {
        try {
            Config::load(write(text), true);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "(accepted)";
    }
    void SetUp() override
    {
        ::setenv("HOME", dir.path().c_str(), 1);
        ::setenv("XDG_CONFIG_HOME", (dir / "config").c_str(), 1);
        ::unsetenv("XDG_MUSIC_DIR");
    }
};
} // namespace

TEST_F(ConfigTest, EveryKeyIsRead)
{
    const auto c = Config::load(write(R"(
device = "usb"
rate = 44100
channels = 1
sample_format = "s24"
directory = "~/takes"
name_template = "note-%H%M.flac"
audio_api = "alsa"
buffer_frames = 512
ring_seconds = 20
sync_interval = 0.5
file_mode = "0640"
pre_roll = 2
pre_roll_release_after = 30
)"),
                                true);
    EXPECT_EQ(c.device, "usb");
    EXPECT_EQ(c.rate, 44100u);
    EXPECT_EQ(c.channels, 1u);
    EXPECT_EQ(c.sampleFormat, SampleFormat::S24);
    EXPECT_EQ(c.directory, dir / "takes");
    EXPECT_EQ(c.nameTemplate, "note-%H%M.flac");
    EXPECT_EQ(c.engine.api, AudioApi::Alsa);
    EXPECT_EQ(c.engine.bufferFrames, 512u);
    EXPECT_EQ(c.engine.framesPerBuffer(), 512u);
    EXPECT_DOUBLE_EQ(c.engine.ringSeconds, 20);
    EXPECT_DOUBLE_EQ(c.engine.syncInterval, 0.5);
    EXPECT_EQ(c.engine.fileMode, 0640u);
    EXPECT_DOUBLE_EQ(c.preRoll, 2);
    EXPECT_DOUBLE_EQ(c.preRollReleaseAfter, 30);
}

TEST_F(ConfigTest, MissingDefaultFileMeansDefaults)
{
    const auto c = Config::load(dir / "nope.toml", false);
    EXPECT_EQ(c.nameTemplate, "recording-%Y%m%d-%H%M%S.wav");
    EXPECT_EQ(c.directory, dir / "Recordings");
    EXPECT_FALSE(c.rate);
    EXPECT_DOUBLE_EQ(c.preRollReleaseAfter, 10) << "minutes";
    EXPECT_THROW(Config::load(dir / "nope.toml", true), ConfigError);
}

TEST_F(ConfigTest, DirectoryDefaultsToTheXdgMusicDirectory)
{
    std::filesystem::create_directories(dir / "config");
    std::ofstream(dir / "config" / "user-dirs.dirs") << "# written by xdg-user-dirs-update\nXDG_MUSIC_DIR=\"$HOME/Musik\"\n";
    EXPECT_EQ(Config::defaultDirectory(), dir / "Musik");
    ::setenv("XDG_MUSIC_DIR", "/srv/music", 1);
    EXPECT_EQ(Config::defaultDirectory(), "/srv/music");
}

TEST_F(ConfigTest, ErrorsNameFileLineAndKey)
{
    const std::string file = (dir / "recd.toml").string();
    EXPECT_EQ(errorOf("\nrate = \"fast\"\n"), file + ":2: rate: must be a whole number from 1000 to 768000");
    EXPECT_EQ(errorOf("channels = 0\n"), file + ":1: channels: 0 is out of range; use 1 to 64");
    EXPECT_EQ(errorOf("sample_format = \"u8\"\n"), file + ":1: sample_format: 'u8' is not one of s16, s24, s32, f32");
    EXPECT_NE(errorOf("\n\nvolume = 3\n").find(file + ":3: volume: unknown key; the keys are"), std::string::npos);
    EXPECT_NE(errorOf("directory = \"relative\"\n").find(":1: directory: must be an absolute path"), std::string::npos);
    EXPECT_NE(errorOf("name_template = \"a/b.wav\"\n").find("name_template: must be a file name"), std::string::npos);
    EXPECT_NE(errorOf("name_template = \"a\\tb.wav\"\n").find("without '/', tabs or newlines"), std::string::npos)
        << "recctl's lines could not carry the name";
    EXPECT_NE(errorOf("pause_players = 1\n").find("pause_players: must be true or false"), std::string::npos);
    EXPECT_NE(errorOf("audio_api = \"jack\"\n").find("audio_api: 'jack' is not pulse, pulse-native or alsa"), std::string::npos);
    EXPECT_NE(errorOf("file_mode = \"0200\"\n").find("file_mode: must be an octal mode"), std::string::npos);
    EXPECT_NE(errorOf("sync_interval = 0\n").find("sync_interval: 0 is out of range"), std::string::npos);
    // A TOML syntax error: file and line from the parser.
    EXPECT_NE(errorOf("rate = \n").find(file + ":1: "), std::string::npos) << errorOf("rate = \n");
}
