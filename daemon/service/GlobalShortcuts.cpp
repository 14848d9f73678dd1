#include "daemon/service/GlobalShortcuts.hpp"

#include "common/MonotonicClock.hpp"
#include "common/NameOwnerWatch.hpp"
#include "daemon/engine/Log.hpp"
#include "daemon/service/OwnRequest.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace recd {

namespace {

constexpr const char* portalName = "org.freedesktop.portal.Desktop";
constexpr const char* portalPath = "/org/freedesktop/portal/desktop";
constexpr const char* shortcutsInterface = "org.freedesktop.portal.GlobalShortcuts";
constexpr const char* toggleId = "toggle";
constexpr const char* pushToTalkId = "push-to-talk";
// A second Activated within this long of the first, with no Deactivated in
// between, is the key repeating, not a second press. Keyboards repeat 25 to 40
// times a second, after a delay of 250 to 600 ms.
constexpr std::uint64_t repeatWithinUsec = 1'000'000;

using Shortcut = sdbus::Struct<std::string, std::map<std::string, sdbus::Variant>>;

// The part of a portal request's path that names the caller: its unique name
// without the colon, dots as underscores (org.freedesktop.portal.Request).
std::string senderPart(std::string unique)
{
    if (!unique.empty() && unique.front() == ':')
        unique.erase(0, 1);
    std::replace(unique.begin(), unique.end(), '.', '_');
    return unique;
}

} // namespace

GlobalShortcuts::GlobalShortcuts(sdbus::IConnection& bus, Recorder& recorder)
    : bus_(bus), recorder_(recorder), portal_(sdbus::createProxy(bus, portalName, portalPath))
{
    portal_->finishRegistration();
    recorder_.addEvents(this);
    apply();
}

void GlobalShortcuts::apply()
{
    const Config& config = recorder_.config();
    if (config.shortcuts == wanted_ &&
        (!wanted_ || (config.shortcutToggle == toggleTrigger_ && config.shortcutPushToTalk == pushToTalkTrigger_)))
        return;
    if (wanted_)
        closeSession();
    ++generation_;
    wanted_ = config.shortcuts;
    toggleTrigger_ = config.shortcutToggle;
    pushToTalkTrigger_ = config.shortcutPushToTalk;
    if (!wanted_)
        return;
    if (registered_)
        createSession();
    else
        registerAppId();
}

void GlobalShortcuts::closeSession()
{
    releaseLost("the shortcuts were turned off or changed");
    matches_.clear(); // from the main loop, never from one of their handlers
    if (sessionHandle_.empty())
        return;
    log().info("global shortcuts: closing the portal session ({})",
               recorder_.config().shortcuts ? "the keys changed" : "shortcuts = false");
    // Sent without a reply: the session's proxy goes at once.
    auto session = sdbus::createProxy(bus_, portalName, sessionHandle_);
    auto close = session->createMethodCall("org.freedesktop.portal.Session", "Close");
    close.dontExpectReply();
    session->callMethod(close);
    sessionHandle_.clear();
}

GlobalShortcuts::~GlobalShortcuts() { recorder_.removeEvents(this); }

void GlobalShortcuts::unavailable(const std::string& why)
{
    log().warn("no global shortcuts: {}; bind `recctl toggle` in the desktop's keyboard settings instead (see the "
               "README's Desktop section)",
               why);
}

void GlobalShortcuts::registerAppId()
{
    // Newer portals (1.20 on) know a host application by the app id it
    // registers before its first portal call; older ones have no Registry,
    // and take the id from the unit's name. Either way, go on.
    registered_ = true;
    portal_->callMethodAsync("Register")
        .onInterface("org.freedesktop.host.portal.Registry")
        .withArguments(std::string(appId), std::map<std::string, sdbus::Variant>{})
        .uponReplyInvoke([this, generation = generation_](const sdbus::Error* error) {
            if (generation != generation_)
                return; // turned off (or changed) meanwhile
            if (error && error->getName() == "org.freedesktop.DBus.Error.ServiceUnknown")
                return unavailable(fmt::format("no desktop portal on the bus ({})", error->getMessage()));
            if (error)
                log().debug("shortcuts: the portal did not register the app id {}: {} (an older portal)", appId,
                            error->getMessage());
            createSession();
        });
}

