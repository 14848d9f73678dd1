#include "daemon/engine/Log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace recd {

spdlog::logger& log()
{
    static std::shared_ptr<spdlog::logger> logger = [] {
        auto existing = spdlog::get("recd");
        return existing ? existing : spdlog::stderr_color_mt("recd");
    }();
    return *logger;
}

} // namespace recd
