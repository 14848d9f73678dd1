#pragma once
// A lock-free single-producer/single-consumer byte ring.
//
// The producer is the audio callback, which must never block, lock or allocate:
// a callback that waits for the writer (or for the allocator's lock) misses its
// deadline and the device drops audio. So the ring is allocated and pre-faulted
// once, up front, and both ends only touch their own index plus an acquire load of
// the other's. The consumer is the writer thread, which may block on the disk for
// as long as the ring holds audio.
//
// Indices grow without wrapping (64-bit byte counts never overflow in practice);
// the position in storage is index % capacity. The capacity is a whole number of
// frames, and every write is whole frames, so every contiguous region the consumer
// sees is whole frames too.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace recd {

class RingBuffer {
public:
    explicit RingBuffer(std::size_t capacityBytes)
        : capacity_(capacityBytes), storage_(new std::byte[capacityBytes])
    {
        // Touch every page now, so the callback never takes a page fault on first use.
        std::memset(storage_.get(), 0, capacity_);
    }

    RingBuffer(const RingBuffer&) = delete;
    RingBuffer& operator=(const RingBuffer&) = delete;

    std::size_t capacity() const noexcept { return capacity_; }

    // Producer side. Copies up to `bytes`, as much as fits; returns what was copied.
    std::size_t write(const std::byte* data, std::size_t bytes) noexcept
    {
        const std::uint64_t head = head_.load(std::memory_order_relaxed);
        const std::uint64_t tail = tail_.load(std::memory_order_acquire);
        const std::size_t room = capacity_ - static_cast<std::size_t>(head - tail);
        const std::size_t n = std::min(bytes, room);
        const std::size_t at = static_cast<std::size_t>(head % capacity_);
        const std::size_t first = std::min(n, capacity_ - at);
        std::memcpy(storage_.get() + at, data, first);
        std::memcpy(storage_.get(), data + first, n - first);
        head_.store(head + n, std::memory_order_release);
        return n;
    }

    std::size_t writable() const noexcept
    {
        return capacity_ - static_cast<std::size_t>(head_.load(std::memory_order_relaxed) -
                                                    tail_.load(std::memory_order_acquire));
    }

    // Consumer side: the readable bytes up to the end of storage, without copying.
    std::span<const std::byte> readRegion() const noexcept { return peekRegion(0); }

    // Consumer side: the readable bytes from `offset` bytes past the read index up
    // to the end of storage, without consuming them. A pre-roll reads ahead of
    // what it frees: the last seconds stay in the ring for the next take.
    std::span<const std::byte> peekRegion(std::size_t offset) const noexcept
    {
        const std::uint64_t tail = tail_.load(std::memory_order_relaxed) + offset;
        const std::uint64_t head = head_.load(std::memory_order_acquire);
        if (head <= tail)
            return {};
        const std::size_t available = static_cast<std::size_t>(head - tail);
        const std::size_t at = static_cast<std::size_t>(tail % capacity_);
        return {storage_.get() + at, std::min(available, capacity_ - at)};
    }

    void consume(std::size_t bytes) noexcept
    {
        tail_.store(tail_.load(std::memory_order_relaxed) + bytes, std::memory_order_release);
    }

    // Consumer side: copies up to `bytes` out; returns what was copied.
    std::size_t read(std::byte* out, std::size_t bytes) noexcept
    {
        std::size_t done = 0;
        while (done < bytes) {
            auto region = readRegion();
            if (region.empty())
                break;
            const std::size_t n = std::min(region.size(), bytes - done);
            std::memcpy(out + done, region.data(), n);
            consume(n);
            done += n;
        }
        return done;
    }

    std::size_t readable() const noexcept
    {
        return static_cast<std::size_t>(head_.load(std::memory_order_acquire) -
                                        tail_.load(std::memory_order_relaxed));
    }

private:
    const std::size_t capacity_;
    std::unique_ptr<std::byte[]> storage_;
    // On separate cache lines: each end writes only its own index, and sharing a
    // line would make the two threads fight over it on every buffer.
    alignas(64) std::atomic<std::uint64_t> head_{0}; // written by the producer
    alignas(64) std::atomic<std::uint64_t> tail_{0}; // written by the consumer
};

} // namespace recd
