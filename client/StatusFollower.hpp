#pragma once
// `recctl status --follow`: a line per change of recd's state, for status bars
// (Waybar, i3blocks, polybar) and scripts. recd pays next to nothing for a
// follower: the follower waits on recd's PropertiesChanged signal, which recd
// emits on each change anyway, and while a take records it counts the elapsed
// time on from recd's figure by its own clock, asking recd again every 30 s.

#include "client/RecorderProxy.hpp"

#include <sdbus-c++/sdbus-c++.h>

#include <string>

namespace recctl {

enum class FollowFormat { Text, Json, Waybar };

// One snapshot of what a follower shows.
struct FollowedState {
    std::string state; // idle, starting, waiting, recording, paused; "stopped" when recd is not on the bus
    std::string path;
    double elapsed = 0;
    std::string lastPath, lastReason;
    double lastDuration = 0;
    bool hasLast = false;
};

// The line a follower prints for a state, without its newline.
std::string followLine(const FollowedState& s, FollowFormat format);

// What recd is doing now (GetStatus).
FollowedState followedNow(RecorderProxy& recorder);

// Prints a line now and one per change until interrupted (or the output goes
// away). Returns the exit code.
int followStatus(sdbus::IConnection& bus, RecorderProxy& recorder, FollowFormat format);

} // namespace recctl
