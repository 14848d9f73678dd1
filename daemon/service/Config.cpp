#include "daemon/service/Config.hpp"

#include "daemon/engine/device/AudioSystem.hpp"
#include "daemon/engine/session/RecordingRequest.hpp"
#include "common/StartOptions.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>

namespace recd {

namespace {

std::filesystem::path home()
{
    const char* h = std::getenv("HOME");
    return h && *h ? std::filesystem::path(h) : std::filesystem::path("/");
}

std::filesystem::path configHome()
{
    const char* x = std::getenv("XDG_CONFIG_HOME");
    return x && *x ? std::filesystem::path(x) : home() / ".config";
}

std::filesystem::path expandHome(const std::string& p)
{
    if (p == "~")
        return home();
    if (p.rfind("~/", 0) == 0)
        return home() / p.substr(2);
    return p;
}

// Reads one key of a TOML table with its type and range checked, so every
// mistake is reported as "file:line: key: what is allowed".
class Reader {
public:
    Reader(const std::filesystem::path& file, const toml::table& table) : file_(file), table_(table) {}

    [[noreturn]] void fail(std::string_view key, const std::string& what) const
    {
        const toml::node* node = table_.get(key);
        const auto line = node ? node->source().begin.line : 0;
        throw ConfigError(fmt::format("{}:{}: {}: {}", file_.string(), line, key, what));
    }

    std::optional<std::string> string(std::string_view key) const
    {
        const toml::node* node = table_.get(key);
        if (!node)
            return std::nullopt;
        if (!node->is_string())
            fail(key, "must be a string in quotes");
        return node->value<std::string>();
    }

    std::optional<bool> boolean(std::string_view key) const
    {
        const toml::node* node = table_.get(key);
        if (!node)
            return std::nullopt;
        if (!node->is_boolean())
            fail(key, "must be true or false (without quotes)");
        return node->value<bool>();
    }

    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max) const
    {
        const toml::node* node = table_.get(key);
        if (!node)
            return std::nullopt;
        if (!node->is_integer())
            fail(key, fmt::format("must be a whole number from {} to {}", min, max));
        const auto v = *node->value<std::int64_t>();
        if (v < min || v > max)
            fail(key, fmt::format("{} is out of range; use {} to {}", v, min, max));
        return v;
    }

    std::optional<double> number(std::string_view key, double min, double max) const
    {
        const toml::node* node = table_.get(key);
        if (!node)
            return std::nullopt;
        if (!node->is_number())
            fail(key, fmt::format("must be a number from {} to {}", min, max));
        const auto v = *node->value<double>();
        if (!(v >= min && v <= max))
            fail(key, fmt::format("{} is out of range; use {} to {}", v, min, max));
        return v;
    }

private:
    const std::filesystem::path& file_;
    const toml::table& table_;
};

const std::set<std::string_view> knownKeys{
    "device",       "rate",          "channels",  "sample_format", "directory",
    "name_template", "audio_api",    "buffer_frames", "ring_seconds", "sync_interval",
    "file_mode",    "pre_roll",      "pre_roll_release_after", "pre_roll_on_battery",
    "pre_roll_bluetooth", "on_stop", "notify", "pause_players", "on_part", "shortcuts",
    "shortcut_toggle", "shortcut_push_to_talk", "tray"};

} // namespace

std::filesystem::path Config::defaultPath() { return configHome() / "recd" / "recd.toml"; }

std::filesystem::path Config::defaultDirectory()
{
    if (const char* music = std::getenv("XDG_MUSIC_DIR"); music && *music)
        return expandHome(music);
    // user-dirs.dirs is a list of shell assignments, XDG_MUSIC_DIR="$HOME/Music".
    std::ifstream dirs(configHome() / "user-dirs.dirs");
    const std::regex line(R"re(^\s*XDG_MUSIC_DIR\s*=\s*"(.*)"\s*$)re");
    for (std::string text; std::getline(dirs, text);) {
        std::smatch m;
        if (std::regex_match(text, m, line)) {
            std::string value = m[1];
            if (value.rfind("$HOME", 0) == 0)
                return home() / value.substr(value.size() > 5 && value[5] == '/' ? 6 : 5);
            if (!value.empty() && value.front() == '/')
                return value;
        }
    }
    return home() / "Recordings";
}

