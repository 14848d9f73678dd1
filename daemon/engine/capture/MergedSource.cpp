#include "daemon/engine/capture/MergedSource.hpp"

#include "common/MonotonicClock.hpp"
#include "daemon/engine/Log.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace recd {

namespace {

// Frames merged at a time: the scratch buffers are this large, allocated once.
constexpr std::size_t chunkFrames = 4096;
// How long the merging waits for every input's clock to settle before it
// places the inputs by the clocks as they are (an input that delivers slowly).
constexpr std::int64_t alignWithinNs = 1'000'000'000;

template <typename Sample, typename Wide>
void mixInto(std::byte* out, const std::vector<std::vector<std::byte>>& in, std::size_t samples)
{
    auto* o = reinterpret_cast<Sample*>(out);
    const auto n = static_cast<Wide>(in.size());
    for (std::size_t s = 0; s < samples; ++s) {
        Wide sum = 0;
        for (const auto& input : in)
            sum += static_cast<Wide>(reinterpret_cast<const Sample*>(input.data())[s]);
        o[s] = static_cast<Sample>(sum / n);
    }
}

// Each input's frames side by side. With the frame's size known when this
// is compiled, the copy of a frame is a move the compiler inlines, not a call
// to memcpy per frame and input.
template <std::size_t Bytes>
void interleave(std::byte* out, const std::vector<std::vector<std::byte>>& in, std::size_t frames,
                std::size_t bytes = Bytes)
{
    for (std::size_t f = 0; f < frames; ++f)
        for (const auto& input : in) {
            std::memcpy(out, input.data() + f * bytes, Bytes ? Bytes : bytes);
            out += Bytes ? Bytes : bytes;
        }
}

} // namespace

MergedSource::MergedSource(std::vector<std::unique_ptr<CaptureSource>> inputs, Layout layout,
                           std::size_t ringFrames, InputReopener::Open reopen, double reconnectSeconds)
    : inputs_(std::move(inputs)),
      reopener_(reconnectSeconds > 0 && reopen
                    ? std::make_unique<InputReopener>(inputs_.size(), reconnectSeconds, std::move(reopen))
                    : nullptr),
      layout_(layout),
      inputFormat_(inputs_.empty() ? CaptureFormat{} : inputs_[0]->format()), format_(inputFormat_),
      ring_(ringFrames * inputFormat_.frameBytes() * (layout == Layout::Channels ? inputs_.size() : 1)),
      beganNs_(monotonicNs())
{
    if (inputs_.empty())
        throw std::invalid_argument("a merged source needs inputs");
    for (const auto& input : inputs_)
        if (!(input->format() == inputFormat_))
            throw std::invalid_argument("the inputs of a merged source must share one format");
    if (layout_ == Layout::Channels)
        format_.channels = inputFormat_.channels * static_cast<unsigned>(inputs_.size());
    scratch_.assign(inputs_.size(), std::vector<std::byte>(chunkFrames * inputFormat_.frameBytes()));
    merged_.resize(chunkFrames * format_.frameBytes());
    drift_.assign(inputs_.size(), InputDrift(inputFormat_.rate));
    resampled_.resize(inputs_.size());
    passedFrames_.assign(inputs_.size(), 0);
    readFrames_.assign(inputs_.size(), 0);
    faults_.resize(inputs_.size());
}

// The first input's frame that is the merged frame 0: where the clocks place
// the moment the merged source was made (an estimate until they settle).
std::uint64_t MergedSource::firstStart() const noexcept
{
    return inputs_[0]->positionAt(beganNs_);
}

