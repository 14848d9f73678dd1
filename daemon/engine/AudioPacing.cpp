#include "AudioPacing.hpp"

#include "OwnEnvironment.hpp"

#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>

namespace recd {

unsigned defaultBufferFrames(AudioApi api)
{
    return api == AudioApi::Pulse && deliveryInterval().count() > 0 ? 128 : 512;
}

void requestDeliveryInterval(AudioApi api, std::chrono::milliseconds interval)
{
    if (api == AudioApi::Pulse)
        setOwnVariable(deliveryIntervalVariable, std::to_string(interval.count()));
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

bool deliveryIntervalIsOurs()
{
    return isOwnVariable(deliveryIntervalVariable);
}

} // namespace recd
