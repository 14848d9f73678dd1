#include "daemon/service/MediaPlayerPauser.hpp"

#include "common/NameOwnerWatch.hpp"
#include "daemon/engine/Log.hpp"

namespace recd {

namespace {
constexpr const char* mprisPrefix = "org.mpris.MediaPlayer2.";
constexpr const char* mprisPath = "/org/mpris/MediaPlayer2";
constexpr const char* playerInterface = "org.mpris.MediaPlayer2.Player";
constexpr const char* propertiesInterface = "org.freedesktop.DBus.Properties";
} // namespace

MediaPlayerPauser::MediaPlayerPauser(sdbus::IConnection& bus, Recorder& recorder)
    : bus_(bus), recorder_(recorder),
      busProxy_(sdbus::createProxy(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus"))
{
    busProxy_->finishRegistration();
    recorder_.addEvents(this);
}

MediaPlayerPauser::~MediaPlayerPauser() { recorder_.removeEvents(this); }

void MediaPlayerPauser::stateChanged()
{
    const bool active = recorder_.stateName() != "idle";
    if (active == active_)
        return;
    active_ = active;
    ++take_;
    if (active && recorder_.config().pausePlayers)
        pauseAll();
    else if (!active)
        resumeAll();
}

void MediaPlayerPauser::pauseAll()
{
    const unsigned take = take_;
    busProxy_->callMethodAsync("ListNames")
        .onInterface("org.freedesktop.DBus")
        .uponReplyInvoke([this, take](const sdbus::Error* error, const std::vector<std::string>& names) {
            if (error) {
                log().warn("pause_players: cannot list the bus's names: {}", error->getMessage());
                return;
            }
            for (const auto& name : names) {
                if (name.rfind(mprisPrefix, 0) != 0 || take != take_ || !active_)
                    continue;
                // Its unique name first, so that a Play at the end reaches
                // the same player and not one that took the name since.
                busProxy_->callMethodAsync("GetNameOwner")
                    .onInterface("org.freedesktop.DBus")
                    .withArguments(name)
                    .uponReplyInvoke([this, take, name](const sdbus::Error* e, const std::string& owner) {
                        if (!e && take == take_ && active_)
                            pause(name, owner);
                    });
            }
        });
}

void MediaPlayerPauser::pause(const std::string& name, const std::string& owner)
{
    if (paused_.contains(name))
        return;
    Player& player = paused_[name];
    player.owner = owner;
    player.proxy = sdbus::createProxy(bus_, owner, mprisPath);
    // The user playing or stopping it meanwhile is heard as a change of
    // PlaybackStatus away from Paused.
    player.proxy->uponSignal("PropertiesChanged")
        .onInterface(propertiesInterface)
        .call([this, name](const std::string& iface, const std::map<std::string, sdbus::Variant>& changed,
                           const std::vector<std::string>&) {
            const auto it = paused_.find(name);
            const auto status = changed.find("PlaybackStatus");
            if (it == paused_.end() || iface != playerInterface || status == changed.end() || !it->second.pauseSent)
                return;
            if (status->second.get<std::string>() != "Paused" && !it->second.touched) {
                it->second.touched = true;
                log().info("pause_players: {} was {} during the take; it is left as it is",
                           name, status->second.get<std::string>() == "Playing" ? "played" : "stopped");
            }
        });
    player.proxy->finishRegistration();
    if (!ownerWatch_)
        ownerWatch_ = std::make_unique<sdbus::Slot>(watchNameOwner(
            bus_, "org.mpris.MediaPlayer2",
            [this](const NameOwnerChange& change) {
                const auto it = paused_.find(change.name);
                if (it != paused_.end() && it->second.owner == change.oldOwner) {
                    if (it->second.pauseSent)
                        log().info("pause_players: {} left the bus during the take", change.name);
                    paused_.erase(it);
                }
            },
            NameMatch::Namespace));

    const unsigned take = take_;
    player.proxy->callMethodAsync("Get")
        .onInterface(propertiesInterface)
        .withArguments(std::string(playerInterface), std::string("PlaybackStatus"))
        .uponReplyInvoke([this, name, take](const sdbus::Error* error, const sdbus::Variant& status) {
            const auto it = paused_.find(name);
            if (it == paused_.end() || take != take_)
                return;
            // Not playing: not ours to pause, nor to play again (pauseSent stays
            // false). Kept in the map until the take ends: erasing it here
            // would destroy the proxy whose reply this is, while it runs.
            if (error || status.peekValueType() != "s" || status.get<std::string>() != "Playing")
                return;
            it->second.pauseSent = true;
            log().info("pause_players: pausing {} for the take", name);
            it->second.proxy->callMethodAsync("Pause")
                .onInterface(playerInterface)
                .uponReplyInvoke([name](const sdbus::Error* e) {
                    if (e)
                        log().warn("pause_players: {} refused Pause: {}", name, e->getMessage());
                });
        });
}

void MediaPlayerPauser::resumeAll()
{
    for (auto& [name, player] : paused_) {
        if (!player.pauseSent || player.touched)
            continue;
        log().info("pause_players: playing {} again", name);
        // Sent without asking for a reply: the daemon neither waits for the
        // player nor keeps a pending call on a proxy that goes with the map.
        auto call = player.proxy->createMethodCall(playerInterface, "Play");
        call.dontExpectReply();
        player.proxy->callMethod(call);
    }
    paused_.clear();
    ownerWatch_.reset();
}

} // namespace recd