// The frame of input `i` captured at the instant the first input captured
// its frame `firstStart`, by where each input's least delayed buffers put its
// frame 0 (zeroAt): a buffer arrives some time after its frames were
// captured, so the earliest arrival (less the frames up to it) is the closest
// to when they were. A mean, as the streams' own clocks take it, is pulled
// late by a buffer a loaded machine delivered late: two streams of one source
// came out 84 frames apart that way (1.75 ms) on PipeWire under the test
// suite's load. Every input is read at one instant, the latest at which all
// have a least delayed buffer, so that a delay moving on the server's side
// moves them all alike.
std::uint64_t MergedSource::startBeside(std::size_t i, std::uint64_t firstStart) const noexcept
{
    const CaptureProgress first = inputs_[0]->progress();
    const CaptureProgress own = inputs_[i]->progress();
    const std::int64_t at = std::min(first.leastDelayed[1].arrivedNs, own.leastDelayed[1].arrivedNs);
    const std::int64_t firstZero = zeroAt(first, at), ownZero = zeroAt(own, at);
    if (firstZero == 0 || ownZero == 0)
        return inputs_[i]->positionAt(inputs_[0]->timeOf(firstStart));
    // Frames the ring dropped are on the clock but not in the ring.
    const auto dropped = [](const CaptureProgress& p) {
        return static_cast<double>(p.clockFrames) - static_cast<double>(p.framesPushed);
    };
    const double captured = static_cast<double>(firstZero) +
                            (static_cast<double>(firstStart) + dropped(first)) * 1e9 / inputFormat_.rate;
    const double clock = (captured - static_cast<double>(ownZero)) * inputFormat_.rate / 1e9;
    return static_cast<std::uint64_t>(std::max(0.0, std::round(clock - dropped(own))));
}

bool MergedSource::align() noexcept
{
    // A clock settles over its first quarter second of buffers (see
    // CaptureSession::settleStart); placing the inputs before that could put
    // them a buffer apart. The least delayed buffers need two whole quarter
    // seconds (zeroAt): half a second after the last input's first buffer.
    const std::uint64_t settle =
        std::max<std::uint64_t>(inputFormat_.rate / 4, 3ULL * inputs_[0]->bufferFrames());
    const bool settled = std::all_of(inputs_.begin(), inputs_.end(), [&](const auto& input) {
        const CaptureProgress p = input->progress();
        return p.framesPushed >= settle && p.leastDelayed[0].arrivedNs != 0;
    });
    if (!settled && monotonicNs() - beganNs_ < alignWithinNs)
        return false;
    std::vector<std::int64_t> starts;
    const std::uint64_t first = firstStart();
    for (std::size_t i = 0; i < inputs_.size(); ++i)
        starts.push_back(static_cast<std::int64_t>(i == 0 ? first : startBeside(i, first)));
    // Nothing has been read from the inputs' rings: what lies before each
    // start is dropped now.
    const std::size_t frameBytes = inputFormat_.frameBytes();
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
        RingBuffer& r = inputs_[i]->ring();
        const std::size_t frames = std::min<std::size_t>(r.readable() / frameBytes, static_cast<std::size_t>(starts[i]));
        r.consume(frames * frameBytes);
        readFrames_[i] = frames;
    }
    {
        std::lock_guard lock(mutex_);
        starts_ = std::move(starts);
    }
    aligned_.store(true, std::memory_order_release);
    return true;
}

// The frames input i has ready to merge.
std::size_t MergedSource::available(std::size_t i)
{
    const std::size_t inBytes = inputFormat_.frameBytes();
    if (resampled_[i]) {
        resample(i);
        return resampled_[i]->frames(inBytes);
    }
    return inputs_[i]->ring().readable() / inBytes;
}

