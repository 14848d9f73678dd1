#include "daemon/dbus/RecorderAdaptor.hpp"

#include "daemon/dbus/DbusErrors.hpp"
#include "daemon/engine/Log.hpp"
#include "common/NameOwnerWatch.hpp"
#include "common/StartOptions.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fcntl.h>
#include <unistd.h>
#include <limits>
#include <type_traits>

namespace recd {

namespace {

// A number given as another numeric D-Bus type: `gdbus call` and most
// scripting bindings send 1 as an int32, and 1 is as good a number of seconds
// or of channels as 1.0 is. Any integer type is taken where a double is
// expected, and any integer type (or a whole double) where an unsigned is, as
// long as its value fits; the range check comes after, in planCapture.
template <class T>
std::optional<T> numberAs(std::string_view key, const sdbus::Variant& v, std::string_view meaning)
{
    const std::string type = v.peekValueType();
    std::optional<long double> value;
    if (type == "y")
        value = v.get<std::uint8_t>();
    else if (type == "n")
        value = v.get<std::int16_t>();
    else if (type == "q")
        value = v.get<std::uint16_t>();
    else if (type == "i")
        value = v.get<std::int32_t>();
    else if (type == "u")
        value = v.get<std::uint32_t>();
    else if (type == "x")
        value = v.get<std::int64_t>();
    else if (type == "t")
        value = v.get<std::uint64_t>();
    else if (type == "d" && std::is_integral_v<T>)
        value = v.get<double>();
    if (!value)
        return std::nullopt;
    if constexpr (std::is_integral_v<T>) {
        if (*value < 0 || *value > static_cast<long double>(std::numeric_limits<T>::max()) ||
            *value != std::floor(*value))
            throw InvalidArgument(fmt::format("option '{}' must be a whole number from 0 to {} ({}), not {}", key,
                                              std::numeric_limits<T>::max(), meaning, static_cast<double>(*value)));
    }
    return static_cast<T>(*value);
}

template <class T>
T optionValue(std::string_view key, const sdbus::Variant& v, std::string_view meaning)
{
    if (v.containsValueOfType<T>())
        return v.get<T>();
    constexpr bool numeric = std::is_same_v<T, double> || std::is_integral_v<T>;
    if constexpr (numeric)
        if (auto number = numberAs<T>(key, v, meaning))
            return *number;
    const std::string wanted = numeric ? fmt::format("a number (D-Bus type '{}', or any integer type)",
                                                     sdbus::signature_of<T>::str())
                                       : fmt::format("of D-Bus type '{}'", sdbus::signature_of<T>::str());
    throw InvalidArgument(
        fmt::format("option '{}' must be {} ({}), not '{}'", key, wanted, meaning, v.peekValueType()));
}

template <class T>
T optionValue(const StartOption& option, const sdbus::Variant& v)
{
    return optionValue<T>(option.key, v, option.meaning);
}

// One option's value into its field, as the table declares it.
void setOption(RecordingRequest& r, const StartOption& option, const sdbus::Variant& value)
{
    std::visit(
        [&](auto field) {
            auto& target = r.*field;
            using T = std::remove_cvref_t<decltype(target)>;
            if constexpr (std::is_same_v<T, std::optional<SampleFormat>>) {
                const auto name = optionValue<std::string>(option, value);
                target = parseSampleFormat(name);
                if (!target)
                    throw InvalidArgument(fmt::format("option '{}': '{}' is not one of {}", option.key, name,
                                                      allSampleFormatNames()));
            } else if constexpr (std::is_same_v<T, std::shared_ptr<const int>>) {
                // The message's descriptor is closed when the call returns: keep a dup.
                const int fd = ::fcntl(optionValue<sdbus::UnixFd>(option, value).get(), F_DUPFD_CLOEXEC, 0);
                if (fd < 0)
                    throw IoError::fromErrno("cannot keep the descriptor passed in option 'fd'");
                target = std::shared_ptr<const int>(new int(fd), [](const int* p) {
                    ::close(*p);
                    delete p;
                });
            } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool> ||
                                 std::is_same_v<T, std::vector<std::string>>) {
                target = optionValue<T>(option, value);
            } else {
                target = optionValue<typename T::value_type>(option, value);
            }
        },
        option.field);
}

sdbus::Variant text(std::string_view s) { return sdbus::Variant(std::string(s)); }

} // namespace

