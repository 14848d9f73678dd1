#include "daemon/engine/file/Container.hpp"

#include "common/Errors.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sndfile.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace recd {

namespace {

constexpr std::array<SampleFormat, 4> wavFormats{SampleFormat::S16, SampleFormat::S24,
                                                 SampleFormat::S32, SampleFormat::F32};
constexpr std::array<SampleFormat, 2> flacFormats{SampleFormat::S16, SampleFormat::S24};
constexpr std::array<unsigned, 5> opusRates{8000, 12000, 16000, 24000, 48000};
constexpr std::array<unsigned, 9> mp3Rates{8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000};

// WAV is written as RF64 with auto-downgrade: libsndfile writes a plain RIFF/WAVE
// file unless the data passes 4 GiB, where a RIFF header cannot describe it.
const std::array<Container, 5> containers{{
    {".wav", "WAV", SF_FORMAT_RF64, wavFormats, {}, 1024},
    {".flac", "FLAC", SF_FORMAT_FLAC, flacFormats, {}, 8},
    {".ogg", "Ogg Vorbis", SF_FORMAT_OGG | SF_FORMAT_VORBIS, {}, {}, 255},
    {".opus", "Ogg Opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, {}, opusRates, 255},
    {".mp3", "MP3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, {}, mp3Rates, 2},
}};

int subtypeFor(SampleFormat f)
{
    switch (f) {
    case SampleFormat::S16: return SF_FORMAT_PCM_16;
    case SampleFormat::S24: return SF_FORMAT_PCM_24;
    case SampleFormat::S32: return SF_FORMAT_PCM_32;
    case SampleFormat::F32: return SF_FORMAT_FLOAT;
    }
    return SF_FORMAT_PCM_16;
}

std::string formatList(std::span<const SampleFormat> formats)
{
    std::vector<std::string_view> names;
    for (auto f : formats)
        names.push_back(sampleFormatName(f));
    return fmt::format("{}", fmt::join(names, ", "));
}

} // namespace

bool Container::allows(SampleFormat f) const
{
    return std::find(formats.begin(), formats.end(), f) != formats.end();
}

SampleFormat Container::defaultFormat() const
{
    return lossy() ? SampleFormat::F32 : SampleFormat::S16;
}

int Container::sndfileFormatFor(SampleFormat f) const
{
    return lossy() ? sndfileFormat : (sndfileFormat | subtypeFor(f));
}

std::span<const Container> allContainers() { return containers; }

const Container& wavContainer() { return containerForPath("take.wav"); }

const Container& containerForPath(const std::filesystem::path& path)
{
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    for (const auto& c : containers)
        if (c.extension == ext)
            return c;
    std::vector<std::string_view> known;
    for (const auto& c : containers)
        known.push_back(c.extension);
    throw UnsupportedFormat(fmt::format("cannot record to '{}': the file name must end in one of {} "
                                        "(the extension chooses the container)",
                                        path.filename().string(), fmt::join(known, ", ")));
}

SampleFormat checkFileFormat(const Container& container, std::optional<SampleFormat> asked,
                             unsigned rate, unsigned channels)
{
    if (asked && container.lossy())
        throw UnsupportedFormat(fmt::format(
            "{} is a lossy format that chooses its own sample format; leave sample_format unset "
            "(s16, s24, s32 and f32 apply to .wav; s16 and s24 to .flac)",
            container.name));
    if (asked && !container.allows(*asked))
        throw UnsupportedFormat(fmt::format("{} cannot store sample format {}; it stores {}",
                                            container.name, sampleFormatName(*asked),
                                            formatList(container.formats)));
    if (!container.rates.empty() &&
        std::find(container.rates.begin(), container.rates.end(), rate) == container.rates.end())
        throw UnsupportedFormat(fmt::format("{} cannot be written at {} Hz; it takes {} Hz",
                                            container.name, rate, fmt::join(container.rates, ", ")));
    if (channels > container.maxChannels)
        throw UnsupportedFormat(fmt::format("{} holds at most {} channels, not {}", container.name,
                                            container.maxChannels, channels));

    SampleFormat format = asked.value_or(container.defaultFormat());
    SF_INFO info{};
    info.samplerate = static_cast<int>(rate);
    info.channels = static_cast<int>(channels);
    info.format = container.sndfileFormatFor(format);
    if (!sf_format_check(&info))
        throw UnsupportedFormat(fmt::format("this libsndfile cannot write {} with {} channels at {} Hz{}",
                                            container.name, channels, rate,
                                            container.lossy() ? "" : fmt::format(" as {}", sampleFormatName(format))));
    return format;
}

} // namespace recd
