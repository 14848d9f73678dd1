#pragma once

#include "daemon/engine/capture/CaptureOpener.hpp"
#include "daemon/engine/device/AudioSystem.hpp"

#include <chrono>

namespace recd {

// Opens the inputs of one audio API (CaptureStream, openCaptureStream): the
// opener of every take recd records.
class DeviceOpener final : public CaptureOpener {
public:
    // firstBufferTimeout: a device that delivers nothing within it is DeviceLost.
    DeviceOpener(AudioApi api, std::chrono::milliseconds firstBufferTimeout)
        : api_(api), firstBufferTimeout_(firstBufferTimeout)
    {
    }

    std::unique_ptr<CaptureSource> open(const DeviceInfo& device, const CaptureFormat& format, unsigned bufferFrames,
                                        std::size_t ringFrames, std::stop_token abandon = {}) override;
    std::vector<DeviceInfo> devices() override;

private:
    AudioApi api_;
    std::chrono::milliseconds firstBufferTimeout_;
};

} // namespace recd
