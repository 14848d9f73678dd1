#pragma once
// StartRecording's options, each declared once, here: its key in the call's
// options dictionary, the field it fills (whose type is its D-Bus type), the
// values it allows, and how recctl offers it. The daemon's adaptor parses a
// call by this table (daemon/dbus/RecorderAdaptor.cpp), the engine checks the
// ranges by it (planCapture), recctl makes its flags and the dictionary from
// it (client/StartFlags.cpp), and a unit test checks that the interface XML,
// the man page and the three completion files name every option
// (tests/unit/StartOptionsTest.cpp). In common/ because recctl and the daemon
// both read it.

#include "common/SampleFormat.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace recd {

// What a StartRecording call asks for besides its path. Unset values take the
// configuration's, the device's or the container's default.
struct StartOptions {
    std::string device; // id, exact name or unique substring; empty: the default input
    // Several inputs in one take, each given as `device` is (or @input, @output);
    // not with `device`.
    std::vector<std::string> inputs;
    std::string layout; // several inputs: "channels" (the default), "files" or "mix"
    std::optional<std::uint32_t> rate;
    std::optional<std::uint32_t> channels;
    std::optional<SampleFormat> sampleFormat;
    std::optional<double> maxDuration;      // seconds
    std::optional<double> reconnect;        // seconds to wait for a lost device to return
    std::optional<double> preRoll;          // seconds from before the request to begin with
    std::optional<double> stopOnSilence;    // seconds of continuous silence that end the take
    std::optional<double> splitEvery;       // seconds per file; the take goes on in numbered parts
    // Seconds of silence that end an utterance: a numbered part per utterance,
    // the silence between them left out but for a short margin.
    std::optional<double> splitOnSilence;
    bool startOnSound = false;              // armed: writing begins at the first sound above the threshold
    std::optional<double> silenceThreshold; // dBFS; below it is silence
    bool overwrite = false;
    // Write the take into this descriptor (the caller's pipe or file) instead of
    // a file recd creates; the path is then empty. WAV, or raw PCM with rawStream.
    std::shared_ptr<const int> streamFd;
    bool rawStream = false;
};

// The field an option fills. Its type is the option's D-Bus type: s, as, u, d,
// b, a sample format by name (s), a descriptor (h).
using StartOptionField =
    std::variant<std::string StartOptions::*, std::vector<std::string> StartOptions::*,
                 std::optional<std::uint32_t> StartOptions::*,
                 std::optional<double> StartOptions::*, bool StartOptions::*,
                 std::optional<SampleFormat> StartOptions::*, std::shared_ptr<const int> StartOptions::*>;

// The numbers a numeric option allows: from min to max, each end included
// unless it is open.
struct OptionRange {
    double min = 0;
    double max = 0;
    bool minOpen = false;
    bool maxOpen = false;
    constexpr bool contains(double v) const
    {
        return (minOpen ? v > min : v >= min) && (maxOpen ? v < max : v <= max);
    }
};

struct StartOption {
    std::string_view key;     // in the options dictionary
    StartOptionField field;
    std::string_view meaning; // what the value is, for a wrong-type error: "seconds"
    std::string_view unit;    // after the value in an out-of-range error ("rate 0 Hz"); may be empty
    std::optional<OptionRange> range;
    std::string_view allowed; // what to give instead, after an out-of-range error
    std::string_view flags;   // recctl's (CLI11 style); empty: recctl sets it itself, if at all
    std::string_view help;    // recctl --help
};

inline constexpr double secondsInAYear = 366.0 * 24 * 3600;