void MergedSource::merge()
{
    if (!aligned_.load(std::memory_order_relaxed) && !align())
        return;
    takeReopened();
    findFaults();
    measureDrift();
    // An input coming back is placed before anything more is merged, so that
    // none of its audio lands where silence was already written for it.
    if (std::any_of(faults_.begin(), faults_.end(), [](const Fault& f) { return f.returning; }))
        return;
    const std::size_t inBytes = inputFormat_.frameBytes();
    const std::size_t outBytes = format_.frameBytes();
    for (;;) {
        // The inputs that deliver set how much can be merged; one that does
        // not is silence, up to where it comes back.
        const std::uint64_t merged = framesPushed_.load(std::memory_order_relaxed);
        std::size_t frames = std::min(ring_.writable() / outBytes, chunkFrames);
        bool paced = false;
        for (std::size_t i = 0; i < inputs_.size(); ++i) {
            const Fault& f = faults_[i];
            if (!f.silent) {
                frames = std::min(frames, available(i));
                paced = true;
            } else if (f.silentUntil) {
                frames = std::min<std::size_t>(frames, f.silentUntil - merged);
            }
        }
        if (frames == 0 || !paced)
            return;
        for (std::size_t i = 0; i < inputs_.size(); ++i) {
            if (faults_[i].silent) {
                std::memset(scratch_[i].data(), 0, frames * inBytes);
            } else if (auto& r = resampled_[i]) {
                std::memcpy(scratch_[i].data(), r->produced.data() + r->readAt, frames * inBytes);
                r->readAt += frames * inBytes;
                if (r->readAt * 2 > r->produced.size()) {
                    r->produced.erase(r->produced.begin(), r->produced.begin() + static_cast<std::ptrdiff_t>(r->readAt));
                    r->readAt = 0;
                }
            } else {
                inputs_[i]->ring().read(scratch_[i].data(), frames * inBytes);
                passedFrames_[i] += frames;
                readFrames_[i] += frames;
            }
        }
        combine(frames);
        ring_.write(merged_.data(), frames * outBytes);
        framesPushed_.fetch_add(frames, std::memory_order_release);
        for (std::size_t i = 0; i < inputs_.size(); ++i) {
            Fault& f = faults_[i];
            if (!f.silent)
                continue;
            std::lock_guard lock(mutex_);
            f.silentFrames += frames;
            if (f.silentUntil && f.silentUntil == merged + frames)
                placeAgain(i, f.silentUntil);
        }
    }
}

// An input that has delivered nothing for longer than a gap (three of its
// deliveries and 50 ms, as CaptureCallback tells one) while another input went
// on, and has nothing left to merge, is silence from here; one that has
// delivered again for a few buffers since is placed by its clock.
void MergedSource::findFaults()
{
    if (inputs_.size() < 2)
        return;
    std::int64_t latest = 0;
    for (const auto& input : inputs_)
        if (!input->failed())
            latest = std::max(latest, input->progress().lastBufferNs);
    const std::uint64_t merged = framesPushed_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
        Fault& f = faults_[i];
        const CaptureProgress p = inputs_[i]->progress();
        const std::int64_t deliveryNs =
            static_cast<std::int64_t>(inputs_[i]->deliveryFrames()) * 1'000'000'000 / inputFormat_.rate;
        const bool stopped = inputs_[i]->failed() || latest - p.lastBufferNs > 3 * deliveryNs + 50'000'000;
        if (!f.silent) {
            if (!stopped || available(i) > 0)
                continue;
            std::lock_guard lock(mutex_);
            f.silent = true;
            f.silentUntil = 0;
            f.clockAtStop = p.clockFrames;
            ++f.gaps;
            f.lastGapFrame = static_cast<std::int64_t>(merged);
            const bool failed = inputs_[i]->failed();
            log().warn("input {} {} at {:.3f} s of the merged inputs; its channels carry silence{}", i + 1,
                       failed ? "failed" : "stopped delivering", static_cast<double>(merged) / inputFormat_.rate,
                       !failed ? " until it comes back" : reopener_ ? " while it is opened again" : "");
            if (failed && reopener_)
                reopener_->lost(i, *inputs_[i]);
            continue;
        }
        // Back once a few buffers have come, so that its clock has settled
        // again (a gap restarts it, CaptureStream::Core::publish); the merge
        // waits that long (unless it stops again), not the input's audio.
        const std::uint64_t settle = std::max<std::uint64_t>(inputFormat_.rate / 10, 3ULL * inputs_[i]->deliveryFrames());
        const bool delivering = !stopped && p.clockFrames > f.clockAtStop;
        f.returning = !f.silentUntil && delivering && p.clockFrames < f.clockAtStop + settle;
        if (f.silentUntil || !delivering || f.returning)
            continue;
        // Its next frame goes where the pacing input's clock puts the instant
        // it was captured; what came before the merged source has got to is dropped.
        const std::size_t by = pace();
        const auto target = faults_[by].silent ? static_cast<double>(merged)
                                               : mergedFrameAt(by, inputs_[i]->timeOf(readFrames_[i]));
        const auto resumeAt = static_cast<std::uint64_t>(std::max(0.0, std::round(target)));
        std::lock_guard lock(mutex_);
        if (resumeAt > merged) {
            f.silentUntil = resumeAt;
        } else {
            const std::size_t inBytes = inputFormat_.frameBytes();
            RingBuffer& ring = inputs_[i]->ring();
            const std::size_t late = std::min<std::size_t>(ring.readable() / inBytes, merged - resumeAt);
            ring.consume(late * inBytes);
            readFrames_[i] += late;
            placeAgain(i, merged);
        }
    }
    // Only the pacing input's deliveries wake the reader (one wake-up per
    // delivery, not one per input).
    const std::size_t by = pace();
    if (const std::size_t was = waker_.load(); by != was) {
        inputs_[by]->wakeReaderEvery(wakeEvery_.load());
        waker_.store(by);
        inputs_[was]->wakeReaderEvery(0);
    }
}

