#include "tests/support/FakeCaptureSource.hpp"

#include "common/Errors.hpp"
#include "common/MonotonicClock.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace recd::test {

FakeCaptureSource::FakeCaptureSource(const CaptureFormat& format, unsigned bufferFrames, std::size_t ringFrames,
                                     std::uint64_t firstIndex, std::shared_ptr<std::recursive_mutex> clock)
    : format_(format), bufferFrames_(bufferFrames), ring_(ringFrames * format.frameBytes()),
      clock_(clock ? std::move(clock) : std::make_shared<std::recursive_mutex>()), firstIndex_(firstIndex),
      buffer_(static_cast<std::size_t>(bufferFrames + bufferFrames / 8) * format.channels) // room for a fast clock
{
    if (format.sampleFormat != SampleFormat::S16 || format.channels < 2)
        throw std::invalid_argument("the counter signal needs 16-bit samples and two channels");
}

void FakeCaptureSource::deliverCounter(std::uint64_t frames) { deliver(frames, false); }
void FakeCaptureSource::deliverSilence(std::uint64_t frames) { deliver(frames, true); }

void FakeCaptureSource::deliver(std::uint64_t frames, bool silent)
{
    while (frames > 0) {
        const auto n = static_cast<unsigned>(std::min<std::uint64_t>(frames, bufferFrames_));
        deliverBuffer(n, silent, monotonicNs());
        frames -= n;
    }
}

void FakeCaptureSource::deliverBufferAt(unsigned frames, std::int64_t atNs, std::int64_t nominalNs, bool silent)
{
    deliverBuffer(std::min(frames, static_cast<unsigned>(buffer_.size() / format_.channels)), silent, atNs, nominalNs);
}