Config Config::load(const std::filesystem::path& path, bool mustExist)
{
    Config config;
    config.directory = defaultDirectory();
    if (!std::filesystem::exists(path)) {
        if (mustExist)
            throw ConfigError(fmt::format("{}: no such file", path.string()));
        return config;
    }

    toml::table table;
    try {
        table = toml::parse_file(path.string());
    } catch (const toml::parse_error& e) {
        throw ConfigError(fmt::format("{}:{}: {}", path.string(), e.source().begin.line, e.description()));
    }

    const Reader r(path, table);
    for (const auto& [key, node] : table)
        if (!knownKeys.contains(key.str()))
            r.fail(key.str(), fmt::format("unknown key; the keys are {}", fmt::join(knownKeys, ", ")));

    if (auto v = r.string("device"))
        config.device = *v;
    // The same numbers StartRecording allows (StartOptions.hpp).
    const auto allowed = [](std::string_view key) {
        const OptionRange range = *findStartOption(key)->range;
        return std::pair{static_cast<std::int64_t>(range.min), static_cast<std::int64_t>(range.max)};
    };
    if (auto v = r.integer("rate", allowed("rate").first, allowed("rate").second))
        config.rate = static_cast<unsigned>(*v);
    if (auto v = r.integer("channels", allowed("channels").first, allowed("channels").second))
        config.channels = static_cast<unsigned>(*v);
    if (auto v = r.string("sample_format")) {
        config.sampleFormat = parseSampleFormat(*v);
        if (!config.sampleFormat)
            r.fail("sample_format", fmt::format("'{}' is not one of {}", *v, allSampleFormatNames()));
    }
    if (auto v = r.string("directory")) {
        config.directory = expandHome(*v);
        if (!config.directory.is_absolute())
            r.fail("directory", "must be an absolute path (or start with ~/)");
    }
    if (auto v = r.string("name_template")) {
        // A tab or a newline would break the lines recctl prints, and scripts' reading of them.
        if (v->empty() || v->find_first_of("/\t\n") != std::string::npos)
            r.fail("name_template", "must be a file name (strftime codes allowed), without '/', tabs or newlines");
        config.nameTemplate = *v;
    }
    if (auto v = r.string("audio_api")) {
        auto api = parseAudioApi(*v);
        if (!api)
            r.fail("audio_api", fmt::format("'{}' is not pulse, pulse-native or alsa", *v));
        config.engine.api = *api;
    }
    if (auto v = r.integer("buffer_frames", 32, 16384))
        config.engine.bufferFrames = static_cast<unsigned>(*v);
    if (auto v = r.boolean("notify"))
        config.notify = *v;
    if (auto v = r.string("on_stop"))
        config.onStop = *v;
    if (auto v = r.string("on_part"))
        config.onPart = *v;
    if (auto v = r.boolean("tray"))
        config.tray = *v;
    if (auto v = r.boolean("shortcuts"))
        config.shortcuts = *v;
    if (auto v = r.string("shortcut_toggle"))
        config.shortcutToggle = *v;
    if (auto v = r.string("shortcut_push_to_talk"))
        config.shortcutPushToTalk = *v;
    if (auto v = r.boolean("pause_players"))
        config.pausePlayers = *v;
    if (auto v = r.number("pre_roll", 0, 300))
        config.preRoll = *v;
    if (auto v = r.number("pre_roll_release_after", 0, 1440))
        config.preRollReleaseAfter = *v;
    if (auto v = r.boolean("pre_roll_on_battery"))
        config.preRollOnBattery = *v;
    if (auto v = r.boolean("pre_roll_bluetooth"))
        config.preRollBluetooth = *v;
    if (auto v = r.number("ring_seconds", 1, 600))
        config.engine.ringSeconds = *v;
    if (auto v = r.number("sync_interval", 0.1, 60))
        config.engine.syncInterval = *v;
    if (auto v = r.string("file_mode")) {
        char* end = nullptr;
        const long mode = std::strtol(v->c_str(), &end, 8);
        if (v->empty() || *end || mode < 0 || mode > 0777 || (mode & 0600) != 0600)
            r.fail("file_mode", "must be an octal mode in quotes, such as \"0600\" or \"0640\", that lets the owner read and write");
        config.engine.fileMode = static_cast<mode_t>(mode);
    }
    return config;
}

} // namespace recd
