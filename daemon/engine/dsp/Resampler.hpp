#pragma once
// A resampler whose ratio may change from one call to the next, for a clock
// that drifts: libsamplerate's sinc converter (SRC_SINC_FASTEST), which
// follows a changing ratio smoothly. Runs on the writer's thread, never on an
// audio thread: it allocates.

#include "daemon/engine/CaptureFormat.hpp"

#include <cstddef>
#include <vector>

struct SRC_STATE_tag;

namespace recd {

class Resampler {
public:
    explicit Resampler(const CaptureFormat& format);
    ~Resampler();
    Resampler(const Resampler&) = delete;
    Resampler& operator=(const Resampler&) = delete;

    // Converts `frames` frames (in the format's capture layout) at `inPerOut`
    // input frames per output frame, appending what comes out to `out` (in the
    // same layout). The converter keeps a little input to look ahead, so what
    // comes out lags what went in by a few dozen frames, but is in time with it.
    // Returns the output frames.
    std::size_t process(const std::byte* in, std::size_t frames, double inPerOut, std::vector<std::byte>& out);

private:
    CaptureFormat format_;
    SRC_STATE_tag* state_;
    std::vector<float> in_;
    std::vector<float> out_;
};

} // namespace recd
