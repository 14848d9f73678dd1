#pragma once
// How a take gets its source. The session asks an opener rather than a device,
// so that a test can hand it a source of its own (FakeCaptureSource) and check
// the writer to the frame with no sound server; recd's opener is DeviceOpener.

#include "daemon/engine/capture/CaptureSource.hpp"
#include "daemon/engine/device/DeviceInfo.hpp"

#include <cstddef>
#include <memory>
#include <stop_token>
#include <vector>

namespace recd {

class CaptureOpener {
public:
    virtual ~CaptureOpener() = default;
    // Opens `device` in `format`, asking for buffers of `bufferFrames`, with a
    // ring of `ringFrames`, and returns it once its first buffer of audio has
    // arrived: "started" must mean "capturing", so that a caller who starts
    // talking when this returns is heard from the first word. Throws DeviceLost,
    // or Cancelled when `abandon` calls the wait off (openCaptureStream).
    virtual std::unique_ptr<CaptureSource> open(const DeviceInfo& device, const CaptureFormat& format,
                                                unsigned bufferFrames, std::size_t ringFrames,
                                                std::stop_token abandon = {}) = 0;
    // The inputs as they are listed now: a reconnect looks its device up again
    // by id, as its index may have changed while devices came and went.
    virtual std::vector<DeviceInfo> devices() = 0;
};

// `device` as the opener lists it now, by id (its index may have changed as
// devices came and went); DeviceLost while it is not listed.
DeviceInfo listedAgain(CaptureOpener& opener, const DeviceInfo& device);

} // namespace recd
