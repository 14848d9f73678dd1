#include "PulseSources.hpp"

#include "Log.hpp"

#include <pulse/pulseaudio.h>

#include <memory>
#include <string_view>

namespace recd {

namespace {

struct Query {
    std::string description;
    std::optional<PulseSource> found;
    bool done = false;
};

void onSource(pa_context*, const pa_source_info* info, int eol, void* data)
{
    auto& q = *static_cast<Query*>(data);
    if (eol != 0) {
        q.done = true;
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
    std::unique_ptr<pa_mainloop, decltype(&pa_mainloop_free)> loop(pa_mainloop_new(), &pa_mainloop_free);
    std::unique_ptr<pa_context, decltype(&pa_context_unref)> context(
        pa_context_new(pa_mainloop_get_api(loop.get()), "recd"), &pa_context_unref);
    if (!context || pa_context_connect(context.get(), nullptr, PA_CONTEXT_NOAUTOSPAWN, nullptr) < 0)
        return std::nullopt;
    for (;;) {
        const pa_context_state_t state = pa_context_get_state(context.get());
        if (state == PA_CONTEXT_READY)
            break;
        if (!PA_CONTEXT_IS_GOOD(state) || pa_mainloop_iterate(loop.get(), 1, nullptr) < 0) {
            log().debug("cannot ask the sound server about '{}'", description);
            return std::nullopt;
        }
    }
    Query q{description, std::nullopt, false};
    pa_operation* op = pa_context_get_source_info_list(context.get(), &onSource, &q);
    while (op && !q.done && pa_operation_get_state(op) == PA_OPERATION_RUNNING &&
           pa_mainloop_iterate(loop.get(), 1, nullptr) >= 0) {
    }
    if (op)
        pa_operation_unref(op);
    pa_context_disconnect(context.get());
    return q.found;
}

} // namespace recd
