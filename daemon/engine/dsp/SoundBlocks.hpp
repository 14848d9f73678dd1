#pragma once
// What counts as sound and what as silence, in one place for every feature
// that listens (stop_on_silence, start_on_sound, split_on_silence): audio is
// judged in 10 ms blocks aligned to the take, so that the same audio gives the
// same verdict however the writer happened to chunk it, and a block is sound
// when its peak reaches the threshold. Writer thread only.

#include "daemon/engine/CaptureFormat.hpp"
#include "daemon/engine/dsp/LevelMeter.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace recd {

class SoundBlocks {
public:
    SoundBlocks(const CaptureFormat& format, double thresholdDbfs)
        : format_(format), frameBytes_(format.frameBytes()),
          threshold_(static_cast<float>(std::pow(10.0, thresholdDbfs / 20.0))), blockFrames_(std::max(1u, format.rate / 100))
    {
    }

    // Calls onBlock(data, frames, firstFrame, sound) for each block (or the
    // part of one that these frames hold) of frames [firstFrame, firstFrame + count).
    template <class OnBlock>
    void each(const std::byte* frames, std::uint64_t count, std::uint64_t firstFrame, OnBlock&& onBlock) const
    {
        for (std::uint64_t at = 0; at < count;) {
            const std::uint64_t n = std::min(blockFrames_ - (firstFrame + at) % blockFrames_, count - at);
            const std::byte* block = frames + at * frameBytes_;
            onBlock(block, n, firstFrame + at, peakOf(block, n, format_) >= threshold_);
            at += n;
        }
    }

private:
    CaptureFormat format_;
    std::size_t frameBytes_;
    float threshold_; // linear
    std::uint64_t blockFrames_;
};

} // namespace recd
