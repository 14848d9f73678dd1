// StartRecording's options are declared once (common/StartOptions.hpp); what
// describes them to people is written by hand. This checks that every option
// is there: the interface XML (the API reference) with its D-Bus type, and
// each recctl flag in the man page and the three shells' completions.

#include "common/Errors.hpp"
#include "common/StartOptions.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <sstream>
#include <string>

namespace {

std::string source(const std::string& path)
{
    std::ifstream in(std::string(RECD_SOURCE_DIR) + "/" + path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The long flag of a CLI11 flags string: "-r,--rate" -> "rate".
std::string longFlag(std::string_view flags)
{
    const auto at = flags.find("--");
    return at == std::string_view::npos ? std::string() : std::string(flags.substr(at + 2));
}

} // namespace

TEST(StartOptions, TheInterfaceXmlDocumentsEveryKeyWithItsType)
{
    const std::string xml = source("dbus/org.recd.Recorder1.xml");
    const auto start = xml.find("<method name=\"StartRecording\">");
    ASSERT_NE(start, std::string::npos);
    const std::string doc = xml.substr(start, xml.find("</method>", start) - start);
    for (const auto& option : recd::startOptions) {
        const std::string named = std::string(option.key) + " (" + std::string(recd::dbusSignature(option));
        EXPECT_NE(doc.find(named), std::string::npos) << "StartRecording's doc lacks '" << named << "'";
    }
}

TEST(StartOptions, TheManPageAndEveryShellsCompletionNameEveryFlag)
{
    const std::string man = source("docs/recctl.1.scd"), bash = source("client/completions/recctl.bash"),
                      zsh = source("client/completions/_recctl"), fish = source("client/completions/recctl.fish");
    ASSERT_FALSE(man.empty() || bash.empty() || zsh.empty() || fish.empty());
    int flags = 0;
    for (const auto& option : recd::startOptions) {
        if (option.flags.empty())
            continue;
        ++flags;
        const std::string name = longFlag(option.flags);
        EXPECT_NE(man.find("*--" + name + "*"), std::string::npos) << "recctl.1.scd lacks --" << name;
        EXPECT_NE(bash.find("--" + name), std::string::npos) << "recctl.bash lacks --" << name;
        EXPECT_TRUE(zsh.find("'--" + name + "[") != std::string::npos ||
                    zsh.find("--" + name + "}'[") != std::string::npos)
            << "_recctl lacks --" << name;
        EXPECT_NE(fish.find("-l " + name + " "), std::string::npos) << "recctl.fish lacks --" << name;
    }
    EXPECT_EQ(flags, 14);
}

TEST(StartOptions, RangesNameTheOptionTheValueAndWhatIsAllowed)
{
    recd::StartOptions o;
    o.rate = 0;
    try {
        recd::checkRanges(o);
        FAIL() << "rate 0 passed";
    } catch (const recd::Error& e) {
        EXPECT_EQ(e.kind(), recd::ErrorKind::InvalidArgument);
        EXPECT_STREQ(e.what(), "rate 0 Hz is out of range; use 1000 to 768000 Hz (e.g. 44100 or 48000)");
    }
    o.rate = 48000;
    o.silenceThreshold = 0; // open at 0
    EXPECT_THROW(recd::checkRanges(o), recd::InvalidArgument);
    o.silenceThreshold = -120; // closed at -120
    o.maxDuration = 0.001;
    o.splitEvery = 0.1;
    EXPECT_NO_THROW(recd::checkRanges(o));
    o.maxDuration = std::numeric_limits<double>::quiet_NaN();
    EXPECT_THROW(recd::checkRanges(o), recd::InvalidArgument);
}

TEST(StartOptions, EveryKeyOnceAndAnUnknownOneIsNotFound)
{
    EXPECT_EQ(recd::startOptionKeys(), "channels, device, fd, inputs, layout, max_duration, overwrite, pre_roll, "
                                       "rate, raw, reconnect, sample_format, silence_threshold, split_every, split_on_silence, "
                                       "start_on_sound, stop_on_silence");
    EXPECT_EQ(recd::findStartOption("bitrate"), nullptr);
    EXPECT_EQ(recd::dbusSignature(*recd::findStartOption("fd")), "h");
    EXPECT_EQ(recd::dbusSignature(*recd::findStartOption("sample_format")), "s");
    EXPECT_EQ(recd::dbusSignature(*recd::findStartOption("inputs")), "as");
}
