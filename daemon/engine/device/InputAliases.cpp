#include "daemon/engine/device/InputAliases.hpp"

#include "common/Errors.hpp"
#include "daemon/engine/device/PulseSources.hpp"

#include <fmt/format.h>

namespace recd {

std::string resolveInputAlias(AudioApi api, const std::string& query, const std::vector<DeviceInfo>& devices)
{
    if (query != "@input" && query != "@output")
        return query;
    const bool output = query == "@output";
    const char* what = output ? "the monitor of the sound server's default output" : "the sound server's default input";
    if (api == AudioApi::Alsa)
        throw DeviceNotFound(fmt::format("{} is {}, which audio_api alsa cannot ask for; use audio_api pulse or "
                                         "pulse-native, or name the input (see `recctl devices`)",
                                         query, what));
    const auto names = defaultSourceNames(output ? DefaultSource::OutputMonitor : DefaultSource::Input);
    if (names.empty())
        throw DeviceNotFound(fmt::format("{} is {}, and the sound server names none (is it running, with {}?)",
                                         query, what, output ? "an output" : "an input"));
    for (const auto& name : names)
        for (const auto& d : devices)
            if (d.inputChannels > 0 && d.name == name)
                return name;
    throw DeviceNotFound(fmt::format("{} is {}, '{}', which is not among the inputs (see `recctl devices`)", query,
                                     what, names.front()));
}

} // namespace recd