inline constexpr std::array<StartOption, 17> startOptions{{
    {"device", &StartOptions::device, "a device id, exact name or unique substring", "", {}, "",
     "-d,--device",
     "input device: id, exact name or unique substring (see `recctl devices`), @input (the default input) or "
     "@output (what the computer plays); repeat it to record several inputs in one take"},
    // recctl sends a repeated -d as this.
    {"inputs", &StartOptions::inputs, "a list of device ids, exact names, unique substrings, @input or @output",
     "", {}, "", "", ""},
    {"layout", &StartOptions::layout, "channels, files or mix", "", {}, "", "--layout",
     "with several inputs: channels (each input's channels side by side, in the order given; the default), "
     "files (a file per input: take-in1.wav, take-in2.wav) or mix (summed, each input at 1/n so the sum never "
     "clips)"},
    {"rate", &StartOptions::rate, "samples per second", "Hz", OptionRange{1000, 768000},
     "use 1000 to 768000 Hz (e.g. 44100 or 48000)", "-r,--rate", "sample rate in Hz, e.g. 44100 or 48000"},
    {"channels", &StartOptions::channels, "a channel count", "", OptionRange{1, 64}, "use 1 to 64",
     "-c,--channels", "number of channels"},
    {"sample_format", &StartOptions::sampleFormat, "s16, s24, s32 or f32", "", {}, "", "-f,--format",
     "sample format: s16, s24, s32 or f32 (WAV: all; FLAC: s16, s24)"},
    {"max_duration", &StartOptions::maxDuration, "seconds", "", OptionRange{0, secondsInAYear, true},
     "give seconds above 0 (up to a year)", "-m,--max-duration",
     "stop by itself after this many seconds, keeping the file"},
    {"reconnect", &StartOptions::reconnect, "seconds", "", OptionRange{0, 3600}, "give seconds from 0 to 3600",
     "--reconnect", "if the device is lost, wait this many seconds for it to return and go on in the same file"},
    {"pre_roll", &StartOptions::preRoll, "seconds", "", OptionRange{0, 3600},
     "give seconds from 0 up to the configured pre_roll", "-p,--pre-roll",
     "begin with this many seconds from before the command (up to recd's pre_roll setting, which is the "
     "default)"},
    {"start_on_sound", &StartOptions::startOnSound, "true or false", "", {}, "", "--start-on-sound",
     "arm: begin writing at the first sound above the silence threshold (with pre-roll if set)"},
    {"split_every", &StartOptions::splitEvery, "seconds", "", OptionRange{0.1, secondsInAYear},
     "give seconds per file from 0.1 up", "--split-every",
     "go on in a new file every this many seconds: PATH-001.wav, PATH-002.wav, ... (sample-exact)"},
    {"split_on_silence", &StartOptions::splitOnSilence, "seconds", "", OptionRange{0.1, 60},
     "give seconds of silence from 0.1 to 60 (e.g. 0.8)", "--split-on-silence",
     "a file per utterance: this many seconds of silence end one, and the silence up to the next is left out "
     "(but for 0.25 s at each end): PATH-001.wav, PATH-002.wav, ..."},
    {"stop_on_silence", &StartOptions::stopOnSilence, "seconds", "", OptionRange{0, 86400, true},
     "give seconds above 0 (up to a day)", "-s,--stop-on-silence",
     "stop by itself after this many seconds of silence, trimming it to a short tail"},
    {"silence_threshold", &StartOptions::silenceThreshold, "dBFS", "", OptionRange{-120, 0, false, true},
     "give dBFS from -120 to below 0 (e.g. -50)", "--silence-threshold",
     "what counts as silence, in dBFS (default -50)"},
    {"overwrite", &StartOptions::overwrite, "true or false", "", {}, "", "--overwrite", "replace an existing file"},
    // recctl sets these two itself, for `recctl start -` and its --raw.
    {"fd", &StartOptions::streamFd, "a file descriptor", "", {}, "", "", ""},
    {"raw", &StartOptions::rawStream, "true or false", "", {}, "", "", ""},
}};

// The entry for a key; null for an unknown one.
const StartOption* findStartOption(std::string_view key);
// "channels, device, fd, ...": every key, sorted, for an unknown-option error.
std::string startOptionKeys();
// The D-Bus signature of an option's value: "s", "u", "d", "b" or "h".
std::string_view dbusSignature(const StartOption& option);

// Throws InvalidArgument for the first set value outside its option's range,
// naming the option, the value and what is allowed.
void checkRanges(const StartOptions& options);

} // namespace recd
