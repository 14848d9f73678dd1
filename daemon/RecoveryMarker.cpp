#include "RecoveryMarker.hpp"

#include "Log.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
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

void RecoveryMarker::set(const std::filesystem::path& recording)
{
    std::error_code ec;
    std::filesystem::create_directories(file_.parent_path(), ec);
    const auto tmp = file_.parent_path() / (file_.filename().string() + ".tmp");
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << nlohmann::json{{"path", recording.string()}, {"pid", ::getpid()}}.dump() << "\n";
        if (!out.flush()) {
            log().warn("cannot write the recovery mark {}: a crash now would need `recctl repair`", file_.string());
            return;
        }
    }
    std::filesystem::rename(tmp, file_, ec);
    if (ec)
        log().warn("cannot write the recovery mark {}: {}", file_.string(), ec.message());
}

void RecoveryMarker::clear()
{
    std::error_code ec;
    std::filesystem::remove(file_, ec);
}

std::optional<std::filesystem::path> RecoveryMarker::pending() const
{
    std::ifstream in(file_);
    if (!in)
        return std::nullopt;
    try {
        const auto j = nlohmann::json::parse(in);
        return std::filesystem::path(j.at("path").get<std::string>());
    } catch (const std::exception& e) {
        log().warn("ignoring an unreadable recovery mark {}: {}", file_.string(), e.what());
        return std::nullopt;
    }
}

} // namespace recd
