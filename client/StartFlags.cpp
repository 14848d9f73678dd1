#include "client/StartFlags.hpp"

#include <filesystem>
#include <type_traits>

namespace recctl {

void StartFlags::addTo(CLI::App& cmd)
{
    cmd.add_option("path", path,
                   "file to write (.wav .flac .ogg .opus .mp3); relative to the current directory; "
                   "default: a new name in recd's recordings directory");
    for (const auto& option : recd::startOptions) {
        if (option.flags.empty())
            continue;
        const std::string flags(option.flags), help(option.help);
        std::visit(
            [&](auto field) {
                auto& target = values.*field;
                using T = std::remove_cvref_t<decltype(target)>;
                if (option.key == "device") {
                    // One name after each -d: `-d mic out.wav` leaves out.wav the path.
                    cmd.add_option(flags, devices, help)->allow_extra_args(false)->take_all();
                } else if constexpr (std::is_same_v<T, std::optional<recd::SampleFormat>>) {
                    cmd.add_option_function<std::string>(
                           flags, [&target](const std::string& name) { target = recd::parseSampleFormat(name); },
                           help)
                        ->check(CLI::IsMember({"s16", "s24", "s32", "f32"}));
                } else if constexpr (std::is_same_v<T, bool>) {
                    cmd.add_flag(flags, target, help);
                } else if constexpr (!std::is_same_v<T, std::shared_ptr<const int>>) {
                    cmd.add_option(flags, target, help);
                }
            },
            option.field);
    }
}

std::string StartFlags::absolutePath() const
{
    if (path.empty())
        return {};
    return std::filesystem::absolute(path).lexically_normal().string();
}

Dict StartFlags::options() const
{
    recd::StartOptions given = values;
    if (devices.size() == 1)
        given.device = devices.front();
    else if (devices.size() > 1)
        given.inputs = devices;
    Dict o;
    for (const auto& option : recd::startOptions) {
        const std::string key(option.key);
        std::visit(
            [&](auto field) {
                const auto& value = given.*field;
                using T = std::remove_cvref_t<decltype(value)>;
                if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::vector<std::string>>) {
                    if (!value.empty())
                        o[key] = sdbus::Variant(value);
                } else if constexpr (std::is_same_v<T, bool>) {
                    if (value)
                        o[key] = sdbus::Variant(true);
                } else if constexpr (std::is_same_v<T, std::optional<recd::SampleFormat>>) {
                    if (value)
                        o[key] = sdbus::Variant(std::string(recd::sampleFormatName(*value)));
                } else if constexpr (!std::is_same_v<T, std::shared_ptr<const int>>) {
                    if (value)
                        o[key] = sdbus::Variant(*value);
                }
            },
            option.field);
    }
    return o;
}

} // namespace recctl