void FakeCaptureSource::deliverBuffer(unsigned n, bool silent, std::int64_t atNs, std::int64_t nominalNs)
{
    if (stopped_.load() || failed_.load())
        return; // as a stream that failed: nothing more from it
    const std::uint64_t first = firstIndex_ + delivered();
    std::fill(buffer_.begin(), buffer_.end(), 0);
    if (!silent) {
        for (unsigned f = 0; f < n; ++f) {
            const std::uint64_t index = first + f;
            buffer_[f * format_.channels] = static_cast<std::int16_t>(index & 0xFFFF);
            buffer_[f * format_.channels + 1] = static_cast<std::int16_t>((index >> 16) & 0xFFFF);
        }
    }
    const std::size_t bytes = n * format_.frameBytes();
    const std::uint64_t pushed =
        ring_.write(reinterpret_cast<const std::byte*>(buffer_.data()), bytes) / format_.frameBytes();
    {
        std::lock_guard lock(*clock_);
        if (pushed < n) {
            ++drops_.overruns;
            drops_.overrunFrames += n - pushed;
        }
        const std::int64_t last = deliveries_.empty() ? 0 : deliveries_.back().first;
        const std::uint64_t count = deliveries_.empty() ? 0 : deliveries_.back().second;
        deliveries_.emplace_back(std::max(atNs, last + 1), count + pushed);
        delivered_ += n;
        lastNominalNs_ = nominalNs ? nominalNs
                                   : deliveries_.front().first +
                                         static_cast<std::int64_t>(delivered_ * 1'000'000'000 / format_.rate);
        // Where this buffer puts frame 0: constant on a clock that keeps the
        // nominal pace, earlier and earlier on one that runs fast, and later
        // after a stall, which (as a real stream's gap) begins the line anew.
        const std::int64_t zero =
            lastNominalNs_ - static_cast<std::int64_t>(delivered_ * 1'000'000'000 / format_.rate);
        if (firstZero_.arrivedNs == 0 || zero - lastZero_.zeroNs > 50'000'000)
            firstZero_ = {lastNominalNs_, zero};
        lastZero_ = {lastNominalNs_, zero};
    }
    sincePost_ += pushed;
    if (const std::uint64_t every = wakeEvery_.load(); every > 0 && sincePost_ >= every) {
        sincePost_ = 0;
        wake_.post();
    }
}

std::uint64_t FakeCaptureSource::delivered() const
{
    std::lock_guard lock(*clock_);
    return delivered_;
}

CaptureProgress FakeCaptureSource::progress() const noexcept
{
    std::lock_guard lock(*clock_);
    CaptureProgress p;
    if (deliveries_.empty())
        return p;
    p.framesPushed = deliveries_.back().second;
    // The test delivers as fast as it likes, faster than a device captures:
    // the buffers are said to arrive at the nominal pace from the first, as a
    // device's would, so that nothing arrives before it was captured.
    p.firstBufferNs = deliveries_.front().first;
    p.clockFrames = delivered_;
    p.lastBufferNs = lastNominalNs_;
    // Every buffer arrives at its nominal time, all equally delayed: the
    // line through the first and the last is the clock.
    p.leastDelayed[0] = firstZero_;
    p.leastDelayed[1] = lastZero_;
    return p;
}

std::uint64_t FakeCaptureSource::positionAt(std::int64_t ns) const noexcept
{
    std::lock_guard lock(*clock_);
    // The frames delivered by `ns`: those of the last delivery made at or before it.
    const auto after = std::upper_bound(deliveries_.begin(), deliveries_.end(), ns,
                                        [](std::int64_t t, const auto& d) { return t < d.first; });
    return after == deliveries_.begin() ? 0 : std::prev(after)->second;
}

std::int64_t FakeCaptureSource::timeOf(std::uint64_t position) const noexcept
{
    std::lock_guard lock(*clock_);
    if (deliveries_.empty())
        return monotonicNs();
    // The frame is captured with the delivery that brings it (the fake's
    // clock is its deliveries): the instant just before that delivery, so that
    // positionAt(timeOf(p)) is p where p is where a delivery ended, and a frame
    // that came after a pause in deliveries (a stalled source) is placed at
    // the delivery it came with. A frame not delivered yet comes at the
    // nominal rate after the last.
    const auto after = std::upper_bound(deliveries_.begin(), deliveries_.end(), position,
                                        [](std::uint64_t p, const auto& d) { return p < d.second; });
    if (after == deliveries_.begin())
        return deliveries_.front().first;
    if (after != deliveries_.end())
        return after->first - 1;
    const auto& [ns, count] = *std::prev(after);
    return ns + static_cast<std::int64_t>((position - count) * 1'000'000'000 / format_.rate);
}

DropCounts FakeCaptureSource::drops() const noexcept
{
    std::lock_guard lock(*clock_);
    return drops_;
}

DeviceInfo FakeCaptureOpener::device(int which)
{
    DeviceInfo d;
    d.id = which == 1 ? "fake:counter" : "fake:counter-2";
    d.name = which == 1 ? "the counter signal (a test's own source)" : "a second counter (a test's own source)";
    d.inputChannels = 2;
    d.sampleRates = {48000};
    d.preferredRate = 48000;
    d.isDefault = which == 1;
    return d;
}

std::unique_ptr<CaptureSource> FakeCaptureOpener::open(const DeviceInfo& device, const CaptureFormat& format,
                                                       unsigned bufferFrames, std::size_t ringFrames, std::stop_token)
{
    const bool second = device.id == FakeCaptureOpener::device(2).id;
    if (unplugged_.load() || (device.id != FakeCaptureOpener::device(1).id && !second))
        throw DeviceLost("the fake input is unplugged, or '" + device.id + "' is not one");
    auto source =
        std::make_unique<FakeCaptureSource>(format, bufferFrames, ringFrames, second ? secondCounter : 0, clock_);
    {
        // Inputs on one clock: the first buffers of the sources one take opens
        // (within 200 ms of each other) at one instant. An input opened again
        // while another one of the take runs (a reconnect of one of several)
        // joins the clock where it stands; the first of a new take, or the
        // reconnect of the only input, begins it anew.
        std::lock_guard lock(mutex_);
        const bool running =
            std::any_of(running_.begin(), running_.end(), [](const auto& r) { return r->load(); });
        const bool fresh = !firstBufferNs_ || monotonicNs() - *firstBufferNs_ > 200'000'000;
        if (!firstBufferNs_ || (fresh && !running)) {
            rate_ = format.rate;
            firstBufferNs_ = monotonicNs();
            sharedFrames_ = bufferFrames;
        }
        source->deliverBufferAt(bufferFrames, fresh && running ? monotonicNs() : *firstBufferNs_, nominalNs(),
                                firstBufferSilent_.load());
    }
    last_.store(source.get());
    opened_.fetch_add(1);
    std::lock_guard lock(mutex_);
    sources_.push_back(source.get());
    running_.push_back(source->running());
    return source;
}

void FakeCaptureOpener::deliverCounterToAll(std::uint64_t frames, double secondSpeed)
{
    std::lock_guard lock(mutex_);
    const unsigned buffer = sources_.empty() ? 0 : sources_.front()->bufferFrames();
    while (frames > 0 && buffer > 0) {
        const auto n = static_cast<unsigned>(std::min<std::uint64_t>(frames, buffer));
        // One instant for all: nobody asks where the sources stand in between.
        std::lock_guard instant(*clock_);
        // Later than the last instant, for every source alike: a source
        // bumps a delivery that comes at its last one's instant by 1 ns, and
        // while one source is stalled only the others would be bumped, which
        // put the stalled one a delivery off once it was back.
        const std::int64_t at = std::max(monotonicNs(), lastAt_ + 1);
        lastAt_ = at;
        owedToOthers_ += n * secondSpeed;
        const auto others = static_cast<unsigned>(owedToOthers_);
        owedToOthers_ -= others;
        sharedFrames_ += n;
        for (std::size_t i = 0; i < sources_.size(); ++i) {
            const Feed f = i < feeds_.size() ? feeds_[i] : Feed::Counter;
            if (f != Feed::Stalled && running_[i]->load())
                sources_[i]->deliverBufferAt(i == 0 ? n : others, at, nominalNs(), f == Feed::Silence);
        }
        frames -= n;
    }
}

void FakeCaptureOpener::feed(std::size_t index, Feed feed)
{
    std::lock_guard lock(mutex_);
    feeds_.resize(std::max(feeds_.size(), index + 1), Feed::Counter);
    feeds_[index] = feed;
}

// Where the shared clock stands: the buffers delivered so far arrive at the
// nominal pace from the first, as a device's would.
std::int64_t FakeCaptureOpener::nominalNs() const
{
    return *firstBufferNs_ + static_cast<std::int64_t>(sharedFrames_ * 1'000'000'000 / rate_);
}

std::vector<DeviceInfo> FakeCaptureOpener::devices()
{
    if (unplugged_.load())
        return {};
    return {device(1), device(2)};
}

FakeCaptureSource& FakeCaptureOpener::source()
{
    auto* s = last_.load();
    if (!s)
        throw std::logic_error("no fake source has been opened");
    return *s;
}

} // namespace recd::test
