#include "tests/support/AudioFile.hpp"

#include <sndfile.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace recd::test {

std::vector<float> AudioFile::channel(int c) const
{
    std::vector<float> out;
    out.reserve(static_cast<std::size_t>(frames));
    for (std::int64_t i = 0; i < frames; ++i)
        out.push_back(samples[static_cast<std::size_t>(i * channels + c)]);
    return out;
}

AudioFile readAudioFile(const std::filesystem::path& path)
{
    SF_INFO info{};
    SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
    if (!f)
        throw std::runtime_error("cannot open " + path.string() + ": " + sf_strerror(nullptr));
    AudioFile a;
    a.rate = info.samplerate;
    a.channels = info.channels;
    a.format = info.format;
    // Read to the end in chunks rather than trusting info.frames: a stream whose
    // writer died (a FLAC file with no total in STREAMINFO) reports an unknown,
    // huge length.
    std::vector<float> chunk(static_cast<std::size_t>(4096 * info.channels));
    for (sf_count_t n; (n = sf_readf_float(f, chunk.data(), 4096)) > 0;) {
        a.samples.insert(a.samples.end(), chunk.begin(), chunk.begin() + n * info.channels);
        a.frames += n;
    }
    sf_close(f);
    return a;
}

double toneFrequency(const std::vector<float>& x, int rate)
{
    // Rising zero crossings, counted with hysteresis (the signal must first go
    // below -10 % of its peak), so the noise a lossy codec adds near zero does
    // not add crossings; each is placed between samples by interpolation.
    float peak = 0;
    for (float v : x)
        peak = std::max(peak, std::fabs(v));
    const float arm = -0.1f * peak;
    double first = -1, last = -1;
    long crossings = 0;
    bool armed = false;
    for (std::size_t i = 1; i < x.size(); ++i) {
        if (x[i] < arm)
            armed = true;
        if (armed && x[i - 1] < 0 && x[i] >= 0) {
            const double t = static_cast<double>(i - 1) + x[i - 1] / (x[i - 1] - x[i]);
            if (first < 0)
                first = t;
            last = t;
            ++crossings;
            armed = false;
        }
    }
    if (crossings < 2)
        return 0;
    return (crossings - 1) * rate / (last - first);
}

double peakDbfs(const std::vector<float>& x)
{
    float peak = 0;
    for (float v : x)
        peak = std::max(peak, std::fabs(v));
    return peak > 0 ? 20 * std::log10(peak) : -INFINITY;
}

double rmsDbfs(const std::vector<float>& x)
{
    double sum = 0;
    for (float v : x)
        sum += static_cast<double>(v) * v;
    return x.empty() || sum == 0 ? -INFINITY : 10 * std::log10(sum / static_cast<double>(x.size()));
}

std::vector<std::int64_t> silentRuns(const std::vector<float>& x, float threshold, std::int64_t minFrames)
{
    std::vector<std::int64_t> out;
    std::int64_t runStart = -1;
    for (std::size_t i = 0; i <= x.size(); ++i) {
        const bool quiet = i < x.size() && std::fabs(x[i]) < threshold;
        if (quiet && runStart < 0)
            runStart = static_cast<std::int64_t>(i);
        if (!quiet && runStart >= 0) {
            if (static_cast<std::int64_t>(i) - runStart >= minFrames)
                out.push_back(runStart);
            runStart = -1;
        }
    }
    return out;
}

std::int64_t counterIndexAt(const AudioFile& a, std::int64_t frame, int channel)
{
    auto word = [](float v) { return static_cast<std::uint16_t>(static_cast<std::int16_t>(std::lround(v * 32768.0f))); };
    const auto i = static_cast<std::size_t>(frame * a.channels + channel);
    return word(a.samples[i]) | (static_cast<std::int64_t>(word(a.samples[i + 1])) << 16);
}

CounterCheck checkCounter(const AudioFile& a)
{
    CounterCheck c;
    if (a.channels < 2)
        return c;
    for (std::int64_t f = 0; f < a.frames; ++f) {
        const std::int64_t index = counterIndexAt(a, f);
        if (f > 0 && index == 0) {
            ++c.serverSilence;
            continue;
        }
        if (f == 0) {
            c.firstIndex = index;
        } else {
            const std::int64_t step = index - c.lastIndex;
            if (step != 1) {
                c.jumps.emplace_back(f, step);
                if (step > 1)
                    c.lost += step - 1;
                else
                    c.duplicated += 1 - step;
            }
        }
        c.lastIndex = index;
    }
    return c;
}

