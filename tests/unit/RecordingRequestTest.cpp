#include "common/Errors.hpp"
#include "daemon/engine/session/RecordingRequest.hpp"
#include "tests/support/TempDir.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace recd;
using recd::test::TempDir;

namespace {
std::vector<DeviceInfo> oneMic()
{
    DeviceInfo d;
    d.id = "pulse:mic";
    d.name = "Mic";
    d.inputChannels = 2;
    d.sampleRates = {16000, 44100, 48000};
    d.preferredRate = 48000;
    d.isDefault = true;
    return {d};
}

// The microphone, and the monitor of what the computer plays.
std::vector<DeviceInfo> micAndMonitor()
{
    auto devices = oneMic();
    DeviceInfo m = devices.front();
    m.id = "pulse:monitor-of-speakers";
    m.name = "Monitor of Speakers";
    m.isDefault = false;
    devices.push_back(m);
    return devices;
}


template <class E>
std::string messageOf(const RecordingRequest& r, const std::vector<DeviceInfo>& devices = oneMic())
{
    try {
        planCapture(r, devices);
    } catch (const E& e) {
        return e.what();
    }
    return "(no error of the expected type)";
}

std::string refusal(const RecordingRequest& r)
{
    return messageOf<Error>(r, micAndMonitor());
}
} // namespace

class RecordingRequestTest : public ::testing::Test {
protected:
    TempDir dir;
    RecordingRequest request(const std::string& name)
    {
        RecordingRequest r;
        r.path = dir / name;
        return r;
    }
    void TearDown() override {}
};

TEST_F(RecordingRequestTest, DefaultsComeFromTheDeviceAndContainer)
{
    auto plan = planCapture(request("a.wav"), oneMic());
    EXPECT_EQ(plan.rate, 48000u);
    EXPECT_EQ(plan.channels, 2u);
    EXPECT_EQ(plan.sampleFormat, SampleFormat::S16);
    EXPECT_EQ(plan.destination.container().name, "WAV");
    EXPECT_FALSE(plan.maxFrames);
}

TEST_F(RecordingRequestTest, MaxDurationBecomesFrames)
{
    auto r = request("a.wav");
    r.rate = 44100;
    r.maxDuration = 1.5;
    EXPECT_EQ(*planCapture(r, oneMic()).maxFrames, 66150u);
}

TEST_F(RecordingRequestTest, PathMustBeAbsolute)
{
    RecordingRequest r;
    r.path = "take.wav";
    EXPECT_NE(messageOf<InvalidArgument>(r).find("not an absolute path"), std::string::npos);
    r.path = "";
    EXPECT_NE(messageOf<InvalidArgument>(r).find("empty"), std::string::npos);
}

TEST_F(RecordingRequestTest, ParentMustExistAndBeADirectory)
{
    auto r = request("missing/a.wav");
    EXPECT_NE(messageOf<IoError>(r).find("No such file or directory"), std::string::npos);
    std::ofstream(dir / "plain") << "x";
    r = request("plain/a.wav");
    EXPECT_NE(messageOf<IoError>(r).find("is not a directory"), std::string::npos) << messageOf<IoError>(r);
}

