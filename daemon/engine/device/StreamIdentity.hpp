#pragma once
// How recd's capture streams name themselves to the sound server, so that
// mixers (pavucontrol, the desktop's microphone indicator) and PipeWire's
// tools (pw-top, pw-dump) show what is recording.

#include "daemon/engine/device/AudioSystem.hpp"

namespace recd {

// The properties every stream recd opens carries:
//   application.name       recd (RtAudio would say "RtAudio")
//   application.id         org.recd.Recorder1, the D-Bus name
//   application.icon_name  audio-input-microphone
//   media.role             production: recording for its own sake. Not
//                          "phone" or "communication", for which PulseAudio's
//                          module-role-cork and PipeWire's policy lower or
//                          pause the music that is playing.
// RtAudio offers no way to reach a stream's properties, so they go through
// libpulse's PULSE_PROP_OVERRIDE, which replaces what RtAudio sets, unless the
// environment already has it. Only for RtAudio's PulseAudio API (ALSA's
// PulseAudio plugin names its streams itself). Call before any thread starts.
void nameStreams(AudioApi api);

// What nameStreams puts in PULSE_PROP_OVERRIDE.
inline constexpr const char* streamProperties =
    "application.name='recd' application.id='org.recd.Recorder1' "
    "application.icon_name='audio-input-microphone' media.role='production'";

} // namespace recd
