#pragma once
// Reads a recorded file back with libsndfile and measures what is in it, so tests
// judge the audio itself: how long it is, which tone it holds and how loud.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace recd::test {

struct AudioFile {
    int rate = 0;
    int channels = 0;
    int format = 0; // SF_FORMAT_* word
    std::int64_t frames = 0;
    std::vector<float> samples; // interleaved, -1..1

    double duration() const { return rate ? static_cast<double>(frames) / rate : 0.0; }
    std::vector<float> channel(int c) const;
};

// Throws std::runtime_error if libsndfile cannot open or read it.
AudioFile readAudioFile(const std::filesystem::path& path);
// The parts of a split take, read back and put end to end.
AudioFile readParts(const std::vector<std::filesystem::path>& parts);

// The Broadcast WAV 'bext' chunk, as libsndfile reads it back.
struct BroadcastInfo {
    std::string date;             // origination date, YYYY-MM-DD
    std::string time;             // origination time, HH:MM:SS
    std::uint64_t timeReference;  // samples since midnight at the first sample
    std::string originator;
};
std::optional<BroadcastInfo> readBroadcastInfo(const std::filesystem::path& path);

// Dominant frequency of a pure tone, from the spacing of its rising zero crossings
// (interpolated between samples); 0 for silence.
double toneFrequency(const std::vector<float>& mono, int rate);
double peakDbfs(const std::vector<float>& mono);
double rmsDbfs(const std::vector<float>& mono);
// Frame indices where a run of at least `minFrames` samples below `threshold`
// (absolute) begins: gaps in a tone, e.g. from lost audio.
std::vector<std::int64_t> silentRuns(const std::vector<float>& mono, float threshold, std::int64_t minFrames);

// Times (seconds from the start) where bursts of a tone at `frequency` begin: the
// tone's amplitude, measured in Hann-windowed 5 ms windows every 1 ms, rises
// above `threshold` after at least `quiet` seconds below it. Other tones (the
// rig's 440 Hz) stay far below the threshold. Accurate to about 2 ms.
std::vector<double> toneBursts(const std::vector<float>& mono, int rate, double frequency, double threshold,
                               double quiet = 0.1);

// A recording of the rig's sample-counter signal (tests/counter-signal): each
// frame holds its own index, so continuity can be checked to the frame.
struct CounterCheck {
    std::int64_t firstIndex = -1;
    std::int64_t lastIndex = -1;
    std::int64_t lost = 0;       // frames skipped over by forward jumps
    std::int64_t duplicated = 0; // frames repeated or out of order
    std::vector<std::pair<std::int64_t, std::int64_t>> jumps; // (frame in file, index step) where step != 1
    // All-zero frames after the first: the counter names frame 0 only when the
    // rig starts, so these are silence the sound server mixed in while the rig's
    // feeder underran (seen: 90 frames under load, the count going on after
    // them exactly where it stopped). Not the recorder's; left out of the count.
    std::int64_t serverSilence = 0;
    // Frames in the file that carry the counter.
    std::int64_t counted(std::int64_t frames) const { return frames - serverSilence; }
};
CounterCheck checkCounter(const AudioFile& a);
// The index frame `frame` of such a recording holds (0 for silence), in the
// channel pair that begins at `channel`.
std::int64_t counterIndexAt(const AudioFile& a, std::int64_t frame, int channel = 0);

// The lag, in frames within ±maxLag, at which `b` best matches `a` (their
// cross-correlation is largest): b[n + lag] ~ a[n]. 0: aligned.
std::int64_t bestLag(const std::vector<float>& a, const std::vector<float>& b, std::int64_t maxLag);

// Writes raw s16le stereo at 48 kHz (what the rig's pacat plays): `frames`
// frames, both channels sample(i), -1..1.
std::filesystem::path writeRaw(const std::filesystem::path& path, std::int64_t frames,
                               const std::function<double(std::int64_t)>& sample);

} // namespace recd::test
