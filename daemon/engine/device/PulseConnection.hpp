#pragma once
// The daemon's one connection to the sound server (PulseAudio, or PipeWire
// through pipewire-pulse) for recd's own libpulse input and its questions about
// sources. Connecting costs a few milliseconds on PulseAudio and about 45 on
// pipewire-pulse, every time: a take that connected afresh paid that before its
// first buffer. An idle connection costs nothing: its mainloop thread sleeps
// in poll(2) until the server says something, and with no stream it says
// nothing.

#include <memory>
#include <cstdint>
#include <string>
#include <map>
#include <functional>
#include <mutex>

struct pa_threaded_mainloop;
struct pa_context;

namespace recd {

class PulseConnection : public std::enable_shared_from_this<PulseConnection> {
public:
    // The kept connection, made now if there is none or the last one failed
    // (the server restarted). Throws DeviceLost with the server's reason when
    // it cannot connect. Off the audio path only: it may wait for the server.
    static std::shared_ptr<PulseConnection> get();

    ~PulseConnection();
    PulseConnection(const PulseConnection&) = delete;
    PulseConnection& operator=(const PulseConnection&) = delete;

    pa_threaded_mainloop* loop() const { return loop_; }
    pa_context* context() const { return context_; }

    // Whether the server is PipeWire's pulse server, which hands a record
    // stream its audio in whole fragments of the size asked, also when a
    // running stream asks again. PulseAudio delivers as its source posts, and
    // a fragment changed on a running stream moved where the stream's clock
    // placed a stop (measured: StopRecordingAt p95 43 ms, against 4 ms with
    // the fragment left alone), so recd changes it only on PipeWire.
    bool isPipeWire() const { return pipeWire_; }

    // Calls onRemoved, on the mainloop thread, if the source named `source`
    // is removed (a headset switched off, a sink unloaded), for as long as the
    // returned watch is kept; null if there is no such source now. Both
    // servers move a stream whose source goes away to another source, and the
    // stream goes on delivering: without this, recd would record the other
    // source in its place and never know. Off the audio path only.
    std::shared_ptr<void> watchRemoval(const std::string& source, std::function<void()> onRemoved);

    // libpulse's objects are touched only under the mainloop's lock, or on its
    // thread (where the callbacks run, with the lock already held).
    class Lock {
    public:
        explicit Lock(const PulseConnection& c);
        ~Lock();
        Lock(const Lock&) = delete;
        Lock& operator=(const Lock&) = delete;
        void wait(); // until a callback signals the mainloop

    private:
        pa_threaded_mainloop* loop_;
    };

private:
    PulseConnection();
    bool usable() const; // under the lock
    void connect();      // under the lock, with the mainloop running
    void close() noexcept;

    struct Watch {
        std::uint32_t index;
        std::function<void()> onRemoved;
    };
    void sourceRemoved(std::uint32_t index); // on the mainloop thread

    pa_threaded_mainloop* loop_ = nullptr;
    pa_context* context_ = nullptr;
    bool pipeWire_ = false; // set once, while connecting
    // Under the lock: the removal watches, and whether the server sends source events.
    std::map<std::uint64_t, Watch> watches_;
    std::uint64_t nextWatch_ = 0;
    bool subscribed_ = false;
};

} // namespace recd
