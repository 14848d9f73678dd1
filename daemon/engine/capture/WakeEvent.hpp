#pragma once
// A wake-up one thread can post to another without blocking: the audio
// callback uses it to tell the writer that enough audio has arrived.

#include <chrono>

namespace recd {

// An eventfd. Posts accumulate until the waiter takes them, so a post that
// comes between the waiter's last look and its wait is never lost.
class WakeEvent {
public:
    WakeEvent();
    ~WakeEvent();
    WakeEvent(const WakeEvent&) = delete;
    WakeEvent& operator=(const WakeEvent&) = delete;

    // Safe on the audio thread: one non-blocking write(2) to a counter the kernel
    // already holds, with no lock and no allocation; it never waits, even if the
    // counter were full (it would already wake the waiter).
    void post() const noexcept;
    // Returns when posted or after `timeout`, and takes every post made so far.
    void wait(std::chrono::nanoseconds timeout) const noexcept;

private:
    int fd_;
};

} // namespace recd
