#include "daemon/engine/session/Timeline.hpp"

#include <gtest/gtest.h>

using recd::Timeline;
using Action = Timeline::Action;

namespace {
std::uint64_t keptOf(const std::vector<Timeline::Run>& runs)
{
    std::uint64_t n = 0;
    for (const auto& r : runs)
        n += r.frames;
    return n;
}
} // namespace

TEST(Timeline, KeepsEverythingWithoutMarks)
{
    Timeline t;
    auto runs = t.select(0, 1024);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].offset, 0u);
    EXPECT_EQ(runs[0].frames, 1024u);
    EXPECT_FALSE(t.stopped());
}

TEST(Timeline, StopCutsAtTheRequestedFrameEvenInsideAChunk)
{
    Timeline t;
    t.select(0, 1000);
    t.request(Action::Stop, 1500);
    auto runs = t.select(1000, 1000);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].frames, 500u);
    EXPECT_TRUE(t.stopped());
    EXPECT_EQ(t.kept(), 1500u);
}

TEST(Timeline, StopAtChunkEndTakesEffectWithoutAnotherChunk)
{
    Timeline t;
    t.request(Action::Stop, 1024);
    t.select(0, 1024);
    EXPECT_TRUE(t.stopped());
}

TEST(Timeline, PausedFramesAreLeftOutToTheFrame)
{
    Timeline t;
    t.request(Action::Pause, 300);
    t.request(Action::Resume, 700);
    auto runs = t.select(0, 1000);
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(runs[0].offset, 0u);
    EXPECT_EQ(runs[0].frames, 300u);
    EXPECT_EQ(runs[1].offset, 700u);
    EXPECT_EQ(runs[1].frames, 300u);
    EXPECT_EQ(t.kept(), 600u);
}

TEST(Timeline, PauseAcrossChunks)
{
    Timeline t;
    t.request(Action::Pause, 500);
    EXPECT_EQ(keptOf(t.select(0, 1000)), 500u);
    EXPECT_EQ(keptOf(t.select(1000, 1000)), 0u);
    t.request(Action::Resume, 2500);
    EXPECT_EQ(keptOf(t.select(2000, 1000)), 500u);
    EXPECT_EQ(t.kept(), 1000u);
}

TEST(Timeline, LimitEndsTheFileAtExactlyThatManyFrames)
{
    Timeline t;
    t.limit(2500);
    EXPECT_EQ(keptOf(t.select(0, 1024)), 1024u);
    EXPECT_EQ(keptOf(t.select(1024, 1024)), 1024u);
    EXPECT_EQ(keptOf(t.select(2048, 1024)), 452u);
    EXPECT_TRUE(t.limitReached());
}

TEST(Timeline, LimitCountsOnlyKeptFrames)
{
    Timeline t;
    t.limit(1000);
    t.request(Action::Pause, 0);
    t.request(Action::Resume, 500);
    EXPECT_EQ(keptOf(t.select(0, 1000)), 500u);
    EXPECT_FALSE(t.limitReached());
    EXPECT_EQ(keptOf(t.select(1000, 1000)), 500u);
    EXPECT_TRUE(t.limitReached());
}

TEST(Timeline, MarksNeverGoBackwards)
{
    Timeline t;
    t.request(Action::Pause, 800);
    t.request(Action::Resume, 600); // an estimate that came out earlier: clamped to 800
    EXPECT_EQ(keptOf(t.select(0, 1000)), 1000u);
}
