#pragma once
// Reads a recorded file back with libsndfile and measures what is in it, so tests
// judge the audio itself: how long it is, which tone it holds and how loud.

#include <cstdint>
#include <filesystem>
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

// Dominant frequency of a pure tone, from the spacing of its rising zero crossings
// (interpolated between samples); 0 for silence.
double toneFrequency(const std::vector<float>& mono, int rate);
double peakDbfs(const std::vector<float>& mono);
double rmsDbfs(const std::vector<float>& mono);
// Frame indices where a run of at least `minFrames` samples below `threshold`
// (absolute) begins: gaps in a tone, e.g. from lost audio.
std::vector<std::int64_t> silentRuns(const std::vector<float>& mono, float threshold, std::int64_t minFrames);

} // namespace recd::test
