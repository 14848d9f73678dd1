#include "CaptureStream.hpp"

#include "AudioPacing.hpp"
#include "Errors.hpp"
#include "Log.hpp"
#include "PulseInput.hpp"
#include "PulseSources.hpp"
#include "RtAudioApi.hpp"
#include "ThreadName.hpp"

#include <RtAudio.h>

#include <algorithm>
#include <future>
#include <memory>
#include <thread>
#include <ctime>

namespace recd {

namespace {

// RtAudio's error callback carries no user pointer, so stream failures are
// counted globally; each stream compares against the count it saw when opened.
std::atomic<std::size_t> streamErrors{0};

// RtAudio 5.2 reports a failed read only as a WARNING and then goes on calling
// the callback with the stale buffer, as fast as it can (measured: after the
// PulseAudio server was killed, 1 GB of repeated audio in 3 s). A read error is
// therefore fatal for the stream. ALSA also warns, with other texts, after an
// overrun it recovered from; those are not failures.
void onStreamError(RtAudioError::Type type, const std::string& text)
{
    const bool fatal = (type != RtAudioError::WARNING && type != RtAudioError::DEBUG_WARNING) ||
                       text.find("read error") != std::string::npos;
    if (!fatal) {
        log().debug("audio: {}", text);
        return;
    }
    streamErrors.fetch_add(1, std::memory_order_relaxed);
    log().error("audio stream failed: {}", text);
}

RtAudioFormat rtFormat(SampleFormat f)
{
    switch (f) {
    case SampleFormat::S16: return RTAUDIO_SINT16;
    case SampleFormat::S24:
    case SampleFormat::S32: return RTAUDIO_SINT32;
    case SampleFormat::F32: return RTAUDIO_FLOAT32;
    }
    return RTAUDIO_SINT16;
}

// The most silence dropped at the head of a new stream (see onAudio): a
// PipeWire graph period of up to 2048 frames at 48 kHz is 43 ms.
constexpr std::chrono::milliseconds leadingSilenceLimit{100};

} // namespace

struct CaptureStream::Core {
    Core(const CaptureFormat& f, unsigned frames, std::size_t ringFrames)
        : format(f), bufferFrames(frames), ring(ringFrames * f.frameBytes())
    {
    }

    static int onAudio(void* output, void* input, unsigned frames, double streamTime, unsigned status,
                       void* self) noexcept;
    static void onPulseData(const void* data, unsigned frames, void* self) noexcept
    {
        onAudio(nullptr, const_cast<void*>(data), frames, 0, 0, self);
    }
    void publish(std::uint64_t pushed, std::uint64_t frames, std::int64_t nowNs, bool afterGap) noexcept;

    CaptureFormat format;
    unsigned bufferFrames;
    std::uint64_t inFlightFrames = 0; // the most that can be on its way from the device: see the constructor
    RingBuffer ring;
    std::unique_ptr<RtAudio> audio;     // RtAudio's input, or
    std::unique_ptr<PulseInput> pulse;  // recd's own (audio_api pulse-native)
    std::size_t errorsAtOpen = 0;
    bool sawFirstCallback = false; // touched only by the callback
    bool sawSound = false;               // likewise: a buffer that was not all zeros has arrived
    std::uint64_t leadingZeroFrames = 0; // likewise: all-zero frames dropped before it
    std::int64_t startNs = 0;            // likewise
    std::uint64_t framesDelivered = 0;   // likewise: everything the API handed over
    std::uint64_t framesSincePost = 0;   // likewise: pushed since the reader was last woken
    std::int64_t anchorBuffers = 0;      // likewise: buffers in the clock's mean (see publish)
    WakeEvent readerWake; // lives as long as the callback may run: Core is leaked with an abandoned stream
    std::atomic<std::uint64_t> wakeEveryFrames{0};
    std::atomic<bool> abandoned{false};

    // Published by the callback with a sequence lock: the callback never waits,
    // readers retry in the rare case they overlap a write.
    std::atomic<std::uint32_t> seq{0};
    std::atomic<std::uint64_t> framesPushed{0};
    std::atomic<std::int64_t> lastBufferNs{0};
    std::atomic<std::int64_t> firstBufferNs{0};
    std::atomic<std::uint64_t> clockFrames{0};
    std::atomic<std::int64_t> anchorNs{0};

