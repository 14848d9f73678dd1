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

} // namespace recd