template <class... Args>
void GlobalShortcuts::request(const std::string& method, const std::string& token,
                              std::function<void(const Results&)> then, Args&&... args)
{
    const std::string path =
        fmt::format("{}/request/{}/{}", portalPath, senderPart(bus_.getUniqueName()), token);
    // Listened for before the call: the Response may come before the reply.
    // The match stays after its Response (two requests in recd's life):
    // dropping it from within its own handler would destroy the handler
    // while it runs.
    requests_.insert_or_assign(
        path, bus_.addMatch(fmt::format("type='signal',sender='{}',interface='org.freedesktop.portal.Request',"
                                        "member='Response',path='{}'",
                                        portalName, path),
                            [this, method, path, then](sdbus::Message& m) {
                                std::uint32_t response = 2;
                                Results results;
                                m >> response >> results;
                                if (response != 0)
                                    return unavailable(fmt::format("the portal's {} ended with response {} ({})",
                                                                   method, response,
                                                                   response == 1 ? "cancelled by the user" : "failed"));
                                then(results);
                            }));
    portal_->callMethodAsync(method)
        .onInterface(shortcutsInterface)
        .withArguments(std::forward<Args>(args)...)
        .uponReplyInvoke([this, method, path](const sdbus::Error* error, const sdbus::ObjectPath&) {
            if (!error)
                return;
            requests_.erase(path);
            const std::string name = error->getName();
            unavailable(name == "org.freedesktop.DBus.Error.UnknownMethod" ||
                                name == "org.freedesktop.DBus.Error.UnknownInterface" ||
                                name == "org.freedesktop.DBus.Error.ServiceUnknown"
                            ? fmt::format("no desktop portal offers {} ({})", shortcutsInterface, error->getMessage())
                            : fmt::format("the portal refused {}: {}", method, error->getMessage()));
        });
}

void GlobalShortcuts::createSession()
{
    const std::string token = fmt::format("recd{}", nextToken_++);
    std::map<std::string, sdbus::Variant> options{
        {"handle_token", sdbus::Variant(token)},
        {"session_handle_token", sdbus::Variant(fmt::format("recd{}", generation_))}};
    request(
        "CreateSession", token,
        [this, generation = generation_](const Results& results) {
            if (generation != generation_)
                return;
            // Sent as a string by every portal to date, though it is a path.
            const auto it = results.find("session_handle");
            if (it == results.end())
                return unavailable("the portal's CreateSession gave no session_handle");
            sessionHandle_ = it->second.peekValueType() == "o" ? std::string(it->second.get<sdbus::ObjectPath>())
                                                                : it->second.get<std::string>();
            listenToShortcuts();
            bindShortcuts();
        },
        options);
}

void GlobalShortcuts::bindShortcuts()
{
    const auto shortcut = [](const char* id, const char* description, const std::string& trigger) {
        std::map<std::string, sdbus::Variant> info{{"description", sdbus::Variant(std::string(description))}};
        if (!trigger.empty())
            info["preferred_trigger"] = sdbus::Variant(trigger);
        return Shortcut(std::string(id), info);
    };
    const std::vector<Shortcut> shortcuts{shortcut(toggleId, "Toggle recording", toggleTrigger_),
                                          shortcut(pushToTalkId, "Push to talk (record while held)", pushToTalkTrigger_)};
    const std::string token = fmt::format("recd{}", nextToken_++);
    request(
        "BindShortcuts", token,
        [](const Results& results) {
            std::vector<std::string> bound;
            if (const auto it = results.find("shortcuts"); it != results.end())
                for (const auto& s : it->second.get<std::vector<Shortcut>>()) {
                    const auto trigger = s.get<1>().find("trigger_description");
                    bound.push_back(fmt::format("{} ({})", s.get<0>(),
                                                trigger == s.get<1>().end() ? std::string("no key yet")
                                                                            : trigger->second.get<std::string>()));
                }
            log().info("global shortcuts bound through the portal: {}",
                       bound.empty() ? std::string("none (the user declined them)") : fmt::format("{}", fmt::join(bound, ", ")));
        },
        sdbus::ObjectPath(sessionHandle_), shortcuts, std::string(),
        std::map<std::string, sdbus::Variant>{{"handle_token", sdbus::Variant(token)}});
}

