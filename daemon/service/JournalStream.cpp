#include "daemon/service/JournalStream.hpp"

#include <spdlog/pattern_formatter.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace recd {

bool stderrIsJournal()
{
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (!stream)
        return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2)
        return false;
    struct stat st{};
    if (::fstat(STDERR_FILENO, &st) != 0)
        return false;
    return st.st_dev == dev && st.st_ino == ino;
}

namespace {

// The "%*" flag: the sd-daemon priority prefix of the message's level.
class JournalPriority final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override
    {
        const char* prefix = "<6>";
        switch (msg.level) {
        case spdlog::level::critical: prefix = "<2>"; break;
        case spdlog::level::err: prefix = "<3>"; break;
        case spdlog::level::warn: prefix = "<4>"; break;
        case spdlog::level::info: prefix = "<6>"; break;
        case spdlog::level::debug:
        case spdlog::level::trace: prefix = "<7>"; break;
        default: break;
        }
        dest.append(prefix, prefix + 3);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JournalPriority>(); }
};

} // namespace

void logWithJournalPriorities(spdlog::logger& log)
{
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    // The journal adds its own time stamps and knows the priority: the text alone.
    formatter->add_flag<JournalPriority>('*').set_pattern("%*%v");
    log.set_formatter(std::move(formatter));
}

} // namespace recd
