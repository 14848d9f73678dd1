#pragma once
// A lost input of a take of several, opened again while the take goes on
// (`reconnect`): a headset switched off and on, a sink unloaded and loaded
// again. Opening waits for the input's first buffer, which can take as long
// as the server likes, so it runs on a thread of its own; the reader picks
// the input up from here (MergedSource) and places it by its clock, as an
// input that stalled and came back. A thread only exists while the take
// runs with reconnect, and it sleeps until an input is lost.

#include "daemon/engine/capture/CaptureSource.hpp"

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

namespace recd {

class InputReopener {
public:
    // Opens input `i` again, delivering; throws while it is not back. A stop
    // asked of the token ends a wait for its first buffer.
    using Open = std::function<std::unique_ptr<CaptureSource>(std::size_t i, std::stop_token)>;

    InputReopener(std::size_t inputs, double seconds, Open open);
    ~InputReopener() = default; // thread_ asks its thread to stop and joins it
    InputReopener(const InputReopener&) = delete;
    InputReopener& operator=(const InputReopener&) = delete;

    // Input i is lost: `input` is stopped here (it may take half a second,
    // which the reader must not wait for; a stream moved to another source
    // would go on filling its ring until then), and then tried again every
    // quarter second, for as long as reconnect says from now. `input` must
    // live until the input opened again is taken, or this is gone.
    void lost(std::size_t i, CaptureSource& input);
    // Input i opened again, once; null until then.
    std::unique_ptr<CaptureSource> take(std::size_t i);
    // Whether input i is still waited for, or back and not taken yet.
    bool waiting(std::size_t i) const;
    // No more tries; an open under way is called off.
    void stop() noexcept { thread_.request_stop(); }

private:
    void run(std::stop_token stop);

    Open open_;
    std::int64_t waitNs_;
    mutable std::mutex mutex_;
    std::condition_variable_any changed_;
    std::vector<std::int64_t> deadlines_;                 // per input: 0 while not waited for
    std::vector<CaptureSource*> toStop_;                  // per input: lost, not stopped yet
    std::vector<std::unique_ptr<CaptureSource>> reopened_; // per input: back, not taken yet
    std::jthread thread_; // last: it stops and is joined first
};

} // namespace recd
