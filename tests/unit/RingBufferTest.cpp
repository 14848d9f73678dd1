#include "daemon/engine/capture/RingBuffer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

using recd::RingBuffer;

namespace {
std::vector<std::byte> bytes(std::initializer_list<int> values)
{
    std::vector<std::byte> out;
    for (int v : values)
        out.push_back(static_cast<std::byte>(v));
    return out;
}
} // namespace

TEST(RingBuffer, StartsEmpty)
{
    RingBuffer ring(8);
    EXPECT_EQ(ring.readable(), 0u);
    EXPECT_EQ(ring.writable(), 8u);
    EXPECT_TRUE(ring.readRegion().empty());
}

TEST(RingBuffer, WritesOnlyWhatFitsAndReportsIt)
{
    RingBuffer ring(4);
    auto data = bytes({1, 2, 3, 4, 5, 6});
    EXPECT_EQ(ring.write(data.data(), data.size()), 4u);
    EXPECT_EQ(ring.writable(), 0u);
    EXPECT_EQ(ring.write(data.data(), 1), 0u);
    std::vector<std::byte> out(6);
    EXPECT_EQ(ring.read(out.data(), out.size()), 4u);
    EXPECT_EQ(out[0], std::byte{1});
    EXPECT_EQ(out[3], std::byte{4});
}

TEST(RingBuffer, WrapsAroundPreservingOrder)
{
    RingBuffer ring(5);
    std::vector<std::byte> out(5);
    auto a = bytes({1, 2, 3});
    ASSERT_EQ(ring.write(a.data(), 3), 3u);
    ASSERT_EQ(ring.read(out.data(), 2), 2u);
    auto b = bytes({4, 5, 6, 7});
    ASSERT_EQ(ring.write(b.data(), 4), 4u); // 4 and 5 at the end, 6 and 7 wrapped to the front
    // The contiguous region stops at the end of storage; the rest follows after consume.
    auto first = ring.readRegion();
    EXPECT_EQ(first.size(), 3u);
    ASSERT_EQ(ring.read(out.data(), 5), 5u);
    EXPECT_EQ(out, bytes({3, 4, 5, 6, 7}));
}

// One producer and one consumer hammer the ring with a counter sequence in odd-
// sized pieces; every byte must come out once, in order, whatever the interleaving.
TEST(RingBuffer, TwoThreadsSeeEveryByteOnceInOrder)
{
    RingBuffer ring(1021); // prime: wrap-around lands everywhere
    constexpr std::uint64_t total = 4'000'000;
    std::thread producer([&] {
        std::uint64_t next = 0;
        std::vector<std::byte> chunk(97);
        while (next < total) {
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(1 + next % 97, total - next));
            for (std::size_t i = 0; i < n; ++i)
                chunk[i] = static_cast<std::byte>((next + i) & 0xff);
            next += ring.write(chunk.data(), n);
        }
    });
    std::uint64_t seen = 0;
    bool inOrder = true;
    std::vector<std::byte> out(61);
    while (seen < total) {
        const std::size_t n = ring.read(out.data(), 1 + seen % 61);
        for (std::size_t i = 0; i < n; ++i)
            inOrder &= out[i] == static_cast<std::byte>((seen + i) & 0xff);
        seen += n;
    }
    producer.join();
    EXPECT_TRUE(inOrder);
    EXPECT_EQ(seen, total);
    EXPECT_EQ(ring.readable(), 0u);
}

TEST(RingBuffer, FullAndEmptyRacesNeverCorrupt)
{
    // A tiny ring is full or empty almost all the time.
    RingBuffer ring(3);
    constexpr std::uint64_t total = 300'000;
    std::thread producer([&] {
        std::uint64_t next = 0;
        while (next < total) {
            auto b = static_cast<std::byte>(next & 0xff);
            next += ring.write(&b, 1);
        }
    });
    std::uint64_t seen = 0;
    bool inOrder = true;
    while (seen < total) {
        std::byte b{};
        if (ring.read(&b, 1) == 1) {
            inOrder &= b == static_cast<std::byte>(seen & 0xff);
            ++seen;
        }
    }
    producer.join();
    EXPECT_TRUE(inOrder);
}
