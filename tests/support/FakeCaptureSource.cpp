#include "tests/support/FakeCaptureSource.hpp"

#include "common/Errors.hpp"
#include "common/MonotonicClock.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace recd::test {

FakeCaptureSource::FakeCaptureSource(const CaptureFormat& format, unsigned bufferFrames, std::size_t ringFrames)
    : format_(format), bufferFrames_(bufferFrames), ring_(ringFrames * format.frameBytes())
{
    if (format.sampleFormat != SampleFormat::S16 || format.channels < 2)
        throw std::invalid_argument("the counter signal needs 16-bit samples and two channels");
}

void FakeCaptureSource::deliverCounter(std::uint64_t frames) { deliver(frames, false); }
void FakeCaptureSource::deliverSilence(std::uint64_t frames) { deliver(frames, true); }

void FakeCaptureSource::deliver(std::uint64_t frames, bool silent)
{
    std::vector<std::int16_t> buffer(static_cast<std::size_t>(bufferFrames_) * format_.channels);
    while (frames > 0 && !stopped_.load()) {
        const auto n = static_cast<unsigned>(std::min<std::uint64_t>(frames, bufferFrames_));
        const std::uint64_t first = delivered();
        std::fill(buffer.begin(), buffer.end(), 0);
        if (!silent) {
            for (unsigned f = 0; f < n; ++f) {
                const std::uint64_t index = first + f;
                buffer[f * format_.channels] = static_cast<std::int16_t>(index & 0xFFFF);
                buffer[f * format_.channels + 1] = static_cast<std::int16_t>((index >> 16) & 0xFFFF);
            }
        }
        const std::size_t bytes = n * format_.frameBytes();
        const std::uint64_t pushed = ring_.write(reinterpret_cast<const std::byte*>(buffer.data()), bytes) /
                                     format_.frameBytes();
        {
            std::lock_guard lock(mutex_);
            if (pushed < n) {
                ++drops_.overruns;
                drops_.overrunFrames += n - pushed;
            }
            const std::int64_t last = deliveries_.empty() ? 0 : deliveries_.back().first;
            const std::uint64_t count = deliveries_.empty() ? 0 : deliveries_.back().second;
            deliveries_.emplace_back(std::max(monotonicNs(), last + 1), count + pushed);
            delivered_ += n;
        }
        sincePost_ += pushed;
        if (const std::uint64_t every = wakeEvery_.load(); every > 0 && sincePost_ >= every) {
            sincePost_ = 0;
            wake_.post();
        }
        frames -= n;
    }
}

std::uint64_t FakeCaptureSource::delivered() const
{
    std::lock_guard lock(mutex_);
    return delivered_;
}

CaptureProgress FakeCaptureSource::progress() const noexcept
{
    std::lock_guard lock(mutex_);
    CaptureProgress p;
    if (deliveries_.empty())
        return p;
    p.framesPushed = deliveries_.back().second;
    p.lastBufferNs = deliveries_.back().first;
    p.firstBufferNs = deliveries_.front().first;
    p.clockFrames = delivered_;
    return p;
}

std::uint64_t FakeCaptureSource::positionAt(std::int64_t ns) const noexcept
{
    std::lock_guard lock(mutex_);
    // The frames delivered by `ns`: those of the last delivery made at or before it.
    const auto after = std::upper_bound(deliveries_.begin(), deliveries_.end(), ns,
                                        [](std::int64_t t, const auto& d) { return t < d.first; });
    return after == deliveries_.begin() ? 0 : std::prev(after)->second;
}

std::int64_t FakeCaptureSource::timeOf(std::uint64_t position) const noexcept
{
    std::lock_guard lock(mutex_);
    // When the delivery that brought the frame was made; a frame not delivered
    // yet comes at the nominal rate after the last.
    const auto brought = std::upper_bound(deliveries_.begin(), deliveries_.end(), position,
                                          [](std::uint64_t p, const auto& d) { return p < d.second; });
    if (brought != deliveries_.end())
        return brought->first;
    if (deliveries_.empty())
        return monotonicNs();
    const auto& [lastNs, count] = deliveries_.back();
    return lastNs + static_cast<std::int64_t>((position - count) * 1'000'000'000 / format_.rate);
}

DropCounts FakeCaptureSource::drops() const noexcept
{
    std::lock_guard lock(mutex_);
    return drops_;
}

DeviceInfo FakeCaptureOpener::device()
{
    DeviceInfo d;
    d.id = "fake:counter";
    d.name = "the counter signal (a test's own source)";
    d.inputChannels = 2;
    d.sampleRates = {48000};
    d.preferredRate = 48000;
    d.isDefault = true;
    return d;
}

std::unique_ptr<CaptureSource> FakeCaptureOpener::open(const DeviceInfo& device, const CaptureFormat& format,
                                                       unsigned bufferFrames, std::size_t ringFrames, std::stop_token)
{
    if (unplugged_.load() || device.id != FakeCaptureOpener::device().id)
        throw DeviceLost("the fake input is unplugged, or '" + device.id + "' is not it");
    auto source = std::make_unique<FakeCaptureSource>(format, bufferFrames, ringFrames);
    if (firstBufferSilent_.load())
        source->deliverSilence(bufferFrames);
    else
        source->deliverCounter(bufferFrames);
    last_.store(source.get());
    opened_.fetch_add(1);
    return source;
}

std::vector<DeviceInfo> FakeCaptureOpener::devices()
{
    if (unplugged_.load())
        return {};
    return {device()};
}

FakeCaptureSource& FakeCaptureOpener::source()
{
    auto* s = last_.load();
    if (!s)
        throw std::logic_error("no fake source has been opened");
    return *s;
}

} // namespace recd::test
