#pragma once
// The names a take's files are given besides the one asked for: a split take's
// parts, and a free name when one is taken.

#include <filesystem>
#include <string_view>

namespace recd {

// `path` with "-suffix" before its extension: take.wav, "2" -> take-2.wav.
std::filesystem::path withSuffix(const std::filesystem::path& path, std::string_view suffix);
// The name of part `n` (from 1) of a take split into parts: take.wav -> take-001.wav.
std::filesystem::path partPath(const std::filesystem::path& path, unsigned n);

} // namespace recd
