#include "daemon/engine/capture/StreamCloser.hpp"
#include "daemon/engine/ThreadName.hpp"

namespace recd {

StreamCloser::StreamCloser()
    : thread_([this] {
          nameThisThread("recd-closer");
          run();
      })
{
}

StreamCloser::~StreamCloser()
{
    {
        std::lock_guard lock(mutex_);
        quit_ = true;
    }
    queued_.notify_one();
    thread_.join();
}

void StreamCloser::close(std::unique_ptr<CaptureSource> stream)
{
    if (!stream)
        return;
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(stream));
    }
    queued_.notify_one();
}

void StreamCloser::run()
{
    std::unique_lock lock(mutex_);
    for (;;) {
        queued_.wait(lock, [this] { return quit_ || !queue_.empty(); });
        if (queue_.empty())
            return; // quit_, and nothing left to close
        auto stream = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        stream.reset(); // stops and closes; gives up on a blocked device after 0.5 s
        lock.lock();
    }
}

} // namespace recd
