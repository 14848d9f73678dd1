#include "client/StatusFollower.hpp"

#include "client/ExitCode.hpp"
#include "client/LineOutput.hpp"
#include "common/NameOwnerWatch.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <mutex>

namespace recctl {

namespace {

// m:ss, or h:mm:ss from an hour on.
std::string clock(double seconds)
{
    const auto s = static_cast<long long>(std::floor(std::max(seconds, 0.0)));
    return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                     : fmt::format("{}:{:02}", s / 60, s % 60);
}

// What Waybar's class and a bar's icon know: the take's own states, with
// "starting" (a start waiting for audio) shown as waiting.
std::string barClass(const std::string& state)
{
    if (state == "recording" || state == "paused" || state == "waiting")
        return state;
    return state == "starting" ? "waiting" : "idle";
}

std::string lastTake(const FollowedState& s)
{
    return s.hasLast ? fmt::format("last: {} ({}, {})", s.lastPath, clock(s.lastDuration), s.lastReason) : "";
}

} // namespace

std::string followLine(const FollowedState& s, FollowFormat format)
{
    const bool idle = s.state == "idle" || s.state == "stopped";
    switch (format) {
    case FollowFormat::Text:
        if (idle)
            return s.state;
        return fmt::format("{}\t{}\t{}", s.state, clock(s.elapsed),
                           carriesOnALine(s.path) ? s.path : "(its name has a tab or a newline: see --json)");
    case FollowFormat::Json: {
        nlohmann::json j{{"state", s.state}, {"path", s.path}, {"elapsed", static_cast<long long>(std::floor(s.elapsed))}};
        if (s.hasLast) {
            j["last_path"] = s.lastPath;
            j["last_duration"] = s.lastDuration;
            j["last_reason"] = s.lastReason;
        }
        return j.dump();
    }
    case FollowFormat::Waybar: {
        const std::string cls = barClass(s.state);
        std::string text, tooltip;
        if (cls == "recording") {
            text = "⏺ " + clock(s.elapsed);
            tooltip = fmt::format("Recording {}\n{}", s.path, clock(s.elapsed));
        } else if (cls == "paused") {
            text = "⏸ " + clock(s.elapsed);
            tooltip = fmt::format("Paused {}\n{}", s.path, clock(s.elapsed));
        } else if (cls == "waiting") {
            text = "◌";
            tooltip = s.state == "starting" ? fmt::format("Starting {}: waiting for the input", s.path)
                                            : fmt::format("Armed: {} begins at the first sound", s.path);
        } else {
            // An empty text hides a Waybar module: nothing on the bar while idle.
            tooltip = s.state == "stopped" ? "recd is not running" : "Not recording";
            if (s.hasLast)
                tooltip += "\n" + lastTake(s);
        }
        return nlohmann::json{{"text", text}, {"tooltip", tooltip}, {"class", cls}, {"alt", cls}}.dump();
    }
    }
    return {};
}

FollowedState followedNow(RecorderProxy& recorder)
{
    const auto status = recorder.GetStatus();
    const auto get = [&]<class T>(const char* key, T fallback) {
        const auto it = status.find(key);
        return it != status.end() && it->second.containsValueOfType<T>() ? it->second.get<T>() : fallback;
    };
    FollowedState s;
    s.state = get("state", std::string("idle"));
    s.path = s.state == "idle" ? std::string() : get("path", std::string());
    s.elapsed = get("duration", 0.0);
    s.hasLast = status.count("last_path") > 0;
    s.lastPath = get("last_path", std::string());
    s.lastDuration = get("last_duration", 0.0);
    s.lastReason = get("last_reason", std::string());
    return s;
}

int followStatus(sdbus::IConnection& bus, RecorderProxy& recorder, FollowFormat format)
{
    std::mutex mutex;
    std::condition_variable changed;
    bool dirty = false, gone = false;
    const auto mark = [&](bool recdGone) {
        {
            std::lock_guard lock(mutex);
            dirty = true;
            gone = recdGone;
        }
        changed.notify_one();
    };
    // recd announces each change of State (and Path) with PropertiesChanged;
    // nothing else is listened to, so Level signals meant for a meter never
    // wake a follower.
    const sdbus::Slot changes =
        bus.addMatch("type='signal',sender='org.recd.Recorder1',path='/org/recd/Recorder1',"
                     "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged'",
                     [&](sdbus::Message&) { mark(false); });
    // recd leaving the bus (its unit stopped, or it crashed) is a change too:
    // a bar must not go on showing a take that is no more.
    const sdbus::Slot owner =
        recd::watchNameOwner(bus, "org.recd.Recorder1", [&](const recd::NameOwnerChange& change) { mark(change.gone()); });
    bus.enterEventLoopAsync();

    std::string printed;
    FollowedState s;
    bool recdGone = false;
    // While recording, the elapsed time runs on from recd's last figure by
    // the follower's own clock, so that a follower does not call recd each
    // second; recd's figure is asked for again on each change, and every
    // anchorEvery, which keeps the two within a fraction of a second (the
    // take's own time stops when the device stalls).
    constexpr auto anchorEvery = std::chrono::seconds(30);
    using Clock = std::chrono::steady_clock;
    Clock::time_point anchoredAt;
    double anchoredElapsed = 0;
    for (bool first = true;; first = false) {
        bool ask = first;
        if (!first) {
            std::unique_lock lock(mutex);
            // Recording: the next whole second of the take, for the elapsed
            // time. Otherwise nothing but a change wakes the follower.
            if (s.state == "recording") {
                const double untilNextSecond = std::floor(s.elapsed) + 1 - s.elapsed;
                changed.wait_for(lock, std::chrono::duration<double>(untilNextSecond + 0.02), [&] { return dirty; });
            } else {
                changed.wait(lock, [&] { return dirty; });
            }
            ask = dirty || Clock::now() - anchoredAt >= anchorEvery;
            dirty = false;
            recdGone = gone;
        }
        if (recdGone) {
            s = FollowedState{};
            s.state = "stopped";
        } else if (ask) {
            try {
                s = followedNow(recorder);
            } catch (const sdbus::Error&) {
                // recd went away between the signal and the call: shown as
                // stopped until it is back (its NameOwnerChanged wakes us).
                s = FollowedState{};
                s.state = "stopped";
            }
            anchoredAt = Clock::now();
            anchoredElapsed = s.elapsed;
        } else {
            s.elapsed = anchoredElapsed + std::chrono::duration<double>(Clock::now() - anchoredAt).count();
        }
        // The elapsed time is in whole seconds, so a line changes at most
        // once a second while recording.
        const std::string line = followLine(s, format);
        if (line != printed) {
            if (std::fprintf(stdout, "%s\n", line.c_str()) < 0 || std::fflush(stdout) != 0)
                return Success; // the reader went away (the bar was restarted)
            printed = line;
        }
    }
}

} // namespace recctl
