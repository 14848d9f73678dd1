// recd on the desktop, with the real recd and recctl on the rig: live status
// for bars and scripts (`recctl status --follow`), and media players paused
// during a take (pause_players).

#include "tests/support/AudioFile.hpp"
#include "tests/support/DaemonFixture.hpp"
#include "tests/support/DesktopStandIns.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sdbus-c++/sdbus-c++.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <iterator>
#include <fstream>
#include <mutex>
#include <iostream>
#include <sstream>
#include <thread>

using namespace std::chrono_literals;
using namespace recd::test;

namespace {

std::vector<std::string> linesOf(const std::filesystem::path& file)
{
    std::ifstream in(file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

// recctl status --follow with these arguments, its output into a file.
std::unique_ptr<Child> follow(const std::filesystem::path& file, std::vector<std::string> args)
{
    std::vector<std::string> argv{"sh", "-c", "exec \"$0\" status --follow \"$@\" > \"$OUT\"", recctlBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<Child>(argv, std::map<std::string, std::string>{{"OUT", file.string()}},
                                   file.string() + ".err");
}

std::vector<std::string> await(const std::filesystem::path& file, std::size_t n)
{
    waitFor([&] { return linesOf(file).size() >= n; }, 5s);
    return linesOf(file);
}

} // namespace

// One take, started, paused, resumed and stopped, as each format shows it. The
// pauses sit between whole seconds, so the lines are exact: the elapsed time
// counts recorded seconds, and a line comes once per whole second at most.
TEST_F(DaemonTest, StatusFollowPrintsALinePerChangeInEachFormat)
{
    const auto text = dir / "follow.txt", json = dir / "follow.json", bar = dir / "follow.waybar";
    auto t = follow(text, {});
    auto j = follow(json, {"--json"});
    auto w = follow(bar, {"--format", "waybar"});
    ASSERT_EQ(await(text, 1).size(), 1u);
    ASSERT_EQ(await(json, 1).size(), 1u);
    ASSERT_EQ(await(bar, 1).size(), 1u);

    const auto file = (dir / "take.wav").string();
    ASSERT_EQ(recctl({"start", file}).exitCode, 0);
    std::this_thread::sleep_for(1400ms);
    ASSERT_EQ(recctl({"pause"}).exitCode, 0);
    std::this_thread::sleep_for(1500ms); // paused: nothing more to say
    ASSERT_EQ(recctl({"resume"}).exitCode, 0);
    std::this_thread::sleep_for(300ms);
    const auto stopped = recctl({"stop"});
    ASSERT_EQ(stopped.exitCode, 0);
    const std::string seconds = stopped.out.substr(stopped.out.find('\t') + 1, 5);

    EXPECT_EQ(await(text, 6), (std::vector<std::string>{"idle", "recording\t0:00\t" + file, "recording\t0:01\t" + file,
                                                         "paused\t0:01\t" + file, "recording\t0:01\t" + file, "idle"}));

    const auto jl = await(json, 6);
    ASSERT_EQ(jl.size(), 6u);
    const auto line = [&](const char* state, int elapsed, const std::string& path) {
        return nlohmann::json{{"state", state}, {"path", path}, {"elapsed", elapsed}}.dump();
    };
    EXPECT_EQ(jl[0], line("idle", 0, ""));
    EXPECT_EQ(jl[1], line("recording", 0, file));
    EXPECT_EQ(jl[2], line("recording", 1, file));
    EXPECT_EQ(jl[3], line("paused", 1, file));
    EXPECT_EQ(jl[4], line("recording", 1, file));
    const auto last = nlohmann::json::parse(jl[5]);
    EXPECT_EQ(last["state"], "idle");
    EXPECT_EQ(last["path"], "");
    EXPECT_EQ(last["last_path"], file);
    EXPECT_EQ(last["last_reason"], "requested");
    EXPECT_EQ(fmt::format("{:.3f}", last["last_duration"].get<double>()), seconds) << "what stop printed";

    const auto wl = await(bar, 6);
    ASSERT_EQ(wl.size(), 6u);
    const auto module = [](const std::string& textField, const std::string& tooltip, const char* cls) {
        return nlohmann::json{{"text", textField}, {"tooltip", tooltip}, {"class", cls}, {"alt", cls}}.dump();
    };
    EXPECT_EQ(wl[0], module("", "Not recording", "idle"));
    EXPECT_EQ(wl[1], module("⏺ 0:00", "Recording " + file + "\n0:00", "recording"));
    EXPECT_EQ(wl[2], module("⏺ 0:01", "Recording " + file + "\n0:01", "recording"));
    EXPECT_EQ(wl[3], module("⏸ 0:01", "Paused " + file + "\n0:01", "paused"));
    EXPECT_EQ(wl[4], module("⏺ 0:01", "Recording " + file + "\n0:01", "recording"));
    EXPECT_EQ(wl[5], module("", "Not recording\nlast: " + file + " (0:01, requested)", "idle"));

    // Nothing more while idle, and Ctrl-C (SIGINT) ends each.
    std::this_thread::sleep_for(1200ms);
    EXPECT_EQ(linesOf(text).size(), 6u);
    for (auto* c : {t.get(), j.get(), w.get()})
        EXPECT_EQ(c->stop(SIGINT), -1) << "ended by the signal";
}

// An armed take (start_on_sound) is "waiting"; recd leaving the bus is shown,
// so a bar never goes on showing a take that is gone.
TEST_F(DaemonTest, StatusFollowShowsAnArmedTakeAndRecdGoingAway)
{
    const auto bar = dir / "follow.waybar";
    auto w = follow(bar, {"--format", "waybar"});
    ASSERT_EQ(await(bar, 1).size(), 1u);
    const auto file = (dir / "armed.wav").string();
    // The rig's tone peaks at -6 dBFS: below a threshold of -0.1 dBFS it is
    // silence, and the take stays armed.
    ASSERT_EQ(recctl({"start", file, "--start-on-sound", "--silence-threshold", "-0.1"}).exitCode, 0);
    auto wl = await(bar, 2);
    ASSERT_EQ(wl.size(), 2u);
    EXPECT_EQ(nlohmann::json::parse(wl[1])["class"], "waiting");
    EXPECT_EQ(nlohmann::json::parse(wl[1])["tooltip"], "Armed: " + file + " begins at the first sound");
    ASSERT_EQ(recctl({"cancel"}).exitCode, 0);
    wl = await(bar, 3);
    ASSERT_EQ(wl.size(), 3u);
    EXPECT_EQ(nlohmann::json::parse(wl[2])["class"], "idle");

    ASSERT_EQ(daemon->stop(SIGTERM), 0);
    daemon.reset();
    wl = await(bar, 4);
    ASSERT_EQ(wl.size(), 4u);
    EXPECT_EQ(wl[3], (nlohmann::json{{"text", ""}, {"tooltip", "recd is not running"}, {"class", "idle"},
                                      {"alt", "idle"}}.dump()));
}

// Players paused during a take, with stand-in players (why stand-ins:
// tests/support/DesktopStandIns.hpp).
namespace {
using Calls = std::vector<std::string>;
} // namespace

class PlayersTest : public DaemonTest {
protected:
    void SetUp() override { startDaemon("pause_players = true\n"); }
};

TEST_F(PlayersTest, OnlyThePlayersThatPlayArePausedAndPlayedAgainWhenTheTakeEnds)
{
    StandInPlayer music("music", "Playing"), podcast("podcast", "Paused"), radio("radio", "Stopped");
    ASSERT_EQ(recctl({"start", (dir / "a.wav").string()}).exitCode, 0);
    EXPECT_TRUE(waitFor([&] { return music.playbackStatus() == "Paused"; }, 3s));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(music.called(), Calls{"Pause"});
    EXPECT_EQ(podcast.called(), Calls{}) << "the user paused it: not recd's to touch";
    EXPECT_EQ(radio.called(), Calls{});
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
    EXPECT_TRUE(waitFor([&] { return music.playbackStatus() == "Playing"; }, 3s));
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(music.called(), (Calls{"Pause", "Play"}));
    EXPECT_EQ(podcast.called(), Calls{});
    EXPECT_EQ(radio.called(), Calls{});

    // A take that ends by itself (max_duration) plays them again too, and a
    // cancelled one.
    ASSERT_EQ(recctl({"start", (dir / "b.wav").string(), "--max-duration", "0.5"}).exitCode, 0);
    ASSERT_EQ(recctl({"wait"}).exitCode, 0);
    EXPECT_TRUE(waitFor([&] { return music.called().size() == 4; }, 3s));
    ASSERT_EQ(recctl({"start", (dir / "c.wav").string()}).exitCode, 0);
    EXPECT_TRUE(waitFor([&] { return music.called().size() == 5; }, 3s));
    ASSERT_EQ(recctl({"cancel"}).exitCode, 0);
    EXPECT_TRUE(waitFor([&] { return music.called().size() == 6; }, 3s));
    EXPECT_EQ(music.called(), (Calls{"Pause", "Play", "Pause", "Play", "Pause", "Play"}));
    EXPECT_EQ(podcast.called(), Calls{});
}

TEST_F(PlayersTest, APlayerTheUserTouchedOrThatLeftIsNotPlayedAgain)
{
    StandInPlayer played("played", "Playing"), stopped("stopped", "Playing"), kept("kept", "Playing");
    auto leaving = std::make_unique<StandInPlayer>("leaving", "Playing");
    ASSERT_EQ(recctl({"start", (dir / "a.wav").string()}).exitCode, 0);
    for (auto* p : {&played, &stopped, &kept, leaving.get()})
        EXPECT_TRUE(waitFor([&] { return p->playbackStatus() == "Paused"; }, 3s));
    std::this_thread::sleep_for(200ms);
    played.set("Playing");  // the user wants the music back during the take
    stopped.set("Stopped"); // ... or stopped the player
    leaving.reset();        // a player that quits during the take
    // Another comes with the same name: it is not the player recd paused.
    StandInPlayer again("leaving", "Paused");
    std::this_thread::sleep_for(300ms);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
    EXPECT_TRUE(waitFor([&] { return kept.playbackStatus() == "Playing"; }, 3s));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(kept.called(), (Calls{"Pause", "Play"}));
    EXPECT_EQ(played.called(), Calls{"Pause"});
    EXPECT_EQ(stopped.called(), Calls{"Pause"});
    EXPECT_EQ(again.called(), Calls{});
    EXPECT_EQ(again.playbackStatus(), "Paused");
    const auto log = daemonLog();
    EXPECT_NE(log.find("org.mpris.MediaPlayer2.played was played during the take"), std::string::npos) << log;
    EXPECT_NE(log.find("org.mpris.MediaPlayer2.stopped was stopped during the take"), std::string::npos) << log;
    EXPECT_NE(log.find("org.mpris.MediaPlayer2.leaving left the bus during the take"), std::string::npos) << log;
}

TEST_F(DaemonTest, NoPlayerIsTouchedUnlessConfigured)
{
    StandInPlayer music("music", "Playing");
    ASSERT_EQ(recctl({"start", (dir / "a.wav").string()}).exitCode, 0);
    std::this_thread::sleep_for(300ms);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(music.called(), Calls{});
}

// Global shortcuts through the portal, with a stand-in portal (why:
// tests/support/DesktopStandIns.hpp) that the test presses keys on.

class ShortcutsTest : public DaemonTest {
protected:
    std::unique_ptr<StandInPortal> portal;
    void SetUp() override
    {
        portal = std::make_unique<StandInPortal>(); // there before recd, as on a desktop
        startDaemon("shortcuts = true\nshortcut_toggle = \"CTRL+ALT+R\"\nshortcut_push_to_talk = \"LOGO+SPACE\"\n");
        ASSERT_TRUE(waitFor([&] { return portal->ready(); }, 5s)) << daemonLog();
    }
    std::string state() { return nlohmann::json::parse(recctl({"status", "--json"}).out)["state"]; }
    nlohmann::json status() { return nlohmann::json::parse(recctl({"status", "--json"}).out); }
};

TEST_F(ShortcutsTest, RecdRegistersItsAppIdAndBindsBothShortcutsWithTheirKeys)
{
    std::lock_guard lock(portal->mutex);
    EXPECT_EQ(portal->order, "Register CreateSession BindShortcuts") << "the app id first, as portals 1.20 on want";
    EXPECT_EQ(portal->registered, std::vector<std::string>{"org.recd.recd"});
    ASSERT_EQ(portal->bound.size(), 2u);
    EXPECT_EQ(portal->bound[0].get<0>(), "toggle");
    EXPECT_EQ(portal->bound[0].get<1>().at("description").get<std::string>(), "Toggle recording");
    EXPECT_EQ(portal->bound[0].get<1>().at("preferred_trigger").get<std::string>(), "CTRL+ALT+R");
    EXPECT_EQ(portal->bound[1].get<0>(), "push-to-talk");
    EXPECT_EQ(portal->bound[1].get<1>().at("preferred_trigger").get<std::string>(), "LOGO+SPACE");
    EXPECT_NE(daemonLog().find("global shortcuts bound through the portal: toggle (Ctrl+Alt+R)"), std::string::npos)
        << daemonLog();
}

TEST_F(ShortcutsTest, ToggleStartsAndStopsAndItsKeyRepeatIsOnePress)
{
    portal->key(true, "toggle");
    for (int i = 0; i < 5; ++i)
        portal->key(true, "toggle", 30); // the key repeating while held
    portal->key(false, "toggle", 30);
    ASSERT_TRUE(waitFor([&] { return state() == "recording"; }, 3s));
    std::this_thread::sleep_for(600ms);
    EXPECT_EQ(state(), "recording") << "repeats are not presses";
    portal->key(true, "toggle", 600);
    portal->key(false, "toggle", 50);
    ASSERT_TRUE(waitFor([&] { return state() == "idle"; }, 3s));
    const auto s = status();
    EXPECT_EQ(s["last_reason"], "requested");
    EXPECT_NEAR(s["last_duration"].get<double>(), 0.6, 0.2);
}

// The file ends where the key came up by the portal's clock, not when the
// release reached recd. recd ends it there as StopRecordingAt does, which
// keeps the newest 50 ms unwritten for it (tested to the frame in DaemonTest
// and the unit tests); here the release comes 40 ms late by the portal's
// times, and recd stops at the moment the portal reports.
TEST_F(ShortcutsTest, PushToTalkRecordsWhileHeldAndEndsAtTheReleaseThePortalReports)
{
    const auto pressed = std::chrono::steady_clock::now();
    portal->key(true, "push-to-talk");
    ASSERT_TRUE(waitFor([&] { return state() == "recording"; }, 3s));
    for (int i = 0; i < 3; ++i)
        portal->key(true, "push-to-talk", 40); // repeats
    std::this_thread::sleep_until(pressed + 1040ms);
    portal->key(false, "push-to-talk", 1000 - 120); // held 1.000 s by the portal's clock, the repeats included
    ASSERT_TRUE(waitFor([&] { return state() == "idle"; }, 3s));
    EXPECT_NE(daemonLog().find("push to talk: released after 1.000 s"), std::string::npos) << daemonLog();
    const auto s = status();
    const double seconds = s["last_duration"].get<double>();
    EXPECT_LE(seconds, 1.0) << "from the start (after the press) to the release the portal reported";
    EXPECT_GT(seconds, 0.75) << "the start takes a buffer or two";
    const auto a = readAudioFile(s["last_path"].get<std::string>());
    EXPECT_NEAR(a.duration(), seconds, 0.001);
    EXPECT_NEAR(toneFrequency(a.channel(0), a.rate), 440.0, 2.0);
}

TEST_F(ShortcutsTest, PushToTalkLeavesATakeStartedOtherwiseAlone)
{
    const auto file = dir / "meeting.wav";
    ASSERT_EQ(recctl({"start", file.string()}).exitCode, 0);
    portal->key(true, "push-to-talk");
    portal->key(false, "push-to-talk", 300);
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(state(), "recording");
    EXPECT_NE(daemonLog().find("push to talk: a take is recording already, started otherwise; it is left as it is"),
              std::string::npos);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
}

// A release that never comes: the session closes, or the portal leaves the
// bus, while the key is held. The take is stopped then, not left running.
TEST_F(ShortcutsTest, PushToTalkStopsWhenTheReleaseCannotComeAnyMore)
{
    portal->key(true, "push-to-talk");
    ASSERT_TRUE(waitFor([&] { return state() == "recording"; }, 3s));
    std::this_thread::sleep_for(300ms);
    portal->closeSession();
    ASSERT_TRUE(waitFor([&] { return state() == "idle"; }, 3s));
    EXPECT_NE(daemonLog().find("push to talk: the shortcuts' session was closed, so the key's release cannot come"),
              std::string::npos)
        << daemonLog();
    EXPECT_GT(status()["last_duration"].get<double>(), 0.2);
}

TEST_F(ShortcutsTest, PushToTalkStopsWhenThePortalGoesAway)
{
    portal->key(true, "push-to-talk");
    ASSERT_TRUE(waitFor([&] { return state() == "recording"; }, 3s));
    std::this_thread::sleep_for(300ms);
    portal.reset();
    ASSERT_TRUE(waitFor([&] { return state() == "idle"; }, 3s));
    EXPECT_NE(daemonLog().find("push to talk: the desktop portal went away"), std::string::npos) << daemonLog();
    EXPECT_EQ(recctl({"toggle"}).exitCode, 0) << "recd goes on without its shortcuts";
    EXPECT_EQ(recctl({"stop"}).exitCode, 0);
}

// Without a portal recd says so once, and goes on.
class NoPortalTest : public DaemonTest {
protected:
    void SetUp() override { startDaemon("shortcuts = true\n"); }
};

TEST_F(NoPortalTest, ShortcutsWithoutAPortalCostOneClearLineAndRecdGoesOn)
{
    ASSERT_TRUE(waitFor([&] { return daemonLog().find("no global shortcuts") != std::string::npos; }, 5s))
        << daemonLog();
    const auto log = daemonLog();
    EXPECT_NE(log.find("no global shortcuts: no desktop portal on the bus"), std::string::npos) << log;
    EXPECT_NE(log.find("bind `recctl toggle` in the desktop's keyboard settings instead"), std::string::npos);
    EXPECT_EQ(log.find("no global shortcuts"), log.rfind("no global shortcuts")) << "one line";
    EXPECT_EQ(recctl({"toggle"}).exitCode, 0);
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(recctl({"stop"}).exitCode, 0);
}

// The tray item, with a stand-in watcher (why: tests/support/DesktopStandIns.hpp);
// the test then reads the item's properties and uses its menu
// (com.canonical.dbusmenu) as a panel does.
namespace {

// What a panel reads and calls: the item's properties, its menu.
struct Panel {
    using Properties = std::map<std::string, sdbus::Variant>;
    using Layout = sdbus::Struct<std::int32_t, Properties, std::vector<sdbus::Variant>>;
    std::unique_ptr<sdbus::IConnection> bus = sdbus::createSessionBusConnection();
    std::unique_ptr<sdbus::IProxy> item, menu;
    std::mutex mutex;
    int newIcons = 0, layoutUpdates = 0;

    explicit Panel(const std::string& service)
        : item(sdbus::createProxy(*bus, service, "/StatusNotifierItem")),
          menu(sdbus::createProxy(*bus, service, "/MenuBar"))
    {
        item->uponSignal("NewIcon").onInterface("org.kde.StatusNotifierItem").call([this] {
            std::lock_guard lock(mutex);
            ++newIcons;
        });
        item->finishRegistration();
        menu->uponSignal("LayoutUpdated").onInterface("com.canonical.dbusmenu").call([this](std::uint32_t, std::int32_t) {
            std::lock_guard lock(mutex);
            ++layoutUpdates;
        });
        menu->finishRegistration();
        bus->enterEventLoopAsync();
    }
    ~Panel() { bus->leaveEventLoop(); }
    sdbus::Variant property(const std::string& name)
    {
        return item->getProperty(name).onInterface("org.kde.StatusNotifierItem");
    }
    std::string icon() { return property("IconName").get<std::string>(); }
    // label -> enabled, in the menu's order.
    std::vector<std::pair<std::string, bool>> entries()
    {
        std::uint32_t revision = 0;
        Layout root;
        menu->callMethod("GetLayout")
            .onInterface("com.canonical.dbusmenu")
            .withArguments(std::int32_t{0}, std::int32_t{-1}, std::vector<std::string>{})
            .storeResultsTo(revision, root);
        std::vector<std::pair<std::string, bool>> out;
        for (const auto& child : root.get<2>()) {
            const auto entry = child.get<Layout>();
            const auto& p = entry.get<1>();
            if (p.count("type"))
                out.emplace_back("---", false);
            else
                out.emplace_back(p.at("label").get<std::string>(), p.at("enabled").get<bool>());
        }
        return out;
    }
    void click(std::int32_t id)
    {
        menu->callMethod("Event")
            .onInterface("com.canonical.dbusmenu")
            .withArguments(id, std::string("clicked"), sdbus::Variant(std::string()), std::uint32_t{0});
    }
};

using Entries = std::vector<std::pair<std::string, bool>>;

} // namespace

class TrayTest : public DaemonTest {
protected:
    StandInWatcher watcher;
    void SetUp() override { startDaemon("tray = true\n"); }
    std::string state() { return nlohmann::json::parse(recctl({"status", "--json"}).out)["state"]; }
};

TEST_F(TrayTest, TheItemShowsTheStateAndItsMenuStartsPausesStopsAndCancels)
{
    const std::string service = watcher.item();
    ASSERT_EQ(service.rfind("org.kde.StatusNotifierItem-", 0), 0u) << daemonLog();
    Panel panel(service);
    EXPECT_EQ(panel.property("Id").get<std::string>(), "recd");
    EXPECT_EQ(panel.property("Status").get<std::string>(), "Passive");
    EXPECT_EQ(panel.icon(), "audio-input-microphone");
    EXPECT_EQ(panel.property("Menu").get<sdbus::ObjectPath>(), "/MenuBar");
    const auto tip = panel.property("ToolTip").get<sdbus::Struct<std::string, std::vector<sdbus::Struct<std::int32_t, std::int32_t, std::vector<std::uint8_t>>>, std::string, std::string>>();
    EXPECT_EQ(tip.get<2>(), "recd");
    EXPECT_EQ(tip.get<3>(), "Not recording; click to start");
    EXPECT_EQ(panel.entries(), (Entries{{"Start recording", true}, {"Pause", false}, {"Cancel (delete the take)", false},
                                        {"---", false}, {"Open the recordings folder", true}}));

    panel.click(1); // Start recording
    ASSERT_TRUE(waitFor([&] { return state() == "recording"; }, 3s));
    ASSERT_TRUE(waitFor([&] { std::lock_guard lock(panel.mutex); return panel.newIcons >= 1 && panel.layoutUpdates >= 1; }, 3s));
    EXPECT_EQ(panel.icon(), "media-record");
    EXPECT_EQ(panel.property("Status").get<std::string>(), "Active");
    EXPECT_EQ(panel.entries(), (Entries{{"Stop and save", true}, {"Pause", true}, {"Cancel (delete the take)", true},
                                        {"---", false}, {"Open the recordings folder", true}}));
    panel.click(2); // Pause
    EXPECT_EQ(state(), "paused");
    EXPECT_EQ(panel.icon(), "media-playback-pause");
    EXPECT_EQ(panel.entries().at(1), (std::pair<std::string, bool>{"Resume", true}));
    panel.click(2); // Resume
    EXPECT_EQ(state(), "recording");
    std::this_thread::sleep_for(300ms);
    panel.click(1); // Stop and save
    ASSERT_TRUE(waitFor([&] { return state() == "idle"; }, 3s));
    const auto saved = nlohmann::json::parse(recctl({"status", "--json"}).out);
    EXPECT_EQ(saved["last_reason"], "requested");
    EXPECT_TRUE(std::filesystem::exists(saved["last_path"].get<std::string>()));
    EXPECT_EQ(panel.icon(), "audio-input-microphone");

    panel.click(1);
    ASSERT_TRUE(waitFor([&] { return state() == "recording"; }, 3s));
    const std::string path = panel.property("ToolTip")
                                 .get<sdbus::Struct<std::string, std::vector<sdbus::Struct<std::int32_t, std::int32_t, std::vector<std::uint8_t>>>, std::string, std::string>>()
                                 .get<3>()
                                 .substr(std::string("Recording to ").size());
    EXPECT_TRUE(std::filesystem::exists(path)) << path;
    panel.click(3); // Cancel
    ASSERT_TRUE(waitFor([&] { return state() == "idle"; }, 3s));
    EXPECT_FALSE(std::filesystem::exists(path)) << "cancelled: deleted";
    EXPECT_EQ(nlohmann::json::parse(recctl({"status", "--json"}).out)["last_reason"], "cancelled");

    // Open the folder: the desktop's file manager is asked over D-Bus, so it
    // runs as its own service, not under recd's unit. A stand-in for one
    // (none runs headless) notes what it was asked to show.
    {
        auto fileManagerBus = sdbus::createSessionBusConnection("org.freedesktop.FileManager1");
        auto fileManager = sdbus::createObject(*fileManagerBus, "/org/freedesktop/FileManager1");
        std::mutex shownMutex;
        std::vector<std::string> shown;
        fileManager->registerMethod("ShowFolders")
            .onInterface("org.freedesktop.FileManager1")
            .implementedAs([&](const std::vector<std::string>& uris, const std::string&) {
                std::lock_guard lock(shownMutex);
                shown.insert(shown.end(), uris.begin(), uris.end());
            });
        fileManager->finishRegistration();
        fileManagerBus->enterEventLoopAsync();
        panel.click(5);
        ASSERT_TRUE(waitFor([&] { std::lock_guard lock(shownMutex); return !shown.empty(); }, 3s));
        std::lock_guard lock(shownMutex);
        EXPECT_EQ(shown, std::vector<std::string>{"file://" + (dir / "rec").string()}) << "the last take's folder";
        fileManagerBus->leaveEventLoop();
    }
    // Where no file manager answers: xdg-open, not waited for.
    panel.click(5);
    ASSERT_TRUE(waitFor([&] { return daemonLog().find("open the folder hook 'xdg-open'") != std::string::npos; }, 3s))
        << daemonLog();
    EXPECT_NE(daemonLog().find("(" + (dir / "rec").string() + "): started"), std::string::npos) << daemonLog();
}

class NoPanelTest : public DaemonTest {
protected:
    void SetUp() override { startDaemon("tray = true\n"); }
};

TEST_F(NoPanelTest, WithNoPanelRecdSaysSoOnceAndRegistersWhenOneComes)
{
    ASSERT_TRUE(waitFor([&] { return daemonLog().find("tray: no panel shows tray items") != std::string::npos; }, 5s))
        << daemonLog();
    StandInWatcher watcher; // a panel starts after recd
    EXPECT_EQ(watcher.item().rfind("org.kde.StatusNotifierItem-", 0), 0u) << daemonLog();
    const auto log = daemonLog();
    EXPECT_EQ(log.find("tray: no panel"), log.rfind("tray: no panel")) << "once";
    EXPECT_EQ(recctl({"toggle"}).exitCode, 0);
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(recctl({"toggle"}).exitCode, 0);
}

// Everything of this file on at once, a follower attached, a panel, a portal
// and a player on the bus, and no take: recd sleeps. Every context switch
// of its threads is a wake-up; there is none, as nothing of this runs on a
// timer (the count is of events, not a measure of speed).
namespace {

std::map<std::string, long> contextSwitches(pid_t pid)
{
    std::map<std::string, long> out;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
        std::ifstream comm(task.path() / "comm"), status(task.path() / "status");
        std::string name, line;
        std::getline(comm, name);
        long switches = 0;
        while (std::getline(status, line))
            if (line.find("ctxt_switches:") != std::string::npos)
                switches += std::stol(line.substr(line.find(':') + 1));
        out[task.path().filename().string() + " " + name] = switches;
    }
    return out;
}

} // namespace

class AllOnTest : public DaemonTest {
protected:
    StandInPortal portal;
    StandInWatcher watcher;
    StandInPlayer player{"music", "Playing"};
    void SetUp() override
    {
        startDaemon("notify = true\npause_players = true\nshortcuts = true\ntray = true\n"
                    "on_part = \"true\"\n");
    }
};

TEST_F(AllOnTest, IdleRecdWakesUpNotOnceWithEveryDesktopFeatureOn)
{
    ASSERT_TRUE(waitFor([&] { return portal.ready(); }, 5s)) << daemonLog();
    ASSERT_FALSE(watcher.item().empty());
    auto follower = follow(dir / "follow.txt", {"--format", "waybar"});
    ASSERT_EQ(await(dir / "follow.txt", 1).size(), 1u);
    // A take, so that every feature has done its work once.
    ASSERT_EQ(recctl({"start", (dir / "once.wav").string()}).exitCode, 0);
    std::this_thread::sleep_for(300ms);
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);
    std::this_thread::sleep_for(1s); // the stream closed, the hooks reaped

    const auto before = contextSwitches(daemon->pid());
    std::this_thread::sleep_for(5s);
    const auto after = contextSwitches(daemon->pid());
    long total = 0;
    std::string report;
    for (const auto& [thread, n] : after) {
        const long woke = n - (before.count(thread) ? before.at(thread) : 0);
        total += woke;
        report += fmt::format("{}: {} wake-ups in 5 s\n", thread, woke);
    }
    std::cout << report;
    EXPECT_EQ(total, 0) << report;
    EXPECT_EQ(linesOf(dir / "follow.txt").size(), 3u) << "idle, recording, idle: nothing while idle";
}

// A reload (SIGHUP, `systemctl --user reload recd`) turns the tray item and
// the shortcuts on and off, and binds the shortcuts anew when their keys change.
class ReloadTest : public DaemonTest {
protected:
    StandInPortal portal;
    StandInWatcher watcher;
    std::string baseConfig;
    void SetUp() override
    {
        startDaemon();
        std::ifstream in(configPath());
        baseConfig.assign(std::istreambuf_iterator<char>(in), {});
    }
    void reload(const std::string& extra)
    {
        std::ofstream(configPath()) << baseConfig << extra;
        const auto reloads = [&] {
            const auto log = daemonLog();
            std::size_t n = 0;
            for (auto at = log.find("reloaded the configuration"); at != std::string::npos;
                 at = log.find("reloaded the configuration", at + 1))
                ++n;
            return n;
        };
        const std::size_t before = reloads();
        ::kill(daemon->pid(), SIGHUP);
        ASSERT_TRUE(waitFor([&] { return reloads() > before; }, 3s)) << daemonLog();
    }
    bool itemOnBus(const std::string& name)
    {
        return run({"busctl", "--user", "status", name}).exitCode == 0;
    }
};

TEST_F(ReloadTest, AReloadTurnsTheTrayAndTheShortcutsOnAndOffAndBindsNewKeys)
{
    std::this_thread::sleep_for(300ms);
    {
        std::lock_guard lock(watcher.mutex);
        EXPECT_TRUE(watcher.items.empty()) << "off by default";
    }
    EXPECT_FALSE(portal.ready());

    reload("tray = true\nshortcuts = true\n");
    const std::string item = watcher.item();
    ASSERT_EQ(item.rfind("org.kde.StatusNotifierItem-", 0), 0u) << daemonLog();
    ASSERT_TRUE(waitFor([&] { return portal.ready(); }, 3s)) << daemonLog();
    EXPECT_TRUE(itemOnBus(item));

    reload("tray = true\nshortcuts = true\nshortcut_toggle = \"LOGO+R\"\n");
    ASSERT_TRUE(waitFor([&] { std::lock_guard lock(portal.mutex); return portal.closed.size() == 1; }, 3s))
        << daemonLog();
    ASSERT_TRUE(waitFor(
        [&] {
            std::lock_guard lock(portal.mutex);
            return !portal.bound.empty() && portal.bound[0].get<1>().at("preferred_trigger").get<std::string>() == "LOGO+R";
        },
        3s))
        << daemonLog();
    {
        std::lock_guard lock(portal.mutex);
        EXPECT_EQ(portal.order, "Register CreateSession BindShortcuts CreateSession BindShortcuts")
            << "a new session for the new keys, the app id registered once";
    }
    // The new session's keys work.
    portal.key(true, "toggle");
    portal.key(false, "toggle", 50);
    ASSERT_TRUE(waitFor([&] { return nlohmann::json::parse(recctl({"status", "--json"}).out)["state"] == "recording"; }, 3s));
    ASSERT_EQ(recctl({"stop"}).exitCode, 0);

    reload("");
    ASSERT_TRUE(waitFor([&] { return !itemOnBus(item); }, 3s)) << "the item's name is released";
    ASSERT_TRUE(waitFor([&] { std::lock_guard lock(portal.mutex); return portal.closed.size() == 2; }, 3s));
    portal.key(true, "toggle", 1500);
    portal.key(false, "toggle", 50);
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(nlohmann::json::parse(recctl({"status", "--json"}).out)["state"], "idle") << "no shortcuts any more";
}
