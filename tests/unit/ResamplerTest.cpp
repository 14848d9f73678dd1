// The resampler that keeps a drifting input in step (dsp/Resampler.hpp), on a
// 1 kHz tone: the frequency it comes out at, and what else comes out with it.

#include "daemon/engine/dsp/Resampler.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <iostream>
#include <vector>

using namespace recd;

namespace {

constexpr double rate = 48000;

void fft(std::vector<std::complex<double>>& a)
{
    const std::size_t n = a.size();
    for (std::size_t i = 1, j = 0; i < n; ++i) {
        std::size_t bit = n >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j)
            std::swap(a[i], a[j]);
    }
    for (std::size_t len = 2; len <= n; len <<= 1) {
        const std::complex<double> w = std::polar(1.0, -2 * M_PI / static_cast<double>(len));
        for (std::size_t i = 0; i < n; i += len) {
            std::complex<double> wk = 1;
            for (std::size_t k = 0; k < len / 2; ++k, wk *= w) {
                const auto u = a[i + k], v = a[i + k + len / 2] * wk;
                a[i + k] = u + v;
                a[i + k + len / 2] = u - v;
            }
        }
    }
}

struct Spectrum {
    double peakHz = 0;
    double spurDbfs = -300; // the loudest bin more than 50 Hz from the tone
};

// A Blackman-Harris window (sidelobes at -92 dB) over 65536 samples; levels
// relative to a full-scale sine.
Spectrum spectrum(const std::vector<float>& x, std::size_t from)
{
    constexpr std::size_t n = 65536;
    std::vector<std::complex<double>> a(n);
    double gain = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double t = 2 * M_PI * static_cast<double>(i) / (n - 1);
        const double w = 0.35875 - 0.48829 * std::cos(t) + 0.14128 * std::cos(2 * t) - 0.01168 * std::cos(3 * t);
        a[i] = x[from + i] * w;
        gain += w;
    }
    fft(a);
    std::size_t peak = 1;
    for (std::size_t k = 1; k < n / 2; ++k)
        if (std::abs(a[k]) > std::abs(a[peak]))
            peak = k;
    // The peak's frequency between bins, from the log magnitudes around it.
    const double l = std::log(std::abs(a[peak - 1])), c = std::log(std::abs(a[peak])), r = std::log(std::abs(a[peak + 1]));
    Spectrum s;
    s.peakHz = (static_cast<double>(peak) + 0.5 * (l - r) / (l - 2 * c + r)) * rate / n;
    const std::size_t guard = static_cast<std::size_t>(50.0 * n / rate);
    for (std::size_t k = 1; k < n / 2; ++k)
        if (k + guard < peak || k > peak + guard)
            s.spurDbfs = std::max(s.spurDbfs, 20 * std::log10(2 * std::abs(a[k]) / gain));
    return s;
}

std::vector<float> throughResampler(double inPerOut)
{
    const CaptureFormat format{48000, 1, SampleFormat::F32};
    Resampler resampler(format);
    std::vector<std::byte> out;
    std::vector<float> chunk(4096);
    std::size_t done = 0;
    for (int c = 0; c < 40; ++c) {
        for (auto& s : chunk)
            s = static_cast<float>(0.5 * std::sin(2 * M_PI * 1000.0 * static_cast<double>(done++) / rate));
        resampler.process(reinterpret_cast<const std::byte*>(chunk.data()), chunk.size(), inPerOut, out);
    }
    std::vector<float> samples(out.size() / sizeof(float));
    std::memcpy(samples.data(), out.data(), out.size());
    return samples;
}

} // namespace

TEST(Resampler, ATonePassesAtItsFrequencyWithSpursBelowMinus80Dbfs)
{
    for (double inPerOut : {1.0, 1.001, 0.999}) {
        const auto out = throughResampler(inPerOut);
        ASSERT_GT(out.size(), 70000u);
        const auto s = spectrum(out, 4096);
        std::cout << "in per out " << inPerOut << ": tone at " << s.peakHz << " Hz, loudest spur " << s.spurDbfs
                  << " dBFS\n";
        // Reading 1.001 input frames per output frame plays the tone 0.1 % higher.
        EXPECT_NEAR(s.peakHz, 1000.0 * inPerOut, 0.1) << "at " << inPerOut;
        EXPECT_LT(s.spurDbfs, -80.0) << "at " << inPerOut;
    }
}