// A failed input opened again (reconnect) takes its place, silent still: it
// is placed as an input that stalled and came back (findFaults), from its
// ring's first frame.
void MergedSource::takeReopened()
{
    if (!reopener_)
        return;
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
        if (!faults_[i].silent || !inputs_[i]->failed())
            continue;
        auto input = reopener_->take(i);
        if (!input)
            continue;
        input->wakeReaderEvery(0);
        input->setDelivery(delivery_);
        std::lock_guard lock(mutex_);
        replaced_.push_back(std::exchange(inputs_[i], std::move(input))); // stopped by the reopener
        Fault& f = faults_[i];
        f.silentUntil = 0;
        f.clockAtStop = 0;
        f.returning = false;
        readFrames_[i] = 0;
        resampled_[i].reset();
        log().info("input {} is open again; it goes back in once its clock has settled", i + 1);
    }
}

// Input i's next frame is merged frame `merged`; its drift is measured anew
// from here, read as it is. Under mutex_.
void MergedSource::placeAgain(std::size_t i, std::uint64_t merged)
{
    Fault& f = faults_[i];
    f.silent = false;
    f.silentUntil = 0;
    starts_[i] = static_cast<std::int64_t>(readFrames_[i]) - static_cast<std::int64_t>(merged);
    passedFrames_[i] = merged;
    resampled_[i].reset();
    drift_[i] = InputDrift(inputFormat_.rate);
    log().info("input {} is back at {:.3f} s of the merged inputs, after {:.3f} s of silence", i + 1,
               static_cast<double>(merged) / inputFormat_.rate,
               static_cast<double>(merged - static_cast<std::uint64_t>(f.lastGapFrame)) / inputFormat_.rate);
}

// The first input that delivers; the first input when none does.
std::size_t MergedSource::pace() const noexcept
{
    for (std::size_t i = 0; i < inputs_.size(); ++i)
        if (!faults_[i].silent)
            return i;
    return 0;
}

// The merged frame captured at `ns` by input `by`'s clock: its frame then,
// from where it starts, and for one read through a resampler at the rate
// measured (close enough for a request: drift is at most 1 %).
double MergedSource::mergedFrameAt(std::size_t by, std::int64_t ns) const noexcept
{
    const double own =
        static_cast<double>(inputs_[by]->positionAt(ns)) - static_cast<double>(starts_[by]);
    return resampled_[by] ? own / (1.0 + drift_[by].ppm() * 1e-6) : own;
}

