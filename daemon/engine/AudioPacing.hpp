#pragma once
// How the audio system paces what it hands recd: chunks of frames per callback,
// delivered by the sound server at an interval of its own.

#include "AudioSystem.hpp"

#include <chrono>

namespace recd {

// RtAudio 5.2's PulseAudio back end asks the server for one delivery per callback
// buffer (its fragsize is the buffer), so one number would set two things that
// pull apart: how soon the first buffer is there, which a start must wait for,
// and how often the server, libpulse's mainloop thread and RtAudio's reading
// thread wake, which is what recording costs. recd sets them apart: the server
// delivers every deliveryInterval, and RtAudio hands each delivery over in small
// chunks. A start then waits for the first delivery instead of for a whole
// buffer's worth of them, and a take wakes no more often than it did with
// 512-frame buffers (10.7 ms at 48 kHz). Measured on the rig: the first buffer
// arrives 0-10 ms after the stream opens instead of 11-19 ms, at the same
// ~105 reader and ~110 mainloop wake-ups a second.
inline constexpr std::chrono::milliseconds defaultDeliveryInterval{10};

// Frames per callback when the config names none. PulseAudio with a delivery
// interval in force: 128 (2.7 ms at 48 kHz), since the interval paces the
// deliveries. Otherwise 512: with ALSA the period is the delivery too, and
// RtAudio keeps only four of them, so a smaller one would leave no slack before
// the device overflows; and PulseAudio without an interval would deliver every
// buffer.
unsigned defaultBufferFrames(AudioApi api);

// The environment variable through which libpulse lets a process choose its
// streams' latency and fragment size (PULSE_LATENCY_MSEC): RtAudio offers no
// other way to reach pa_buffer_attr.
inline constexpr const char* deliveryIntervalVariable = "PULSE_LATENCY_MSEC";

// Asks libpulse to deliver every `interval` for each stream this process opens,
// unless the environment already sets the variable: a user's own choice wins.
// Only for RtAudio's PulseAudio API, whose chunk and delivery it unties; ALSA's
// PulseAudio plugin paces its stream by the period already. setenv() is unsafe
// while another thread may read the environment, so this runs in main() before
// any thread starts, once the configuration says which API.
void requestDeliveryInterval(AudioApi api, std::chrono::milliseconds interval = defaultDeliveryInterval);

// The interval in force for this process's streams; zero when the server paces
// deliveries by the buffer alone.
std::chrono::milliseconds deliveryInterval();

// Whether recd set the variable itself (rather than inheriting it), so that the
// programs it runs (on_stop hooks) do not inherit recd's choice.
bool deliveryIntervalIsOurs();

} // namespace recd
