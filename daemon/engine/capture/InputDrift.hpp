#pragma once
// How one input's clock runs against the first input's over a take, and how
// fast to read it so that it stays in step. Two sound cards, or a USB
// microphone and the output, each run on a crystal of their own: 0.1 % apart
// is 60 ms a minute. Where the server keeps every input on one clock
// (PipeWire resamples each node to its driver) the measured drift stays at
// the measuring noise, and nothing is corrected.

#include <cstdint>

namespace recd {

class InputDrift {
public:
    explicit InputDrift(unsigned rate) : rate_(rate) {}

    // Where the first input and this one stand at one instant, in frames since
    // the take's first frame of each (by their clocks).
    void observe(double firstFrames, double ownFrames);
    // How much faster this input's clock runs, in parts per million: the slope
    // of the frames it gains over the first input's frames, over the take after
    // its first two seconds.
    double ppm() const;
    // Whether the drift is worth correcting: once it has moved the input 1.5 ms
    // against the first and four times as far as the readings stray from the
    // line (the clocks' noise), and is known to within a fifth; from then on.
    bool correcting() const { return correcting_; }
    // Input frames to read per output frame, so that output frame `outputFrame`
    // lines up with the input frame the drift says was captured with it (the
    // measured rate from the take's start); `inputFrame` is the input frame the
    // resampler has reached for it. The error is taken back over two seconds,
    // within ±1 %.
    double inPerOut(double outputFrame, double inputFrame) const;

private:
    struct Spread {
        double xx, xy, yy;
    };
    Spread spread() const;
    double slope() const;
    double stray() const;      // how far the readings stray from the line (standard deviation, frames)
    double slopeError() const; // the slope's standard error

    unsigned rate_;
    double n_ = 0, sx_ = 0, sy_ = 0, sxx_ = 0, sxy_ = 0, syy_ = 0;
    double firstX_ = 0, lastX_ = 0;
    double lastY_ = 0; // the last reading taken
    int skipped_ = 0;  // readings left out in a row
    bool correcting_ = false;
};

} // namespace recd
