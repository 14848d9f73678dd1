#pragma once

#include "AudioSystem.hpp"
#include "DeviceInfo.hpp"
#include "RingBuffer.hpp"
#include "SampleFormat.hpp"

#include <atomic>
#include <cstdint>
#include <memory>

class RtAudio;

namespace recd {

// Where capture stands: how many frames the callback has pushed into the ring, and
// when (CLOCK_MONOTONIC) the last buffer arrived. Read together, consistently.
struct CaptureProgress {
    std::uint64_t framesPushed = 0;
    std::int64_t lastBufferNs = 0;
    std::int64_t firstBufferNs = 0;
};

struct CaptureFormat {
    unsigned rate = 48000;
    unsigned channels = 2;
    SampleFormat sampleFormat = SampleFormat::S16;
    std::size_t frameBytes() const { return channels * captureBytesPerSample(sampleFormat); }
};

// The capture source: one RtAudio input stream in callback mode, feeding a ring.
class CaptureStream {
public:
    CaptureStream(AudioApi api, const DeviceInfo& device, const CaptureFormat& format,
                  unsigned bufferFrames, RingBuffer& ring);
    ~CaptureStream();
    CaptureStream(const CaptureStream&) = delete;
    CaptureStream& operator=(const CaptureStream&) = delete;

    void start();
    void stop() noexcept;

    CaptureProgress progress() const noexcept;
    // The absolute frame index being captured right now: frames pushed, plus the
    // frames that have reached the device since the last buffer and are on their way.
    std::uint64_t positionNow() const noexcept;

    unsigned bufferFrames() const noexcept { return bufferFrames_; }
    const CaptureFormat& format() const noexcept { return format_; }
    std::uint32_t overruns() const noexcept { return overruns_.load(std::memory_order_relaxed); }
    std::uint64_t overrunFrames() const noexcept { return overrunFrames_.load(std::memory_order_relaxed); }
    std::uint32_t inputOverflows() const noexcept { return inputOverflows_.load(std::memory_order_relaxed); }
    bool failed() const noexcept { return failed_.load(std::memory_order_relaxed); }

private:
    static int onAudio(void* output, void* input, unsigned frames, double streamTime,
                       unsigned status, void* self) noexcept;
    void publish(std::uint64_t frames, std::int64_t nowNs) noexcept;

    CaptureFormat format_;
    unsigned bufferFrames_;
    RingBuffer& ring_;
    std::unique_ptr<RtAudio> audio_;
    std::size_t errorsAtOpen_ = 0;
    bool sawFirstCallback_ = false; // touched only by the callback

    // Published by the callback with a sequence lock: the callback never waits,
    // readers retry in the rare case they overlap a write.
    std::atomic<std::uint32_t> seq_{0};
    std::atomic<std::uint64_t> framesPushed_{0};
    std::atomic<std::int64_t> lastBufferNs_{0};
    std::atomic<std::int64_t> firstBufferNs_{0};

    std::atomic<std::uint32_t> overruns_{0};       // callbacks that found the ring full
    std::atomic<std::uint64_t> overrunFrames_{0};  // frames those callbacks dropped
    std::atomic<std::uint32_t> inputOverflows_{0}; // buffers the audio API said it lost
    mutable std::atomic<bool> failed_{false};
};

std::int64_t monotonicNs() noexcept;

} // namespace recd
