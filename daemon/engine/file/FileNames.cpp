#include "daemon/engine/file/FileNames.hpp"

#include <fmt/format.h>

namespace recd {

std::filesystem::path withSuffix(const std::filesystem::path& path, std::string_view suffix)
{
    return path.parent_path() / fmt::format("{}-{}{}", path.stem().string(), suffix, path.extension().string());
}

std::filesystem::path partPath(const std::filesystem::path& path, unsigned n)
{
    return withSuffix(path, fmt::format("{:03}", n));
}

std::filesystem::path inputPath(const std::filesystem::path& path, unsigned input)
{
    return withSuffix(path, fmt::format("in{}", input));
}

std::filesystem::path takeFilePath(const std::filesystem::path& path, unsigned file, unsigned files, unsigned part)
{
    const std::filesystem::path base = files > 1 ? inputPath(path, file + 1) : path;
    return part ? partPath(base, part) : base;
}

} // namespace recd
