#pragma once
// How the audio system paces what it hands recd: chunks of frames per callback,
// delivered by the sound server at an interval of its own.

#include "daemon/engine/device/AudioSystem.hpp"

#include <chrono>

namespace recd {

// Frames per callback when the config names none: 2048 (42.7 ms at 48 kHz), for
// both APIs.
//
// A recorder is a guest in the user's audio graph. RtAudio 5.2's PulseAudio back
// end asks the server for one delivery per callback buffer (its fragsize is the
// buffer, with PA_STREAM_ADJUST_LATENCY), and ALSA's PulseAudio plugin for one
// per period, so the buffer is the latency recd asks of the server. PipeWire
// runs its whole graph at the smallest latency any node asks for: with 480
// frames (what recd used to force through PULSE_LATENCY_MSEC=10) every audio
// client and the server woke 8 times as often as with arecord or pw-record
// beside it (measured: quantum 256 instead of 2048). 2048 is at least
// PipeWire's default quantum (1024) and its default largest (2048), so recd
// never lowers the period the graph would run at without it; PulseAudio sizes
// the source's latency the same way.
//
// What it costs: a start waits for the first buffer (about one buffer's time),
// and a stop for the frames still in flight. A user who wants a snappier start
// sets buffer_frames lower, at the price above (README, "Buffers, latency and
// duration").
inline constexpr unsigned defaultBufferFrames = 2048;

// While nothing waits on the next frames, the server need not hand them over
// so often. A pre-roll keeps its input open between takes and a start takes its
// audio from the ring, so nobody waits for that stream's first buffer: it opens
// at the larger of the buffer and this, waking the server and recd less often
// while it waits (most of its life). A take's stream relaxes to the same in its
// steady part, and is made prompt again (back to its buffer) when a pause,
// resume or stop waits for the frames up to its moment: recd's own PulseAudio
// input changes a running stream's fragment (pa_stream_set_buffer_attr), which
// RtAudio's pa_simple cannot; on PipeWire only (PulseConnection::isPipeWire). Not more than 100 ms: the Level signal comes from
// the writer about ten times a second, and the writer wakes with deliveries.
inline constexpr std::chrono::milliseconds relaxedDeliveryTime{100};
unsigned relaxedDeliveryFrames(unsigned bufferFrames, unsigned rate);

// The environment variable through which libpulse lets a process choose its
// streams' latency and fragment size (PULSE_LATENCY_MSEC). recd never sets it
// (see defaultBufferFrames); a user may, and then it decides how often the
// server delivers, whatever the buffer.
inline constexpr const char* deliveryIntervalVariable = "PULSE_LATENCY_MSEC";

// The interval a user set for this process's streams; zero when the server
// paces deliveries by the buffer alone.
std::chrono::milliseconds deliveryInterval();

} // namespace recd
