// The D-Bus surface under random and hostile use: several clients at once make
// thousands of random calls (random methods, options, value types and paths,
// including links, FIFOs, directories and device files), some clients vanish in
// the middle of a call. Afterwards recd must be alive and consistent, every
// recording it reported must be in a file that opens (or be gone if cancelled),
// recordings must never have overlapped, and nothing outside the scratch
// directory may have changed.

#include "tests/support/AudioFile.hpp"
#include "tests/support/DaemonFixture.hpp"
#include "common/MonotonicClock.hpp"
#include "client/RecorderProxy.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sdbus-c++/sdbus-c++.h>

#include <atomic>
#include <fstream>
#include <limits>
#include <mutex>
#include <random>
#include <sys/stat.h>
#include <thread>

using namespace std::chrono_literals;
using namespace recd::test;
using Options = std::map<std::string, sdbus::Variant>;

namespace {

class EventLog final : public sdbus::ProxyInterfaces<org::recd::Recorder1_proxy> {
public:
    explicit EventLog(sdbus::IConnection& bus) : ProxyInterfaces(bus, "org.recd.Recorder1", "/org/recd/Recorder1")
    {
        registerProxy();
    }
    ~EventLog() { unregisterProxy(); }
    struct Event {
        bool started;
        std::string path;
        std::string reason;
    };
    std::mutex mutex;
    std::vector<Event> events;

private:
    void onRecordingStarted(const std::string& path, const uint64_t&) override
    {
        std::lock_guard lock(mutex);
        events.push_back({true, path, ""});
    }
    void onRecordingStopped(const std::string& path, const double&, const std::string& reason) override
    {
        std::lock_guard lock(mutex);
        events.push_back({false, path, reason});
    }
    void onLevel(const std::vector<double>&, const std::vector<double>&, const double&) override {}
};

// A moment to stop at: now, a little or long ago, unset, in the future, absurd.
std::uint64_t randomMoment(std::mt19937& r)
{
    const std::uint64_t now = recd::monotonicUsec();
    switch (std::uniform_int_distribution<int>(0, 5)(r)) {
    case 0: return 0;
    case 1: return now + std::uniform_int_distribution<std::uint64_t>(1, 10'000'000)(r);
    case 2: return std::numeric_limits<std::uint64_t>::max();
    case 3: return now - std::min(now, std::uniform_int_distribution<std::uint64_t>(0, 5'000'000)(r));
    default: return now - std::min(now, std::uniform_int_distribution<std::uint64_t>(0, 20'000)(r));
    }
}

// A random value of a random D-Bus type, sometimes the right one.
sdbus::Variant randomValue(std::mt19937& r, int rightType, const sdbus::Variant& right)
{
    switch (std::uniform_int_distribution<int>(0, 6)(r)) {
    case 0: return sdbus::Variant(std::string("s16"));
    case 1: return sdbus::Variant(std::int32_t(std::uniform_int_distribution<int>(-5, 100000)(r)));
    case 2: return sdbus::Variant(std::uint32_t(std::uniform_int_distribution<std::uint32_t>(0, 2000000000)(r)));
    case 3: return sdbus::Variant(std::uniform_real_distribution<double>(-1, 1e6)(r));
    case 4: return sdbus::Variant(true);
    default: (void)rightType; return right;
    }
}

} // namespace

class FuzzTest : public DaemonTest {
protected:
    std::filesystem::path scratch, outside;

    void SetUp() override
    {
        DaemonTest::SetUp();
        scratch = dir / "scratch";
        outside = dir / "outside";
        std::filesystem::create_directories(scratch / "sub");
        std::filesystem::create_directories(outside);
        std::ofstream(outside / "target.wav") << "not to be touched";
        std::filesystem::create_symlink(outside / "target.wav", scratch / "link.wav");
        std::filesystem::create_symlink(outside / "new.wav", scratch / "dangling.wav");
        // A linked directory is followed (like ~/Music -> /data/music); only the
        // last component is never a link. This one stays inside the scratch area.
        std::filesystem::create_directory_symlink(scratch / "sub", scratch / "linkdir");
        ::mkfifo((scratch / "fifo.wav").c_str(), 0600);
        std::filesystem::create_directory(scratch / "dir.wav");
    }

    std::string randomPath(std::mt19937& r)
    {
        static const std::vector<std::string> ext{".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff", "", ".WAV"};
        const auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(r); };
        switch (pick(14)) {
        case 0: return "";                                        // named by the daemon... into dir/rec
        case 1: return "relative.wav";
        case 2: return (scratch / "link.wav").string();
        case 3: return (scratch / "dangling.wav").string();
        case 4: return (scratch / "linkdir" / "x.wav").string(); // a link in the middle of the path
        case 5: return (scratch / "fifo.wav").string();
        case 6: return (scratch / "dir.wav").string();
        case 7: return "/dev/null";
        case 8: return (scratch / std::string(300, 'n')).string() + ".wav";
        case 9: return (scratch / "nodir" / "x.wav").string();
        case 10: return (scratch / "..").string();
        case 11: return (scratch / "ünï cødé\n\t name.wav").string();
        default: return (scratch / fmt::format("take{}{}", pick(6), ext[pick(ext.size())])).string();
        }
    }

    Options randomOptions(std::mt19937& r)
    {
        Options o;
        const auto coin = [&](int p) { return std::uniform_int_distribution<int>(0, 99)(r) < p; };
        if (coin(20))
            o["rate"] = randomValue(r, 2, sdbus::Variant(std::uint32_t(coin(50) ? 48000 : 44100)));
        if (coin(20))
            o["channels"] = randomValue(r, 2, sdbus::Variant(std::uint32_t(coin(70) ? 2 : 1)));
        if (coin(15))
            o["sample_format"] = coin(70) ? sdbus::Variant(std::string(coin(50) ? "s24" : "f32"))
                                          : randomValue(r, 0, sdbus::Variant(std::string("s16")));
        if (coin(30))
            o["max_duration"] = randomValue(r, 3, sdbus::Variant(std::uniform_real_distribution<double>(0.02, 0.3)(r)));
        if (coin(20))
            o["overwrite"] = randomValue(r, 4, sdbus::Variant(coin(50)));
        if (coin(10))
            o["device"] = coin(50) ? sdbus::Variant(std::string("monitor")) : sdbus::Variant(std::string("nope"));
        if (coin(5))
            o["bogus_key"] = sdbus::Variant(std::string("x"));
        return o;
    }
};

TEST_F(FuzzTest, ThousandsOfRandomCallsFromConcurrentClients)
{
    auto signalBus = sdbus::createSessionBusConnection();
    EventLog log(*signalBus);
    signalBus->enterEventLoopAsync();

    constexpr int clients = 4;
    constexpr int callsEach = 800;
    std::atomic<int> calls{0}, refused{0}, foreignErrors{0};
    std::mutex namesMutex;
    std::map<std::string, int> errorNames;
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            std::mt19937 r(1000 + c);
            auto bus = sdbus::createSessionBusConnection();
            recctl::RecorderProxy recorder(*bus, recctl::RecorderProxy::Signals::Ignore); // the listener hears
            for (int i = 0; i < callsEach; ++i) {
                try {
                    switch (std::uniform_int_distribution<int>(0, 13)(r)) {
                    case 0:
                    case 1:
                    case 2: recorder.StartRecording(randomPath(r), randomOptions(r)); break;
                    case 3: recorder.ToggleRecording(randomPath(r), randomOptions(r)); break;
                    case 4:
                        if (i % 2)
                            recorder.StopRecording();
                        else
                            recorder.StopRecordingAt(randomMoment(r));
                        break;
                    case 5: recorder.PauseRecording(); break;
                    case 6: recorder.ResumeRecording(); break;
                    case 7: recorder.CancelRecording(); break;
                    case 8: recorder.GetDuration(); break;
                    case 9: recorder.GetStatus(); break;
                    case 10: recorder.State(); break;
                    case 11: recorder.WatchLevels(); break; // clients that leave still watching, too
                    case 12: recorder.UnwatchLevels(); break;
                    default: if (i % 20 == 0) recorder.ListDevices(); else recorder.Path(); break;
                    }
                } catch (const sdbus::Error& e) {
                    ++refused;
                    if (e.getName().rfind("org.recd.Recorder1.Error.", 0) != 0)
                        ++foreignErrors;
                    std::lock_guard lock(namesMutex);
                    ++errorNames[e.getName()];
                }
                ++calls;
            }
        });
    }
    // Clients that vanish in the middle of a call.
    threads.emplace_back([&] {
        for (int i = 0; i < 30; ++i)
            run({"timeout", "-s", "KILL", "0.02", recctlBinary(), i % 2 ? "toggle" : "devices"});
    });
    for (auto& t : threads)
        t.join();

    ASSERT_TRUE(daemon->running()) << "recd survived";
    auto bus = sdbus::createSessionBusConnection();
    recctl::RecorderProxy recorder(*bus, recctl::RecorderProxy::Signals::Hear);
    if (recorder.State() != "idle")
        recorder.StopRecording();
    EXPECT_EQ(recorder.State(), "idle");
    std::this_thread::sleep_for(300ms); // let the last signals arrive
    signalBus->leaveEventLoop();

    std::string names;
    for (const auto& [n, k] : errorNames)
        names += fmt::format("\n  {} x{}", n, k);
    std::cout << fmt::format("calls: {}, refused: {}, recordings: {}{}\n", calls.load(), refused.load(),
                             std::count_if(log.events.begin(), log.events.end(), [](auto& e) { return e.started; }),
                             names);
    RecordProperty("fuzz_calls", calls.load());
    EXPECT_EQ(foreignErrors, 0) << "every refusal is a named recd error" << names;

    // Recordings never overlapped: started and stopped alternate.
    std::map<std::string, std::string> lastReason;
    bool expectStart = true;
    int recordings = 0;
    for (const auto& e : log.events) {
        EXPECT_EQ(e.started, expectStart) << "two recordings at once, or a stop without a start: " << e.path;
        expectStart = !e.started;
        if (e.started)
            ++recordings;
        else
            lastReason[e.path] = e.reason;
    }
    EXPECT_GT(recordings, 10);
    for (const auto& [path, reason] : lastReason) {
        const std::filesystem::path p(path);
        EXPECT_TRUE(p.parent_path() == scratch || p.parent_path() == scratch / "linkdir" ||
                    p.parent_path() == dir / "rec")
            << path;
        if (reason == "cancelled") {
            EXPECT_FALSE(std::filesystem::exists(p)) << path;
        } else {
            EXPECT_NO_THROW(readAudioFile(p)) << path << " (" << reason << ")";
        }
    }

    // Nothing outside the scratch directory was touched.
    std::ifstream in(outside / "target.wav");
    std::string contents;
    std::getline(in, contents);
    EXPECT_EQ(contents, "not to be touched");
    EXPECT_FALSE(std::filesystem::exists(outside / "new.wav"));
    std::size_t outsideEntries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(outside))
        ++outsideEntries;
    EXPECT_EQ(outsideEntries, 1u);
    EXPECT_TRUE(std::filesystem::is_symlink(scratch / "link.wav"));
    EXPECT_TRUE(std::filesystem::is_fifo(scratch / "fifo.wav"));
    for (const auto& e : std::filesystem::directory_iterator(scratch))
        EXPECT_EQ(e.path().filename().string().find(".recd-"), std::string::npos) << "temporary left: " << e.path();
}

TEST_F(FuzzTest, ManyRecctlProcessesAtOnceNeverMakeTwoRecordings)
{
    for (int round = 0; round < 6; ++round) {
        std::vector<std::thread> threads;
        std::vector<ProcessResult> results(8);
        const std::vector<std::vector<std::string>> commands{
            {"toggle"}, {"start"}, {"stop"}, {"status"}, {"toggle"}, {"start"}, {"duration"}, {"toggle"}};
        for (std::size_t i = 0; i < commands.size(); ++i)
            threads.emplace_back([&, i] { results[i] = recctl(commands[i]); });
        for (auto& t : threads)
            t.join();
        for (std::size_t i = 0; i < results.size(); ++i)
            EXPECT_TRUE(results[i].exitCode == 0 || results[i].exitCode == 4 || results[i].exitCode == 5)
                << commands[i][0] << ": " << results[i].exitCode << " " << results[i].err;
        const auto status = recctl({"status"});
        EXPECT_EQ(status.exitCode, 0);
        recctl({"stop"});
    }
    std::size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir / "rec")) {
        ++files;
        EXPECT_NO_THROW(readAudioFile(e.path())) << e.path();
    }
    EXPECT_GT(files, 0u);
    EXPECT_TRUE(daemon->running());
}
