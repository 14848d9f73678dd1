#include "daemon/engine/dsp/LevelMeter.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace recd {

namespace {

// Sample `i` of interleaved capture data as a fraction of full scale. memcpy: the
// ring gives no alignment guarantee.
template <class T>
double sampleAt(const std::byte* data, std::size_t i, double scale)
{
    T v;
    std::memcpy(&v, data + i * sizeof(T), sizeof(T));
    return static_cast<double>(v) * scale;
}

template <class Visit>
void forEachSample(const std::byte* frames, std::size_t samples, SampleFormat format, Visit&& visit)
{
    switch (format) {
    case SampleFormat::S16:
        for (std::size_t i = 0; i < samples; ++i)
            visit(i, sampleAt<std::int16_t>(frames, i, 1.0 / 32768.0));
        break;
    case SampleFormat::S24:
    case SampleFormat::S32:
        for (std::size_t i = 0; i < samples; ++i)
            visit(i, sampleAt<std::int32_t>(frames, i, 1.0 / 2147483648.0));
        break;
    case SampleFormat::F32:
        for (std::size_t i = 0; i < samples; ++i)
            visit(i, sampleAt<float>(frames, i, 1.0));
        break;
    }
}

double dbfs(double linear)
{
    return linear > 0 ? 20.0 * std::log10(linear) : -std::numeric_limits<double>::infinity();
}

} // namespace

float peakOf(const std::byte* frames, std::size_t count, const CaptureFormat& format)
{
    double peak = 0;
    forEachSample(frames, count * format.channels, format.sampleFormat,
                  [&](std::size_t, double v) { peak = std::max(peak, std::fabs(v)); });
    return static_cast<float>(peak);
}

LevelMeter::LevelMeter(const CaptureFormat& format)
    : format_(format), peak_(format.channels, 0.0), sumSquares_(format.channels, 0.0)
{
}

void LevelMeter::feed(const std::byte* frames, std::uint64_t count)
{
    const unsigned channels = format_.channels;
    forEachSample(frames, count * channels, format_.sampleFormat, [&](std::size_t i, double v) {
        const std::size_t c = i % channels;
        peak_[c] = std::max(peak_[c], std::fabs(v));
        sumSquares_[c] += v * v;
    });
    frames_ += count;
}

Levels LevelMeter::take()
{
    Levels l;
    l.frames = frames_;
    for (unsigned c = 0; c < format_.channels; ++c) {
        l.peakDbfs.push_back(dbfs(peak_[c]));
        l.rmsDbfs.push_back(dbfs(frames_ ? std::sqrt(sumSquares_[c] / static_cast<double>(frames_)) : 0.0));
    }
    std::fill(peak_.begin(), peak_.end(), 0.0);
    std::fill(sumSquares_.begin(), sumSquares_.end(), 0.0);
    frames_ = 0;
    return l;
}

} // namespace recd
