#include "CaptureStream.hpp"

#include "Errors.hpp"
#include "Log.hpp"
#include "RtAudioApi.hpp"

#include <RtAudio.h>

#include <algorithm>
#include <ctime>

namespace recd {

namespace {

// RtAudio's error callback carries no user pointer, so stream failures are
// counted globally; each stream compares against the count it saw when opened.
std::atomic<std::size_t> streamErrors{0};

void onStreamError(RtAudioError::Type type, const std::string& text)
{
    if (type == RtAudioError::WARNING || type == RtAudioError::DEBUG_WARNING) {
        log().debug("audio: {}", text);
        return;
    }
    streamErrors.fetch_add(1, std::memory_order_relaxed);
    log().error("audio stream error: {}", text);
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

std::int64_t monotonicNs() noexcept
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts); // vDSO: no system call, safe on the audio thread
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

CaptureStream::CaptureStream(AudioApi api, const DeviceInfo& device, const CaptureFormat& format,
                             unsigned bufferFrames, RingBuffer& ring)
    : format_(format), bufferFrames_(bufferFrames), ring_(ring)
{
    try {
        audio_ = std::make_unique<RtAudio>(toRtAudioApi(api));
        audio_->showWarnings(false);
        RtAudio::StreamParameters params;
        params.deviceId = device.index;
        params.nChannels = format.channels;
        RtAudio::StreamOptions options;
        options.streamName = "recd";
        errorsAtOpen_ = streamErrors.load();
        audio_->openStream(nullptr, &params, rtFormat(format.sampleFormat), format.rate, &bufferFrames_,
                           &CaptureStream::onAudio, this, &options, &onStreamError);
    } catch (const RtAudioError& e) {
        throw DeviceLost(fmt::format("cannot open input device '{}' at {} Hz, {} channels: {}", device.name,
                                     format.rate, format.channels, e.getMessage()));
    }
    log().debug("opened '{}' ({}): {} Hz, {} ch, {} frames per buffer", device.name, audioApiName(api),
                format.rate, format.channels, bufferFrames_);
}

CaptureStream::~CaptureStream() { stop(); }

void CaptureStream::start()
{
    try {
        audio_->startStream();
    } catch (const RtAudioError& e) {
        throw DeviceLost(fmt::format("cannot start the input stream: {}", e.getMessage()));
    }
}

void CaptureStream::stop() noexcept
{
    if (!audio_)
        return;
    try {
        if (audio_->isStreamRunning())
            audio_->abortStream();
        if (audio_->isStreamOpen())
            audio_->closeStream();
    } catch (const RtAudioError& e) {
        log().warn("closing the input stream: {}", e.getMessage());
    }
    audio_.reset();
}

// The real-time path. Runs on the audio API's thread once per buffer; it must
// finish well within one buffer's time and must never block, lock or allocate:
// it copies into the pre-allocated lock-free ring and publishes counters with
// atomics. When the ring is full it drops the buffer and counts it, because
// waiting for the writer would stall the device and lose audio anyway.
int CaptureStream::onAudio(void*, void* input, unsigned frames, double, unsigned status, void* self) noexcept
{
    auto& s = *static_cast<CaptureStream*>(self);
    const std::int64_t now = monotonicNs();
    const std::size_t frameBytes = s.format_.frameBytes();
    // RtAudio 5.2 (ALSA and PulseAudio alike) calls the callback before its first
    // read, so the first buffer is the zero-filled initial one, not audio from the
    // device (measured: every take began with exactly 1024 zero frames). Dropping
    // it keeps that fake silence out of the file and makes "the first buffer
    // arrived" mean real audio. Only an all-zero first buffer is dropped, in case
    // a later RtAudio reads first.
    if (!s.sawFirstCallback_) {
        s.sawFirstCallback_ = true;
        const auto* bytes = static_cast<const unsigned char*>(input);
        bool allZero = true;
        for (std::size_t i = 0; i < frames * frameBytes && allZero; ++i)
            allZero = bytes[i] == 0;
        if (allZero)
            return 0;
    }
    if (status & RTAUDIO_INPUT_OVERFLOW)
        s.inputOverflows_.fetch_add(1, std::memory_order_relaxed);
    const std::size_t written = s.ring_.write(static_cast<const std::byte*>(input), frames * frameBytes);
    const std::uint64_t pushed = written / frameBytes;
    if (pushed < frames) {
        s.overruns_.fetch_add(1, std::memory_order_relaxed);
        s.overrunFrames_.fetch_add(frames - pushed, std::memory_order_relaxed);
    }
    s.publish(pushed, now);
    return 0;
}

void CaptureStream::publish(std::uint64_t frames, std::int64_t nowNs) noexcept
{
    const std::uint32_t seq = seq_.load(std::memory_order_relaxed);
    seq_.store(seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    if (framesPushed_.load(std::memory_order_relaxed) == 0 && frames > 0)
        firstBufferNs_.store(nowNs, std::memory_order_relaxed);
    framesPushed_.store(framesPushed_.load(std::memory_order_relaxed) + frames, std::memory_order_relaxed);
    lastBufferNs_.store(nowNs, std::memory_order_relaxed);
    seq_.store(seq + 2, std::memory_order_release);
}

CaptureProgress CaptureStream::progress() const noexcept
{
    CaptureProgress p;
    for (;;) {
        const std::uint32_t before = seq_.load(std::memory_order_acquire);
        p.framesPushed = framesPushed_.load(std::memory_order_relaxed);
        p.lastBufferNs = lastBufferNs_.load(std::memory_order_relaxed);
        p.firstBufferNs = firstBufferNs_.load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        if ((before & 1) == 0 && seq_.load(std::memory_order_relaxed) == before)
            break;
    }
    if (streamErrors.load(std::memory_order_relaxed) != errorsAtOpen_)
        failed_.store(true, std::memory_order_relaxed);
    return p;
}

std::uint64_t CaptureStream::positionNow() const noexcept
{
    const CaptureProgress p = progress();
    if (p.framesPushed == 0)
        return 0;
    const std::int64_t sinceLast = std::max<std::int64_t>(0, monotonicNs() - p.lastBufferNs);
    // A device that has stalled delivers nothing more: never count on more than
    // two buffers in flight.
    const auto inFlight = std::min<std::uint64_t>(
        static_cast<std::uint64_t>(sinceLast) * format_.rate / 1'000'000'000ULL, 2ULL * bufferFrames_);
    return p.framesPushed + inFlight;
}

} // namespace recd
