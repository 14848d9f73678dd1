// recd's lines carry their priority to the journal only when stderr is the
// journal's stream; run by hand they stay plain.

#include "daemon/service/JournalStream.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <string>

TEST(JournalStream, OnlyWhenJournalStreamNamesOurStderr)
{
    struct stat st{};
    ASSERT_EQ(::fstat(STDERR_FILENO, &st), 0);
    const std::string ours = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    ::setenv("JOURNAL_STREAM", ours.c_str(), 1);
    EXPECT_TRUE(recd::stderrIsJournal());
    // Inherited by a process whose stderr went elsewhere (recd 2>log).
    const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
    ::setenv("JOURNAL_STREAM", other.c_str(), 1);
    EXPECT_FALSE(recd::stderrIsJournal());
    ::setenv("JOURNAL_STREAM", "garbage", 1);
    EXPECT_FALSE(recd::stderrIsJournal());
    ::unsetenv("JOURNAL_STREAM");
    EXPECT_FALSE(recd::stderrIsJournal());
}

TEST(JournalStream, EachLineStartsWithItsSyslogPriority)
{
    std::ostringstream out;
    spdlog::logger log("journal-test", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
    log.set_level(spdlog::level::debug);
    recd::logWithJournalPriorities(log);
    log.critical("c");
    log.error("e");
    log.warn("w");
    log.info("i");
    log.debug("d");
    EXPECT_EQ(out.str(), "<2>c\n<3>e\n<4>w\n<6>i\n<7>d\n");
}
