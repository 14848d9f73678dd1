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
// The file of input `input` (from 1) of a take written one file per input
// (layout files): meeting.flac -> meeting-in1.flac, meeting-in2.flac.
std::filesystem::path inputPath(const std::filesystem::path& path, unsigned input);
// Where frames go in a take asked for at `path`: file `file` (from 0) of
// `files` (one per input with layout files, else 1), part `part` (from 1; 0
// when the take is not split): meeting.flac, file 1 of 2, part 3 ->
// meeting-in2-003.flac.
std::filesystem::path takeFilePath(const std::filesystem::path& path, unsigned file, unsigned files, unsigned part);

} // namespace recd
