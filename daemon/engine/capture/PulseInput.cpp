#include "daemon/engine/capture/PulseInput.hpp"

#include "common/Errors.hpp"
#include "daemon/engine/Log.hpp"

#include <pulse/pulseaudio.h>

#include <fmt/format.h>

#include <chrono>

namespace recd {

namespace {

pa_sample_format_t pulseFormat(SampleFormat f)
{
    switch (f) {
    case SampleFormat::S16: return PA_SAMPLE_S16LE;
    case SampleFormat::S24: // captured in 32-bit words, as with RtAudio
    case SampleFormat::S32: return PA_SAMPLE_S32LE;
    case SampleFormat::F32: return PA_SAMPLE_FLOAT32LE;
    }
    return PA_SAMPLE_S16LE;
}

} // namespace

PulseInput::PulseInput(const std::string& source, unsigned rate, unsigned channels, SampleFormat format,
                       unsigned fragmentFrames, OnData onData, void* user, std::atomic<bool>& failed)
    : connection_(PulseConnection::get()), frameBytes_(channels * captureBytesPerSample(format)), onData_(onData),
      user_(user), failed_(failed)
{
    const auto begun = std::chrono::steady_clock::now();
    PulseConnection::Lock lock(*connection_);
    const auto fail = [&](const std::string& what) {
        const std::string reason = pa_strerror(pa_context_errno(connection_->context()));
        closeStream();
        throw DeviceLost(fmt::format("{}: {}", what, reason));
    };
    const std::string what = fmt::format("cannot record from '{}'", source.empty() ? "the default input" : source);
    const pa_sample_spec spec{pulseFormat(format), rate, static_cast<std::uint8_t>(channels)};
    stream_ = pa_stream_new(connection_->context(), "recd", &spec, nullptr);
    if (!stream_)
        fail("cannot create a record stream");
    pa_stream_set_state_callback(stream_, &onStreamState, this);
    pa_stream_set_read_callback(stream_, &onRead, this);
    // The fragment is the latency asked of the server, as RtAudio's buffer is
    // (AudioPacing.hpp): the graph's period is left as it is.
    const pa_buffer_attr attr = bufferAttr(fragmentFrames);
    const auto flags =
        static_cast<pa_stream_flags_t>(PA_STREAM_ADJUST_LATENCY | PA_STREAM_START_CORKED);
    if (pa_stream_connect_record(stream_, source.empty() ? nullptr : source.c_str(), &attr, flags) < 0)
        fail(what);
    while (pa_stream_get_state(stream_) != PA_STREAM_READY) {
        if (!PA_STREAM_IS_GOOD(pa_stream_get_state(stream_)))
            fail(what);
        lock.wait();
    }
    ready_ = true;
    noteGrantedFragment();
    // What the server takes to set a stream up (pipewire-pulse: about a
    // quantum), which a start without pre-roll cannot avoid.
    log().debug("record stream ready {:.1f} ms after it was asked for",
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begun).count());
}

PulseInput::~PulseInput() { stop(); }

pa_buffer_attr PulseInput::bufferAttr(unsigned fragmentFrames) const noexcept
{
    pa_buffer_attr attr{};
    attr.maxlength = static_cast<std::uint32_t>(-1);
    attr.tlength = attr.prebuf = attr.minreq = static_cast<std::uint32_t>(-1);
    attr.fragsize = static_cast<std::uint32_t>(fragmentFrames * frameBytes_);
    return attr;
}

void PulseInput::setFragment(unsigned frames) noexcept
{
    const PulseConnection::Lock lock(*connection_);
    if (!ready_)
        return;
    const pa_buffer_attr attr = bufferAttr(frames);
    forgetFragmentAsked();
    fragmentAsked_ = pa_stream_set_buffer_attr(stream_, &attr, &onBufferAttrSet, this);
}

// Under the lock. A cancelled operation's callback is never called.
void PulseInput::forgetFragmentAsked() noexcept
{
    if (fragmentAsked_) {
        if (pa_operation_get_state(fragmentAsked_) == PA_OPERATION_RUNNING)
            pa_operation_cancel(fragmentAsked_);
        pa_operation_unref(fragmentAsked_);
        fragmentAsked_ = nullptr;
    }
}

unsigned PulseInput::grantedFragment() const noexcept { return grantedFrames_.load(std::memory_order_relaxed); }

// Under the mainloop lock; on the mainloop thread, which is the audio thread,
// when it answers setFragment: one atomic store, no logging there.
void PulseInput::noteGrantedFragment() noexcept
{
    if (const pa_buffer_attr* attr = pa_stream_get_buffer_attr(stream_))
        grantedFrames_.store(static_cast<unsigned>(attr->fragsize / frameBytes_), std::memory_order_relaxed);
}

void PulseInput::onBufferAttrSet(pa_stream*, int success, void* self) noexcept
{
    auto& in = *static_cast<PulseInput*>(self);
    if (success && in.ready_)
        in.noteGrantedFragment();
}

void PulseInput::start()
{
    const PulseConnection::Lock lock(*connection_);
    if (pa_operation* op = pa_stream_cork(stream_, 0, nullptr, nullptr))
        pa_operation_unref(op);
}

void PulseInput::stop() noexcept
{
    const PulseConnection::Lock lock(*connection_);
    closeStream();
}

// Under the lock. The connection stays for the next stream.
void PulseInput::closeStream() noexcept
{
    ready_ = false;
    forgetFragmentAsked();
    if (stream_) {
        pa_stream_set_read_callback(stream_, nullptr, nullptr);
        pa_stream_set_state_callback(stream_, nullptr, nullptr);
        pa_stream_disconnect(stream_);
        pa_stream_unref(stream_);
        stream_ = nullptr;
    }
}

// The real-time path: on the mainloop thread, with its lock held by libpulse.
// Each peek is a chunk the server sent, in memory libpulse already holds;
// onData copies it into the ring without locking or allocating.
void PulseInput::onRead(pa_stream* stream, std::size_t, void* self) noexcept
{
    auto& in = *static_cast<PulseInput*>(self);
    const void* data = nullptr;
    std::size_t bytes = 0;
    while (pa_stream_peek(stream, &data, &bytes) == 0 && bytes > 0) {
        // A hole (data null) is audio the server lost: left out, as a gap; the
        // stream's clock sees the time it took.
        if (data)
            in.onData_(data, static_cast<unsigned>(bytes / in.frameBytes_), in.user_);
        pa_stream_drop(stream);
    }
}

void PulseInput::onStreamState(pa_stream* stream, void* self) noexcept
{
    auto& in = *static_cast<PulseInput*>(self);
    // A stream fails with its connection too (the server went away).
    if (in.ready_ && !PA_STREAM_IS_GOOD(pa_stream_get_state(stream)))
        in.failed_.store(true, std::memory_order_relaxed);
    pa_threaded_mainloop_signal(in.connection_->loop(), 0);
}

} // namespace recd
