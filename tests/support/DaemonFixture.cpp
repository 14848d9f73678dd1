#include "tests/support/DaemonFixture.hpp"

#include "tests/support/AudioFile.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <ctime>

#include <fstream>
#include <sstream>
#include <thread>

namespace recd::test {

std::string recdBinary() { return RECD_BIN; }
std::string recctlBinary() { return RECCTL_BIN; }

bool rigRunsPipeWire()
{
    const char* server = std::getenv("RIG_SERVER");
    return server && std::string(server) == "pipewire";
}

std::vector<std::string> playIntoMicrophone(const std::filesystem::path& raw, const std::string& clientName)
{
    return {"pacat", "--playback", "--raw", "--rate=48000", "--channels=2", "--format=s16le", "--device=recd_mic",
            rigRunsPipeWire() ? "--latency-msec=200" : "--latency-msec=20", "--client-name=" + clientName,
            raw.string()};
}

std::string rigMicrophoneId()
{
    // As recd names it: the source's description on PulseAudio ("Monitor of
    // recd-virtual-microphone"), the sink's on pipewire-pulse, whatever pactl says.
    const auto out = run({recctlBinary(), "devices", "--json"}).out;
    for (const auto& d : nlohmann::json::parse(out, nullptr, false))
        if (d.is_object() && d.value("is_default", false))
            return d.value("id", std::string());
    return "(no default device in: " + out + ")";
}

void DaemonTest::startDaemon(const std::string& extraConfig)
{
    std::ofstream config(configPath());
    config << "directory = \"" << (dir / "rec").string() << "\"\n";
    // RECD_TEST_AUDIO_API runs a suite on the input it names instead of the default
    // one (scripts/test runs the rig suites on both of recd's PulseAudio inputs).
    if (const char* api = std::getenv("RECD_TEST_AUDIO_API"); api && *api)
        config << "audio_api = \"" << api << "\"\n";
    config << extraConfig;
    config.close();
    daemon = std::make_unique<Child>(std::vector<std::string>{recdBinary(), "--config", configPath().string(),
                                                              "--log-level", "debug"},
                                     std::map<std::string, std::string>{
                                         {"XDG_STATE_HOME", (dir / "state").string()},
                                         // The rig's bus as recd's system bus too: the tests never
                                         // reach the machine's, and stand-ins (UPower) live there.
                                         {"DBUS_SYSTEM_BUS_ADDRESS", std::getenv("DBUS_SESSION_BUS_ADDRESS")
                                                                         ? std::getenv("DBUS_SESSION_BUS_ADDRESS")
                                                                         : ""}},
                                     (dir / "recd.log").string());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        if (!daemon->running())
            FAIL() << "recd exited at start:\n" << daemonLog();
        if (run({"busctl", "--user", "status", "org.recd.Recorder1"}).exitCode == 0)
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "recd did not take its bus name:\n" << daemonLog();
}

void DaemonTest::TearDown()
{
    if (daemon) {
        const int rc = daemon->stop(SIGTERM, std::chrono::seconds(5));
        EXPECT_EQ(rc, 0) << "recd must exit 0 on SIGTERM\n" << daemonLog();
    }
    if (HasFailure())
        std::cerr << "--- recd log ---\n" << daemonLog();
}

ProcessResult DaemonTest::recctl(const std::vector<std::string>& args, const std::string& cwd)
{
    std::vector<std::string> argv{"sh", "-c", "cd \"$0\" && exec \"$@\"", cwd.empty() ? dir.path().string() : cwd,
                                  recctlBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
}

std::string DaemonTest::daemonLog() const
{
    std::ifstream in(dir / "recd.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void expectBextAt(const std::filesystem::path& file, std::uint64_t firstSampleUsec, int rate)
{
    const auto bext = readBroadcastInfo(file);
    ASSERT_TRUE(bext) << file << " has no bext chunk";
    const std::time_t t = static_cast<std::time_t>(firstSampleUsec / 1'000'000);
    std::tm local{};
    localtime_r(&t, &local);
    char date[16], time[16];
    std::strftime(date, sizeof date, "%Y-%m-%d", &local);
    std::strftime(time, sizeof time, "%H:%M:%S", &local);
    EXPECT_EQ(bext->date, date);
    EXPECT_EQ(bext->time, time);
    EXPECT_EQ(bext->originator, "recd");
    const double sinceMidnight = local.tm_hour * 3600.0 + local.tm_min * 60.0 + local.tm_sec +
                                 static_cast<double>(firstSampleUsec % 1'000'000) / 1e6;
    EXPECT_NEAR(static_cast<double>(bext->timeReference), sinceMidnight * rate, 1.0);
}

} // namespace recd::test
