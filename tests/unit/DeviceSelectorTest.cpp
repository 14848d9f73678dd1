#include "daemon/engine/device/DeviceSelector.hpp"
#include "common/Errors.hpp"

#include <gtest/gtest.h>

using namespace recd;

namespace {
// Device lists as the audio system reports them. Made up here because the rig
// has one input; the selection rules are pure functions of such a list.
std::vector<DeviceInfo> devices()
{
    std::vector<DeviceInfo> d(4);
    d[0].name = "Built-in Audio Analog Stereo";
    d[0].inputChannels = 2;
    d[1].name = "USB Microphone";
    d[1].inputChannels = 1;
    d[1].isDefault = true;
    d[2].name = "Monitor of Built-in Audio Analog Stereo";
    d[2].inputChannels = 2;
    d[3].name = "HDMI Output";
    d[3].inputChannels = 0;
    assignDeviceIds(d, "pulse");
    return d;
}
} // namespace

TEST(DeviceSelector, IdsAreSlugsOfNames)
{
    EXPECT_EQ(deviceId("pulse", "Monitor of Foo (2)"), "pulse:monitor-of-foo-2");
    EXPECT_EQ(deviceId("alsa", "default"), "alsa:default");
    EXPECT_EQ(deviceId("alsa", "***"), "alsa:device");
}

TEST(DeviceSelector, CollidingNamesGetNumberedIds)
{
    std::vector<DeviceInfo> d(2);
    d[0].name = d[1].name = "USB Mic";
    assignDeviceIds(d, "pulse");
    EXPECT_EQ(d[0].id, "pulse:usb-mic");
    EXPECT_EQ(d[1].id, "pulse:usb-mic-2");
}

TEST(DeviceSelector, EmptyQueryIsTheDefaultInput)
{
    auto d = devices();
    EXPECT_EQ(selectDevice(d, "").name, "USB Microphone");
}

TEST(DeviceSelector, ExactIdAndExactName)
{
    auto d = devices();
    EXPECT_EQ(selectDevice(d, "pulse:built-in-audio-analog-stereo").name, "Built-in Audio Analog Stereo");
    // An exact name wins even though it is also a substring of another device's name.
    EXPECT_EQ(selectDevice(d, "Built-in Audio Analog Stereo").name, "Built-in Audio Analog Stereo");
}

TEST(DeviceSelector, UniqueCaseInsensitiveSubstring)
{
    auto d = devices();
    EXPECT_EQ(selectDevice(d, "usb").name, "USB Microphone");
    EXPECT_EQ(selectDevice(d, "MONITOR").name, "Monitor of Built-in Audio Analog Stereo");
}

TEST(DeviceSelector, AmbiguousSubstringListsTheCandidates)
{
    auto d = devices();
    try {
        selectDevice(d, "analog");
        FAIL();
    } catch (const DeviceNotFound& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("matches 2 input devices"), std::string::npos) << m;
        EXPECT_NE(m.find("pulse:built-in-audio-analog-stereo"), std::string::npos) << m;
        EXPECT_NE(m.find("pulse:monitor-of-built-in-audio-analog-stereo"), std::string::npos) << m;
        EXPECT_EQ(m.find("USB"), std::string::npos) << m;
    }
}

TEST(DeviceSelector, NoMatchListsEveryInputButNotOutputs)
{
    auto d = devices();
    try {
        selectDevice(d, "bluetooth");
        FAIL();
    } catch (const DeviceNotFound& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("no input device matches 'bluetooth'"), std::string::npos) << m;
        EXPECT_NE(m.find("USB Microphone"), std::string::npos) << m;
        EXPECT_EQ(m.find("HDMI"), std::string::npos) << m;
    }
    EXPECT_THROW(selectDevice(d, "HDMI Output"), DeviceNotFound); // exists, but has no input
}

TEST(DeviceSelector, NoInputsAtAll)
{
    std::vector<DeviceInfo> none(1);
    none[0].name = "speakers";
    EXPECT_THROW(selectDevice(none, ""), DeviceNotFound);
}
