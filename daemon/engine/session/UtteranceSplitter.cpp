#include "daemon/engine/session/UtteranceSplitter.hpp"

#include "daemon/engine/Log.hpp"

#include <algorithm>

namespace recd {

UtteranceSplitter::UtteranceSplitter(TakeFiles& files, const CaptureFormat& format, double thresholdDbfs,
                                     std::uint64_t gapFrames, std::uint64_t marginFrames)
    : files_(files), blocks_(format, thresholdDbfs), rate_(format.rate), frameBytes_(format.frameBytes()),
      gap_(gapFrames), margin_(marginFrames)
{
    // The most ever held: a gap's worth of silence. Reserved here, once, so
    // that holding never allocates while the take runs.
    held_.reserve(static_cast<std::size_t>(gap_) * frameBytes_);
}

void UtteranceSplitter::write(const std::byte* data, std::uint64_t frames, std::uint64_t takeFrame)
{
    blocks_.each(data, frames, takeFrame, [this](const std::byte* block, std::uint64_t n, std::uint64_t at, bool sound) {
        writeBlock(block, n, at, sound);
    });
}

void UtteranceSplitter::writeBlock(const std::byte* data, std::uint64_t frames, std::uint64_t takeFrame, bool sound)
{
    if (sound) {
        if (!speaking_)
            log().debug("an utterance begins at {:.3f} s of the take", static_cast<double>(takeFrame) / rate_);
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
