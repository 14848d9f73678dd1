// The protocol between a take's control side and its writer thread, with a
// plain thread standing in for the writer: no stream and no file are needed to
// see that a pause waits for its mark, a drain for its ticket, and that the end
// of the writer releases every wait.

#include "common/MonotonicClock.hpp"
#include "daemon/engine/session/WriterRequests.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace recd;
using namespace std::chrono_literals;

TEST(WriterRequests, AMarkIsCollectedOnceInOrderWithTheLastStopsDeadline)
{
    WriterRequests r;
    EXPECT_EQ(r.mark(Timeline::Action::Pause, 100, 0), 1u);
    EXPECT_FALSE(r.stopQueued());
    EXPECT_EQ(r.mark(Timeline::Action::Stop, 200, 12345), 2u);
    EXPECT_TRUE(r.stopQueued());
    const auto asked = r.collect();
    ASSERT_EQ(asked.marks.size(), 2u);
    EXPECT_EQ(asked.marks[0], std::make_pair(Timeline::Action::Pause, std::uint64_t{100}));
    EXPECT_EQ(asked.marks[1], std::make_pair(Timeline::Action::Stop, std::uint64_t{200}));
    EXPECT_EQ(asked.stopDeadlineNs, 12345);
    EXPECT_FALSE(r.stopQueued()) << "collected";
    EXPECT_TRUE(r.collect().marks.empty());
}

TEST(WriterRequests, APauseWaitsUntilTheWriterAppliedIt)
{
    WriterRequests r;
    const auto ticket = r.mark(Timeline::Action::Pause, 100, 0);
    std::thread writer([&] {
        std::this_thread::sleep_for(50ms);
        r.collect();
        r.applied(1);
    });
    const auto t0 = monotonicNs();
    r.waitApplied(ticket, monotonicNs() + 5'000'000'000);
    const auto waited = monotonicNs() - t0;
    writer.join();
    EXPECT_GE(waited, 40'000'000) << "it returned before the writer applied the mark";
    EXPECT_LT(waited, 2'000'000'000) << "it did not return when the writer applied the mark";
}

TEST(WriterRequests, AWaitEndsAtItsDeadlineWhenTheWriterNeverAnswers)
{
    WriterRequests r;
    const auto ticket = r.mark(Timeline::Action::Resume, 100, 0);
    const auto t0 = monotonicNs();
    r.waitApplied(ticket, t0 + 30'000'000);
    EXPECT_GE(monotonicNs() - t0, 25'000'000);
}

TEST(WriterRequests, ADrainIsAnsweredByTheNextEmptyRingAndSaysWhenMoreWasAsked)
{
    WriterRequests r;
    const auto ticket = r.askDrain();
    auto asked = r.collect();
    EXPECT_EQ(asked.drainTicket, ticket);
    EXPECT_FALSE(r.drained(asked.drainTicket, 42)) << "nothing more was asked";
    EXPECT_EQ(r.lastDrainNs(), 42);
    r.waitDrained(ticket, 0ms); // answered: returns at once

    const auto later = r.askDrain(); // asked after the writer collected
    EXPECT_TRUE(r.drained(asked.drainTicket, 43)) << "the writer must look again before it sleeps";
    asked = r.collect();
    EXPECT_FALSE(r.drained(asked.drainTicket, 44));
    r.waitDrained(later, 0ms);
    r.mark(Timeline::Action::Stop, 1, 0);
    EXPECT_TRUE(r.drained(asked.drainTicket, 45)) << "a mark waits too";
}

TEST(WriterRequests, TheWritersEndReleasesEveryWait)
{
    WriterRequests r;
    const auto mark = r.mark(Timeline::Action::Pause, 100, 0);
    const auto drain = r.askDrain();
    std::thread writer([&] {
        std::this_thread::sleep_for(30ms);
        r.end();
    });
    const auto t0 = monotonicNs();
    r.waitApplied(mark, t0 + 10'000'000'000);
    r.waitDrained(drain, 10s);
    writer.join();
    EXPECT_TRUE(r.ended());
    EXPECT_LT(monotonicNs() - t0, 5'000'000'000);
}
