#pragma once
// recd's own PulseAudio input (audio_api = "pulse-native"), through libpulse's
// asynchronous API, for what RtAudio's pa_simple cannot do: RtAudio's reading
// thread and libpulse's mainloop each wake for every packet the server sends
// (the server sends a fragment in halves), where this reads a whole fragment
// per wake-up, in the mainloop thread, with no second thread. Its streams
// share the daemon's kept connection (PulseConnection.hpp), so that a take
// does not wait for a connection to be made.

#include "daemon/engine/device/PulseConnection.hpp"
#include "common/SampleFormat.hpp"

#include <atomic>
#include <memory>
#include <string>

struct pa_stream;
struct pa_buffer_attr;
struct pa_operation;

namespace recd {

class PulseInput {
public:
    // Called on libpulse's mainloop thread, the real-time path, with each chunk
    // of audio as it arrives: it must not block, lock or allocate.
    using OnData = void (*)(const void* data, unsigned frames, void* user) noexcept;

    // Connects a record stream to `source` (empty: the server's default input),
    // corked until start(), asking for a fragment of `fragmentFrames`. Throws
    // DeviceLost, with the server's reason, if that cannot be done. `failed` is
    // set when the stream dies afterwards (the server went away, the source was
    // removed).
    PulseInput(const std::string& source, unsigned rate, unsigned channels, SampleFormat format,
               unsigned fragmentFrames, OnData onData, void* user, std::atomic<bool>& failed);
    ~PulseInput();
    PulseInput(const PulseInput&) = delete;
    PulseInput& operator=(const PulseInput&) = delete;

    void start();
    void stop() noexcept;
    // Asks the server to hand audio over in fragments of this many frames from
    // now on, without stopping the stream. Does not wait for the answer.
    void setFragment(unsigned frames) noexcept;
    // The fragment the server last said it uses, in frames (its answer to the
    // connection or to setFragment).
    unsigned grantedFragment() const noexcept;
    // Whether setFragment is worth asking on this server (PulseConnection::isPipeWire).
    bool fragmentChangeable() const noexcept { return connection_->isPipeWire(); }

private:
    static void onRead(pa_stream* stream, std::size_t bytes, void* self) noexcept;
    static void onStreamState(pa_stream* stream, void* self) noexcept;
    static void onBufferAttrSet(pa_stream* stream, int success, void* self) noexcept;
    void noteGrantedFragment() noexcept;
    void forgetFragmentAsked() noexcept;
    void closeStream() noexcept;
    pa_buffer_attr bufferAttr(unsigned fragmentFrames) const noexcept;

    std::shared_ptr<PulseConnection> connection_;
    pa_stream* stream_ = nullptr;
    std::size_t frameBytes_;
    OnData onData_;
    void* user_;
    std::atomic<bool>& failed_;
    bool ready_ = false; // under the mainloop lock
    std::atomic<unsigned> grantedFrames_{0};
    // The last setFragment's request, kept so that closing cancels it: its
    // answer must never reach a PulseInput that is gone. Under the mainloop lock.
    pa_operation* fragmentAsked_ = nullptr;
};

} // namespace recd
