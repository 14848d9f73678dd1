#pragma once
// Stand-ins for the desktop's services that recd talks to, on the test's
// session bus: a media player (MPRIS), the desktop portal's GlobalShortcuts,
// a panel's StatusNotifierWatcher. The real ones cannot run on a headless
// test machine: players need media and a display, portal backends drive a
// compositor's key grabs, panels draw. Each implements the part of its
// interface recd uses, as the real one behaves, and notes what recd asked.
// Used by the desktop tests and, under a real user manager, by
// tests/user-manager/desktop-standins.

#include "tests/support/Process.hpp"

#include <sdbus-c++/sdbus-c++.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace recd::test {

// A media player (org.mpris.MediaPlayer2.NAME): keeps a PlaybackStatus,
// changes it as a player does on Pause, Play and Stop (announcing it with
// PropertiesChanged), and records what it was called.
struct StandInPlayer {
    static constexpr const char* iface = "org.mpris.MediaPlayer2.Player";
    std::unique_ptr<sdbus::IConnection> bus;
    std::unique_ptr<sdbus::IObject> object;
    std::mutex mutex;
    std::string status;
    std::vector<std::string> calls;

    StandInPlayer(const std::string& name, std::string initial)
        : bus(sdbus::createSessionBusConnection("org.mpris.MediaPlayer2." + name)),
          object(sdbus::createObject(*bus, "/org/mpris/MediaPlayer2")), status(std::move(initial))
    {
        for (const char* method : {"Pause", "Play", "Stop", "PlayPause"})
            object->registerMethod(method).onInterface(iface).implementedAs([this, method] {
                {
                    std::lock_guard lock(mutex);
                    calls.push_back(method);
                }
                const std::string m = method;
                set(m == "Pause" ? "Paused" : m == "Stop" ? "Stopped" : "Playing");
            });
        object->registerProperty("PlaybackStatus").onInterface(iface).withGetter([this] {
            std::lock_guard lock(mutex);
            return status;
        });
        object->finishRegistration();
        bus->enterEventLoopAsync();
    }
    ~StandInPlayer() { bus->leaveEventLoop(); }
    // As the user pressing play, pause or stop in the player itself.
    void set(const std::string& s)
    {
        {
            std::lock_guard lock(mutex);
            status = s;
        }
        object->emitPropertiesChangedSignal(iface, {"PlaybackStatus"});
    }
    std::vector<std::string> called()
    {
        std::lock_guard lock(mutex);
        return calls;
    }
    std::string playbackStatus()
    {
        std::lock_guard lock(mutex);
        return status;
    }
};

// The desktop portal (org.freedesktop.portal.Desktop): the host Registry, and
// GlobalShortcuts' CreateSession and BindShortcuts with the request/response
// pattern (the Response signal on the request path built from the caller's
// name and its handle_token, sent before the method's reply, which a client
// must cope with). The test sends Activated, Deactivated and Session.Closed
// as a user's keys and the desktop would.
using Vardict = std::map<std::string, sdbus::Variant>;
using ShortcutEntry = sdbus::Struct<std::string, Vardict>;

struct StandInPortal {
    static constexpr const char* path = "/org/freedesktop/portal/desktop";
    static constexpr const char* iface = "org.freedesktop.portal.GlobalShortcuts";
    std::unique_ptr<sdbus::IConnection> bus = sdbus::createSessionBusConnection("org.freedesktop.portal.Desktop");
    std::unique_ptr<sdbus::IObject> object = sdbus::createObject(*bus, path);
    std::mutex mutex;
    std::vector<std::string> registered;    // app ids
    std::vector<ShortcutEntry> bound;       // what BindShortcuts asked for
    std::string session;                    // its path, once created
    std::vector<std::string> closed;        // sessions the client closed (Session.Close)
    std::vector<std::unique_ptr<sdbus::IObject>> sessions; // each with its Close method
    std::string order;                      // Register, CreateSession, BindShortcuts: as called
    std::uint64_t clockMs = 5'000'000;      // the portal's own clock: an undefined base

    // The request object's path, as the portal builds it.
    static std::string requestPath(const std::string& sender, const std::string& token)
    {
        std::string s = sender.substr(1);
        std::replace(s.begin(), s.end(), '.', '_');
        return std::string(path) + "/request/" + s + "/" + token;
    }
    void respond(const std::string& at, Vardict results)
    {
        auto request = sdbus::createObject(*bus, at);
        request->emitSignal("Response").onInterface("org.freedesktop.portal.Request").withArguments(std::uint32_t{0}, results);
    }

