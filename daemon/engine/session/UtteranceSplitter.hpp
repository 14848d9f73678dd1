#pragma once
// split_on_silence: a part per utterance. On the writer thread, between the
// take's frames and its files: sound goes into the current part at once; the
// first `margin` of a silence too (the part's tail); the rest of a silence is
// held back, and written after all if sound comes back before `gap` has
// passed (a pause within the utterance). Once the silence has lasted `gap`,
// the part is made final, and the silence after it is left out but for the
// last `margin` before the next sound, which begins the next part (its lead).
//
// Silence is judged as stop_on_silence judges it (SoundBlocks): 10 ms blocks
// aligned to the take, silent when their peak is below the threshold, so a
// block with any frame of sound in it is sound, and every frame of sound is
// written.

#include "daemon/engine/CaptureFormat.hpp"
#include "daemon/engine/dsp/SoundBlocks.hpp"
#include "daemon/engine/file/TakeFiles.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace recd {

class UtteranceSplitter {
public:
    UtteranceSplitter(TakeFiles& files, const CaptureFormat& format, double thresholdDbfs, std::uint64_t gapFrames,
                      std::uint64_t marginFrames);

    // The take's frames [takeFrame, takeFrame + frames), in order.
    void write(const std::byte* data, std::uint64_t frames, std::uint64_t takeFrame);

private:
    void writeBlock(const std::byte* data, std::uint64_t frames, std::uint64_t takeFrame, bool sound);
    void hold(const std::byte* data, std::uint64_t frames, std::uint64_t takeFrame);
    void writeHeld();

    TakeFiles& files_;
    SoundBlocks blocks_;
    unsigned rate_;
    std::size_t frameBytes_;
    std::uint64_t gap_;
    std::uint64_t margin_;
    bool speaking_ = true;       // a part is open (the first from the take's start)
    std::uint64_t silentRun_ = 0; // frames of silence since the last sound
    // Silence not yet written: within an utterance, what came after its tail
    // margin; between utterances, at most the last margin (the next lead).
    std::vector<std::byte> held_;
    std::uint64_t heldFrom_ = 0; // the take's frame held_ begins at
};

} // namespace recd
