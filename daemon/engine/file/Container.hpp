#pragma once

#include "common/SampleFormat.hpp"

#include <filesystem>
#include <optional>
#include <span>
#include <string_view>

namespace recd {

// A file container, chosen by the file's extension. Lossless containers store the
// sample format asked for; lossy ones encode from float and have no sample format.
struct Container {
    std::string_view extension;            // ".wav"
    std::string_view name;                 // "WAV"
    int sndfileFormat;                     // SF_FORMAT_* major | codec for lossy ones
    std::span<const SampleFormat> formats; // empty: lossy, encodes its own format
    std::span<const unsigned> rates;       // empty: any rate
    unsigned maxChannels;

    bool lossy() const { return formats.empty(); }
    bool allows(SampleFormat f) const;
    // The format the file stores when none was asked for (s16, or f32 input to a
    // lossy encoder).
    SampleFormat defaultFormat() const;
    // libsndfile's format word for this container with the given sample format.
    int sndfileFormatFor(SampleFormat f) const;
};

// Throws UnsupportedFormat naming the extension and the supported ones.
const Container& containerForPath(const std::filesystem::path& path);
std::span<const Container> allContainers();
// WAV: the container of a take streamed into a descriptor (raw PCM takes its
// sample formats too), and the one that stores every sample format.
const Container& wavContainer();

// The sample format to capture and store: `asked` if the container allows it,
// else the container's default. Throws UnsupportedFormat when the combination of
// container, sample format, rate and channels cannot be written, with a message
// that says what is allowed. Nothing is opened.
SampleFormat checkFileFormat(const Container& container, std::optional<SampleFormat> asked,
                             unsigned rate, unsigned channels);

} // namespace recd