    StandInPortal()
    {
        object->registerMethod("Register")
            .onInterface("org.freedesktop.host.portal.Registry")
            .implementedAs([this](const std::string& appId, const Vardict&) {
                std::lock_guard lock(mutex);
                registered.push_back(appId);
                order += order.empty() ? "Register" : " Register";
            });
        object->registerMethod("CreateSession").onInterface(iface).implementedAs([this](const Vardict& options) {
            const std::string sender = object->getCurrentlyProcessedMessage()->getSender();
            const std::string request = requestPath(sender, options.at("handle_token").get<std::string>());
            std::string s = sender.substr(1);
            std::replace(s.begin(), s.end(), '.', '_');
            {
                std::lock_guard lock(mutex);
                session = std::string(path) + "/session/" + s + "/" +
                          options.at("session_handle_token").get<std::string>();
                order += order.empty() ? "CreateSession" : " CreateSession";
            }
            auto created = sdbus::createObject(*bus, session);
            created->registerMethod("Close").onInterface("org.freedesktop.portal.Session").implementedAs(
                [this, at = session] {
                    std::lock_guard lock(mutex);
                    closed.push_back(at);
                });
            created->finishRegistration();
            sessions.push_back(std::move(created));
            respond(request, {{"session_handle", sdbus::Variant(session)}}); // a string, as portals send it
            return sdbus::ObjectPath(request);
        });
        object->registerMethod("BindShortcuts")
            .onInterface(iface)
            .implementedAs([this](const sdbus::ObjectPath&, const std::vector<ShortcutEntry>& shortcuts,
                                  const std::string&, const Vardict& options) {
                const std::string sender = object->getCurrentlyProcessedMessage()->getSender();
                const std::string request = requestPath(sender, options.at("handle_token").get<std::string>());
                std::vector<ShortcutEntry> result;
                {
                    std::lock_guard lock(mutex);
                    bound = shortcuts;
                    order += order.empty() ? "BindShortcuts" : " BindShortcuts";
                }
                for (const auto& s : shortcuts)
                    result.push_back(ShortcutEntry(s.get<0>(), Vardict{{"description", s.get<1>().at("description")},
                                                                      {"trigger_description",
                                                                       sdbus::Variant(std::string("Ctrl+Alt+R"))}}));
                respond(request, {{"shortcuts", sdbus::Variant(result)}});
                return sdbus::ObjectPath(request);
            });
        object->registerSignal("Activated").onInterface(iface).withParameters<sdbus::ObjectPath, std::string, std::uint64_t, Vardict>();
        object->registerSignal("Deactivated").onInterface(iface).withParameters<sdbus::ObjectPath, std::string, std::uint64_t, Vardict>();
        object->finishRegistration();
        bus->enterEventLoopAsync();
    }
    ~StandInPortal() { bus->leaveEventLoop(); }

    bool ready()
    {
        std::lock_guard lock(mutex);
        return !bound.empty();
    }
    // A key going down or up, `afterMs` after the portal's last event.
    void key(bool down, const std::string& id, std::uint64_t afterMs = 0)
    {
        std::string s;
        std::uint64_t at = 0;
        {
            std::lock_guard lock(mutex);
            s = session;
            at = clockMs += afterMs;
        }
        object->emitSignal(down ? "Activated" : "Deactivated")
            .onInterface(iface)
            .withArguments(sdbus::ObjectPath(s), id, at, Vardict{});
    }
    void closeSession()
    {
        std::string s;
        {
            std::lock_guard lock(mutex);
            s = session;
        }
        auto sessionObject = sdbus::createObject(*bus, s);
        sessionObject->emitSignal("Closed").onInterface("org.freedesktop.portal.Session").withArguments(Vardict{});
    }
};

// A panel's org.kde.StatusNotifierWatcher: notes the items that register.
struct StandInWatcher {
    std::unique_ptr<sdbus::IConnection> bus = sdbus::createSessionBusConnection("org.kde.StatusNotifierWatcher");
    std::unique_ptr<sdbus::IObject> object = sdbus::createObject(*bus, "/StatusNotifierWatcher");
    std::mutex mutex;
    std::vector<std::string> items;

    StandInWatcher()
    {
        object->registerMethod("RegisterStatusNotifierItem")
            .onInterface("org.kde.StatusNotifierWatcher")
            .implementedAs([this](const std::string& service) {
                std::lock_guard lock(mutex);
                items.push_back(service);
            });
        object->finishRegistration();
        bus->enterEventLoopAsync();
    }
    ~StandInWatcher() { bus->leaveEventLoop(); }
    std::string item()
    {
        waitFor([&] { std::lock_guard lock(mutex); return !items.empty(); }, std::chrono::seconds(5));
        std::lock_guard lock(mutex);
        return items.empty() ? std::string() : items.back();
    }
};

} // namespace recd::test
