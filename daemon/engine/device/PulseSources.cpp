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

// Waits, under the connection's lock, until `done` is set by the operation's
// callback or the operation ends otherwise (cancelled when the connection
// fails); false if it was not answered.
bool await(PulseConnection::Lock& lock, pa_operation* op, const bool& done)
{
    if (!op)
        return false;
    while (!done && pa_operation_get_state(op) == PA_OPERATION_RUNNING)
        lock.wait();
    pa_operation_unref(op);
    return done;
}

// Up to two strings out of an answer, and the loop to wake when the answer is
// over (a list's callback comes once more, at its end: it must not find the
// Answer gone).
struct Answer {
    explicit Answer(pa_threaded_mainloop* l, bool sink = false) : loop(l), want(sink) {}
    pa_threaded_mainloop* loop;
    bool want; // server info: the default sink's name, not the source's
    std::string text;
    std::string other; // a source's: the name of the sink it monitors
    bool done = false;
    void take(const char* value, const char* second = nullptr)
    {
        if (value)
            text = value;
        if (second)
            other = second;
    }
    void end()
    {
        done = true;
        pa_threaded_mainloop_signal(loop, 0);
    }
};

void onServerInfo(pa_context*, const pa_server_info* info, void* user)
{
    auto& a = *static_cast<Answer*>(user);
    if (info)
        a.take(a.want ? info->default_sink_name : info->default_source_name);
    a.end();
}

// A sink's or source's two strings: for a sink its description and the name
// of its monitor source, for a source its description and the name of the
// sink it monitors (if it does).
template <typename Info, const char* Info::*First, const char* Info::*Second>
void onInfo(pa_context*, const Info* info, int eol, void* user)
{
    auto& a = *static_cast<Answer*>(user);
    if (eol == 0 && info)
        a.take(info->*First, info->*Second);
    else
        a.end();
}
constexpr auto onSinkInfo = &onInfo<pa_sink_info, &pa_sink_info::description, &pa_sink_info::monitor_source_name>;
constexpr auto onSourceInfo =
    &onInfo<pa_source_info, &pa_source_info::description, &pa_source_info::monitor_of_sink_name>;

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
    if (!await(lock, pa_context_get_source_info_list(connection->context(), &onSource, &q), q.done))
        return std::nullopt;
    if (q.found)
        return q.found;
    // pipewire-pulse lists a sink's monitor under the sink's description (as
    // RtAudio shows it): the monitor of the sink so described.
    struct Monitor {
        std::string description;
        pa_threaded_mainloop* loop;
        std::string source;
        bool done = false;
    } m{description, connection->loop(), {}, false};
    const auto onSink = [](pa_context*, const pa_sink_info* info, int eol, void* data) {
        auto& m = *static_cast<Monitor*>(data);
        if (eol != 0) {
            m.done = true;
            pa_threaded_mainloop_signal(m.loop, 0);
        } else if (info && info->description && info->monitor_source_name && m.description == info->description) {
            m.source = info->monitor_source_name;
        }
    };
    if (!await(lock, pa_context_get_sink_info_list(connection->context(), onSink, &m), m.done) || m.source.empty())
        return std::nullopt;
    return PulseSource{m.source, false};
}

std::vector<std::string> defaultSourceNames(DefaultSource which)
{
    std::shared_ptr<PulseConnection> connection;
    try {
        connection = PulseConnection::get();
    } catch (const Error& e) {
        log().debug("cannot ask the sound server for its defaults: {}", e.what());
        return {};
    }
    PulseConnection::Lock lock(*connection);
    pa_context* c = connection->context();
    Answer server{connection->loop(), which == DefaultSource::OutputMonitor};
    if (!await(lock, pa_context_get_server_info(c, &onServerInfo, &server), server.done) || server.text.empty())
        return {};
    std::string source = server.text;
    if (which == DefaultSource::OutputMonitor) {
        Answer sink{connection->loop()};
        if (!await(lock, pa_context_get_sink_info_by_name(c, server.text.c_str(), onSinkInfo, &sink), sink.done) ||
            sink.other.empty())
            return {};
        source = sink.other;
    }
    Answer info{connection->loop()};
    if (!await(lock, pa_context_get_source_info_by_name(c, source.c_str(), onSourceInfo, &info), info.done) ||
        info.text.empty())
        return {};
    std::vector<std::string> names{info.text};
    if (!info.other.empty()) {
        Answer monitored{connection->loop()};
        if (await(lock, pa_context_get_sink_info_by_name(c, info.other.c_str(), onSinkInfo, &monitored),
                  monitored.done) &&
            !monitored.text.empty())
            names.push_back(monitored.text);
    }
    return names;
}

} // namespace recd