// Every quarter second of audio merged: where each input stands against the
// first, by their clocks at one instant. An input whose drift is worth
// correcting is read through a resampler from then on, from the frame it had
// reached.
void MergedSource::measureDrift()
{
    const std::uint64_t merged = framesPushed_.load(std::memory_order_relaxed);
    if (inputs_.size() < 2 || merged < measuredAt_ + inputFormat_.rate / 4)
        return;
    measuredAt_ = merged;
    // Against the first input's clock, while every input delivers.
    if (std::any_of(faults_.begin(), faults_.end(), [](const Fault& f) { return f.silent; }))
        return;
    const std::int64_t now = monotonicNs();
    const double first = static_cast<double>(inputs_[0]->positionAt(now)) - static_cast<double>(starts_[0]);
    std::lock_guard lock(mutex_);
    for (std::size_t i = 1; i < inputs_.size(); ++i) {
        const double own = static_cast<double>(inputs_[i]->positionAt(now)) - static_cast<double>(starts_[i]);
        drift_[i].observe(first, own);
        if (merged / (inputFormat_.rate / 4) % 20 == 0)
            log().debug("input {}: {:+.1f} ms against the first by the clocks, drift {:+.0f} ppm{}", i + 1,
                        (own - first) * 1000.0 / inputFormat_.rate, drift_[i].ppm(),
                        resampled_[i] ? fmt::format(", resampled {:+.1f} ms ahead",
                                                    (resampled_[i]->inputFrame - resampled_[i]->outputFrames) *
                                                        1000.0 / inputFormat_.rate)
                                      : std::string());
        if (drift_[i].correcting() && !resampled_[i]) {
            auto r = std::make_unique<Resampled>(inputFormat_);
            r->inputFrame = static_cast<double>(passedFrames_[i]);
            r->outputFrames = static_cast<double>(passedFrames_[i]);
            resampled_[i] = std::move(r);
        }
    }
}

// Reads what the input's ring holds through its resampler, while what came
// out and is not merged yet is less than two chunks: past that the ring
// keeps it, and counts what it cannot keep, as for an input read as it is.
void MergedSource::resample(std::size_t input)
{
    Resampled& r = *resampled_[input];
    const std::size_t inBytes = inputFormat_.frameBytes();
    RingBuffer& ring = inputs_[input]->ring();
    while (r.frames(inBytes) < 2 * chunkFrames) {
        const std::size_t frames = std::min(ring.readable() / inBytes, chunkFrames);
        if (frames == 0)
            return;
        ring.read(scratch_[input].data(), frames * inBytes);
        readFrames_[input] += frames;
        const double inPerOut = drift_[input].inPerOut(r.outputFrames, r.inputFrame);
        const std::size_t out = r.resampler.process(scratch_[input].data(), frames, inPerOut, r.produced);
        r.outputFrames += static_cast<double>(out);
        r.inputFrame += static_cast<double>(out) * inPerOut;
    }
}

std::vector<InputReport> MergedSource::inputReports() const
{
    std::vector<InputReport> reports;
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
        const Fault& f = faults_[i];
        reports.push_back({inputs_[i]->drops(), std::max(inputs_[i]->gaps(), f.gaps), drift_[i].ppm(),
                           resampled_[i] != nullptr, f.lastGapFrame, f.silentFrames});
    }
    return reports;
}

void MergedSource::combine(std::size_t frames) noexcept
{
    const std::size_t inBytes = inputFormat_.frameBytes();
    if (layout_ == Layout::Channels) {
        switch (inBytes) {
        case 2: interleave<2>(merged_.data(), scratch_, frames); break;   // s16 mono
        case 4: interleave<4>(merged_.data(), scratch_, frames); break;   // s16 stereo, 32-bit mono
        case 8: interleave<8>(merged_.data(), scratch_, frames); break;   // 32-bit stereo
        default: interleave<0>(merged_.data(), scratch_, frames, inBytes); break;
        }
        return;
    }
    const std::size_t samples = frames * inputFormat_.channels;
    switch (inputFormat_.sampleFormat) {
    case SampleFormat::S16: mixInto<std::int16_t, std::int32_t>(merged_.data(), scratch_, samples); break;
    case SampleFormat::S24:
    case SampleFormat::S32: mixInto<std::int32_t, std::int64_t>(merged_.data(), scratch_, samples); break;
    case SampleFormat::F32: mixInto<float, float>(merged_.data(), scratch_, samples); break;
    }
}

