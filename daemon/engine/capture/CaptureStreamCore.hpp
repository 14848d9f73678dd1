#pragma once
// Private to CaptureStream: the state the audio callback shares with the
// stream's other threads. It is one object, separate from CaptureStream, so that
// an abandoned stream can leak it while RtAudio's thread may still run
// (CaptureStream::stop). The callback's side is CaptureCallback.cpp.

#include "daemon/engine/capture/CaptureStream.hpp"
#include "daemon/engine/capture/PulseInput.hpp"
#include "daemon/engine/capture/RingBuffer.hpp"
#include "daemon/engine/capture/WakeEvent.hpp"

#include <RtAudio.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace recd {

// RtAudio's error callback carries no user pointer, so stream failures are
// counted globally; each stream compares against the count it saw when opened.
inline std::atomic<std::size_t> streamErrors{0};

// The most silence dropped at the head of a new stream (see onAudio): a
// PipeWire graph period of up to 2048 frames at 48 kHz is 43 ms.
constexpr std::chrono::milliseconds leadingSilenceLimit{100};

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
    unsigned relaxedFrames = 0;       // the fragment of a relaxed delivery; the buffer where it cannot change
    Delivery delivery = Delivery::Prompt; // as asked of the server; touched only by the reader
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
    CaptureProgress::LeastDelayed leastDelayed[2]; // likewise: see publish
    CaptureProgress::LeastDelayed leastDelayedNow; // likewise: in the window not yet whole
    std::uint64_t windowEndFrames = 0;   // likewise: the clock frame that window ends at
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
    std::atomic<std::int64_t> leastDelayedNs[4]{}; // leastDelayed, published: arrived, zero, arrived, zero

    std::atomic<std::uint32_t> overruns{0};       // callbacks that found the ring full
    std::atomic<std::uint64_t> overrunFrames{0};  // frames those callbacks dropped
    std::atomic<std::uint32_t> inputOverflows{0}; // buffers the audio API said it lost
    std::atomic<std::uint32_t> gaps{0};           // pauses in delivery (suspended, stalled source)
    std::atomic<std::int64_t> lastGapNs{0};
    std::atomic<bool> failed{false};
};

} // namespace recd
