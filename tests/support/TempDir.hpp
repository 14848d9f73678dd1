#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace recd::test {

// A scratch directory, removed with everything in it when the test ends.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
    // Names of the entries in the directory, sorted (hidden ones included).
    std::vector<std::string> entries() const;

private:
    std::filesystem::path path_;
};

// The whole of a text file; empty if it cannot be read (yet).
std::string readText(const std::filesystem::path& path);

} // namespace recd::test
