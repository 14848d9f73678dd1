#include "daemon/engine/device/PulseConnection.hpp"

#include "common/Errors.hpp"
#include "daemon/engine/Log.hpp"

#include <pulse/pulseaudio.h>

#include <fmt/format.h>

#include <cstring>
#include <optional>

namespace recd {

namespace {

void onContextState(pa_context*, void* loop) { pa_threaded_mainloop_signal(static_cast<pa_threaded_mainloop*>(loop), 0); }

} // namespace

std::shared_ptr<PulseConnection> PulseConnection::get()
{
    static std::mutex mutex;
    static std::shared_ptr<PulseConnection> kept;
    const std::lock_guard lock(mutex);
    if (kept) {
        const Lock l(*kept);
        if (kept->usable())
            return kept;
    }
    // A failed connection stays with the streams that still hold it until they
    // are closed; new streams get a new one.
    kept.reset(new PulseConnection);
    return kept;
}

PulseConnection::PulseConnection()
{
    loop_ = pa_threaded_mainloop_new();
    context_ = loop_ ? pa_context_new(pa_threaded_mainloop_get_api(loop_), "recd") : nullptr;
    if (!context_) {
        close();
        throw DeviceLost("cannot set up libpulse");
    }
    pa_context_set_state_callback(context_, &onContextState, loop_);
    // Its thread is the audio thread of every stream on it (their read
    // callbacks run there). Named before it starts: on Linux, naming a running
    // loop renames the calling thread instead (libpulse uses prctl), which made
    // recd itself "recd-pulse" in ps and pgrep.
    pa_threaded_mainloop_set_name(loop_, "recd-audio");
    try {
        if (pa_threaded_mainloop_start(loop_) < 0)
            throw DeviceLost("cannot start libpulse's main loop");
        const Lock lock(*this);
        connect();
    } catch (...) {
        close();
        throw;
    }
    log().debug("connected to the sound server at {}{}", pa_context_get_server(context_),
                pipeWire_ ? " (PipeWire)" : "");
}

void PulseConnection::connect()
{
    const auto failed = [&] {
        return DeviceLost(fmt::format("cannot connect to the sound server: {}", pa_strerror(pa_context_errno(context_))));
    };
    if (pa_context_connect(context_, nullptr, PA_CONTEXT_NOAUTOSPAWN, nullptr) < 0)
        throw failed();
    for (;;) {
        const pa_context_state_t state = pa_context_get_state(context_);
        if (state == PA_CONTEXT_READY)
            break;
        if (!PA_CONTEXT_IS_GOOD(state))
            throw failed();
        pa_threaded_mainloop_wait(loop_);
    }
    // pipewire-pulse names itself "PulseAudio (on PipeWire 0.3.65)".
    struct Asked {
        pa_threaded_mainloop* loop;
        bool answered = false;
        bool pipeWire = false;
    } asked{loop_};
    pa_operation* op = pa_context_get_server_info(
        context_,
        [](pa_context*, const pa_server_info* info, void* user) {
            auto& a = *static_cast<Asked*>(user);
            a.pipeWire = info && info->server_name && std::strstr(info->server_name, "PipeWire");
            a.answered = true;
            pa_threaded_mainloop_signal(a.loop, 0);
        },
        &asked);
    if (!op)
        throw failed();
    while (!asked.answered && pa_operation_get_state(op) == PA_OPERATION_RUNNING)
        pa_threaded_mainloop_wait(loop_);
    pa_operation_unref(op);
    pipeWire_ = asked.pipeWire;
}

PulseConnection::~PulseConnection() { close(); }

void PulseConnection::sourceRemoved(std::uint32_t index)
{
    for (auto& [id, watch] : watches_)
        if (watch.index == index && watch.onRemoved)
            watch.onRemoved();
}

std::shared_ptr<void> PulseConnection::watchRemoval(const std::string& source, std::function<void()> onRemoved)
{
    Lock lock(*this);
    struct Found {
        pa_threaded_mainloop* loop;
        std::optional<std::uint32_t> index;
        bool done = false;
    } found{loop_, std::nullopt, false};
    pa_operation* op = pa_context_get_source_info_by_name(
        context_, source.c_str(),
        [](pa_context*, const pa_source_info* info, int eol, void* user) {
            auto& f = *static_cast<Found*>(user);
            if (eol == 0 && info)
                f.index = info->index;
            else {
                f.done = true;
                pa_threaded_mainloop_signal(f.loop, 0);
            }
        },
        &found);
    if (!op)
        return nullptr;
    while (!found.done && pa_operation_get_state(op) == PA_OPERATION_RUNNING)
        lock.wait();
    pa_operation_unref(op);
    if (!found.index)
        return nullptr;
    if (!subscribed_) {
        // Source events only: a device plugged or unplugged, rare; an idle
        // connection still wakes for nothing else.
        pa_context_set_subscribe_callback(
            context_,
            [](pa_context*, pa_subscription_event_type_t t, std::uint32_t index, void* self) {
                if ((t & PA_SUBSCRIPTION_EVENT_FACILITY_MASK) == PA_SUBSCRIPTION_EVENT_SOURCE &&
                    (t & PA_SUBSCRIPTION_EVENT_TYPE_MASK) == PA_SUBSCRIPTION_EVENT_REMOVE)
                    static_cast<PulseConnection*>(self)->sourceRemoved(index);
            },
            this);
        if (pa_operation* sub = pa_context_subscribe(context_, PA_SUBSCRIPTION_MASK_SOURCE, nullptr, nullptr))
            pa_operation_unref(sub);
        subscribed_ = true;
    }
    const std::uint64_t id = nextWatch_++;
    watches_[id] = Watch{*found.index, std::move(onRemoved)};
    log().debug("watching source #{} '{}' for its removal", *found.index, source);
    // The watch ends when its holder drops it (under the lock, so never while
    // its callback runs); it keeps the connection alive until then.
    auto self = shared_from_this();
    return std::shared_ptr<void>(static_cast<void*>(this), [self, id](void*) {
        Lock lock(*self);
        self->watches_.erase(id);
    });
}

void PulseConnection::close() noexcept
{
    if (!loop_)
        return;
    if (context_) {
        pa_threaded_mainloop_lock(loop_);
        pa_context_set_state_callback(context_, nullptr, nullptr);
        pa_context_disconnect(context_);
        pa_context_unref(context_);
        context_ = nullptr;
        pa_threaded_mainloop_unlock(loop_);
    }
    pa_threaded_mainloop_stop(loop_);
    pa_threaded_mainloop_free(loop_);
    loop_ = nullptr;
}

bool PulseConnection::usable() const { return pa_context_get_state(context_) == PA_CONTEXT_READY; }

PulseConnection::Lock::Lock(const PulseConnection& c) : loop_(c.loop_) { pa_threaded_mainloop_lock(loop_); }
PulseConnection::Lock::~Lock() { pa_threaded_mainloop_unlock(loop_); }
void PulseConnection::Lock::wait() { pa_threaded_mainloop_wait(loop_); }

} // namespace recd
