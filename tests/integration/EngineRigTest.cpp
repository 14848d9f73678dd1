// The engine on the rig: real audio from the virtual microphone (a 440 Hz tone at
// -6 dBFS played into a PulseAudio null sink), through RtAudio, the ring and the
// writer, into files that are read back and measured.

#include "tests/support/AudioFile.hpp"
#include "daemon/engine/capture/AudioPacing.hpp"
#include "daemon/engine/device/AudioSystem.hpp"
#include "daemon/engine/session/CaptureSession.hpp"
#include "common/Errors.hpp"
#include "tests/support/TempDir.hpp"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <atomic>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <thread>

using namespace recd;
using namespace std::chrono_literals;
using recd::test::readAudioFile;
using recd::test::TempDir;

namespace {

constexpr double toneHz = 440.0;
constexpr double toneDbfs = -6.02; // the rig plays the tone at half scale

using Clock = std::chrono::steady_clock;
double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The first 12 bytes with the size field masked: "RIFF....WAVE" or "RF64....WAVE".
std::string fileMagic(const std::filesystem::path& path)
{
    std::string head(12, '\0');
    std::ifstream(path, std::ios::binary).read(head.data(), 12);
    head.replace(4, 4, "....");
    return head;
}

class EngineRig : public ::testing::TestWithParam<AudioApi> {
protected:
    TempDir dir;
    EngineSettings settings;

    void SetUp() override
    {
        settings.api = GetParam();
    }

    CapturePlan plan(const std::string& name, RecordingRequest r = {})
    {
        r.path = dir / name;
        return planCapture(r, AudioSystem(settings.api).devices());
    }

    void expectTone(const test::AudioFile& a, double tolerance = 2.0)
    {
        for (int c = 0; c < a.channels; ++c) {
            const auto x = a.channel(c);
            EXPECT_NEAR(test::toneFrequency(x, a.rate), toneHz, tolerance) << "channel " << c;
            EXPECT_NEAR(test::peakDbfs(x), toneDbfs, 1.0) << "channel " << c;
        }
    }
};

} // namespace

TEST_P(EngineRig, RecordsTheToneForExactlyAsLongAsItRan)
{
    CaptureSession session(plan("take.wav"), settings);
    const auto started = Clock::now();
    std::this_thread::sleep_for(2s);
    const auto stopAsked = Clock::now();
    const StopResult r = session.stop();
    const double wall = seconds(stopAsked - started);

    EXPECT_EQ(r.reason, StopReason::Requested);
    const auto a = readAudioFile(r.path);
    EXPECT_EQ(a.rate, 48000);
    EXPECT_EQ(a.channels, 2);
    EXPECT_EQ(fileMagic(r.path), "RIFF....WAVE") << "a small RF64 file is downgraded to plain RIFF/WAVE";
    EXPECT_EQ((a.format & SF_FORMAT_SUBMASK), SF_FORMAT_PCM_16);
    EXPECT_EQ(static_cast<std::uint64_t>(a.frames), r.frames) << "the header agrees with what was written";
    EXPECT_NEAR(a.duration(), wall, 0.050) << "file " << a.duration() << " s, wall " << wall << " s";
    expectTone(a);
    EXPECT_TRUE(test::silentRuns(a.channel(0), 0.01f, 48).empty()) << "no gap in the tone";
    EXPECT_EQ(session.status().overruns, 0u);
}

TEST_P(EngineRig, DurationGrowsWhileRecording)
{
    CaptureSession session(plan("grow.wav"), settings);
    std::this_thread::sleep_for(300ms);
    const double early = session.duration();
    std::this_thread::sleep_for(500ms);
    const double later = session.duration();
    EXPECT_GT(early, 0.2);
    EXPECT_NEAR(later - early, 0.5, 0.06);
    EXPECT_EQ(session.status().state, SessionState::Recording);
    session.stop();
}

TEST_P(EngineRig, PausedTimeIsAbsentFromTheFile)
{
    CaptureSession session(plan("paused.wav"), settings);
    const auto t0 = Clock::now();
    std::this_thread::sleep_for(700ms);
    session.pause();
    const auto paused = Clock::now();
    EXPECT_EQ(session.state(), SessionState::Paused);
    std::this_thread::sleep_for(300ms);
    const double durationWhilePaused = session.duration();
    std::this_thread::sleep_for(700ms);
    EXPECT_NEAR(session.duration(), durationWhilePaused, 0.001) << "nothing is written while paused";
    session.resume();
    const auto resumed = Clock::now();
    std::this_thread::sleep_for(700ms);
    const auto stopAsked = Clock::now();
    const StopResult r = session.stop();
    const double expected = seconds(stopAsked - t0) - seconds(resumed - paused);
    const auto a = readAudioFile(r.path);
    EXPECT_NEAR(a.duration(), expected, 0.050) << "file " << a.duration() << " s, recorded " << expected << " s";
    expectTone(a, 5.0); // the splice at the pause shifts one zero crossing
}

