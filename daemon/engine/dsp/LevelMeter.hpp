#pragma once

#include "daemon/engine/CaptureFormat.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace recd {

// The loudest sample of any channel in interleaved capture frames, as a fraction
// of full scale (0..1).
float peakOf(const std::byte* frames, std::size_t count, const CaptureFormat& format);

// Peak and RMS per channel, in dBFS (-inf for digital silence).
struct Levels {
    std::vector<double> peakDbfs;
    std::vector<double> rmsDbfs;
    std::uint64_t frames = 0; // how much audio they were measured over
};

// Accumulates peak and mean square per channel over the frames fed to it, until
// take() hands them over and starts again. Runs on the writer thread, never on
// the audio thread.
class LevelMeter {
public:
    explicit LevelMeter(const CaptureFormat& format);
    void feed(const std::byte* frames, std::uint64_t count);
    std::uint64_t frames() const { return frames_; }
    Levels take();

private:
    CaptureFormat format_;
    std::vector<double> peak_;
    std::vector<double> sumSquares_;
    std::uint64_t frames_ = 0;
};

} // namespace recd
