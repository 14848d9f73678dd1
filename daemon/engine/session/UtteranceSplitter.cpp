#include "daemon/engine/session/UtteranceSplitter.hpp"

#include "daemon/engine/Log.hpp"
#include "daemon/engine/dsp/LevelMeter.hpp"

#include <algorithm>
#include <cmath>

namespace recd {

UtteranceSplitter::UtteranceSplitter(TakeFiles& files, const CaptureFormat& format, double thresholdDbfs,
                                     std::uint64_t gapFrames, std::uint64_t marginFrames)
    : files_(files), format_(format), frameBytes_(format.frameBytes()),
      threshold_(static_cast<float>(std::pow(10.0, thresholdDbfs / 20.0))), blockFrames_(std::max(1u, format.rate / 100)),
      gap_(gapFrames), margin_(marginFrames)
{
    // The most ever held: a gap's worth of silence. Reserved here, once, so
    // that holding never allocates while the take runs.
    held_.reserve(static_cast<std::size_t>(gap_) * frameBytes_);
}

void UtteranceSplitter::write(const std::byte* data, std::uint64_t frames, std::uint64_t takeFrame)
{
    for (std::uint64_t at = 0; at < frames;) {
        // Blocks aligned to the take, as SilenceDetector's: the same audio gives
        // the same parts however the writer happened to chunk it.
        const std::uint64_t n = std::min(blockFrames_ - (takeFrame + at) % blockFrames_, frames - at);
        const std::byte* block = data + at * frameBytes_;
        writeBlock(block, n, takeFrame + at, peakOf(block, n, format_) >= threshold_);
        at += n;
    }
}

void UtteranceSplitter::writeBlock(const std::byte* data, std::uint64_t frames, std::uint64_t takeFrame, bool sound)
{
    if (sound) {
        if (!speaking_)
            log().debug("an utterance begins at {:.3f} s of the take", static_cast<double>(takeFrame) / format_.rate);
        writeHeld(); // the pause within the utterance, or the next part's lead
        files_.write(data, frames, takeFrame);
        speaking_ = true;
        silentRun_ = 0;
        return;
    }
    silentRun_ += frames;
    if (speaking_ && silentRun_ <= margin_) {
        files_.write(data, frames, takeFrame); // the part's tail
        return;
    }
    hold(data, frames, takeFrame);
    if (speaking_ && silentRun_ >= gap_) {
        // The utterance is over: its part is made final, ending on its tail.
        files_.closePart();
        speaking_ = false;
    }
    if (!speaking_ && held_.size() > margin_ * frameBytes_) {
        // Between utterances only the last margin is kept, for the next lead.
        const std::size_t drop = held_.size() - margin_ * frameBytes_;
        held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(drop));
        heldFrom_ += drop / frameBytes_;
    }
}

void UtteranceSplitter::hold(const std::byte* data, std::uint64_t frames, std::uint64_t takeFrame)
{
    if (held_.empty())
        heldFrom_ = takeFrame;
    held_.insert(held_.end(), data, data + frames * frameBytes_);
}

void UtteranceSplitter::writeHeld()
{
    if (held_.empty())
        return;
    files_.write(held_.data(), held_.size() / frameBytes_, heldFrom_);
    held_.clear();
}

} // namespace recd
