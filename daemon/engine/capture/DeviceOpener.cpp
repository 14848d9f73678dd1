#include "daemon/engine/capture/DeviceOpener.hpp"

#include "daemon/engine/capture/CaptureStream.hpp"

namespace recd {

std::unique_ptr<CaptureSource> DeviceOpener::open(const DeviceInfo& device, const CaptureFormat& format,
                                                  unsigned bufferFrames, std::size_t ringFrames,
                                                  std::stop_token abandon)
{
    return openCaptureStream(api_, device, format, bufferFrames, ringFrames, firstBufferTimeout_, abandon);
}

std::vector<DeviceInfo> DeviceOpener::devices()
{
    return AudioSystem(api_).devices();
}

} // namespace recd
