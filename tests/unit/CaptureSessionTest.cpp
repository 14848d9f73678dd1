// A take's writer, marks, parts and triggers, to the frame: the session records
// from a FakeCaptureSource (why it is a fake: FakeCaptureSource.hpp) that
// delivers the counter signal as fast as the test says, into real files that
// are read back. Every frame of the source holds its own index, so where each
// cut, seam and stop falls is checked exactly. What needs a sound server (the
// device's clock, a first buffer that comes late, a server that dies) is in
// the rig tests (EngineRigTest.cpp, FaultTest.cpp).

#include "common/Errors.hpp"
#include "daemon/engine/session/CaptureSession.hpp"
#include "tests/support/AudioFile.hpp"
#include "tests/support/FakeCaptureSource.hpp"
#include "tests/support/TempDir.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

using namespace recd;
using namespace recd::test;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t rate = 48000;
constexpr std::uint64_t buffer = 480; // 10 ms

// Holds the writer at its first write until released, as a disk that stops
// answering would: what arrives meanwhile waits in the ring.
class WriterStall {
public:
    std::function<void(std::uint64_t)> hook()
    {
        return [this](std::uint64_t) {
            std::unique_lock lock(mutex_);
            if (done_)
                return;
            held_ = true;
            changed_.notify_all();
            changed_.wait(lock, [this] { return released_; });
            done_ = true;
        };
    }
    void waitUntilHeld()
    {
        std::unique_lock lock(mutex_);
        ASSERT_TRUE(changed_.wait_for(lock, 5s, [this] { return held_; })) << "the writer never wrote";
    }
    void release()
    {
        std::lock_guard lock(mutex_);
        released_ = true;
        changed_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool held_ = false;
    bool released_ = false;
    bool done_ = false;
};

class SessionOnFakeSource : public ::testing::Test {
public:
    TempDir dir;
    EngineSettings settings;
    FakeCaptureOpener opener;
    SessionHooks hooks;

    void SetUp() override
    {
        settings.bufferFrames = buffer;
        // The fake delivers only when told: between deliveries it is not a
        // device gone silent.
        settings.silentDeviceTimeout = 60s;
    }

    CapturePlan plan(const std::string& name, RecordingRequest r = {})
    {
        r.path = dir / name;
        return planCapture(r, opener.devices());
    }

    std::unique_ptr<CaptureSession> start(const CapturePlan& p)
    {
        hooks.opener = &opener;
        return std::make_unique<CaptureSession>(p, settings, hooks);
    }

    FakeCaptureSource& source() { return opener.source(); }
};

} // namespace

