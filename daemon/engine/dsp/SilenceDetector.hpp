#pragma once

#include "daemon/engine/CaptureFormat.hpp"
#include "daemon/engine/dsp/SoundBlocks.hpp"

#include <cstddef>
#include <cstdint>

namespace recd {

// Follows the audio written to a file and knows how long it has been silent:
// every silent block (SoundBlocks) extends the silent stretch at the end; a
// block of sound ends it. Runs on the writer thread, never
// on the audio thread.
class SilenceDetector {
public:
    SilenceDetector(const CaptureFormat& format, double thresholdDbfs);

    // Frames as they go into the file, in order; `fileFrame` is where they begin.
    void feed(const std::byte* frames, std::uint64_t count, std::uint64_t fileFrame);
    // Where the silent stretch at the end began (a file frame), and how long it is.
    std::uint64_t silentSince() const { return silentSince_; }
    std::uint64_t silentFrames() const { return end_ - silentSince_; }
    // Whether anything louder than the threshold has been heard yet.
    bool heardSound() const { return heard_; }
    // Where the first block louder than the threshold begins.
    std::uint64_t firstSoundAt() const { return firstSound_; }

private:
    SoundBlocks blocks_;
    std::uint64_t silentSince_ = 0;
    std::uint64_t end_ = 0;
    bool heard_ = false;
    std::uint64_t firstSound_ = 0;
};

} // namespace recd
