#pragma once

#include <string>
#include <vector>

namespace recd {

struct DeviceInfo {
    std::string id;   // stable within a machine: "<api>:<slug of name>", e.g. "pulse:monitor-of-foo"
    std::string name; // what the audio system calls it
    unsigned index = 0; // the audio system's own index, valid until devices change
    unsigned inputChannels = 0;
    std::vector<unsigned> sampleRates;
    unsigned preferredRate = 0;
    bool isDefault = false;
};

} // namespace recd