// The file begins at the frame being captured when the start returned, the
// first buffer (which had to arrive first) left out, and holds every frame
// from there to the stop, once and in order.
TEST_F(SessionOnFakeSource, EveryFrameFromTheStartToTheStopIsInTheFileOnceAndInOrder)
{
    auto session = start(plan("all.wav"));
    source().deliverCounter(100'000);
    const StopResult r = session->stop();
    const auto a = readAudioFile(r.path);
    const auto c = checkCounter(a);
    EXPECT_EQ(r.frames, 100'000u);
    EXPECT_EQ(a.frames, 100'000);
    EXPECT_EQ(c.firstIndex, static_cast<std::int64_t>(buffer));
    EXPECT_EQ(c.lastIndex, static_cast<std::int64_t>(buffer + 100'000 - 1));
    EXPECT_TRUE(c.jumps.empty());
    EXPECT_EQ(c.serverSilence, 0);
}

TEST_F(SessionOnFakeSource, PauseCutsOutExactlyThePausedFrames)
{
    auto session = start(plan("pause.wav"));
    source().deliverCounter(24'000);
    session->pause();
    EXPECT_EQ(session->duration(), 0.5) << "the paused count is final at once";
    source().deliverCounter(12'000);
    EXPECT_EQ(session->duration(), 0.5);
    session->resume();
    source().deliverCounter(24'000);
    const StopResult r = session->stop();
    const auto a = readAudioFile(r.path);
    const auto c = checkCounter(a);
    EXPECT_EQ(a.frames, 48'000);
    ASSERT_EQ(c.jumps.size(), 1u);
    EXPECT_EQ(c.jumps[0].first, 24'000) << "the cut is where the pause was asked";
    EXPECT_EQ(c.jumps[0].second, 12'001) << "and leaves out exactly the paused frames";
    EXPECT_EQ(c.duplicated, 0);
}

// A writer (disk) stalled while 0.8 s arrive into a ring of 1 s loses nothing.
TEST_F(SessionOnFakeSource, AStalledWriterShorterThanTheRingLosesNothing)
{
    settings.ringSeconds = 1.0;
    WriterStall stall;
    hooks.beforeWrite = stall.hook();
    auto session = start(plan("stall.wav"));
    source().deliverCounter(16'000); // settles the start, and the writer's first write stalls
    stall.waitUntilHeld();
    source().deliverCounter(24'000);
    stall.release();
    source().deliverCounter(8'000);
    const StopResult r = session->stop();
    const auto c = checkCounter(readAudioFile(r.path));
    EXPECT_EQ(r.frames, 48'000u);
    EXPECT_EQ(c.lost, 0);
    EXPECT_EQ(c.duplicated, 0);
    EXPECT_EQ(session->status().overruns, 0u);
}

// A stall longer than the ring: what did not fit is dropped, the overrun count
// says exactly how much, and the file goes on from the next frame that did.
TEST_F(SessionOnFakeSource, AStallLongerThanTheRingDropsExactlyWhatItCounts)
{
    settings.ringSeconds = 1.0;
    WriterStall stall;
    hooks.beforeWrite = stall.hook();
    auto session = start(plan("overrun.wav"));
    source().deliverCounter(16'000);
    stall.waitUntilHeld(); // the ring holds those 16000 (the first buffer was freed unwritten)
    source().deliverCounter(96'000);
    stall.release();
    for (int i = 0; i < 5000 && source().ring().readable() > 4 * 2'400; ++i)
        std::this_thread::sleep_for(1ms); // the writer drains the ring, but for its hold-back
    ASSERT_LT(source().ring().readable(), source().ring().capacity() / 2);
    source().deliverCounter(8'000);
    const StopResult r = session->stop();
    const auto status = session->status();
    const auto c = checkCounter(readAudioFile(r.path));
    const std::uint64_t ringFrames = source().ring().capacity() / 4;
    EXPECT_EQ(status.overrunFrames, 16'000 + 96'000 - ringFrames);
    EXPECT_EQ(c.lost, static_cast<std::int64_t>(status.overrunFrames)) << "every dropped frame is counted";
    ASSERT_EQ(c.jumps.size(), 1u) << "one hole, where the ring was full";
    EXPECT_EQ(c.jumps[0].first, static_cast<std::int64_t>(ringFrames));
    EXPECT_EQ(c.duplicated, 0);
    EXPECT_EQ(r.frames, 16'000 + 96'000 + 8'000 - status.overrunFrames);
}

// A stop placed at an earlier moment (when the user pressed the key) ends the
// file on the frame captured then, though more came before it was asked. The
// writer holds the newest 50 ms back for this, and less than that came after.
TEST_F(SessionOnFakeSource, AStopAtAnEarlierMomentEndsTheFileOnTheFrameCapturedThen)
{
    auto session = start(plan("at.wav"));
    source().deliverCounter(48'000);
    const std::int64_t moment = monotonicNs();
    source().deliverCounter(2'000);
    const StopResult r = session->stop(moment);
    const auto c = checkCounter(readAudioFile(r.path));
    EXPECT_EQ(r.frames, 48'000u);
    EXPECT_EQ(c.lastIndex, static_cast<std::int64_t>(buffer + 48'000 - 1));
    EXPECT_TRUE(c.jumps.empty());
}

// Where the writer has already written past the moment, the file ends where it
// got to: a written frame is never taken back, and what came after is not
// waited for.
TEST_F(SessionOnFakeSource, AStopAtAMomentAlreadyWrittenEndsWhereWritingGotTo)
{
    auto session = start(plan("late.wav"));
    source().deliverCounter(48'000);
    const std::int64_t moment = monotonicNs();
    source().deliverCounter(24'000);
    // Until the writer has been through all that arrived: all but its hold-back
    // is in the file, and the count takes the rest in.
    for (int i = 0; i < 5000 && session->status().frames < 72'000; ++i)
        std::this_thread::sleep_for(1ms);
    ASSERT_EQ(session->status().frames, 72'000u);
    const std::uint64_t written = 72'000;
    const StopResult r = session->stop(moment);
    const auto c = checkCounter(readAudioFile(r.path));
    EXPECT_GT(r.frames, 48'000u);
    EXPECT_LE(r.frames, written);
    EXPECT_TRUE(c.jumps.empty());
    EXPECT_EQ(c.lastIndex - c.firstIndex + 1, static_cast<std::int64_t>(r.frames));
}

// A stop whose moment came before the take began (a second key press racing
// the first) would leave an empty file, which FLAC cannot even hold: it counts
// from when it arrived.
TEST_F(SessionOnFakeSource, AStopAtAMomentBeforeTheTakeBeganCountsFromWhenItArrived)
{
    const std::int64_t moment = monotonicNs();
    auto session = start(plan("early.flac"));
    source().deliverCounter(9'600);
    const StopResult r = session->stop(moment);
    EXPECT_EQ(r.frames, 9'600u);
    const auto c = checkCounter(readAudioFile(r.path));
    EXPECT_EQ(c.lastIndex, static_cast<std::int64_t>(buffer + 9'600 - 1));
}

// The parts of a split take, end to end, are the take to the frame; a pause
// near a seam cuts where it was asked and moves no seam.
TEST_F(SessionOnFakeSource, SplitPartsMeetWithoutAFrameLostOrDoubled)
{
    RecordingRequest r;
    r.splitEvery = 0.25; // 12000 frames a part
    std::vector<std::filesystem::path> parts;
    std::mutex partsMutex;
    hooks.onNewFiles = [&](const std::vector<std::filesystem::path>& p) {
        std::lock_guard lock(partsMutex);
        parts.push_back(p.at(0));
    };
    auto session = start(plan("split.wav", r));
    source().deliverCounter(11'000);
    session->pause();
    source().deliverCounter(3'000);
    session->resume();
    source().deliverCounter(40'000);
    const StopResult stopped = session->stop();
    ASSERT_EQ(parts.size(), 5u);
    EXPECT_EQ(parts[0], dir / "split-001.wav");
    EXPECT_EQ(stopped.path, dir / "split-005.wav");
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(readAudioFile(parts[i]).frames, 12'000) << parts[i];
    const auto all = readParts(parts);
    EXPECT_EQ(all.frames, 51'000);
    EXPECT_EQ(stopped.frames, 51'000u) << "the stop reports the whole take";
    const auto c = checkCounter(all);
    ASSERT_EQ(c.jumps.size(), 1u) << "the pause, and nothing at the seams";
    EXPECT_EQ(c.jumps[0].first, 11'000);
    EXPECT_EQ(c.jumps[0].second, 3'001);
}

TEST_F(SessionOnFakeSource, MaxDurationEndsOnExactlyThatFrame)
{
    RecordingRequest r;
    r.maxDuration = 0.5;
    std::atomic<bool> ended{false};
    hooks.onEnded = [&] { ended = true; };
    auto session = start(plan("limited.wav", r));
    source().deliverCounter(48'000);
    for (int i = 0; i < 500 && !session->ended(); ++i)
        std::this_thread::sleep_for(1ms);
    ASSERT_TRUE(session->ended()) << "the take ends by itself, with no stop asked";
    EXPECT_TRUE(ended);
    const StopResult result = session->finish();
    EXPECT_EQ(result.reason, StopReason::MaxDuration);
    EXPECT_EQ(result.frames, 24'000u);
    const auto c = checkCounter(readAudioFile(result.path));
    EXPECT_EQ(c.lastIndex, static_cast<std::int64_t>(buffer + 24'000 - 1));
}

// Armed with start_on_sound, the take writes nothing until sound comes, then
// begins its pre-roll before it: the silence kept and then the sound from its
// first frame.
TEST_F(SessionOnFakeSource, StartOnSoundBeginsAtTheFirstSoundWithItsPreRoll)
{
    RecordingRequest r;
    r.startOnSound = true;
    r.preRoll = 0.1;
    opener.firstBufferSilent(true);
    auto session = start(plan("armed.wav", r));
    EXPECT_EQ(session->state(), SessionState::Waiting);
    source().deliverSilence(24'000);
    EXPECT_EQ(session->duration(), 0.0);
    source().deliverCounter(24'000);
    const StopResult stopped = session->stop();
    EXPECT_EQ(session->preRollFrames(), 4'800u);
    const auto a = readAudioFile(stopped.path);
    ASSERT_EQ(a.frames, 4'800 + 24'000);
    for (std::int64_t f = 0; f < 4'800; ++f)
        ASSERT_EQ(counterIndexAt(a, f), 0) << "frame " << f << " of the pre-roll is the silence before the sound";
    EXPECT_EQ(counterIndexAt(a, 4'800), static_cast<std::int64_t>(buffer + 24'000)) << "the sound from its first frame";
    EXPECT_EQ(counterIndexAt(a, a.frames - 1), static_cast<std::int64_t>(buffer + 48'000 - 1));
}

// stop_on_silence ends the take once the silence has lasted that long, and
// trims it to a half-second tail.
TEST_F(SessionOnFakeSource, StopOnSilenceEndsTheTakeAndKeepsHalfASecondOfTheSilence)
{
    RecordingRequest r;
    r.stopOnSilence = 1.0;
    auto session = start(plan("quiet.wav", r));
    source().deliverCounter(48'000);
    source().deliverSilence(60'000);
    for (int i = 0; i < 500 && !session->ended(); ++i)
        std::this_thread::sleep_for(1ms);
    ASSERT_TRUE(session->ended());
    const StopResult stopped = session->finish();
    EXPECT_EQ(stopped.reason, StopReason::Silence);
    EXPECT_EQ(stopped.frames, 48'000u + 24'000u);
    const auto a = readAudioFile(stopped.path);
    EXPECT_EQ(a.frames, 72'000);
    EXPECT_EQ(counterIndexAt(a, 47'999), static_cast<std::int64_t>(buffer + 48'000 - 1));
    EXPECT_EQ(counterIndexAt(a, 48'000), 0);
}

// A take on a running input (the pre-roll's) begins that far before the
// request, and hands the input back where it stopped reading.
TEST_F(SessionOnFakeSource, ATakeOnARunningInputBeginsItsPreRollBeforeTheRequest)
{
    RecordingRequest r;
    r.preRoll = 0.5;
    const CapturePlan p = plan("preroll.wav", r);
    auto running = std::make_unique<FakeCaptureSource>(captureFormat(p), buffer, 10 * rate);
    FakeCaptureSource& input = *running;
    input.deliverCounter(96'000);
    std::uint64_t givenBackAt = 0;
    RunningInput lent;
    lent.stream = std::move(running);
    lent.giveBack = [&](std::unique_ptr<CaptureSource>, std::uint64_t readFrame) { givenBackAt = readFrame; };
    CaptureSession session(p, settings, hooks, std::move(lent));
    input.deliverCounter(24'000);
    const StopResult stopped = session.stop();
    EXPECT_EQ(session.preRollFrames(), 24'000u);
    EXPECT_EQ(stopped.frames, 48'000u);
    const auto c = checkCounter(readAudioFile(stopped.path));
    EXPECT_EQ(c.firstIndex, 72'000);
    EXPECT_TRUE(c.jumps.empty());
    EXPECT_EQ(givenBackAt, 120'000u);
}

// An input that dies and comes back (reconnect) goes on in the same file: what
// it delivered before it died is all there, the new stream follows, and the
// break is counted as a gap.
TEST_F(SessionOnFakeSource, ALostInputThatComesBackGoesOnInTheSameFile)
{
    RecordingRequest r;
    r.reconnect = 5.0;
    auto session = start(plan("reconnect.wav", r));
    FakeCaptureSource& first = source();
    first.deliverCounter(24'000);
    first.fail();
    for (int i = 0; i < 2000 && session->status().gaps < 1; ++i)
        std::this_thread::sleep_for(1ms);
    ASSERT_EQ(opener.opened(), 2) << "the session opened the input again";
    ASSERT_EQ(session->status().gaps, 1u) << "and goes on with it";
    source().deliverCounter(24'000);
    const StopResult stopped = session->stop();
    EXPECT_EQ(stopped.reason, StopReason::Requested);
    EXPECT_EQ(session->status().gaps, 1u);
    const auto a = readAudioFile(stopped.path);
    ASSERT_EQ(a.frames, 24'000 + 480 + 24'000) << "the new stream's first buffer is audio too";
    EXPECT_EQ(counterIndexAt(a, 23'999), static_cast<std::int64_t>(buffer + 24'000 - 1)) << "nothing of the lost input lost";
    EXPECT_EQ(counterIndexAt(a, 24'001), 1) << "the new input from its first frame";
    EXPECT_EQ(counterIndexAt(a, a.frames - 1), static_cast<std::int64_t>(buffer + 24'000 - 1));
}

// Without reconnect, an input that dies ends the take as DeviceLost, with every
// frame it delivered before it died in the file.
TEST_F(SessionOnFakeSource, ALostInputEndsTheTakeKeepingEveryFrameItDelivered)
{
    std::atomic<bool> ended{false};
    hooks.onEnded = [&] { ended = true; };
    auto session = start(plan("lost.wav"));
    source().deliverCounter(24'000);
    source().fail();
    for (int i = 0; i < 2000 && !session->ended(); ++i)
        std::this_thread::sleep_for(1ms);
    ASSERT_TRUE(session->ended());
    EXPECT_TRUE(ended);
    const StopResult stopped = session->finish();
    EXPECT_EQ(stopped.reason, StopReason::DeviceLost);
    EXPECT_NE(stopped.message.find("failed"), std::string::npos) << stopped.message;
    EXPECT_EQ(stopped.frames, 24'000u);
    const auto c = checkCounter(readAudioFile(stopped.path));
    EXPECT_EQ(c.lastIndex, static_cast<std::int64_t>(buffer + 24'000 - 1));
    EXPECT_TRUE(c.jumps.empty());
}

// Two inputs: device(1) then device(2).
RecordingRequest twoInputs()
{
    RecordingRequest r;
    r.inputs = {FakeCaptureOpener::device(1).id, FakeCaptureOpener::device(2).id};
    return r;
}

// 30,000 frames to every input, 6,000 while paused, 30,000 more: the take
// expectPauseAndInputsBeside checks.
void deliverPausedTake(FakeCaptureOpener& opener, CaptureSession& session)
{
    opener.deliverCounterToAll(30'000);
    session.pause();
    opener.deliverCounterToAll(6'000);
    session.resume();
    opener.deliverCounterToAll(30'000);
}

// Every frame of the second input (channel `channel` of `second`) beside the
// first input's frame of the same instant (channels 0 and 1 of `first`): its
// counter runs secondCounter ahead.
void expectInputsBeside(const AudioFile& first, const AudioFile& second, int channel)
{
    ASSERT_EQ(second.frames, first.frames);
    for (std::int64_t f = 0; f < first.frames; ++f)
        ASSERT_EQ(counterIndexAt(second, f, channel),
                  counterIndexAt(first, f, 0) + static_cast<std::int64_t>(FakeCaptureOpener::secondCounter))
            << "frame " << f << ": the second input's frame of the same instant";
}

// A take of two inputs paused at file frame 30,000: one jump in the first
// input's counter, there, and the inputs beside each other throughout.
void expectPauseAndInputsBeside(const AudioFile& first, const AudioFile& second, int channel)
{
    const auto c = checkCounter(first);
    ASSERT_EQ(c.jumps.size(), 1u) << "the pause, on both inputs";
    EXPECT_EQ(c.jumps[0].first, 30'000);
    expectInputsBeside(first, second, channel);
}

// Two inputs on one clock, side by side: every frame of the file holds each
// input's frame captured at the same instant (the second counter runs
// secondCounter ahead of the first), through a pause and a split.
TEST_F(SessionOnFakeSource, TwoInputsLandSideBySideInTheOrderGivenAlignedToTheFrame)
{
    RecordingRequest r = twoInputs();
    r.splitEvery = 0.5;
    std::vector<std::filesystem::path> parts;
    hooks.onNewFiles = [&](const std::vector<std::filesystem::path>& p) { parts.push_back(p.at(0)); };
    auto session = start(plan("meeting.wav", r));
    EXPECT_EQ(session->plan().channels, 4u);
    deliverPausedTake(opener, *session);
    const StopResult stopped = session->stop();
    ASSERT_EQ(parts.size(), 3u);
    const auto a = readParts(parts);
    ASSERT_EQ(a.channels, 4);
    EXPECT_EQ(a.frames, 60'000);
    EXPECT_EQ(stopped.frames, 60'000u);
    expectPauseAndInputsBeside(a, a, 2);
}

// layout files: a file per input, named -in1, -in2, each holding its input's
// frames of the same instants, split at the same frame; the take is known by
// the first input's file, and every file was named before audio went in.
TEST_F(SessionOnFakeSource, AFilePerInputSplitAtTheSameFrames)
{
    RecordingRequest r = twoInputs();
    r.layout = "files";
    r.channels = 2;
    r.splitEvery = 0.5;
    std::vector<std::vector<std::filesystem::path>> announced;
    hooks.onNewFiles = [&](const std::vector<std::filesystem::path>& p) { announced.push_back(p); };
    const CapturePlan p = plan("meeting.wav", r);
    EXPECT_EQ(p.files, 2u);
    EXPECT_EQ(p.channels, 2u);
    EXPECT_EQ(p.destination.path(), dir / "meeting-in1-001.wav");
    auto session = start(p);
    deliverPausedTake(opener, *session);
    const auto status = session->status();
    ASSERT_EQ(status.inputs.size(), 2u);
    EXPECT_EQ(status.inputs[0].file, dir / fmt::format("meeting-in1-{:03}.wav", status.part));
    EXPECT_EQ(status.inputs[1].file, dir / fmt::format("meeting-in2-{:03}.wav", status.part));
    EXPECT_EQ(status.path, status.inputs[0].file);
    const StopResult stopped = session->stop();
    EXPECT_EQ(stopped.path, dir / "meeting-in1-003.wav");
    EXPECT_EQ(stopped.files, (std::vector<std::filesystem::path>{dir / "meeting-in1-003.wav", dir / "meeting-in2-003.wav"}));
    ASSERT_EQ(announced.size(), 3u);
    std::vector<std::filesystem::path> first, second;
    for (unsigned part = 1; part <= 3; ++part) {
        const auto name = [&](int input) { return dir / fmt::format("meeting-in{}-{:03}.wav", input, part); };
        EXPECT_EQ(announced[part - 1], (std::vector<std::filesystem::path>{name(1), name(2)}));
        first.push_back(name(1));
        second.push_back(name(2));
        EXPECT_EQ(readAudioFile(name(1)).frames, readAudioFile(name(2)).frames) << "part " << part;
    }
    const auto a = readParts(first);
    const auto b = readParts(second);
    ASSERT_EQ(a.channels, 2);
    ASSERT_EQ(b.channels, 2);
    EXPECT_EQ(a.frames, 60'000);
    EXPECT_EQ(b.frames, 60'000);
    EXPECT_EQ(checkCounter(a).firstIndex, static_cast<std::int64_t>(buffer));
    expectPauseAndInputsBeside(a, b, 0);
}

// Nothing is created when any input's file exists, and a take that is
// cancelled leaves none of them.
TEST_F(SessionOnFakeSource, AFilePerInputRefusesAnExistingFileAndCancelLeavesNone)
{
    RecordingRequest r = twoInputs();
    r.layout = "files";
    std::ofstream(dir / "taken-in2.wav") << "keep";
    try {
        plan("taken.wav", r);
        FAIL() << "planned over an existing file";
    } catch (const FileExists& e) {
        EXPECT_NE(std::string(e.what()).find("taken-in2.wav"), std::string::npos) << e.what();
    }
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"taken-in2.wav"});
    auto session = start(plan("gone.wav", r));
    opener.deliverCounterToAll(10'000);
    EXPECT_EQ(dir.entries(), (std::vector<std::string>{"gone-in1.wav", "gone-in2.wav", "taken-in2.wav"}));
    session->cancel();
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"taken-in2.wav"});
}

// The frames of file `a` where input 2's channels (2 and 3) are silent.
std::vector<std::int64_t> silentFramesOfTheSecond(const AudioFile& a)
{
    std::vector<std::int64_t> silent;
    for (std::int64_t f = 0; f < a.frames; ++f)
        if (counterIndexAt(a, f, 2) == 0)
            silent.push_back(f);
    return silent;
}

// Delivers to the inputs that are not stalled, 10 ms at a time, until `done`
// (the reader merges between deliveries, as it would between a device's):
// the frames delivered to those that go on.
std::uint64_t deliverUntil(FakeCaptureOpener& opener, const std::function<bool()>& done)
{
    std::uint64_t frames = 0;
    for (int step = 0; step < 500 && !done(); ++step) {
        opener.deliverCounterToAll(buffer);
        frames += buffer;
        std::this_thread::sleep_for(2ms);
    }
    return frames;
}

// `frames` to both inputs, then input `index` stalls and the other goes on
// until the session has seen the gap: the frames delivered meanwhile.
std::uint64_t stallOne(FakeCaptureOpener& opener, CaptureSession& session, std::uint64_t frames, std::size_t index)
{
    opener.deliverCounterToAll(frames);
    opener.feed(index, FakeCaptureOpener::Feed::Stalled);
    const std::uint64_t more = deliverUntil(opener, [&] { return session.status().inputs.at(index).lastGapAt >= 0; });
    EXPECT_GE(session.status().inputs.at(index).lastGapAt, 0) << "the stall was never noticed";
    return more;
}

// The second input stalls while the first goes on: the take goes on, the
// second's channels are silence from the frame it stopped at, the gap is
// counted where it began, and when it delivers again it is placed by its
// clock, beside the first input's frames of the same instant, from its first
// frame after the stall.
TEST_F(SessionOnFakeSource, AStalledInputIsSilenceWhileTheOthersGoOnAndComesBackInStep)
{
    auto session = start(plan("stall.wav", twoInputs()));
    std::uint64_t stalled = stallOne(opener, *session, 24'000, 1);
    const auto second = [&] { return session->status().inputs.at(1); };
    EXPECT_DOUBLE_EQ(second().lastGapAt, 0.5) << "where the second input's audio ended";
    EXPECT_EQ(second().report.gaps, 1u);
    opener.deliverCounterToAll(12'000);
    stalled += 12'000;
    opener.feed(1, FakeCaptureOpener::Feed::Counter);
    const auto back = [&] { return second().silence > 0 && !session->status().inputs.empty() &&
                                   session->frames() > 24'000 + stalled + 9'600; };
    const std::uint64_t after = deliverUntil(opener, back) + 24'000;
    opener.deliverCounterToAll(24'000);
    const auto during = session->status();
    EXPECT_EQ(during.state, SessionState::Recording);
    const StopResult stopped = session->stop();
    EXPECT_EQ(stopped.reason, StopReason::Requested);

    const auto a = readAudioFile(stopped.path);
    ASSERT_EQ(a.channels, 4);
    EXPECT_EQ(a.frames, static_cast<std::int64_t>(24'000 + stalled + after)) << "the first input's every frame";
    const auto c = checkCounter(a);
    EXPECT_TRUE(c.jumps.empty()) << "the first input goes on unbroken";
    // The second: its own frames, silence from 24,000, then its own again.
    std::int64_t resumed = -1;
    for (std::int64_t f = 0; f < a.frames; ++f) {
        const std::int64_t first = counterIndexAt(a, f, 0), own = counterIndexAt(a, f, 2);
        if (f < 24'000) {
            ASSERT_EQ(own, first + static_cast<std::int64_t>(FakeCaptureOpener::secondCounter)) << "frame " << f;
        } else if (own == 0) {
            ASSERT_LT(resumed, 0) << "frame " << f << ": silent again after it came back";
        } else {
            if (resumed < 0)
                resumed = f;
            // It missed `stalled` frames of the shared clock.
            ASSERT_EQ(own, first + static_cast<std::int64_t>(FakeCaptureOpener::secondCounter - stalled))
                << "frame " << f << ": beside the first input's frame of the same instant";
        }
    }
    ASSERT_GE(resumed, 0) << "the second input never came back";
    const auto due = static_cast<std::int64_t>(24'000 + stalled);
    EXPECT_EQ(resumed, due) << "none of its audio lost once it is back";
    std::cout << "second input: silent from 24000, back at " << resumed << " (its audio resumed at " << due
              << "); " << during.inputs[1].silence << " s of silence\n";
    EXPECT_NEAR(during.inputs[1].silence, static_cast<double>(resumed - 24'000) / rate, 0.001);
}

// A second input that fails (a device gone) is silence to the end of the
// take, which goes on and ends as asked.
TEST_F(SessionOnFakeSource, AFailedInputIsSilenceToTheEndOfATakeThatGoesOn)
{
    auto session = start(plan("lost.wav", twoInputs()));
    opener.deliverCounterToAll(12'000);
    opener.source().fail();
    stallOne(opener, *session, 0, 1);
    opener.deliverCounterToAll(12'000);
    ASSERT_EQ(session->state(), SessionState::Recording);
    ASSERT_FALSE(session->ended());
    const StopResult lost = session->stop();
    EXPECT_EQ(lost.reason, StopReason::Requested);
    const auto a = readAudioFile(lost.path);
    const auto silent = silentFramesOfTheSecond(a);
    ASSERT_FALSE(silent.empty());
    EXPECT_EQ(silent.front(), 12'000);
    EXPECT_EQ(static_cast<std::int64_t>(silent.size()), a.frames - 12'000) << "silent to the end";
}

// With reconnect, an input that failed (a source removed) is opened again
// while the take goes on: its channels are silence while it is away, then
// its audio again, placed by its clock and beside the first input's from
// there, every frame of it.
TEST_F(SessionOnFakeSource, WithReconnectAFailedInputIsOpenedAgainAndGoesOn)
{
    RecordingRequest r = twoInputs();
    r.reconnect = 5;
    auto session = start(plan("again.wav", r));
    opener.deliverCounterToAll(24'000);
    opener.unplug(true); // not listed: the first tries fail
    opener.source().fail();
    const auto second = [&] { return session->status().inputs.at(1); };
    deliverUntil(opener, [&] { return second().lastGapAt >= 0; });
    EXPECT_DOUBLE_EQ(second().lastGapAt, 0.5);
    EXPECT_EQ(session->state(), SessionState::Recording) << "one input failed, not the take";
    opener.deliverCounterToAll(12'000);
    opener.unplug(false);
    deliverUntil(opener, [&] { return opener.opened() == 3; });
    ASSERT_EQ(opener.opened(), 3) << "the second input was never opened again";
    // Back once audio was merged (the frames went on) with no more silence.
    SessionStatus last = session->status();
    deliverUntil(opener, [&] {
        const SessionStatus now = session->status();
        const bool back = now.frames > last.frames && now.inputs.at(1).silence == last.inputs.at(1).silence &&
                          now.inputs.at(1).silence > 0;
        last = now;
        return back && now.frames > 60'000;
    });
    opener.deliverCounterToAll(24'000);
    const auto during = session->status();
    const StopResult stopped = session->stop();
    EXPECT_EQ(stopped.reason, StopReason::Requested);

    const auto a = readAudioFile(stopped.path);
    EXPECT_TRUE(checkCounter(a).jumps.empty()) << "the first input goes on unbroken";
    std::int64_t resumed = -1, beside = 0;
    for (std::int64_t f = 24'000; f < a.frames; ++f) {
        const std::int64_t first = counterIndexAt(a, f, 0), own = counterIndexAt(a, f, 2);
        if (own == 0) {
            ASSERT_LT(resumed, 0) << "frame " << f << ": silent again after it came back";
            continue;
        }
        if (resumed < 0) {
            resumed = f;
            beside = own - first;
            EXPECT_GE(own, static_cast<std::int64_t>(FakeCaptureOpener::secondCounter)) << "the reopened input";
        }
        ASSERT_EQ(own - first, beside) << "frame " << f << ": every frame of it, beside the first input's";
    }
    ASSERT_GT(resumed, 24'000) << "the second input never came back";
    EXPECT_EQ(during.inputs[1].report.gaps, 1u);
    EXPECT_NEAR(during.inputs[1].silence, static_cast<double>(resumed - 24'000) / rate, 0.001);
    std::cout << "second input: failed at 24000, opened again and back at " << resumed << "\n";
}

// A first input that stalls hands the pace to the next: the take goes on at
// the second input's pace, the first's channels silent, and the stop cuts
// where it was asked, by the second input's clock.
TEST_F(SessionOnFakeSource, AStalledFirstInputHandsThePaceToTheNext)
{
    auto session = start(plan("paced.wav", twoInputs()));
    std::uint64_t more = stallOne(opener, *session, 12'000, 0);
    opener.deliverCounterToAll(24'000);
    more += 24'000;
    const StopResult p = session->stop();
    EXPECT_EQ(p.reason, StopReason::Requested);
    const auto b = readAudioFile(p.path);
    EXPECT_EQ(b.frames, static_cast<std::int64_t>(12'000 + more)) << "paced by the second input";
    for (std::int64_t f = 0; f < b.frames; ++f) {
        ASSERT_EQ(counterIndexAt(b, f, 2), static_cast<std::int64_t>(FakeCaptureOpener::secondCounter + buffer) + f)
            << "frame " << f << ": the second input goes on unbroken";
        if (f >= 12'000) {
            ASSERT_EQ(counterIndexAt(b, f, 0), 0) << "frame " << f << ": the stalled first input is silence";
        }
    }
}

// A take of two inputs that ended after `frames` (counted and in the file),
// each input unbroken and the second beside the first throughout.
void expectUnbrokenTakeOfTwo(const StopResult& r, std::int64_t frames)
{
    EXPECT_EQ(r.frames, static_cast<std::uint64_t>(frames));
    const auto a = readAudioFile(r.path);
    EXPECT_EQ(a.frames, frames);
    EXPECT_TRUE(checkCounter(a).jumps.empty());
    expectInputsBeside(a, a, 2);
}

// max_duration ends a take of several inputs on exactly that frame, of every
// input.
TEST_F(SessionOnFakeSource, MaxDurationEndsEveryInputOnThatFrame)
{
    RecordingRequest r = twoInputs();
    r.maxDuration = 0.5;
    auto session = start(plan("limited.wav", r));
    deliverUntil(opener, [&] { return session->ended(); });
    ASSERT_TRUE(session->ended()) << "the take ends by itself, with no stop asked";
    const StopResult result = session->finish();
    EXPECT_EQ(result.reason, StopReason::MaxDuration);
    expectUnbrokenTakeOfTwo(result, 24'000);
}

// A stop at an earlier moment (StopRecordingAt) ends every input on the frame
// captured then, by the first input's clock.
TEST_F(SessionOnFakeSource, AStopAtAnEarlierMomentEndsEveryInputOnTheFrameCapturedThen)
{
    auto session = start(plan("at.wav", twoInputs()));
    opener.deliverCounterToAll(48'000);
    const std::int64_t moment = monotonicNs();
    opener.deliverCounterToAll(2'048);
    expectUnbrokenTakeOfTwo(session->stop(moment), 48'000);
}

// stop_on_silence on several inputs: the take is silent only while every
// input is (any input loud enough is sound: the other side talking while the
// microphone is muted is not silence), and then ends as a take of one does.
TEST_F(SessionOnFakeSource, SeveralInputsAreSilentOnlyWhenEveryInputIs)
{
    RecordingRequest r = twoInputs();
    r.stopOnSilence = 1.0;
    auto session = start(plan("quiet.wav", r));
    opener.deliverCounterToAll(48'000);
    opener.feed(0, FakeCaptureOpener::Feed::Silence);
    opener.deliverCounterToAll(72'000);
    for (int i = 0; i < 2000 && session->status().frames < 110'000; ++i)
        std::this_thread::sleep_for(1ms);
    ASSERT_GE(session->status().frames, 110'000u) << "the writer has been through 1.5 s of the muted microphone";
    EXPECT_FALSE(session->ended()) << "the other side is sound";
    opener.feed(1, FakeCaptureOpener::Feed::Silence);
    deliverUntil(opener, [&] { return session->ended(); });
    ASSERT_TRUE(session->ended());
    const StopResult stopped = session->finish();
    EXPECT_EQ(stopped.reason, StopReason::Silence);
    EXPECT_EQ(stopped.frames, 120'000u + 24'000u) << "half a second of the silence kept";
    const auto a = readAudioFile(stopped.path);
    EXPECT_NE(counterIndexAt(a, 119'999, 2), 0) << "the other side, to its last frame";
    EXPECT_EQ(counterIndexAt(a, 120'000, 2), 0);
    EXPECT_EQ(counterIndexAt(a, 48'000, 0), 0) << "the muted microphone";
}

// start_on_sound on several inputs: sound on any input starts the take, at
// its first frame, with every input from that instant.
TEST_F(SessionOnFakeSource, StartOnSoundStartsAtTheFirstSoundOfAnyInput)
{
    RecordingRequest r = twoInputs();
    r.startOnSound = true;
    opener.firstBufferSilent(true);
    auto session = start(plan("armed.wav", r));
    EXPECT_EQ(session->state(), SessionState::Waiting);
    opener.feed(0, FakeCaptureOpener::Feed::Silence);
    opener.feed(1, FakeCaptureOpener::Feed::Silence);
    opener.deliverCounterToAll(24'000);
    opener.feed(1, FakeCaptureOpener::Feed::Counter);
    deliverUntil(opener, [&] { return session->state() == SessionState::Recording; });
    ASSERT_EQ(session->state(), SessionState::Recording);
    opener.deliverCounterToAll(12'000);
    const StopResult stopped = session->stop();
    const auto a = readAudioFile(stopped.path);
    ASSERT_GT(a.frames, 0);
    const auto first = counterIndexAt(a, 0, 2);
    EXPECT_EQ(first, static_cast<std::int64_t>(FakeCaptureOpener::secondCounter + buffer + 24'000))
        << "the take begins with the other side's first sound, not the silence before it";
    EXPECT_EQ(counterIndexAt(a, a.frames - 1, 2) - first, a.frames - 1) << "every frame of it from there";
    EXPECT_EQ(counterIndexAt(a, 0, 0), 0) << "the silent microphone beside it";
}

// mix sums the inputs, each at 1/n: two inputs are averaged, so the sum of
// two full-scale inputs is full scale and never clips.
TEST_F(SessionOnFakeSource, MixAveragesTheInputs)
{
    RecordingRequest r = twoInputs();
    r.layout = "mix";
    auto session = start(plan("mix.wav", r));
    EXPECT_EQ(session->plan().channels, 2u);
    opener.deliverCounterToAll(70'000);
    const StopResult stopped = session->stop();
    const auto a = readAudioFile(stopped.path);
    ASSERT_EQ(a.channels, 2);
    ASSERT_EQ(a.frames, 70'000);
    const auto sample = [](std::uint64_t index, int channel) {
        return static_cast<std::int16_t>(channel == 0 ? index & 0xFFFF : (index >> 16) & 0xFFFF);
    };
    for (std::int64_t f = 0; f < a.frames; f += 97) {
        const std::uint64_t first = buffer + static_cast<std::uint64_t>(f);
        for (int ch = 0; ch < 2; ++ch) {
            const int expected =
                (sample(first, ch) + sample(first + FakeCaptureOpener::secondCounter, ch)) / 2;
            ASSERT_EQ(std::lround(a.samples[static_cast<std::size_t>(f * 2 + ch)] * 32768.0f), expected)
                << "frame " << f << ", channel " << ch;
        }
    }
}

// Feeds two inputs in steps of 100 ms of audio, giving the writer a moment to
// merge each, as the devices would over time; the second input's clock runs
// `secondSpeed` times the first's.
void deliverOverTime(FakeCaptureOpener& opener, double seconds, double secondSpeed)
{
    for (int step = 0; step < static_cast<int>(seconds * 10); ++step) {
        opener.deliverCounterToAll(4'800, secondSpeed);
        std::this_thread::sleep_for(500us);
    }
}

// Two inputs, the second on a clock `secondSpeed` times the first's, for 20 s:
// what recd measured of the second, and the take.
std::pair<InputStatus, StopResult> twoClocks(SessionOnFakeSource& t, double secondSpeed)
{
    RecordingRequest r = twoInputs();
    auto session = t.start(t.plan("clocks.wav", r));
    deliverOverTime(t.opener, 20, secondSpeed);
    const auto status = session->status();
    EXPECT_EQ(status.inputs.size(), 2u);
    EXPECT_FALSE(status.inputs.at(0).report.corrected) << "the first input sets the pace";
    return {status.inputs.at(1), session->stop()};
}

// Inputs on one clock: the drift measured is the clocks' noise (none here),
// and nothing is resampled.
TEST_F(SessionOnFakeSource, InputsOnOneClockMeasureNoDriftAndAreNotResampled)
{
    const auto [second, stopped] = twoClocks(*this, 1.0);
    EXPECT_EQ(second.deviceId, FakeCaptureOpener::device(2).id);
    EXPECT_NEAR(second.report.driftPpm, 0.0, 1.0);
    EXPECT_FALSE(second.report.corrected);
}

// A second input whose clock runs 0.1 % fast gains 48 frames a second: once
// it has gained 1.5 ms the drift is measured (1000 ppm) and it is resampled,
// and the file goes on at the first input's pace.
TEST_F(SessionOnFakeSource, AnInputWhoseClockRunsFastIsMeasuredAndResampled)
{
    const auto [second, stopped] = twoClocks(*this, 1.001);
    EXPECT_NEAR(second.report.driftPpm, 1000.0, 20.0);
    EXPECT_TRUE(second.report.corrected);
    EXPECT_NEAR(static_cast<double>(stopped.frames), 20.0 * rate, 0.01 * rate) << "the first input's pace";
}

// split_on_silence: a part per utterance. Speech is the counter signal (every
// 10 ms block of it is above -50 dBFS), silence is zeros. Each part holds its
// utterance's every frame in order, with a quarter second of the silence
// before it (but the first) and after it; the rest of a long silence is left
// out, and a short one within an utterance is kept whole.
TEST_F(SessionOnFakeSource, SplitOnSilenceWritesAPartPerUtteranceAndLosesNoFrameOfSoundAtASeam)
{
    RecordingRequest r;
    r.splitOnSilence = 0.8; // 38,400 frames; the margin is 12,000 (0.25 s)
    auto session = start(plan("note.wav", r));
    source().deliverCounter(24'000); // indices 480..24,479
    source().deliverSilence(48'000); // 1 s: ends the utterance
    source().deliverCounter(24'000); // 72,480..96,479
    source().deliverSilence(9'600);  // 0.2 s: a pause within the utterance
    source().deliverCounter(12'000); // 106,080..118,079
    const StopResult stopped = session->stop();
    const auto parts = session->takeClosedParts();

    EXPECT_EQ(stopped.frames, 117'600u) << "the take's length, left-out silence included";
    EXPECT_EQ(stopped.path, dir / "note-002.wav");
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].number, 1u);
    EXPECT_EQ(parts[0].paths, std::vector<std::filesystem::path>{dir / "note-001.wav"});
    EXPECT_DOUBLE_EQ(parts[0].seconds, 0.75);
    EXPECT_EQ(parts[1].number, 2u);
    EXPECT_EQ(parts[1].paths, std::vector<std::filesystem::path>{dir / "note-002.wav"});
    EXPECT_DOUBLE_EQ(parts[1].seconds, 1.2);

    // Frames [from, from + n) of a file: the counter from `index` on, or zeros.
    const auto expectRun = [](const AudioFile& a, std::int64_t from, std::int64_t n, std::int64_t index) {
        for (std::int64_t f = from; f < from + n; ++f)
            ASSERT_EQ(counterIndexAt(a, f), index < 0 ? 0 : index + (f - from)) << "frame " << f;
    };
    const auto one = readAudioFile(dir / "note-001.wav");
    ASSERT_EQ(one.frames, 24'000 + 12'000);
    expectRun(one, 0, 24'000, buffer);    // the utterance, from the take's first frame
    expectRun(one, 24'000, 12'000, -1);   // its tail

    const auto two = readAudioFile(dir / "note-002.wav");
    ASSERT_EQ(two.frames, 12'000 + 24'000 + 9'600 + 12'000);
    expectRun(two, 0, 12'000, -1);                // the lead: the last 0.25 s of the silence
    expectRun(two, 12'000, 24'000, 72'480);       // every frame of the next utterance
    expectRun(two, 36'000, 9'600, -1);            // the pause within it, whole
    expectRun(two, 45'600, 12'000, 106'080);
    EXPECT_FALSE(std::filesystem::exists(dir / "note-003.wav"));
    EXPECT_FALSE(std::filesystem::exists(dir / "note.wav"));
}

// The writer reads the ring in whatever pieces it finds there, and the audio
// came in odd pieces too: parts are the same however it arrived, as the blocks
// are aligned to the take. A take stopped between utterances ends on its last
// part, made final already; a cancel deletes every part and hands none over.
TEST_F(SessionOnFakeSource, SplitOnSilencePartsDoNotDependOnHowTheAudioArrivedAndACancelKeepsNone)
{
    RecordingRequest r;
    r.splitOnSilence = 0.5; // 24,000 frames; margin 12,000
    auto session = start(plan("q.wav", r));
    for (int i = 0; i < 3; ++i) {
        for (std::uint64_t n : {7u, 4'793u, 11'200u, 5'600u}) // 0.45 s of speech
            source().deliverCounter(n);
        for (std::uint64_t n : {1u, 29'759u}) // 0.62 s of silence
            source().deliverSilence(n);
    }
    const StopResult stopped = session->stop();
    const auto parts = session->takeClosedParts();
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(stopped.path, dir / "q-003.wav") << "stopped between utterances: the last part, final already";
    for (const auto& part : parts) {
        const auto a = readAudioFile(part.paths.front());
        const std::int64_t lead = part.number == 1 ? 0 : 12'000;
        ASSERT_EQ(a.frames, lead + 21'600 + 12'000) << part.number;
        const auto first = static_cast<std::int64_t>(buffer + (part.number - 1) * (21'600 + 29'760));
        for (std::int64_t f = 0; f < 21'600; ++f)
            ASSERT_EQ(counterIndexAt(a, lead + f), first + f) << "part " << part.number << ", frame " << lead + f;
    }

    auto cancelled = start(plan("c.wav", r));
    source().deliverCounter(24'000);
    source().deliverSilence(30'000);
    source().deliverCounter(24'000);
    cancelled->cancel();
    EXPECT_TRUE(cancelled->takeClosedParts().empty());
    EXPECT_FALSE(std::filesystem::exists(dir / "c-001.wav"));
    EXPECT_FALSE(std::filesystem::exists(dir / "c-002.wav"));
}

TEST_F(SessionOnFakeSource, SplitOnSilenceIsRefusedWhereItCannotWork)
{
    const auto refused = [&](RecordingRequest r) {
        try {
            plan("x.wav", r);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    RecordingRequest both;
    both.splitOnSilence = 0.8;
    both.splitEvery = 60;
    EXPECT_NE(refused(both).find("give split_every (a part every so many seconds) or split_on_silence"),
              std::string::npos);
    RecordingRequest shorter;
    shorter.splitOnSilence = 2;
    shorter.stopOnSilence = 1;
    EXPECT_NE(refused(shorter).find("stop_on_silence (1 s) must be longer than split_on_silence (2 s)"),
              std::string::npos);
    RecordingRequest outOfRange;
    outOfRange.splitOnSilence = 0.05;
    EXPECT_NE(refused(outOfRange).find("split_on_silence"), std::string::npos) << refused(outOfRange);
    EXPECT_FALSE(std::filesystem::exists(dir / "x-001.wav"));
}