void MergedSource::waitForAudio(std::chrono::nanoseconds timeout) noexcept
{
    // What the other inputs delivered since the last wake-up may be there
    // already: no wait then.
    const std::uint64_t before = framesPushed_.load(std::memory_order_relaxed);
    mergeOrFail();
    if (framesPushed_.load(std::memory_order_relaxed) != before)
        return;
    inputs_[waker_.load(std::memory_order_relaxed)]->waitForAudio(timeout);
    mergeOrFail();
}

void MergedSource::wakeReader() const noexcept
{
    // Every input's event: the reader may be about to wait on another one
    // than it was (a pacing input that stopped).
    std::lock_guard lock(mutex_);
    for (const auto& input : inputs_)
        input->wakeReader();
}

void MergedSource::mergeOrFail() noexcept
{
    try {
        merge();
    } catch (const std::exception& e) {
        // A resampler that cannot be made or run: the take ends as its input
        // would if it failed, with what was merged kept.
        if (!failed_.exchange(true))
            log().error("merging the inputs failed: {}", e.what());
    }
}

void MergedSource::stop() noexcept
{
    if (reopener_)
        reopener_->stop();
    std::lock_guard lock(mutex_);
    for (auto& input : inputs_)
        input->stop();
}

void MergedSource::wakeReaderEvery(std::uint64_t everyFrames) noexcept
{
    wakeEvery_.store(everyFrames);
    inputs_[waker_.load()]->wakeReaderEvery(everyFrames);
}

void MergedSource::setDelivery(Delivery delivery) noexcept
{
    std::lock_guard lock(mutex_);
    delivery_ = delivery;
    for (auto& input : inputs_)
        input->setDelivery(delivery);
}

CaptureProgress MergedSource::progress() const noexcept
{
    std::lock_guard lock(mutex_);
    CaptureProgress p = inputs_[0]->progress();
    p.framesPushed = framesPushed_.load(std::memory_order_acquire);
    // The merged source delivers while any input does (the others are silence).
    for (const auto& input : inputs_)
        if (!input->failed())
            p.lastBufferNs = std::max(p.lastBufferNs, input->progress().lastBufferNs);
    return p;
}

std::uint64_t MergedSource::positionAt(std::int64_t ns) const noexcept
{
    if (!aligned_.load(std::memory_order_acquire)) {
        const std::uint64_t first = inputs_[0]->positionAt(ns);
        return first - std::min(first, firstStart());
    }
    std::lock_guard lock(mutex_);
    return static_cast<std::uint64_t>(std::max(0.0, std::round(mergedFrameAt(pace(), ns))));
}

std::int64_t MergedSource::timeOf(std::uint64_t position) const noexcept
{
    if (!aligned_.load(std::memory_order_acquire))
        return inputs_[0]->timeOf(firstStart() + position);
    std::lock_guard lock(mutex_);
    const std::size_t by = pace();
    const double own = static_cast<double>(position) * (resampled_[by] ? 1.0 + drift_[by].ppm() * 1e-6 : 1.0);
    return inputs_[by]->timeOf(static_cast<std::uint64_t>(std::max(0.0, std::round(own + static_cast<double>(starts_[by])))));
}

DropCounts MergedSource::drops() const noexcept
{
    DropCounts d;
    std::lock_guard lock(mutex_);
    for (const auto& input : inputs_)
        d += input->drops();
    for (const auto& input : replaced_)
        d += input->drops();
    return d;
}

std::uint32_t MergedSource::gaps() const noexcept
{
    std::uint32_t n = 0;
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < inputs_.size(); ++i)
        n += std::max(inputs_[i]->gaps(), faults_[i].gaps);
    return n;
}

std::int64_t MergedSource::lastGapNs() const noexcept
{
    std::int64_t longest = 0;
    std::lock_guard lock(mutex_);
    for (const auto& input : inputs_)
        longest = std::max(longest, input->lastGapNs());
    return longest;
}

// Failed once every input has, and none is being opened again.
bool MergedSource::failed() const noexcept
{
    if (failed_.load())
        return true;
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < inputs_.size(); ++i)
        if (!inputs_[i]->failed() || (reopener_ && reopener_->waiting(i)))
            return false;
    return true;
}

} // namespace recd