RecordingRequest requestFromOptions(const std::string& path, const std::map<std::string, sdbus::Variant>& options)
{
    RecordingRequest r;
    r.path = path;
    for (const auto& [key, value] : options) {
        const StartOption* option = findStartOption(key);
        if (!option)
            throw InvalidArgument(fmt::format("unknown option '{}'; the options are {}", key, startOptionKeys()));
        setOption(r, *option, value);
    }
    return r;
}

RecorderAdaptor::RecorderAdaptor(sdbus::IConnection& connection, Recorder& recorder)
    : AdaptorInterfaces(connection, objectPath), recorder_(recorder), connection_(connection)
{
    registerAdaptor();
    recorder_.addEvents(this);
}

RecorderAdaptor::~RecorderAdaptor()
{
    recorder_.removeEvents(this);
    unregisterAdaptor();
}

namespace {

// The one translation of a failure into what the caller is told.
sdbus::Error dbusError(const char* method, std::exception_ptr error)
{
    try {
        std::rethrow_exception(error);
    } catch (const Error& e) {
        log().info("{} refused: {}", method, e.what());
        return sdbus::Error(dbusErrorName(e.kind()), e.what());
    } catch (const sdbus::Error& e) {
        return e;
    } catch (const std::exception& e) {
        log().error("{} failed: {}", method, e.what());
        return sdbus::Error("org.freedesktop.DBus.Error.Failed", e.what());
    }
}

} // namespace

template <class F>
auto RecorderAdaptor::translate(const char* method, F&& f) -> decltype(f())
{
    try {
        return f();
    } catch (const Error&) {
        throw dbusError(method, std::current_exception());
    }
}

template <class T, class... Out, class Convert, class Call>
void RecorderAdaptor::answer(const char* method, sdbus::Result<Out...>&& result, Convert convert, Call call)
{
    // sdbus's Result cannot be copied, and a Reply is a std::function: shared.
    auto shared = std::make_shared<sdbus::Result<Out...>>(std::move(result));
    // A reply that cannot be sent (the caller left the bus) is logged: it must
    // not unwind into the Recorder, which answers from its main loop.
    const auto send = [method](auto&& reply) {
        try {
            reply();
        } catch (const std::exception& e) {
            log().warn("{}: the reply could not be sent: {}", method, e.what());
        }
    };
    const auto fail = [method, shared, send](std::exception_ptr error) {
        send([&] { shared->returnError(dbusError(method, error)); });
    };
    try {
        call(Reply<T>([shared, convert, fail, send](T value, std::exception_ptr error) {
            if (error)
                return fail(error);
            send([&] {
                std::apply([&](const auto&... out) { shared->returnResults(out...); }, convert(std::move(value)));
            });
        }));
    } catch (...) {
        fail(std::current_exception());
    }
}

void RecorderAdaptor::recordingStarted(const Destination& destination, std::uint64_t firstSampleUsec)
{
    emitRecordingStarted(destination.path().string(), firstSampleUsec);
}

void RecorderAdaptor::recordingStopped(const StopResult& r)
{
    emitRecordingStopped(r.path.string(), r.duration, std::string(stopReasonName(r.reason)));
}

void RecorderAdaptor::WatchLevels()
{
    retiredMatches_.clear();
    const std::string client = getObject().getCurrentlyProcessedMessage()->getSender();
    if (watchers_.contains(client))
        return;
    watchers_.emplace(client, watchNameOwner(connection_, client, [this, client](const NameOwnerChange& change) {
        if (change.gone())
            unwatch(client); // it left the bus
    }));
    log().info("{} watches the levels ({} watching)", client, watchers_.size());
    recorder_.setMetering(true);
}