TEST_F(RecordingRequestTest, ParentMustBeWritable)
{
    std::filesystem::create_directory(dir / "ro");
    ::chmod(dir.path().c_str(), 0755);
    ::chmod((dir / "ro").c_str(), 0555);
    const auto r = request("ro/a.wav");
    // Root may write anywhere, so the check runs as "nobody" in a child process.
    const pid_t child = ::fork();
    if (child == 0) {
        if (::geteuid() == 0 && ::setresuid(65534, 65534, 65534) != 0)
            ::_exit(3);
        const bool refused = messageOf<IoError>(r).find("Permission denied") != std::string::npos;
        ::_exit(refused ? 0 : 1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

TEST_F(RecordingRequestTest, ExistingFileNeedsOverwrite)
{
    std::ofstream(dir / "a.wav") << "keep me";
    EXPECT_NE(messageOf<FileExists>(request("a.wav")).find("already exists"), std::string::npos);
    auto r = request("a.wav");
    r.overwrite = true;
    EXPECT_NO_THROW(planCapture(r, oneMic()));
}

TEST_F(RecordingRequestTest, NeverADirectoryLinkFifoOrDevice)
{
    std::filesystem::create_directory(dir / "d.wav");
    ::symlink("/etc/passwd", (dir / "l.wav").c_str());
    ::mkfifo((dir / "f.wav").c_str(), 0600);
    for (const char* name : {"d.wav", "l.wav", "f.wav"}) {
        auto r = request(name);
        r.overwrite = true; // not even then
        EXPECT_THROW(planCapture(r, oneMic()), InvalidArgument) << name;
    }
    RecordingRequest r;
    r.path = "/dev/null";
    r.overwrite = true;
    EXPECT_NE(messageOf<InvalidArgument>(r).find("not a regular file"), std::string::npos);
}

TEST_F(RecordingRequestTest, OverlongNames)
{
    EXPECT_NE(messageOf<InvalidArgument>(request(std::string(300, 'a') + ".wav")).find("file name is"),
              std::string::npos);
}

TEST_F(RecordingRequestTest, RateAndChannelsInRange)
{
    auto r = request("a.wav");
    r.rate = 0;
    EXPECT_NE(messageOf<InvalidArgument>(r).find("1000 to 768000"), std::string::npos);
    r.rate = 1'000'000'000;
    EXPECT_THROW(planCapture(r, oneMic()), InvalidArgument);
    r = request("a.wav");
    r.channels = 0;
    EXPECT_THROW(planCapture(r, oneMic()), InvalidArgument);
    r.channels = 1'000'000;
    EXPECT_THROW(planCapture(r, oneMic()), InvalidArgument);
}

TEST_F(RecordingRequestTest, ChannelsAndRateWithinTheDevice)
{
    auto r = request("a.wav");
    r.channels = 4;
    EXPECT_NE(messageOf<UnsupportedFormat>(r).find("has 2 input channels"), std::string::npos);
    r = request("a.wav");
    r.rate = 96000;
    EXPECT_NE(messageOf<UnsupportedFormat>(r).find("16000, 44100, 48000"), std::string::npos);
}

TEST_F(RecordingRequestTest, MaxDurationMustBePositiveAndFinite)
{
    for (double bad : {0.0, -1.0, std::nan(""), static_cast<double>(INFINITY)}) {
        auto r = request("a.wav");
        r.maxDuration = bad;
        EXPECT_THROW(planCapture(r, oneMic()), InvalidArgument) << bad;
    }
}

TEST_F(RecordingRequestTest, ReconnectIsSecondsUpToAnHour)
{
    auto r = request("a.wav");
    EXPECT_EQ(planCapture(r, oneMic()).reconnectSeconds, 0.0) << "off unless asked for";
    r.reconnect = 30;
    EXPECT_EQ(planCapture(r, oneMic()).reconnectSeconds, 30.0);
    for (double bad : {-1.0, 3601.0, std::nan("")}) {
        r.reconnect = bad;
        EXPECT_NE(messageOf<InvalidArgument>(r).find("seconds from 0 to 3600"), std::string::npos) << bad;
    }
}

TEST_F(RecordingRequestTest, FormatAndContainer)
{
    auto r = request("a.flac");
    r.sampleFormat = SampleFormat::F32;
    EXPECT_THROW(planCapture(r, oneMic()), UnsupportedFormat);
    EXPECT_THROW(planCapture(request("a.aiff"), oneMic()), UnsupportedFormat);
}

TEST_F(RecordingRequestTest, CheckingLeavesNothingOnDisk)
{
    auto r = request("a.flac");
    r.sampleFormat = SampleFormat::F32;
    EXPECT_ANY_THROW(planCapture(r, oneMic()));
    EXPECT_NO_THROW(planCapture(request("b.wav"), oneMic()));
    EXPECT_TRUE(dir.entries().empty());
}

TEST_F(RecordingRequestTest, SeveralInputsGoSideBySideOrMixedAndTheFileMustHoldThem)
{
    auto r = request("meeting.wav");
    r.inputs = {"mic", "Monitor of Speakers"};
    r.channels = 1;
    auto plan = planCapture(r, micAndMonitor());
    EXPECT_EQ(plan.device.id, "pulse:mic");
    ASSERT_EQ(plan.moreInputs.size(), 1u);
    EXPECT_EQ(plan.moreInputs[0].id, "pulse:monitor-of-speakers");
    EXPECT_EQ(plan.inputChannels, 1u);
    EXPECT_EQ(plan.channels, 2u) << "left the microphone, right the other side";
    r.layout = "mix";
    plan = planCapture(r, micAndMonitor());
    EXPECT_EQ(plan.channels, 1u);

    // The container's channel limit is checked before anything starts.
    auto mp3 = request("meeting.mp3");
    mp3.inputs = {"mic", "monitor"};
    EXPECT_EQ(refusal(mp3), "MP3 holds at most 2 channels, not 4");
    EXPECT_FALSE(std::filesystem::exists(dir / "meeting.mp3"));
}

TEST_F(RecordingRequestTest, SeveralInputsRefuseWhatTheyCannotDoSayingWhy)
{
    auto r = request("meeting.wav");
    r.inputs = {"mic", "monitor"};
    r.device = "mic";
    EXPECT_NE(refusal(r).find("give either device ('mic') or inputs (mic, monitor), not both"), std::string::npos)
        << refusal(r);
    r.device.clear();
    r.layout = "stereo";
    EXPECT_NE(refusal(r).find("layout 'stereo' is not known; use channels"), std::string::npos) << refusal(r);
    r.layout.clear();
    r.preRoll = 1.0;
    EXPECT_NE(refusal(r).find("a take of several inputs has none"), std::string::npos) << refusal(r);
    r.preRoll.reset();
    r.reconnect = 5.0;
    EXPECT_EQ(planCapture(r, micAndMonitor()).reconnectSeconds, 5.0) << "each lost input is opened again";
    r.reconnect.reset();
    r.inputs = {"mic", "nothing-like-it"};
    EXPECT_NE(refusal(r).find("no input device matches 'nothing-like-it'"), std::string::npos) << refusal(r);
    auto one = request("one.wav");
    one.layout = "mix";
    EXPECT_NE(refusal(one).find("layout mix is for several inputs; give two or more in inputs"), std::string::npos)
        << refusal(one);
    one.layout = "files";
    EXPECT_NE(refusal(one).find("layout files is for several inputs"), std::string::npos) << refusal(one);
}

// layout files: a file per input, each of the channels asked for, each within
// the container's limit; the path asked for names them and is not itself written.
TEST_F(RecordingRequestTest, AFilePerInputIsNamedAfterThePathAndHoldsOneInput)
{
    auto r = request("meeting.mp3");
    r.inputs = {"mic", "monitor"};
    r.layout = "files";
    const auto plan = planCapture(r, micAndMonitor());
    EXPECT_EQ(plan.files, 2u);
    EXPECT_EQ(plan.channels, 2u) << "MP3's limit is per file";
    EXPECT_EQ(plan.destination.path(), dir / "meeting-in1.mp3");
    EXPECT_EQ(plan.splitBase, dir / "meeting.mp3");
    EXPECT_EQ(takeFilePath(plan.splitBase, 1, 2, 0), dir / "meeting-in2.mp3");
    EXPECT_EQ(takeFilePath(plan.splitBase, 1, 2, 7), dir / "meeting-in2-007.mp3");
    EXPECT_EQ(takeFilePath(plan.splitBase, 0, 1, 7), dir / "meeting-007.mp3");

    auto streamed = request("");
    streamed.path.clear();
    streamed.streamFd = std::make_shared<const int>(1);
    streamed.inputs = r.inputs;
    streamed.layout = "files";
    EXPECT_NE(refusal(streamed).find("layout files writes a file per input; a take streamed to one descriptor"),
              std::string::npos)
        << refusal(streamed);
    EXPECT_TRUE(dir.entries().empty());
}
