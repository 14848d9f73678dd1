#include "client/Output.hpp"

#include "client/LineOutput.hpp"

#include <fmt/format.h>

namespace recctl {

nlohmann::json toJson(const sdbus::Variant& v)
{
    const std::string type = v.peekValueType();
    if (type == "s")
        return v.get<std::string>();
    if (type == "d")
        return v.get<double>();
    if (type == "b")
        return v.get<bool>();
    if (type == "u")
        return v.get<std::uint32_t>();
    if (type == "t")
        return v.get<std::uint64_t>();
    if (type == "i")
        return v.get<std::int32_t>();
    if (type == "x")
        return v.get<std::int64_t>();
    if (type == "au")
        return v.get<std::vector<std::uint32_t>>();
    if (type == "aa{sv}") {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& d : v.get<std::vector<Dict>>())
            list.push_back(toJson(d));
        return list;
    }
    return nullptr; // a type this recctl does not know: shown as null rather than guessed
}

nlohmann::json toJson(const Dict& d)
{
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : d)
        out[k] = toJson(v);
    return out;
}

namespace {
std::string str(const Dict& d, const char* key)
{
    auto it = d.find(key);
    return it != d.end() && it->second.peekValueType() == "s" ? it->second.get<std::string>() : std::string();
}
template <class T>
T num(const Dict& d, const char* key)
{
    auto it = d.find(key);
    return it != d.end() && it->second.containsValueOfType<T>() ? it->second.get<T>() : T{};
}
} // namespace

std::string formatStatus(const Dict& s)
{
    const std::string state = str(s, "state");
    std::string out = fmt::format("state:      {}\n", state);
    if (s.count("pre_roll_state") && str(s, "pre_roll_state") == "released")
        out += state == "idle" ? "pre-roll:   released after a long idle; the next take has none, and keeps it again\n"
                               : "pre-roll:   none: it was released after a long idle, and is kept again after "
                                 "this take\n";
    if (s.count("pre_roll_state") && str(s, "pre_roll_state") == "paused")
        out += "pre-roll:   paused on battery: its input is closed until mains power is back\n";
    if (s.count("pre_roll_state") && str(s, "pre_roll_state") == "bluetooth")
        out += "pre-roll:   none: the input is a Bluetooth headset's, not kept open while idle "
               "(pre_roll_bluetooth)\n";
    if (state == "starting") {
        out += fmt::format("path:       {} (the start waits for the input's first audio)\n", str(s, "path"));
    } else if (state != "idle") {
        out += fmt::format("path:       {}\n", str(s, "path"));
        if (s.count("part") && num<std::uint32_t>(s, "part") > 1)
            out += fmt::format("part:       {}\n", num<std::uint32_t>(s, "part"));
        if (s.count("pre_roll") && num<double>(s, "pre_roll") > 0)
            out += fmt::format("pre-roll:   {:.3f} s from before start\n", num<double>(s, "pre_roll"));
        out += fmt::format("duration:   {:.3f} s ({} frames)\n", num<double>(s, "duration"),
                           num<std::uint64_t>(s, "frames"));
        const auto inputs = s.count("inputs") && s.at("inputs").peekValueType() == "aa{sv}"
                                ? s.at("inputs").get<std::vector<Dict>>()
                                : std::vector<Dict>{};
        if (inputs.size() > 1) {
            for (std::size_t i = 0; i < inputs.size(); ++i) {
                const Dict& in = inputs[i];
                const double gapAt = in.count("last_gap_at") ? num<double>(in, "last_gap_at") : -1;
                out += fmt::format("input {}:    {} ({}), {} ch; {} overruns, {} gaps{}; drift {:+.0f} ppm{}\n", i + 1,
                                   str(in, "name"), str(in, "device"), num<std::uint32_t>(in, "channels"),
                                   num<std::uint32_t>(in, "overruns"), num<std::uint32_t>(in, "gaps"),
                                   gapAt < 0 ? std::string()
                                             : fmt::format(" (the last at {:.1f} s; {:.1f} s silent)", gapAt,
                                                           num<double>(in, "silence")),
                                   num<double>(in, "drift_ppm"), num<bool>(in, "drift_corrected") ? ", corrected" : "");
                if (!str(in, "file").empty())
                    out += fmt::format("            -> {}\n", str(in, "file"));
            }
        } else {
            out += fmt::format("device:     {} ({})\n", str(s, "device_name"), str(s, "device"));
        }
        out += fmt::format("format:     {} Hz, {} ch, {}\n", num<std::uint32_t>(s, "rate"),
                           num<std::uint32_t>(s, "channels"), str(s, "sample_format"));
        out += fmt::format("file size:  {} bytes\n", num<std::uint64_t>(s, "bytes"));
        out += fmt::format("dropped:    {} overruns ({} frames), {} input overflows, {} gaps\n",
                           num<std::uint32_t>(s, "overruns"), num<std::uint64_t>(s, "overrun_frames"),
                           num<std::uint32_t>(s, "input_overflows"), num<std::uint32_t>(s, "gaps"));
    }
    if (s.count("last_path")) {
        out += fmt::format("last:       {} ({:.3f} s, {}", str(s, "last_path"), num<double>(s, "last_duration"),
                           str(s, "last_reason"));
        const std::string message = str(s, "last_message");
        out += message.empty() ? ")\n" : fmt::format(": {})\n", message);
    }
    return out;
}

std::string formatDevices(const std::vector<Dict>& devices)
{
    std::string out;
    for (const auto& d : devices) {
        const auto inputs = num<std::uint32_t>(d, "input_channels");
        if (inputs == 0)
            continue; // outputs cannot be recorded from
        out += fmt::format("{}{}\n    {}, {} input channel{}, {} Hz preferred\n", str(d, "id"),
                           num<bool>(d, "is_default") ? "  (default)" : "", str(d, "name"), inputs,
                           inputs == 1 ? "" : "s", num<std::uint32_t>(d, "preferred_rate"));
    }
    return out.empty() ? "no input devices\n" : out;
}

std::string formatStopped(const std::string& path, double seconds)
{
    return fmt::format("{}\t{:.3f}\n", path, seconds);
}

std::string formatStarted(const std::string& path, bool json, nlohmann::json more)
{
    if (json) {
        more["path"] = path;
        return more.dump() + "\n";
    }
    requireOneLine(path, "is being recorded (name_template made it); `recctl stop --json` ends it");
    return path + "\n";
}

std::string formatEnded(const std::string& path, double seconds, bool json, const std::string& happened,
                        nlohmann::json more)
{
    if (json) {
        more["path"] = path;
        more["duration"] = seconds;
        return more.dump() + "\n";
    }
    requireOneLine(path, happened);
    return formatStopped(path, seconds);
}

void requireOneLine(const std::string& path, const std::string& what, ExitCode code)
{
    if (!carriesOnALine(path))
        throw PathNotOnALine(fmt::format("the path {} has a tab or a newline, which recctl's line output cannot carry "
                                         "(scripts split it at both); it {}. Add --json, which carries any path",
                                         nlohmann::json(path).dump(), what),
                             code);
}

} // namespace recctl
