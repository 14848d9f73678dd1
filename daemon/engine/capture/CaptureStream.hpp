#pragma once

#include "daemon/engine/capture/CaptureSource.hpp"
#include "daemon/engine/device/AudioSystem.hpp"
#include "daemon/engine/device/DeviceInfo.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>

class RtAudio;

namespace recd {

// The capture source on a device: one input stream in callback mode (RtAudio's,
// or recd's own PulseAudio input), feeding its ring. What each method means is
// CaptureSource's; below is what is particular to a device.
class CaptureStream final : public CaptureSource {
public:
    // ringFrames: how many frames the ring between the callback and the writer holds.
    CaptureStream(AudioApi api, const DeviceInfo& device, const CaptureFormat& format,
                  unsigned bufferFrames, std::size_t ringFrames);
    ~CaptureStream() override;
    CaptureStream(const CaptureStream&) = delete;
    CaptureStream& operator=(const CaptureStream&) = delete;

    void start();
    // Stops and closes the stream. A device that delivers nothing can leave
    // RtAudio's thread blocked in a read forever, holding the lock stop needs
    // (seen with RtAudio 5.2's PulseAudio back end on a silent source). So stop
    // waits at most half a second; past that the stream is abandoned: its thread,
    // RtAudio object and ring are left allocated (the callback then does nothing)
    // so that nothing they touch is ever freed under them.
    void stop() noexcept override;
    bool abandoned() const noexcept;

    RingBuffer& ring() noexcept override;
    const CaptureFormat& format() const noexcept override;
    unsigned bufferFrames() const noexcept override;

    void wakeReaderEvery(std::uint64_t everyFrames) noexcept override;
    void wakeReader() const noexcept override;
    void waitForAudio(std::chrono::nanoseconds timeout) noexcept override;

    // Only recd's own PulseAudio input on PipeWire changes a running stream's
    // pace (PulseConnection::isPipeWire); RtAudio's keeps its buffer. Called by
    // the stream's reader.
    void setDelivery(Delivery delivery) noexcept override;
    // As the server last granted them (recd's own input), or the buffer (RtAudio's).
    unsigned deliveryFrames() const noexcept override;

    CaptureProgress progress() const noexcept override;
    std::uint64_t positionAt(std::int64_t ns) const noexcept override;
    std::int64_t timeOf(std::uint64_t position) const noexcept override;

    DropCounts drops() const noexcept override;
    std::uint32_t gaps() const noexcept override;
    std::int64_t lastGapNs() const noexcept override;
    bool failed() const noexcept override;

private:
    void watchSource(const std::string& source);

    struct Core; // everything the audio thread touches
    Core* core_; // owned; leaked on purpose when the stream is abandoned
    std::shared_ptr<void> sourceWatch_; // flags the stream failed if its source is removed
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
