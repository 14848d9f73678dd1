#include "BluetoothInput.hpp"

#include "Log.hpp"

#include <pulse/pulseaudio.h>

#include <memory>
#include <string>
#include <string_view>

namespace recd {

namespace {

struct Query {
    std::string description;
    bool found = false;
    bool bluetooth = false;
    bool done = false;
};

void onSource(pa_context*, const pa_source_info* info, int eol, void* data)
{
    auto& q = *static_cast<Query*>(data);
    if (eol != 0) {
        q.done = true;
        return;
    }
    if (!info || !info->description || q.description != info->description)
        return;
    q.found = true;
    const char* bus = pa_proplist_gets(info->proplist, PA_PROP_DEVICE_BUS);
    const std::string_view name = info->name ? info->name : "";
    q.bluetooth = (bus && std::string_view(bus) == "bluetooth") || name.starts_with("bluez_");
}

} // namespace

bool isBluetoothInput(AudioApi api, const DeviceInfo& device)
{
    if (api != AudioApi::Pulse)
        return false;
    // A private main loop, run here until the answer is in: this is called off
    // the audio path (the pre-roll's own thread), a few times per device change.
    std::unique_ptr<pa_mainloop, decltype(&pa_mainloop_free)> loop(pa_mainloop_new(), &pa_mainloop_free);
    std::unique_ptr<pa_context, decltype(&pa_context_unref)> context(
        pa_context_new(pa_mainloop_get_api(loop.get()), "recd"), &pa_context_unref);
    if (!context || pa_context_connect(context.get(), nullptr, PA_CONTEXT_NOAUTOSPAWN, nullptr) < 0)
        return false;
    for (;;) {
        const pa_context_state_t state = pa_context_get_state(context.get());
        if (state == PA_CONTEXT_READY)
            break;
        if (!PA_CONTEXT_IS_GOOD(state) || pa_mainloop_iterate(loop.get(), 1, nullptr) < 0) {
            log().debug("cannot ask the sound server whether '{}' is Bluetooth", device.name);
            return false;
        }
    }
    Query q{device.name};
    pa_operation* op = pa_context_get_source_info_list(context.get(), &onSource, &q);
    while (op && !q.done && pa_operation_get_state(op) == PA_OPERATION_RUNNING &&
           pa_mainloop_iterate(loop.get(), 1, nullptr) >= 0) {
    }
    if (op)
        pa_operation_unref(op);
    pa_context_disconnect(context.get());
    return q.found && q.bluetooth;
}

} // namespace recd
