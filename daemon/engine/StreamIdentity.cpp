#include "StreamIdentity.hpp"

#include "OwnEnvironment.hpp"

namespace recd {

void nameStreams(AudioApi api)
{
    if (api == AudioApi::Pulse)
        setOwnVariable("PULSE_PROP_OVERRIDE", streamProperties);
}

} // namespace recd
