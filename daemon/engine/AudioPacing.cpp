#include "AudioPacing.hpp"

#include <charconv>
#include <cstdlib>
#include <string>

namespace recd {

namespace {

bool setByUs = false;

} // namespace

unsigned defaultBufferFrames(AudioApi api)
{
    return api == AudioApi::Pulse && deliveryInterval().count() > 0 ? 128 : 512;
}

void requestDeliveryInterval(AudioApi api, std::chrono::milliseconds interval)
{
    const std::string name(deliveryIntervalVariable);
    setByUs = false;
    if (api != AudioApi::Pulse || std::getenv(name.c_str()))
        return;
    setByUs = ::setenv(name.c_str(), std::to_string(interval.count()).c_str(), 0) == 0;
}

std::chrono::milliseconds deliveryInterval()
{
    // libpulse reads it as a whole, positive number of milliseconds and ignores
    // anything else; so does this.
    const char* value = std::getenv(std::string(deliveryIntervalVariable).c_str());
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
    return setByUs;
}

} // namespace recd
