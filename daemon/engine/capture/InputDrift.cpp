#include "daemon/engine/capture/InputDrift.hpp"

#include <algorithm>
#include <cmath>

namespace recd {

void InputDrift::observe(double firstFrames, double ownFrames)
{
    // Not in the first two seconds, while the clocks settle: PulseAudio moves
    // the delay of a new stream's buffers by milliseconds then, and readings
    // from the first half second on had one source recorded as two inputs
    // "drift" by 40 ppm over a minute and be resampled. (A source that begins
    // with a backlog, a pipe source whose pipe filled while nobody read it,
    // moves its clock for seconds as the backlog drains: by 130 ms, seen. That
    // reads as a drift of a few per cent, and the demand for a slope known to
    // within a fifth is what keeps it from being corrected.)
    if (firstFrames < 2.0 * rate_)
        return;
    const double x = firstFrames, y = ownFrames - firstFrames;
    // A reading a millisecond away from the last one taken is a clock's hiccup
    // (a late delivery: one of -1.7 ms among +0.2 ms on one clock, seen), not a
    // drift, which moves a few hundredths of a millisecond between readings; a
    // second of such readings in a row is a real move, and counts again.
    // (Judged against the fitted line instead, a fit gone wrong early, 360 ppm
    // for 1000 under load, refused every later reading and stayed wrong.)
    if (n_ > 0 && std::abs(y - lastY_) > 0.001 * rate_ && ++skipped_ < 4)
        return;
    skipped_ = 0;
    lastY_ = y;
    if (n_ == 0)
        firstX_ = x;
    lastX_ = x;
    n_ += 1;
    sx_ += x;
    sy_ += y;
    sxx_ += x * x;
    sxy_ += x * y;
    syy_ += y * y;
    // Worth it once the drift has moved the input 1.5 ms, and four times as far
    // as the readings stray from the line; and only as sure of it as to within
    // a fifth: correcting by a drift read from a few noisy seconds (2500 ppm
    // for 1000, seen) pushed the input 9 ms the other way. The readings of
    // PulseAudio's null sink monitors stray by up to 1.7 ms for seconds at a
    // time (the sink changes the size of what it renders ahead), and one
    // source read as three inputs once had one "corrected" for 260 ppm that
    // was not there; clean clocks stray by a tenth of a millisecond.
    const double s = slope();
    if (!correcting_ && n_ >= 6 && std::abs(s * (lastX_ - firstX_)) > std::max(0.0015 * rate_, 4 * stray()) &&
        slopeError() < 0.2 * std::abs(s))
        correcting_ = true;
}

// The spreads about the means: of the first's frames, of the two together,
// and of the frames gained.
InputDrift::Spread InputDrift::spread() const
{
    return {sxx_ - sx_ * sx_ / n_, sxy_ - sx_ * sy_ / n_, syy_ - sy_ * sy_ / n_};
}

double InputDrift::slope() const
{
    if (n_ < 2)
        return 0.0;
    const Spread d = spread();
    return d.xx > 0 ? d.xy / d.xx : 0.0;
}

double InputDrift::stray() const
{
    if (n_ < 3)
        return INFINITY;
    const Spread d = spread();
    return d.xx > 0 ? std::sqrt(std::max(0.0, d.yy - d.xy * d.xy / d.xx) / (n_ - 2)) : INFINITY;
}

double InputDrift::slopeError() const
{
    if (n_ < 3)
        return INFINITY;
    const Spread d = spread();
    return d.xx > 0 ? stray() / std::sqrt(d.xx) : INFINITY;
}

double InputDrift::ppm() const { return slope() * 1e6; }

double InputDrift::inPerOut(double outputFrame, double inputFrame) const
{
    // The rate alone: where the clocks placed the inputs at the start is where
    // they stay. (What the clocks say of an input's lateness moves with the
    // server's buffering: a pipe source's did by 150 ms after the start, and
    // following it put the input 130 ms off.)
    const double wanted = outputFrame * (1.0 + slope());
    const double ratio = 1.0 + slope() + (wanted - inputFrame) / (2.0 * rate_);
    return std::clamp(ratio, 0.99, 1.01);
}

} // namespace recd
