#pragma once
// Repairs the header of a WAV (RIFF or RF64) file whose writer died: the sizes
// are set from the file's length, the data cut to a whole frame. recd keeps the
// header current every sync_interval, so after a crash it lags the data by at
// most that; this recovers the rest.

#include <cstdint>
#include <filesystem>
#include <string>

namespace recd {

struct WavRepairReport {
    bool changed = false;
    std::uint64_t oldDataBytes = 0; // what the header said
    std::uint64_t newDataBytes = 0; // what the file holds, whole frames
    std::uint64_t trimmedBytes = 0; // a partial frame cut off the end
    unsigned blockAlign = 0;        // bytes per frame
    unsigned rate = 0;
    double oldSeconds() const { return rate && blockAlign ? double(oldDataBytes) / blockAlign / rate : 0; }
    double newSeconds() const { return rate && blockAlign ? double(newDataBytes) / blockAlign / rate : 0; }
    std::string describe(const std::filesystem::path& path) const;
};

// Throws InvalidArgument if the file is not a WAV file it understands, IoError
// if it cannot be read or written.
WavRepairReport repairWav(const std::filesystem::path& path);

} // namespace recd
