#pragma once

#include "daemon/engine/capture/CaptureSource.hpp"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace recd {

// Closes finished capture streams on a thread of its own.
//
// Closing an RtAudio stream waits for its audio thread to come out of the read
// it is blocked in, which takes up to one buffer (measured: 9-12 ms with
// PulseAudio at 512 frames, a third of what `recctl stop` cost). By then the file
// is final and nothing reads the stream any more, so a stop hands the stream
// over here and returns. The thread sleeps on a condition variable in between:
// an idle daemon gets no wake-ups from it.
class StreamCloser {
public:
    StreamCloser();
    // Closes whatever is still queued, then joins.
    ~StreamCloser();
    StreamCloser(const StreamCloser&) = delete;
    StreamCloser& operator=(const StreamCloser&) = delete;

    void close(std::unique_ptr<CaptureSource> stream);

private:
    void run();

    std::mutex mutex_;
    std::condition_variable queued_;
    std::deque<std::unique_ptr<CaptureSource>> queue_;
    bool quit_ = false;
    std::thread thread_;
};

} // namespace recd
