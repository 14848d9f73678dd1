#pragma once

#include "daemon/engine/device/AudioSystem.hpp"
#include "daemon/engine/device/DeviceInfo.hpp"
#include "common/MonotonicClock.hpp"
#include "daemon/engine/capture/RingBuffer.hpp"
#include "common/SampleFormat.hpp"
#include "daemon/engine/capture/WakeEvent.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>

class RtAudio;

namespace recd {

// Where capture stands: how many frames the callback has pushed into the ring, and
// when (CLOCK_MONOTONIC) the last buffer arrived. Read together, consistently.
struct CaptureProgress {
    std::uint64_t framesPushed = 0;
    std::int64_t lastBufferNs = 0;
    std::int64_t firstBufferNs = 0;
    // The stream's clock against CLOCK_MONOTONIC: clockFrames have arrived (into
    // the ring or dropped by an overrun), and frame n arrives, at the mean delay
    // seen lately, at anchorNs + n / rate. See Core::publish.
    std::uint64_t clockFrames = 0;
    std::int64_t anchorNs = 0;
};

struct CaptureFormat {
    unsigned rate = 48000;
    unsigned channels = 2;
    SampleFormat sampleFormat = SampleFormat::S16;
    std::size_t frameBytes() const { return channels * captureBytesPerSample(sampleFormat); }
    bool operator==(const CaptureFormat&) const = default;
};

// The capture source: one RtAudio input stream in callback mode, feeding its ring.
class CaptureStream {
public:
    // ringFrames: how many frames the ring between the callback and the writer holds.
    CaptureStream(AudioApi api, const DeviceInfo& device, const CaptureFormat& format,
                  unsigned bufferFrames, std::size_t ringFrames);
    ~CaptureStream();
    CaptureStream(const CaptureStream&) = delete;
    CaptureStream& operator=(const CaptureStream&) = delete;

    void start();
    // Stops and closes the stream. A device that delivers nothing can leave
    // RtAudio's thread blocked in a read forever, holding the lock stop needs
    // (seen with RtAudio 5.2's PulseAudio back end on a silent source). So stop
    // waits at most half a second; past that the stream is abandoned: its thread,
    // RtAudio object and ring are left allocated (the callback then does nothing)
    // so that nothing they touch is ever freed under them.
    void stop() noexcept;
    bool abandoned() const noexcept;

    RingBuffer& ring() noexcept;

    // The reader's wake-up: the callback posts it each time at least
    // `everyFrames` have been pushed since its last post (0: never, the default),
    // so that the reader sleeps until there is enough to write instead of
    // polling. wakeReader() posts it at once (a control request);
    // waitForAudio() is the reader's wait.
    void wakeReaderEvery(std::uint64_t everyFrames) noexcept;
    void wakeReader() const noexcept;
    void waitForAudio(std::chrono::nanoseconds timeout) const noexcept;

    // How soon the server hands audio over (AudioPacing.hpp, relaxedDeliveryTime):
    // Prompt, a delivery per buffer, while someone waits on the frames up to a
    // moment (a pause, resume or stop); Relaxed, fewer and larger deliveries,
    // while nobody does. Only recd's own PulseAudio input on PipeWire changes a
    // running stream's pace (PulseConnection::isPipeWire); RtAudio's keeps its
    // buffer. Called by the stream's reader.
    enum class Delivery { Prompt, Relaxed };
    void setDelivery(Delivery delivery) noexcept;
    // Frames per delivery as the server last granted them (recd's own input),
    // or the buffer (RtAudio's).
    unsigned deliveryFrames() const noexcept;

    CaptureProgress progress() const noexcept;
    // The absolute frame index being captured at monotonic time `ns`: counted
    // back from the last buffer for a moment already delivered, or forward by the
    // frames that have reached the device since and are on their way.
    std::uint64_t positionAt(std::int64_t ns) const noexcept;
    std::uint64_t positionNow() const noexcept;
    // The other way round: when (CLOCK_MONOTONIC ns) the frame at this position
    // was captured, by the same clock.
    std::int64_t timeOf(std::uint64_t position) const noexcept;

    unsigned bufferFrames() const noexcept;
    const CaptureFormat& format() const noexcept;
    std::uint32_t overruns() const noexcept;
    std::uint64_t overrunFrames() const noexcept;
    std::uint32_t inputOverflows() const noexcept;
    // Times the device paused delivering, and how long the last pause was.
    std::uint32_t gaps() const noexcept;
    std::int64_t lastGapNs() const noexcept;
    bool failed() const noexcept;

private:
    struct Core; // everything the audio thread touches
    Core* core_; // owned; leaked on purpose when the stream is abandoned
};

// Opens and starts a stream, and returns once its first buffer of audio has
// arrived: "started" must mean "capturing", so that a caller who starts talking
// when this returns is heard from the first word. Throws DeviceLost if the device
// cannot be opened or delivers nothing within firstBufferTimeout (the stream is
// closed again). When `abandon` is asked to stop while it waits, the wait ends
// with Cancelled once the stream has been open 300 ms (at once if it has): a
// healthy input delivers well within that, and its take is then the caller's to
// stop or cancel; an input that has not is called off.
std::unique_ptr<CaptureStream> openCaptureStream(AudioApi api, const DeviceInfo& device, const CaptureFormat& format,
                                                 unsigned bufferFrames, std::size_t ringFrames,
                                                 std::chrono::milliseconds firstBufferTimeout,
                                                 std::stop_token abandon = {});

} // namespace recd
