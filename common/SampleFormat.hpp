#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace recd {

// The sample format of the file. The capture buffer holds the widest native type
// that keeps every bit of it (s16 as int16, s24 and s32 as int32, f32 as float),
// so libsndfile converts at most once, on the writer thread.
enum class SampleFormat { S16, S24, S32, F32 };

std::optional<SampleFormat> parseSampleFormat(std::string_view name);
std::string_view sampleFormatName(SampleFormat format);
std::string allSampleFormatNames(); // "s16, s24, s32, f32", for error messages

// Bytes per sample in the capture buffer (not in the file).
std::size_t captureBytesPerSample(SampleFormat format);
// Bits per sample in the file.
unsigned fileBitsPerSample(SampleFormat format);

} // namespace recd
