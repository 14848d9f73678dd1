#pragma once
// The format audio is captured in: what an input delivers, and what the
// signal processing (meters, detectors, resampler) reads and writes.

#include "common/SampleFormat.hpp"

#include <cstddef>

namespace recd {

struct CaptureFormat {
    unsigned rate = 48000;
    unsigned channels = 2;
    SampleFormat sampleFormat = SampleFormat::S16;
    std::size_t frameBytes() const { return channels * captureBytesPerSample(sampleFormat); }
    bool operator==(const CaptureFormat&) const = default;
};

} // namespace recd
