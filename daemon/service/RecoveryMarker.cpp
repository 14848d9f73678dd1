#include "daemon/service/RecoveryMarker.hpp"

#include "daemon/engine/Log.hpp"
#include "common/WriteAll.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <unistd.h>

namespace recd {

std::filesystem::path RecoveryMarker::defaultPath()
{
    if (const char* state = std::getenv("XDG_STATE_HOME"); state && *state)
        return std::filesystem::path(state) / "recd" / "recording.json";
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home && *home ? home : "/") / ".local" / "state" / "recd" / "recording.json";
}

namespace {

// fsync(2), then close, whatever fsync said; its error's text if it failed.
std::optional<std::string> syncAndClose(int fd)
{
    const bool synced = ::fsync(fd) == 0;
    const int err = errno;
    ::close(fd);
    if (!synced)
        return std::strerror(err);
    return std::nullopt;
}

// The whole of `text` into a new file at `path`, on the disk before this
// returns; the error's text if that cannot be done.
std::optional<std::string> writeDurably(const std::filesystem::path& path, const std::string& text)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return std::strerror(errno);
    if (writeAll(fd, text.data(), text.size()) != text.size()) {
        const int err = errno;
        ::close(fd);
        return std::strerror(err);
    }
    return syncAndClose(fd);
}

std::optional<std::string> syncDirectory(const std::filesystem::path& dir)
{
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return std::strerror(errno);
    return syncAndClose(fd);
}

} // namespace

// A power cut must find either the old mark or the new one, and the new one
// must be on the disk before the take it names writes audio: the file is
// synced before the rename makes it the mark, and the directory after, so that
// the rename itself is on the disk.
void RecoveryMarker::set(const std::vector<std::filesystem::path>& recordings)
{
    std::error_code ec;
    std::filesystem::create_directories(file_.parent_path(), ec);
    const auto tmp = file_.parent_path() / (file_.filename().string() + ".tmp");
    std::vector<std::string> paths;
    for (const auto& recording : recordings)
        paths.push_back(recording.string());
    // "path" as well, for a recd of before several files that starts after this one died.
    const std::string text =
        nlohmann::json{{"path", paths.front()}, {"paths", paths}, {"pid", ::getpid()}}.dump() + "\n";
    auto failed = writeDurably(tmp, text);
    if (!failed && ::rename(tmp.c_str(), file_.c_str()) != 0)
        failed = std::strerror(errno);
    if (!failed)
        failed = syncDirectory(file_.parent_path());
    if (failed)
        log().warn("cannot write the recovery mark {}: {}; a crash now would need `recctl repair`", file_.string(),
                   *failed);
}

void RecoveryMarker::clear()
{
    std::error_code ec;
    std::filesystem::remove(file_, ec);
}

std::vector<std::filesystem::path> RecoveryMarker::pending() const
{
    std::ifstream in(file_);
    if (!in)
        return {};
    try {
        const auto j = nlohmann::json::parse(in);
        // A mark of a recd of before several files names just "path".
        const auto paths = j.contains("paths") ? j.at("paths").get<std::vector<std::string>>()
                                               : std::vector<std::string>{j.at("path").get<std::string>()};
        return {paths.begin(), paths.end()};
    } catch (const std::exception& e) {
        log().warn("ignoring an unreadable recovery mark {}: {}", file_.string(), e.what());
        return {};
    }
}

} // namespace recd
