#include "common/SampleFormat.hpp"

#include <array>
#include <utility>

namespace recd {

namespace {
constexpr std::array<std::pair<SampleFormat, std::string_view>, 4> names{{
    {SampleFormat::S16, "s16"},
    {SampleFormat::S24, "s24"},
    {SampleFormat::S32, "s32"},
    {SampleFormat::F32, "f32"},
}};
} // namespace

std::optional<SampleFormat> parseSampleFormat(std::string_view name)
{
    for (const auto& [format, text] : names)
        if (text == name)
            return format;
    return std::nullopt;
}

std::string_view sampleFormatName(SampleFormat format)
{
    for (const auto& [f, text] : names)
        if (f == format)
            return text;
    return "?";
}

std::string allSampleFormatNames()
{
    std::string out;
    for (const auto& [format, text] : names) {
        if (!out.empty())
            out += ", ";
        out += text;
    }
    return out;
}

std::size_t captureBytesPerSample(SampleFormat format)
{
    return format == SampleFormat::S16 ? 2 : 4;
}

unsigned fileBitsPerSample(SampleFormat format)
{
    switch (format) {
    case SampleFormat::S16: return 16;
    case SampleFormat::S24: return 24;
    case SampleFormat::S32:
    case SampleFormat::F32: return 32;
    }
    return 16;
}

} // namespace recd
