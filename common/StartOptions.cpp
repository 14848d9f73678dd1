#include "common/StartOptions.hpp"

#include "common/Errors.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <type_traits>
#include <vector>

namespace recd {

const StartOption* findStartOption(std::string_view key)
{
    for (const auto& option : startOptions)
        if (option.key == key)
            return &option;
    return nullptr;
}

std::string startOptionKeys()
{
    std::vector<std::string_view> keys;
    for (const auto& option : startOptions)
        keys.push_back(option.key);
    std::sort(keys.begin(), keys.end());
    return fmt::format("{}", fmt::join(keys, ", "));
}

std::string_view dbusSignature(const StartOption& option)
{
    return std::visit(
        [](auto field) -> std::string_view {
            using T = std::remove_cvref_t<decltype(std::declval<StartOptions>().*field)>;
            if constexpr (std::is_same_v<T, std::optional<std::uint32_t>>)
                return "u";
            else if constexpr (std::is_same_v<T, std::optional<double>>)
                return "d";
            else if constexpr (std::is_same_v<T, bool>)
                return "b";
            else if constexpr (std::is_same_v<T, std::shared_ptr<const int>>)
                return "h";
            else if constexpr (std::is_same_v<T, std::vector<std::string>>)
                return "as";
            else
                return "s"; // a string, or a sample format by name
        },
        option.field);
}

void checkRanges(const StartOptions& options)
{
    for (const auto& option : startOptions) {
        if (!option.range)
            continue;
        std::visit(
            [&](auto field) {
                const auto& value = options.*field;
                using T = std::remove_cvref_t<decltype(value)>;
                if constexpr (std::is_same_v<T, std::optional<std::uint32_t>> ||
                              std::is_same_v<T, std::optional<double>>) {
                    if (value && !option.range->contains(static_cast<double>(*value)))
                        throw InvalidArgument(fmt::format("{} {}{}{} is out of range; {}", option.key, *value,
                                                          option.unit.empty() ? "" : " ", option.unit,
                                                          option.allowed));
                }
            },
            option.field);
    }
}

} // namespace recd
