#include "daemon/engine/device/PulseSources.hpp"

#include "common/Errors.hpp"
#include "daemon/engine/Log.hpp"
#include "daemon/engine/device/PulseConnection.hpp"

#include <pulse/pulseaudio.h>

#include <string_view>

namespace recd {

namespace {

struct Query {
    std::string description;
    pa_threaded_mainloop* loop;
    std::optional<PulseSource> found;
    bool done = false;
};

// On the connection's mainloop thread.
void onSource(pa_context*, const pa_source_info* info, int eol, void* data)
{
    auto& q = *static_cast<Query*>(data);
    if (eol != 0) {
        q.done = true;
        pa_threaded_mainloop_signal(q.loop, 0);
        return;
    }
    if (!info || !info->description || q.description != info->description || !info->name)
        return;
    const char* bus = pa_proplist_gets(info->proplist, PA_PROP_DEVICE_BUS);
    const std::string_view name = info->name;
    q.found = PulseSource{info->name, (bus && std::string_view(bus) == "bluetooth") || name.starts_with("bluez_")};
}

} // namespace

std::optional<PulseSource> findPulseSource(const std::string& description)
{
    std::shared_ptr<PulseConnection> connection;
    try {
        connection = PulseConnection::get();
    } catch (const Error& e) {
        log().debug("cannot ask the sound server about '{}': {}", description, e.what());
        return std::nullopt;
    }
    PulseConnection::Lock lock(*connection);
    Query q{description, connection->loop(), std::nullopt, false};
    pa_operation* op = pa_context_get_source_info_list(connection->context(), &onSource, &q);
    if (!op)
        return std::nullopt;
    // The operation is cancelled, and says so, if the connection fails meanwhile.
    while (!q.done && pa_operation_get_state(op) == PA_OPERATION_RUNNING)
        lock.wait();
    pa_operation_unref(op);
    return q.done ? q.found : std::nullopt;
}

} // namespace recd