void RecorderAdaptor::UnwatchLevels()
{
    retiredMatches_.clear();
    unwatch(getObject().getCurrentlyProcessedMessage()->getSender());
}

void RecorderAdaptor::unwatch(const std::string& client)
{
    const auto it = watchers_.find(client);
    if (it == watchers_.end())
        return;
    // This may run inside the match's own callback (the client left the bus):
    // freeing the match there would pull it out from under sd-bus, so it is
    // kept until the next call made from outside a callback.
    retiredMatches_.push_back(std::move(it->second));
    watchers_.erase(it);
    log().info("{} no longer watches the levels ({} watching)", client, watchers_.size());
    if (watchers_.empty())
        recorder_.setMetering(false);
}

void RecorderAdaptor::emitLevels()
{
    retiredMatches_.clear();
    if (watchers_.empty())
        return;
    const auto levels = recorder_.takeLevels();
    if (!levels)
        return;
    // D-Bus doubles carry -inf, but not every client's JSON or UI does: digital
    // silence goes out as -1000 dBFS.
    auto finite = [](std::vector<double> v) {
        for (double& x : v)
            if (!std::isfinite(x))
                x = -1000.0;
        return v;
    };
    emitLevel(finite(levels->peakDbfs), finite(levels->rmsDbfs), recorder_.duration());
}

void RecorderAdaptor::stateChanged()
{
    getObject().emitPropertiesChangedSignal(INTERFACE_NAME, {"State", "Path"});
}

void RecorderAdaptor::StartRecording(sdbus::Result<std::string>&& result, std::string path, Options options)
{
    answer<std::filesystem::path>(
        "StartRecording", std::move(result), [](const std::filesystem::path& p) { return std::tuple{p.string()}; },
        [&](Reply<std::filesystem::path> reply) { recorder_.start(requestFromOptions(path, options), std::move(reply)); });
}

void RecorderAdaptor::ToggleRecording(sdbus::Result<std::string, std::string>&& result, std::string path,
                                      Options options)
{
    using Toggled = std::pair<std::string, std::filesystem::path>;
    answer<Toggled>(
        "ToggleRecording", std::move(result),
        [](const Toggled& t) { return std::tuple{t.first, t.second.string()}; },
        [&](Reply<Toggled> reply) {
            // `at` is the press's moment, for the stop; the rest are start options.
            std::optional<std::uint64_t> at;
            if (const auto it = options.find("at"); it != options.end()) {
                at = optionValue<std::uint64_t>(it->first, it->second, "CLOCK_MONOTONIC microseconds");
                options.erase(it);
            }
            recorder_.toggle(requestFromOptions(path, options), at, std::move(reply));
        });
}

namespace {

std::tuple<std::string, double, uint64_t> stopReply(const StopResult& r)
{
    return {r.path.string(), r.duration, r.frames};
}

} // namespace

void RecorderAdaptor::StopRecording(sdbus::Result<std::string, double, uint64_t>&& result)
{
    answer<StopResult>("StopRecording", std::move(result), stopReply,
                       [&](Reply<StopResult> reply) { recorder_.stop(std::nullopt, std::move(reply)); });
}

void RecorderAdaptor::StopRecordingAt(sdbus::Result<std::string, double, uint64_t>&& result, uint64_t monotonic_usec)
{
    answer<StopResult>("StopRecordingAt", std::move(result), stopReply,
                       [&](Reply<StopResult> reply) { recorder_.stop(monotonic_usec, std::move(reply)); });
}

double RecorderAdaptor::GetDuration()
{
    return translate("GetDuration", [&] { return recorder_.duration(); });
}

void RecorderAdaptor::PauseRecording()
{
    translate("PauseRecording", [&] { recorder_.pause(); });
}

void RecorderAdaptor::ResumeRecording()
{
    translate("ResumeRecording", [&] { recorder_.resume(); });
}

void RecorderAdaptor::CancelRecording(sdbus::Result<>&& result)
{
    answer<StopResult>("CancelRecording", std::move(result), [](const StopResult&) { return std::tuple<>{}; },
                       [&](Reply<StopResult> reply) { recorder_.cancel(std::move(reply)); });
}