TEST_P(EngineRig, MaxDurationEndsAtExactlyThatManyFrames)
{
    std::atomic<bool> notified{false};
    RecordingRequest r;
    r.maxDuration = 0.75;
    SessionHooks hooks;
    hooks.onEnded = [&] { notified = true; };
    CaptureSession session(plan("limited.wav", r), settings, hooks);
    const auto deadline = Clock::now() + 3s;
    while (!session.ended() && Clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(session.ended());
    EXPECT_TRUE(notified);
    const StopResult result = session.finish();
    EXPECT_EQ(result.reason, StopReason::MaxDuration);
    EXPECT_EQ(result.frames, 36000u);
    EXPECT_EQ(readAudioFile(result.path).frames, 36000);
}

TEST_P(EngineRig, CancelLeavesNoFile)
{
    CaptureSession session(plan("cancelled.wav"), settings);
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(session.cancel().reason, StopReason::Cancelled);
    EXPECT_TRUE(dir.entries().empty());
}

TEST_P(EngineRig, OverwriteReplacesTheOldFileAndLeavesNoTemporary)
{
    std::ofstream(dir / "again.wav") << "old contents";
    RecordingRequest r;
    r.overwrite = true;
    CaptureSession session(plan("again.wav", r), settings);
    std::this_thread::sleep_for(300ms);
    session.stop();
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"again.wav"});
    expectTone(readAudioFile(dir / "again.wav"));
}

TEST_P(EngineRig, AFileThatAppearsAfterTheChecksIsNotClobbered)
{
    const CapturePlan p = plan("raced.wav");
    std::ofstream(dir / "raced.wav") << "someone else's";
    EXPECT_THROW(CaptureSession(p, settings), FileExists);
    std::ifstream in(dir / "raced.wav");
    std::string contents;
    std::getline(in, contents);
    EXPECT_EQ(contents, "someone else's");
}

