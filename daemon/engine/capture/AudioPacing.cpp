#include "daemon/engine/capture/AudioPacing.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace recd {

unsigned relaxedDeliveryFrames(unsigned bufferFrames, unsigned rate)
{
    const auto relaxed = static_cast<unsigned>(static_cast<std::uint64_t>(rate) * relaxedDeliveryTime.count() / 1000);
    return std::max(bufferFrames, relaxed);
}

std::chrono::milliseconds deliveryInterval()
{
    // libpulse reads it as a whole, positive number of milliseconds and ignores
    // anything else; so does this.
    const char* value = std::getenv(deliveryIntervalVariable);
    if (!value)
        return {};
    const std::string_view text(value);
    unsigned ms = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (error != std::errc{} || end != text.data() + text.size())
        return {};
    return std::chrono::milliseconds(ms);
}

} // namespace recd