std::map<std::string, sdbus::Variant> RecorderAdaptor::GetStatus()
{
    return translate("GetStatus", [&] {
        const RecorderStatus s = recorder_.status();
        const SessionStatus none{};
        const SessionStatus& c = s.session ? *s.session : none;
        std::map<std::string, sdbus::Variant> out{
            {"state", text(s.state)},
            {"path", text(s.session ? c.path.string() : s.starting.string())},
            {"duration", sdbus::Variant(c.duration)},
            {"frames", sdbus::Variant(std::uint64_t{c.frames})},
            {"device", text(c.deviceId)},
            {"device_name", text(c.deviceName)},
            {"rate", sdbus::Variant(std::uint32_t{c.rate})},
            {"channels", sdbus::Variant(std::uint32_t{c.channels})},
            {"sample_format", text(s.session ? sampleFormatName(c.sampleFormat) : "")},
            {"overruns", sdbus::Variant(std::uint32_t{c.overruns})},
            {"overrun_frames", sdbus::Variant(std::uint64_t{c.overrunFrames})},
            {"input_overflows", sdbus::Variant(std::uint32_t{c.inputOverflows})},
            {"gaps", sdbus::Variant(std::uint32_t{c.gaps})},
            {"pre_roll", sdbus::Variant(c.preRoll)},
            {"part", sdbus::Variant(std::uint32_t{s.session ? c.part : 0})},
            {"bytes", sdbus::Variant(std::uint64_t{c.bytes})},
            {"first_sample_usec", sdbus::Variant(std::uint64_t{s.firstSampleUsec})},
            {"pre_roll_state", text(s.preRoll)},
        };
        if (s.session) {
            std::vector<std::map<std::string, sdbus::Variant>> inputs;
            for (const auto& i : c.inputs)
                inputs.push_back({{"device", text(i.deviceId)},
                                  {"name", text(i.deviceName)},
                                  {"rate", sdbus::Variant(std::uint32_t{c.rate})},
                                  {"channels", sdbus::Variant(std::uint32_t{i.channels})},
                                  {"overruns", sdbus::Variant(std::uint32_t{i.report.drops.overruns})},
                                  {"gaps", sdbus::Variant(std::uint32_t{i.report.gaps})},
                                  {"drift_ppm", sdbus::Variant(i.report.driftPpm)},
                                  {"drift_corrected", sdbus::Variant(i.report.corrected)},
                                  {"file", text(i.file.string())},
                                  {"last_gap_at", sdbus::Variant(i.lastGapAt)},
                                  {"silence", sdbus::Variant(i.silence)}});
            out["inputs"] = sdbus::Variant(inputs);
        }
        if (s.last) {
            out["last_path"] = text(s.last->path.string());
            out["last_duration"] = sdbus::Variant(s.last->duration);
            out["last_reason"] = text(stopReasonName(s.last->reason));
            out["last_message"] = text(s.last->message);
        }
        return out;
    });
}

std::vector<std::map<std::string, sdbus::Variant>> RecorderAdaptor::ListDevices()
{
    return translate("ListDevices", [&] {
        std::vector<std::map<std::string, sdbus::Variant>> out;
        for (const auto& d : recorder_.devices()) {
            std::vector<std::uint32_t> rates(d.sampleRates.begin(), d.sampleRates.end());
            out.push_back({
                {"id", text(d.id)},
                {"name", text(d.name)},
                {"input_channels", sdbus::Variant(std::uint32_t{d.inputChannels})},
                {"sample_rates", sdbus::Variant(rates)},
                {"preferred_rate", sdbus::Variant(std::uint32_t{d.preferredRate})},
                {"is_default", sdbus::Variant(d.isDefault)},
            });
        }
        return out;
    });
}

std::string RecorderAdaptor::State() { return recorder_.stateName(); }

std::string RecorderAdaptor::Path() { return recorder_.path().string(); }

} // namespace recd
