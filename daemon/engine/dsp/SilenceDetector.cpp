#include "daemon/engine/dsp/SilenceDetector.hpp"


namespace recd {

SilenceDetector::SilenceDetector(const CaptureFormat& format, double thresholdDbfs) : blocks_(format, thresholdDbfs) {}

void SilenceDetector::feed(const std::byte* frames, std::uint64_t count, std::uint64_t fileFrame)
{
    if (fileFrame != end_) // a new stretch of the file (the first feed)
        silentSince_ = end_ = fileFrame;
    blocks_.each(frames, count, fileFrame, [this](const std::byte*, std::uint64_t n, std::uint64_t at, bool sound) {
        if (!sound)
            return;
        if (!heard_)
            firstSound_ = at;
        heard_ = true;
        silentSince_ = at + n;
    });
    end_ = fileFrame + count;
}

} // namespace recd