TEST_P(EngineRig, FileModeIsPrivateByDefault)
{
    CaptureSession session(plan("private.wav"), settings);
    session.stop();
    const auto perms = std::filesystem::status(dir / "private.wav").permissions();
    EXPECT_EQ(perms, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

struct FormatCase {
    const char* name;
    std::optional<SampleFormat> format;
    int sndfileType;
    int sndfileSubtype; // 0: do not check
};

class EngineFormats : public ::testing::TestWithParam<FormatCase> {
protected:
    TempDir dir;
};

TEST_P(EngineFormats, EveryContainerAndFormatOpensAndHoldsTheTone)
{
    const FormatCase& c = GetParam();
    EngineSettings settings;
    RecordingRequest r;
    r.path = dir / c.name;
    r.sampleFormat = c.format;
    CaptureSession session(planCapture(r, AudioSystem(settings.api).devices()), settings);
    std::this_thread::sleep_for(600ms);
    const StopResult result = session.stop();
    const auto a = readAudioFile(result.path);
    // A downgraded RF64 file is RIFF/WAVE with a WAVE_FORMAT_EXTENSIBLE fmt chunk.
    EXPECT_EQ(a.format & SF_FORMAT_TYPEMASK, c.sndfileType == SF_FORMAT_WAV ? SF_FORMAT_WAVEX : c.sndfileType);
    if (c.sndfileSubtype) {
        EXPECT_EQ(a.format & SF_FORMAT_SUBMASK, c.sndfileSubtype);
    }
    EXPECT_NEAR(a.duration(), result.duration, 0.1) << "lossy codecs pad or trim a little";
    EXPECT_GT(a.duration(), 0.5);
    // Skip the codec's start-up transient and its ringing at the abrupt end (Opus
    // overshoots to -4 dBFS in the last 3 ms of a tone cut mid-cycle) before
    // measuring the tone.
    auto x = a.channel(0);
    x.erase(x.end() - a.rate / 20, x.end());
    x.erase(x.begin(), x.begin() + a.rate / 10);
    EXPECT_NEAR(test::toneFrequency(x, a.rate), toneHz, 2.0);
    EXPECT_NEAR(test::peakDbfs(x), toneDbfs, 1.5);
}

INSTANTIATE_TEST_SUITE_P(
    AllPairs, EngineFormats,
    ::testing::Values(FormatCase{"s16.wav", SampleFormat::S16, SF_FORMAT_WAV, SF_FORMAT_PCM_16},
                      FormatCase{"s24.wav", SampleFormat::S24, SF_FORMAT_WAV, SF_FORMAT_PCM_24},
                      FormatCase{"s32.wav", SampleFormat::S32, SF_FORMAT_WAV, SF_FORMAT_PCM_32},
                      FormatCase{"f32.wav", SampleFormat::F32, SF_FORMAT_WAV, SF_FORMAT_FLOAT},
                      FormatCase{"s16.flac", SampleFormat::S16, SF_FORMAT_FLAC, SF_FORMAT_PCM_16},
                      FormatCase{"s24.flac", SampleFormat::S24, SF_FORMAT_FLAC, SF_FORMAT_PCM_24},
                      FormatCase{"take.ogg", std::nullopt, SF_FORMAT_OGG, SF_FORMAT_VORBIS},
                      FormatCase{"take.opus", std::nullopt, SF_FORMAT_OGG, SF_FORMAT_OPUS},
                      FormatCase{"take.mp3", std::nullopt, SF_FORMAT_MPEG, 0}),
    [](const auto& info) {
        std::string n = info.param.name;
        for (auto& ch : n)
            if (ch == '.')
                ch = '_';
        return n;
    });

INSTANTIATE_TEST_SUITE_P(BothApis, EngineRig, ::testing::Values(AudioApi::Pulse, AudioApi::Alsa, AudioApi::PulseNative),
                         [](const auto& info) {
                             std::string name(audioApiName(info.param));
                             std::replace(name.begin(), name.end(), '-', '_');
                             return name;
                         });

// On a rig playing the sample-counter signal (tests/rig --signal counter), every
// frame carries its own index, so frames lost or doubled are counted exactly.
// What the writer does with the frames (pause cuts, stalls, overruns, stops at a
// moment, split seams) is checked to the frame without a server, on a fake
// source (tests/unit/CaptureSessionTest.cpp); these check what the server and
// the device's clock add.
class Counter : public ::testing::Test {
protected:
    TempDir dir;
    EngineSettings settings;
    SessionHooks hooks;

    CapturePlan plan(const std::string& name)
    {
        RecordingRequest r;
        r.path = dir / name;
        return planCapture(r, AudioSystem(settings.api).devices());
    }

    // Stalls the writer once, for `how long`, half a second into the take, as a
    // disk that stops answering would.
    std::atomic<bool> stalled{false};
    void stallWriterOnce(std::chrono::milliseconds howLong)
    {
        hooks.beforeWrite = [this, howLong](std::uint64_t framesInFile) {
            if (framesInFile > 24000 && !stalled.exchange(true))
                std::this_thread::sleep_for(howLong);
        };
    }
};

TEST_F(Counter, EveryFrameArrivesOnceAndInOrder)
{
    CaptureSession session(plan("count.wav"), settings, hooks);
    std::this_thread::sleep_for(2s);
    const StopResult r = session.stop();
    const auto c = test::checkCounter(readAudioFile(r.path));
    EXPECT_EQ(c.lost, 0);
    EXPECT_EQ(c.duplicated, 0);
    EXPECT_EQ(c.lastIndex - c.firstIndex + 1, c.counted(static_cast<std::int64_t>(r.frames)))
        << c.serverSilence << " frames of silence from the sound server (the rig's feeder underran)";
}

// A stop placed at an earlier moment (when the user pressed the key) ends the
// file at the frame the device's clock says was captured then. The writer is held up from 0.5 s into the take
// until after the stop is asked for, as a slow disk would, so nothing past the
// moment has been written yet and the cut falls exactly on it.
TEST_F(Counter, AStopAtAnEarlierMomentEndsTheFileThere)
{
    stallWriterOnce(1500ms);
    CaptureSession session(plan("at.wav"), settings, hooks);
    const std::int64_t started = monotonicNs();
    std::this_thread::sleep_for(1s);
    const std::int64_t moment = monotonicNs();
    std::this_thread::sleep_for(500ms);
    const StopResult r = session.stop(moment);
    EXPECT_TRUE(stalled);
    const auto c = test::checkCounter(readAudioFile(r.path));
    EXPECT_EQ(c.lost, 0);
    EXPECT_EQ(c.duplicated, 0);
    EXPECT_EQ(c.lastIndex - c.firstIndex + 1, c.counted(static_cast<std::int64_t>(r.frames)))
        << c.serverSilence << " frames of silence from the sound server (the rig's feeder underran)";
    EXPECT_NEAR(r.duration, (moment - started) / 1e9, 0.025) << "the moment, not the 0.5 s later it was asked";
}
