#include "client/CallTimeout.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <string_view>

namespace recctl {

namespace {

constexpr double defaultSeconds = 4.5;
// Each question asked after a call went unanswered, to say why.
constexpr auto probeTimeout = std::chrono::milliseconds(300);

double timeoutSeconds()
{
    static const double seconds = [] {
        const char* value = std::getenv("RECCTL_TIMEOUT");
        if (!value || !*value)
            return defaultSeconds;
        char* end = nullptr;
        const double s = std::strtod(value, &end);
        if (end == value || *end || !(s >= 0.01 && s <= 3600)) {
            fmt::print(stderr, "recctl: ignoring RECCTL_TIMEOUT={}: it must be seconds from 0.01 to 3600\n", value);
            return defaultSeconds;
        }
        return s;
    }();
    return seconds;
}

// Asked only after a call went unanswered, with a short timeout of its own, to
// tell a recd that never started from one that is stuck.
bool recdOwnsItsName(sdbus::IConnection& bus)
{
    try {
        auto dbus = sdbus::createProxy(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus");
        bool owned = false;
        dbus->callMethod("NameHasOwner")
            .onInterface("org.freedesktop.DBus")
            .withTimeout(probeTimeout)
            .withArguments(std::string("org.recd.Recorder1"))
            .storeResultsTo(owned);
        return owned;
    } catch (const sdbus::Error&) {
        return false;
    }
}

// What the user manager says of recd.service, where there is one on the bus:
// D-Bus activation asks it to start recd, and a start that fails is not
// reported back to the bus (dbus-daemon keeps the activation pending for up
// to two minutes), so this is where the reason is.
std::string serviceState(sdbus::IConnection& bus)
{
    try {
        auto systemd = sdbus::createProxy(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1");
        sdbus::ObjectPath unitPath;
        systemd->callMethod("LoadUnit")
            .onInterface("org.freedesktop.systemd1.Manager")
            .withTimeout(probeTimeout)
            .withArguments(std::string("recd.service"))
            .storeResultsTo(unitPath);
        auto unit = sdbus::createProxy(bus, "org.freedesktop.systemd1", unitPath);
        const auto property = [&](const char* interface, const char* name) {
            sdbus::Variant v;
            unit->callMethod("Get")
                .onInterface("org.freedesktop.DBus.Properties")
                .withTimeout(probeTimeout)
                .withArguments(std::string(interface), std::string(name))
                .storeResultsTo(v);
            return v.get<std::string>();
        };
        const std::string active = property("org.freedesktop.systemd1.Unit", "ActiveState");
        if (active == "failed")
            return fmt::format(": recd.service failed (result: {}); fix what the journal shows, then run "
                               "`systemctl --user restart recd`",
                               property("org.freedesktop.systemd1.Service", "Result"));
        if (active == "activating")
            return ": recd.service is still starting";
        if (active == "inactive")
            return ": recd.service is not running, and an earlier start that failed may hold up D-Bus activation "
                   "for up to two minutes; run `systemctl --user start recd`";
        return fmt::format(": recd.service is {}", active);
    } catch (const sdbus::Error&) {
        return {}; // no user manager, or it knows no recd.service: recd was started by the bus alone
    }
}

bool isTimeout(std::string_view name)
{
    return name == "org.freedesktop.DBus.Error.NoReply" || name == "org.freedesktop.DBus.Error.Timeout" ||
           name == "org.freedesktop.DBus.Error.TimedOut";
}

} // namespace

std::chrono::microseconds callTimeout()
{
    return std::chrono::microseconds(static_cast<std::int64_t>(timeoutSeconds() * 1e6));
}

std::string unreachableMessage(const sdbus::Error& error, sdbus::IConnection* bus)
{
    const std::string name = error.getName();
    const char* const whereToLook =
        "\n  see: systemctl --user status recd\n       journalctl --user -u recd -p warning";
    if (isTimeout(name)) {
        if (bus && recdOwnsItsName(*bus))
            return fmt::format("recd is running but did not answer within {} s: it may be stuck{}",
                               timeoutSeconds(), whereToLook);
        return fmt::format("recd did not start within {} s{}{}", timeoutSeconds(), bus ? serviceState(*bus) : "",
                           whereToLook);
    }
    if (name == "org.freedesktop.DBus.Error.ServiceUnknown")
        return fmt::format("recd is not installed for this session bus: {} ({})", error.getMessage(), name);
    if (name.rfind("org.freedesktop.DBus.Error.Spawn.", 0) == 0 || name.rfind("org.freedesktop.systemd1.", 0) == 0)
        return fmt::format("recd could not be started: {} ({}){}", error.getMessage(), name, whereToLook);
    return fmt::format("cannot reach recd on the session bus: {} ({})", error.getMessage(), name);
}

} // namespace recctl