std::vector<double> toneBursts(const std::vector<float>& mono, int rate, double frequency, double threshold,
                               double quiet)
{
    const std::size_t window = static_cast<std::size_t>(rate) / 200; // 5 ms
    const std::size_t hop = std::max<std::size_t>(1, static_cast<std::size_t>(rate) / 1000);
    std::vector<double> w(window), c(window), sn(window);
    double wsum = 0;
    for (std::size_t n = 0; n < window; ++n) {
        w[n] = 0.5 - 0.5 * std::cos(2 * M_PI * static_cast<double>(n) / static_cast<double>(window - 1));
        c[n] = std::cos(2 * M_PI * frequency * static_cast<double>(n) / rate);
        sn[n] = std::sin(2 * M_PI * frequency * static_cast<double>(n) / rate);
        wsum += w[n];
    }
    std::vector<double> onsets;
    double quietSince = 0; // seconds below the threshold begin here
    bool above = false;
    for (std::size_t at = 0; at + window <= mono.size(); at += hop) {
        double re = 0, im = 0;
        for (std::size_t n = 0; n < window; ++n) {
            re += mono[at + n] * w[n] * c[n];
            im += mono[at + n] * w[n] * sn[n];
        }
        const double amplitude = 2 * std::hypot(re, im) / wsum;
        // The window's centre: with the threshold at half the burst's amplitude,
        // that is where the burst begins.
        const double t = (static_cast<double>(at) + static_cast<double>(window) / 2) / rate;
        if (amplitude >= threshold && !above) {
            if (t - quietSince >= quiet)
                onsets.push_back(t);
            above = true;
        } else if (amplitude < threshold && above) {
            above = false;
            quietSince = t;
        }
    }
    return onsets;
}

AudioFile readParts(const std::vector<std::filesystem::path>& parts)
{
    AudioFile all;
    for (const auto& p : parts) {
        const auto a = readAudioFile(p);
        all.rate = a.rate;
        all.channels = a.channels;
        all.format = a.format;
        all.frames += a.frames;
        all.samples.insert(all.samples.end(), a.samples.begin(), a.samples.end());
    }
    return all;
}

std::optional<BroadcastInfo> readBroadcastInfo(const std::filesystem::path& path)
{
    SF_INFO info{};
    SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
    if (!f)
        throw std::runtime_error("cannot open " + path.string() + ": " + sf_strerror(nullptr));
    SF_BROADCAST_INFO b{};
    const bool has = sf_command(f, SFC_GET_BROADCAST_INFO, &b, sizeof b) == SF_TRUE;
    sf_close(f);
    if (!has)
        return std::nullopt;
    return BroadcastInfo{std::string(b.origination_date, strnlen(b.origination_date, sizeof b.origination_date)),
                         std::string(b.origination_time, strnlen(b.origination_time, sizeof b.origination_time)),
                         (static_cast<std::uint64_t>(b.time_reference_high) << 32) | b.time_reference_low,
                         std::string(b.originator, strnlen(b.originator, sizeof b.originator))};
}

std::int64_t bestLag(const std::vector<float>& a, const std::vector<float>& b, std::int64_t maxLag)
{
    const auto n = static_cast<std::int64_t>(std::min(a.size(), b.size()));
    std::int64_t best = 0;
    double bestSum = -1e300;
    for (std::int64_t lag = -maxLag; lag <= maxLag; ++lag) {
        double sum = 0;
        for (std::int64_t i = std::max<std::int64_t>(0, -lag); i < n && i + lag < n; ++i)
            sum += static_cast<double>(a[static_cast<std::size_t>(i)]) * b[static_cast<std::size_t>(i + lag)];
        if (sum > bestSum) {
            bestSum = sum;
            best = lag;
        }
    }
    return best;
}

std::filesystem::path writeRaw(const std::filesystem::path& path, std::int64_t frames,
                               const std::function<double(std::int64_t)>& sample)
{
    std::ofstream out(path, std::ios::binary);
    for (std::int64_t i = 0; i < frames; ++i) {
        const auto s = static_cast<std::int16_t>(std::lround(std::clamp(sample(i), -1.0, 1.0) * 32767));
        out.write(reinterpret_cast<const char*>(&s), 2).write(reinterpret_cast<const char*>(&s), 2);
    }
    return path;
}

} // namespace recd::test