    std::atomic<std::uint32_t> overruns{0};       // callbacks that found the ring full
    std::atomic<std::uint64_t> overrunFrames{0};  // frames those callbacks dropped
    std::atomic<std::uint32_t> inputOverflows{0}; // buffers the audio API said it lost
    std::atomic<std::uint32_t> gaps{0};           // pauses in delivery (suspended, stalled source)
    std::atomic<std::int64_t> lastGapNs{0};
    std::atomic<bool> failed{false};
};

CaptureStream::CaptureStream(AudioApi api, const DeviceInfo& device, const CaptureFormat& format,
                             unsigned bufferFrames, std::size_t ringFrames)
    : core_(new Core(format, bufferFrames, ringFrames))
{
    core_->errorsAtOpen = streamErrors.load(); // RtAudio's, counted globally: see onStreamError
    if (api == AudioApi::PulseNative) {
        // The default input by no name, so that the server's own choice is what
        // is recorded; any other by the source's name, which the server is asked.
        std::string source;
        if (!device.isDefault) {
            const auto found = findPulseSource(device.name);
            if (!found) {
                delete core_;
                throw DeviceLost(fmt::format("the sound server has no input '{}' (any more)", device.name));
            }
            source = found->name;
        }
        try {
            core_->pulse = std::make_unique<PulseInput>(source, format.rate, format.channels, format.sampleFormat,
                                                        bufferFrames, &Core::onPulseData, core_, core_->failed);
        } catch (...) {
            delete core_;
            throw;
        }
        core_->inFlightFrames = 2ULL * bufferFrames;
    } else {
        try {
            core_->audio = std::make_unique<RtAudio>(toRtAudioApi(api));
            core_->audio->showWarnings(false);
            RtAudio::StreamParameters params;
            params.deviceId = device.index;
            params.nChannels = format.channels;
            RtAudio::StreamOptions options;
            options.streamName = "recd";
            std::unique_lock listLock(rtAudioDeviceListLock());
            core_->audio->openStream(nullptr, &params, rtFormat(format.sampleFormat), format.rate,
                                     &core_->bufferFrames, &Core::onAudio, core_, &options, &onStreamError);
            listLock.unlock();
            // Two deliveries at most. The server hands audio over every
            // deliveryInterval() (or every buffer), and the buffers of one
            // delivery arrive together, so with small buffers the frames in
            // flight between deliveries are many buffers' worth.
            const auto deliveryFrames =
                static_cast<std::uint64_t>(deliveryInterval().count()) * format.rate / 1000;
            core_->inFlightFrames = 2 * std::max<std::uint64_t>(core_->bufferFrames, deliveryFrames);
        } catch (const RtAudioError& e) {
            delete core_;
            throw DeviceLost(fmt::format("cannot open input device '{}' at {} Hz, {} channels: {}", device.name,
                                         format.rate, format.channels, e.getMessage()));
        }
    }
    log().debug("opened '{}' ({}): {} Hz, {} ch, {} frames per buffer, delivered every {} ms", device.name,
                audioApiName(api), format.rate, format.channels, core_->bufferFrames, deliveryInterval().count());
}

CaptureStream::~CaptureStream()
{
    stop();
    if (!core_->abandoned.load())
        delete core_;
}

void CaptureStream::start()
{
    if (core_->pulse) {
        core_->pulse->start();
        return;
    }
    try {
        core_->audio->startStream();
    } catch (const RtAudioError& e) {
        throw DeviceLost(fmt::format("cannot start the input stream: {}", e.getMessage()));
    }
}

void CaptureStream::stop() noexcept
{
    Core* core = core_;
    if ((!core->audio && !core->pulse) || core->abandoned.load())
        return;
    auto closed = std::make_shared<std::promise<void>>();
    auto done = closed->get_future();
    std::thread closer([core, closed] {
        try {
            if (core->pulse) {
                core->pulse->stop();
            } else {
                if (core->audio->isStreamRunning())
                    core->audio->abortStream();
                if (core->audio->isStreamOpen())
                    core->audio->closeStream();
            }
        } catch (const RtAudioError& e) {
            log().warn("closing the input stream: {}", e.getMessage());
        }
        closed->set_value();
    });
    if (done.wait_for(std::chrono::milliseconds(500)) == std::future_status::ready) {
        closer.join();
        core->audio.reset();
        core->pulse.reset();
        return;
    }
    core->abandoned.store(true);
    closer.detach();
    log().error("the audio device did not stop within 0.5 s (its read is blocked); abandoned it, leaving {} KiB "
                "allocated",
                core->ring.capacity() / 1024);
}

bool CaptureStream::abandoned() const noexcept { return core_->abandoned.load(); }
void CaptureStream::wakeReaderEvery(std::uint64_t everyFrames) noexcept
{
    core_->wakeEveryFrames.store(everyFrames, std::memory_order_relaxed);
}
void CaptureStream::wakeReader() const noexcept { core_->readerWake.post(); }
void CaptureStream::waitForAudio(std::chrono::nanoseconds timeout) const noexcept { core_->readerWake.wait(timeout); }
RingBuffer& CaptureStream::ring() noexcept { return core_->ring; }
unsigned CaptureStream::bufferFrames() const noexcept { return core_->bufferFrames; }
const CaptureFormat& CaptureStream::format() const noexcept { return core_->format; }
std::uint32_t CaptureStream::overruns() const noexcept { return core_->overruns.load(std::memory_order_relaxed); }
std::uint64_t CaptureStream::overrunFrames() const noexcept
{
    return core_->overrunFrames.load(std::memory_order_relaxed);
}
std::uint32_t CaptureStream::inputOverflows() const noexcept
{
    return core_->inputOverflows.load(std::memory_order_relaxed);
}
std::uint32_t CaptureStream::gaps() const noexcept { return core_->gaps.load(std::memory_order_acquire); }
std::int64_t CaptureStream::lastGapNs() const noexcept { return core_->lastGapNs.load(std::memory_order_relaxed); }
bool CaptureStream::failed() const noexcept
{
    if (streamErrors.load(std::memory_order_relaxed) != core_->errorsAtOpen)
        core_->failed.store(true, std::memory_order_relaxed);
    return core_->failed.load(std::memory_order_relaxed);
}

// The real-time path. Runs on the audio API's thread once per buffer; it must
// finish well within one buffer's time and must never block, lock or allocate:
// it copies into the pre-allocated lock-free ring and publishes counters with
// atomics. When the ring is full it drops the buffer and counts it, because
// waiting for the writer would stall the device and lose audio anyway.
int CaptureStream::Core::onAudio(void*, void* input, unsigned frames, double, unsigned status, void* self) noexcept
{
    auto& s = *static_cast<Core*>(self);
    if (s.abandoned.load(std::memory_order_relaxed))
        return 2; // abort: nobody reads this stream any more
    if (streamErrors.load(std::memory_order_relaxed) != s.errorsAtOpen) {
        s.failed.store(true, std::memory_order_relaxed);
        return 2; // the buffer is stale: never write it, and stop the stream
    }
    if (s.startNs == 0)
        nameThisThread("recd-audio"); // once: prctl(2), which neither blocks nor allocates
    const std::int64_t now = monotonicNs();
    // Defence in depth against a back end that loops without reading: a device
    // cannot deliver more audio than time has passed, plus what it had buffered.
    // More than a second ahead of real time means the data is not real.
    if (s.startNs == 0)
        s.startNs = now;
    s.framesDelivered += frames;
    if (s.framesDelivered > static_cast<std::uint64_t>((now - s.startNs) / 1'000'000) * s.format.rate / 1000 +
                                s.format.rate + 2ULL * s.bufferFrames) {
        s.failed.store(true, std::memory_order_relaxed);
        return 2;
    }
    const std::size_t frameBytes = s.format.frameBytes();
    // Silence that is not audio from the device, at the head of a new stream:
    // - RtAudio 5.2 (ALSA and PulseAudio alike) calls the callback before its
    //   first read, so the first buffer is the zero-filled initial one
    //   (measured: every take began with exactly 1024 zero frames);
    // - PipeWire hands a newly linked capture stream one graph period of zeros
    //   before the source's first data reaches it (measured on the rig: 2048
    //   frames, in parec's recordings too).
    // Dropping them keeps that fake silence out of the file and makes "the first
    // buffer arrived" mean audio. All-zero buffers are dropped only until the
    // first one that is not, and for at most leadingSilenceLimit: a source that
    // is really digital silence (a muted microphone) is recorded after that.
    // The scan is a read of memory already there: no lock, no allocation.
    if (!s.sawSound) {
        const auto* bytes = static_cast<const unsigned char*>(input);
        bool allZero = true;
        for (std::size_t i = 0; i < frames * frameBytes && allZero; ++i)
            allZero = bytes[i] == 0;
        const bool first = !s.sawFirstCallback;
        s.sawFirstCallback = true;
        const std::uint64_t limit = s.format.rate * leadingSilenceLimit.count() / 1000;
        if (allZero && (first || s.leadingZeroFrames + frames <= limit)) {
            s.leadingZeroFrames += first ? 0 : frames;
            return 0;
        }
        s.sawSound = true;
    }
    if (status & RTAUDIO_INPUT_OVERFLOW) {
        // RtAudio 5.2's ALSA back end calls the callback before it reads, and a
        // read that overran leaves the buffer as it was: the buffer flagged with
        // the overflow is the previous one again, not audio (seen as a repeated
        // 512-frame block that pulled a 440 Hz tone down to 428 Hz). It is counted
        // and dropped: a gap is honest, a repeat is not.
        s.inputOverflows.fetch_add(1, std::memory_order_relaxed);
        return 0;
    }
    // A source that pauses delivering (suspended, stalled) leaves a gap in time
    // the file cannot show. Only this thread sees buffers one by one, so it
    // measures the time between them; more than three buffers' time plus 50 ms of
    // scheduling slack is a gap. A buffer is the one asked for: libpulse hands
    // over what the server sent, which can be a sliver after a full fragment's
    // wait, and a sliver's time made every such wait a gap.
    const std::int64_t previous = s.lastBufferNs.load(std::memory_order_relaxed);
    const std::int64_t bufferNs =
        static_cast<std::int64_t>(std::max(frames, s.bufferFrames)) * 1'000'000'000 / s.format.rate;
    const bool gap = previous != 0 && now - previous > 3 * bufferNs + 50'000'000;
    if (gap) {
        s.lastGapNs.store(now - previous, std::memory_order_relaxed);
        s.gaps.fetch_add(1, std::memory_order_release);
    }
    const std::size_t written = s.ring.write(static_cast<const std::byte*>(input), frames * frameBytes);
    const std::uint64_t pushed = written / frameBytes;
    if (pushed < frames) {
        s.overruns.fetch_add(1, std::memory_order_relaxed);
        s.overrunFrames.fetch_add(frames - pushed, std::memory_order_relaxed);
    }
    s.publish(pushed, frames, now, gap);
    // The reader sleeps until enough has arrived to be worth a write: each
    // wake-up is a context switch, the largest part of what recording costs.
    // Posting is one non-blocking write(2) (WakeEvent.hpp): no lock, no wait.
    s.framesSincePost += pushed;
    if (const std::uint64_t every = s.wakeEveryFrames.load(std::memory_order_relaxed);
        every > 0 && s.framesSincePost >= every) {
        s.framesSincePost = 0;
        s.readerWake.post();
    }
    return 0;
}

// Where the stream's clock stands. A buffer arrives some time after its
// frames were captured, and that delay varies from buffer to buffer: a server
// hands over a block at a time and may render it ahead (PulseAudio's null sink
// does), and a thread is scheduled late. Counting from the last buffer's arrival
// (as recd once did) is then off by up to a buffer, 43 ms at 2048 frames, and
// differently at the start and at the stop of a take. The anchor is the mean of
// what the buffers say about when the stream's frame 0 arrived (each one's
// arrival minus the frames up to its end): over all of them for the first 16,
// then over about the last 16, so that it follows a device clock that runs
// apart from CLOCK_MONOTONIC. A gap in delivery (a suspended source) restarts
// it, as the frames no longer count time from the start.
void CaptureStream::Core::publish(std::uint64_t pushed, std::uint64_t frames, std::int64_t nowNs,
                                  bool afterGap) noexcept
{
    const std::uint64_t clock = clockFrames.load(std::memory_order_relaxed) + frames;
    const std::int64_t offset = nowNs - static_cast<std::int64_t>(clock * 1'000'000'000 / format.rate);
    const std::int64_t anchor = anchorNs.load(std::memory_order_relaxed);
    if (clockFrames.load(std::memory_order_relaxed) == 0 || afterGap)
        anchorBuffers = 0;
    anchorBuffers = std::min<std::int64_t>(anchorBuffers + 1, 16);

    const std::uint32_t before = seq.load(std::memory_order_relaxed);
    seq.store(before + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    if (framesPushed.load(std::memory_order_relaxed) == 0 && pushed > 0)
        firstBufferNs.store(nowNs, std::memory_order_relaxed);
    framesPushed.store(framesPushed.load(std::memory_order_relaxed) + pushed, std::memory_order_relaxed);
    lastBufferNs.store(nowNs, std::memory_order_relaxed);
    clockFrames.store(clock, std::memory_order_relaxed);
    anchorNs.store(anchorBuffers == 1 ? offset : anchor + (offset - anchor) / anchorBuffers,
                   std::memory_order_relaxed);
    seq.store(before + 2, std::memory_order_release);
}

CaptureProgress CaptureStream::progress() const noexcept
{
    const Core& c = *core_;
    CaptureProgress p;
    for (;;) {
        const std::uint32_t before = c.seq.load(std::memory_order_acquire);
        p.framesPushed = c.framesPushed.load(std::memory_order_relaxed);
        p.lastBufferNs = c.lastBufferNs.load(std::memory_order_relaxed);
        p.firstBufferNs = c.firstBufferNs.load(std::memory_order_relaxed);
        p.clockFrames = c.clockFrames.load(std::memory_order_relaxed);
        p.anchorNs = c.anchorNs.load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        if ((before & 1) == 0 && c.seq.load(std::memory_order_relaxed) == before)
            break;
    }
    return p;
}

std::unique_ptr<CaptureStream> openCaptureStream(AudioApi api, const DeviceInfo& device, const CaptureFormat& format,
                                                 unsigned bufferFrames, std::size_t ringFrames,
                                                 std::chrono::milliseconds firstBufferTimeout,
                                                 std::stop_token abandon)
{
    auto stream = std::make_unique<CaptureStream>(api, device, format, bufferFrames, ringFrames);
    const std::int64_t openedNs = monotonicNs();
    stream->start();
    const std::int64_t deadline = openedNs + firstBufferTimeout.count() * 1'000'000;
    CaptureProgress progress = stream->progress();
    // What a healthy input takes at most to deliver its first buffer here: a
    // server's stream set-up (35 ms on pipewire-pulse) and a buffer or two.
    constexpr std::int64_t healthyFirstBufferNs = 300'000'000;
    const auto calledOff = [&] { return abandon.stop_requested() && monotonicNs() - openedNs >= healthyFirstBufferNs; };
    while (progress.framesPushed == 0 && !stream->failed() && monotonicNs() < deadline && !calledOff()) {
        std::this_thread::sleep_for(std::chrono::microseconds(500));
        progress = stream->progress();
    }
    if (progress.framesPushed == 0 && calledOff()) {
        stream->stop();
        throw Cancelled(fmt::format("the start was cancelled while it waited for the first audio from '{}'; "
                                    "nothing was recorded",
                                    device.name));
    }
    if (progress.framesPushed == 0) {
        stream->stop();
        throw DeviceLost(fmt::format("no audio arrived from '{}' within {} ms; the device may be suspended, "
                                     "muted at the server, or gone",
                                     device.name, firstBufferTimeout.count()));
    }
    // The server may have queued more than one buffer by the time the first was
    // read (opening and starting take a while): those follow within
    // microseconds. Counted before the caller asks where the stream stands, they
    // put the clock's anchor where the audio really is, instead of a buffer
    // behind it (seen as takes 43 ms too long, 1 in 10).
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    log().debug("first buffer {:.1f} ms after the stream was opened", (progress.firstBufferNs - openedNs) / 1e6);
    return stream;
}

std::uint64_t CaptureStream::positionAt(std::int64_t ns) const noexcept
{
    const CaptureProgress p = progress();
    if (p.framesPushed == 0)
        return 0;
    // The frames of the stream's clock by `ns` (see Core::publish), counted in
    // the ring's frames: those an overrun dropped are not in it.
    const auto clockAt = static_cast<std::int64_t>(static_cast<double>(ns - p.anchorNs) * core_->format.rate / 1e9);
    const std::int64_t position =
        static_cast<std::int64_t>(p.framesPushed) + clockAt - static_cast<std::int64_t>(p.clockFrames);
    // A device that has stalled delivers nothing more: never count on more than
    // two deliveries in flight.
    const auto most = static_cast<std::int64_t>(p.framesPushed + core_->inFlightFrames);
    return static_cast<std::uint64_t>(std::clamp<std::int64_t>(position, 0, most));
}

std::int64_t CaptureStream::timeOf(std::uint64_t position) const noexcept
{
    const CaptureProgress p = progress();
    const auto clockFrame = static_cast<double>(position) + static_cast<double>(p.clockFrames) -
                            static_cast<double>(p.framesPushed);
    return p.anchorNs + static_cast<std::int64_t>(clockFrame * 1e9 / core_->format.rate);
}

std::uint64_t CaptureStream::positionNow() const noexcept
{
    return positionAt(monotonicNs());
}

} // namespace recd