void GlobalShortcuts::listenToShortcuts()
{
    const auto onShortcut = [this](bool pressed) {
        return [this, pressed](sdbus::Message& m) {
            sdbus::ObjectPath session;
            std::string id;
            std::uint64_t timestamp = 0;
            m >> session >> id >> timestamp;
            if (session != sessionHandle_)
                return;
            pressed ? activated(id, timestamp) : deactivated(id, timestamp);
        };
    };
    const std::string signalRule =
        fmt::format("type='signal',sender='{}',path='{}',interface='{}',member=", portalName, portalPath,
                    shortcutsInterface);
    matches_.push_back(bus_.addMatch(signalRule + "'Activated'", onShortcut(true)));
    matches_.push_back(bus_.addMatch(signalRule + "'Deactivated'", onShortcut(false)));
    matches_.push_back(bus_.addMatch(
        fmt::format("type='signal',sender='{}',path='{}',interface='org.freedesktop.portal.Session',member='Closed'",
                    portalName, sessionHandle_),
        [this](sdbus::Message&) {
            log().warn("global shortcuts: the portal closed recd's session; the shortcuts are gone until recd "
                       "restarts");
            releaseLost("the shortcuts' session was closed");
            sessionHandle_.clear();
        }));
    matches_.push_back(watchNameOwner(bus_, portalName, [this](const NameOwnerChange& change) {
            if (!change.gone() || sessionHandle_.empty())
                return;
            log().warn("global shortcuts: the desktop portal left the bus; the shortcuts are gone until recd "
                       "restarts");
            releaseLost("the desktop portal went away");
            sessionHandle_.clear();
        }));
}

void GlobalShortcuts::activated(const std::string& id, std::uint64_t timestampMs)
{
    const std::uint64_t now = monotonicUsec();
    if (const auto it = held_.find(id); it != held_.end() && now - it->second.heardUsec < repeatWithinUsec)
        return; // the key repeating while held
    held_[id] = {timestampMs, now};
    const std::string state = recorder_.stateName();
    if (id == toggleId) {
        log().info("shortcut: toggle recording");
        ownRequest<std::pair<std::string, std::filesystem::path>>(
            "shortcut: toggle", [&](auto reply) { recorder_.toggle(RecordingRequest{}, now, reply); },
            [](const auto& done) {
                log().info("shortcut: {} '{}'", done.first == "recording" ? "recording to" : "saved",
                           done.second.string());
            });
    } else if (id == pushToTalkId) {
        if (state != "idle") {
            // A take the user started otherwise (recctl, a script, the toggle
            // key) is not push to talk's to end on the release.
            log().info("push to talk: a take is {} already, started otherwise; it is left as it is", state);
            return;
        }
        log().info("push to talk: pressed");
        pushToTalkTake_ = true;
        ownRequest<std::filesystem::path>(
            "push to talk: the start", [&](auto reply) { recorder_.start(RecordingRequest{}, reply); },
            [](const std::filesystem::path& path) { log().info("push to talk: recording to '{}'", path.string()); },
            [this] { pushToTalkTake_ = false; });
    }
}

void GlobalShortcuts::deactivated(const std::string& id, std::uint64_t timestampMs)
{
    const auto it = held_.find(id);
    if (it == held_.end())
        return; // a release whose press recd never heard
    const Press press = it->second;
    held_.erase(it);
    if (id != pushToTalkId || !pushToTalkTake_)
        return;
    // The portal's times have an undefined base, but millisecond steps: the
    // key was held for their difference, from the moment recd heard the
    // press. That is where the file ends, however late the release reached
    // recd; never later than now, never before the press.
    const std::uint64_t now = monotonicUsec();
    std::uint64_t at = now;
    if (timestampMs > press.portalMs)
        at = std::min(now, press.heardUsec + (timestampMs - press.portalMs) * 1000);
    at = std::max(at, press.heardUsec + 1);
    log().info("push to talk: released after {:.3f} s", static_cast<double>(at - press.heardUsec) / 1e6);
    pushToTalkTake_ = false;
    ownRequest<StopResult>(
        "push to talk: the stop", [&](auto reply) { recorder_.stop(at, reply); },
        [](const StopResult& r) { log().info("push to talk: saved '{}' ({:.3f} s)", r.path.string(), r.duration); });
}

void GlobalShortcuts::releaseLost(const std::string& why)
{
    held_.clear();
    if (!pushToTalkTake_)
        return;
    pushToTalkTake_ = false;
    log().warn("push to talk: {}, so the key's release cannot come: the take is stopped now", why);
    ownRequest<StopResult>("push to talk: the stop", [&](auto reply) { recorder_.stop(std::nullopt, reply); });
}

void GlobalShortcuts::recordingStopped(const StopResult&) { pushToTalkTake_ = false; }

} // namespace recd
