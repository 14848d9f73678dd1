#include "tests/support/TempDir.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <cstdlib>
#include <stdexcept>

namespace recd::test {

TempDir::TempDir()
{
    std::string pattern = (std::filesystem::temp_directory_path() / "recd-test.XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
        throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir()
{
    // RECD_TEST_KEEP_FILES keeps every take and log, to study a failure.
    if (const char* keep = std::getenv("RECD_TEST_KEEP_FILES"); keep && *keep)
        return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::vector<std::string> TempDir::entries() const
{
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path_))
        out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

std::string readText(const std::filesystem::path& path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace recd::test
