#include "daemon/engine/device/StreamIdentity.hpp"

#include "daemon/engine/device/OwnEnvironment.hpp"

namespace recd {

void nameStreams(AudioApi api)
{
    if (api != AudioApi::Alsa)
        setOwnVariable("PULSE_PROP_OVERRIDE", streamProperties);
}

} // namespace recd
