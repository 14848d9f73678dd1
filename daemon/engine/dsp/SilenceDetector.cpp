#include "daemon/engine/dsp/SilenceDetector.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace recd {

SilenceDetector::SilenceDetector(const CaptureFormat& format, double thresholdDbfs)
    : format_(format), threshold_(static_cast<float>(std::pow(10.0, thresholdDbfs / 20.0))),
      blockFrames_(std::max(1u, format.rate / 100))
{
}

void SilenceDetector::feed(const std::byte* frames, std::uint64_t count, std::uint64_t fileFrame)
{
    const std::size_t frameBytes = format_.frameBytes();
    if (fileFrame != end_) // a new stretch of the file (the first feed)
        silentSince_ = end_ = fileFrame;
    for (std::uint64_t at = 0; at < count;) {
        // Blocks are aligned to the file, so the same audio gives the same verdict
        // however the writer happened to chunk it.
        const std::uint64_t inBlock = blockFrames_ - (fileFrame + at) % blockFrames_;
        const std::uint64_t n = std::min(inBlock, count - at);
        if (peakOf(frames + at * frameBytes, n, format_) >= threshold_) {
            if (!heard_)
                firstSound_ = fileFrame + at;
            heard_ = true;
            silentSince_ = fileFrame + at + n;
        }
        at += n;
    }
    end_ = fileFrame + count;
}

} // namespace recd
