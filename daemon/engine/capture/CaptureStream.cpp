#include "daemon/engine/capture/CaptureStream.hpp"
#include "daemon/engine/capture/CaptureStreamCore.hpp"

#include "daemon/engine/capture/AudioPacing.hpp"
#include "common/Errors.hpp"
#include "daemon/engine/Log.hpp"
#include "daemon/engine/capture/PulseInput.hpp"
#include "daemon/engine/device/PulseConnection.hpp"
#include "daemon/engine/device/PulseSources.hpp"
#include "daemon/engine/device/RtAudioApi.hpp"
#include "daemon/engine/ThreadName.hpp"

#include <RtAudio.h>

#include <algorithm>
#include <future>
#include <memory>
#include <thread>
#include <ctime>

namespace recd {

namespace {

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

} // namespace


CaptureStream::CaptureStream(AudioApi api, const DeviceInfo& device, const CaptureFormat& format,
                             unsigned bufferFrames, std::size_t ringFrames)
    : core_(new Core(format, bufferFrames, ringFrames))
{
    core_->errorsAtOpen = streamErrors.load(); // RtAudio's, counted globally: see onStreamError
    // The server's name of a source chosen by name (not the default input),
    // asked once: recd's own input connects to it, and its removal is watched.
    const auto found = api == AudioApi::Alsa || device.isDefault ? std::nullopt : findPulseSource(device.name);
    if (api == AudioApi::PulseNative) {
        // The default input by no name, so that the server's own choice is what
        // is recorded; any other by the source's name, which the server is asked.
        std::string source;
        if (!device.isDefault) {
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
        // Decided once: a server that cannot take a new fragment mid-stream
        // keeps the buffer, and so does the most that can be in flight.
        core_->relaxedFrames = core_->pulse->fragmentChangeable() ? relaxedDeliveryFrames(bufferFrames, format.rate)
                                                                  : bufferFrames;
        core_->inFlightFrames = 2ULL * core_->relaxedFrames;
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
            core_->relaxedFrames = core_->bufferFrames; // pa_simple keeps its fragment
        } catch (const RtAudioError& e) {
            delete core_;
            throw DeviceLost(fmt::format("cannot open input device '{}' at {} Hz, {} channels: {}", device.name,
                                         format.rate, format.channels, e.getMessage()));
        }
    }
    if (found)
        watchSource(found->name);
    log().debug("opened '{}' ({}): {} Hz, {} ch, {} frames per buffer, delivered every {} ms", device.name,
                audioApiName(api), format.rate, format.channels, core_->bufferFrames, deliveryInterval().count());
}

// A source that goes away takes its stream with it, as far as recd is
// concerned: PulseAudio (module-rescue-streams) and PipeWire both move the
// stream to another source, which it would go on recording unnoticed (seen on
// the rig: the other side's channel of a meeting carried the microphone once
// the other side's sink was unloaded). The default input is not watched: it
// follows the server's choice on purpose.
void CaptureStream::watchSource(const std::string& source)
{
    try {
        Core* core = core_;
        // Runs on the connection's mainloop thread, which for recd's own input
        // is the audio thread too: it only sets the flag the reader polls.
        sourceWatch_ = PulseConnection::get()->watchRemoval(
            source, [core] { core->failed.store(true, std::memory_order_relaxed); });
        if (!sourceWatch_)
            log().warn("cannot watch '{}' for removal: the sound server no longer lists it", source);
    } catch (const Error& e) {
        log().debug("cannot watch '{}' for removal: {}", source, e.what());
    }
}

CaptureStream::~CaptureStream()
{
    sourceWatch_.reset(); // before the core it flags goes
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
void CaptureStream::setDelivery(Delivery delivery) noexcept
{
    // A request to the server, once per change: the reader asks on every pass.
    if (!core_->pulse || core_->relaxedFrames == core_->bufferFrames || delivery == core_->delivery)
        return;
    core_->delivery = delivery;
    core_->pulse->setFragment(delivery == Delivery::Relaxed ? core_->relaxedFrames : core_->bufferFrames);
}
unsigned CaptureStream::deliveryFrames() const noexcept
{
    return core_->pulse ? core_->pulse->grantedFragment() : core_->bufferFrames;
}
void CaptureStream::wakeReader() const noexcept { core_->readerWake.post(); }
void CaptureStream::waitForAudio(std::chrono::nanoseconds timeout) noexcept { core_->readerWake.wait(timeout); }
RingBuffer& CaptureStream::ring() noexcept { return core_->ring; }
unsigned CaptureStream::bufferFrames() const noexcept { return core_->bufferFrames; }
const CaptureFormat& CaptureStream::format() const noexcept { return core_->format; }
DropCounts CaptureStream::drops() const noexcept
{
    return {core_->overruns.load(std::memory_order_relaxed), core_->overrunFrames.load(std::memory_order_relaxed),
            core_->inputOverflows.load(std::memory_order_relaxed)};
}
std::uint32_t CaptureStream::gaps() const noexcept { return core_->gaps.load(std::memory_order_acquire); }
std::int64_t CaptureStream::lastGapNs() const noexcept { return core_->lastGapNs.load(std::memory_order_relaxed); }
bool CaptureStream::failed() const noexcept
{
    if (streamErrors.load(std::memory_order_relaxed) != core_->errorsAtOpen)
        core_->failed.store(true, std::memory_order_relaxed);
    return core_->failed.load(std::memory_order_relaxed);
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
        p.leastDelayed[0] = {c.leastDelayedNs[0].load(std::memory_order_relaxed),
                             c.leastDelayedNs[1].load(std::memory_order_relaxed)};
        p.leastDelayed[1] = {c.leastDelayedNs[2].load(std::memory_order_relaxed),
                             c.leastDelayedNs[3].load(std::memory_order_relaxed)};
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

} // namespace recd
