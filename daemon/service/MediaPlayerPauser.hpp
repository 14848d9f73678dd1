#pragma once
// Players paused during a take (config pause_players = true): at the start of
// a take every MPRIS player (org.mpris.MediaPlayer2.*) that is Playing is
// paused, and when the take ends (for any reason) exactly those are played
// again: not one the user paused, and not one the user played or stopped
// meanwhile (its PlaybackStatus changed after recd paused it), nor one that
// left the bus.
//
// Every call is asynchronous: a player that hangs must never hold up the
// daemon's main loop. Nothing is watched while no take has paused a player, so
// the feature costs nothing while idle.

#include "daemon/service/Recorder.hpp"

#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <memory>
#include <string>

namespace recd {

class MediaPlayerPauser final : public RecorderEvents {
public:
    MediaPlayerPauser(sdbus::IConnection& bus, Recorder& recorder);
    ~MediaPlayerPauser();

    void recordingStarted(const Destination&, std::uint64_t) override {}
    void recordingStopped(const StopResult&) override {}
    // A take begins (idle -> anything) or ends (-> idle).
    void stateChanged() override;

private:
    struct Player {
        std::string owner; // the unique name it had when paused: a player that restarted is another
        std::unique_ptr<sdbus::IProxy> proxy;
        bool pauseSent = false;
        bool touched = false; // the user played or stopped it after recd paused it
    };

    void pauseAll();
    void resumeAll();
    // A player that was Playing when asked: paused, and watched until the take ends.
    void pause(const std::string& name, const std::string& owner);

    sdbus::IConnection& bus_;
    Recorder& recorder_;
    std::unique_ptr<sdbus::IProxy> busProxy_; // org.freedesktop.DBus: ListNames, GetNameOwner
    bool active_ = false;                      // a take runs (or starts)
    unsigned take_ = 0;                        // which take a late reply belongs to
    std::map<std::string, Player> paused_;     // by well-known name: every player asked, paused or not
    std::unique_ptr<sdbus::Slot> ownerWatch_;  // NameOwnerChanged of players, while any is paused
};

} // namespace recd
