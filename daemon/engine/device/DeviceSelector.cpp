#include "daemon/engine/device/DeviceSelector.hpp"

#include "common/Errors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace recd {

namespace {

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string describe(const std::vector<const DeviceInfo*>& devices)
{
    std::string out;
    for (const auto* d : devices)
        out += fmt::format("\n  {} ({}, {} channels{})", d->id, d->name, d->inputChannels,
                           d->isDefault ? ", default" : "");
    return out;
}

} // namespace

std::string deviceId(std::string_view api, std::string_view name)
{
    std::string slug;
    for (unsigned char c : name) {
        if (std::isalnum(c))
            slug += static_cast<char>(std::tolower(c));
        else if (!slug.empty() && slug.back() != '-')
            slug += '-';
    }
    while (!slug.empty() && slug.back() == '-')
        slug.pop_back();
    return fmt::format("{}:{}", api, slug.empty() ? "device" : slug);
}

void assignDeviceIds(std::vector<DeviceInfo>& devices, std::string_view api)
{
    std::map<std::string, int> seen;
    for (auto& d : devices) {
        std::string id = deviceId(api, d.name);
        int n = ++seen[id];
        d.id = n == 1 ? id : fmt::format("{}-{}", id, n);
    }
}

const DeviceInfo& selectDevice(const std::vector<DeviceInfo>& devices, std::string_view query)
{
    std::vector<const DeviceInfo*> inputs;
    for (const auto& d : devices)
        if (d.inputChannels > 0)
            inputs.push_back(&d);
    if (inputs.empty())
        throw DeviceNotFound("no audio input device is available (is the sound server running and "
                             "does it have a source?)");

    if (query.empty()) {
        for (const auto* d : inputs)
            if (d->isDefault)
                return *d;
        return *inputs.front();
    }
    for (const auto* d : inputs)
        if (d->id == query)
            return *d;
    for (const auto* d : inputs)
        if (d->name == query)
            return *d;

    const std::string needle = lower(query);
    std::vector<const DeviceInfo*> matches;
    for (const auto* d : inputs)
        if (lower(d->name).find(needle) != std::string::npos || lower(d->id).find(needle) != std::string::npos)
            matches.push_back(d);
    if (matches.size() == 1)
        return *matches.front();
    if (matches.empty())
        throw DeviceNotFound(fmt::format("no input device matches '{}'; the input devices are:{}", query,
                                         describe(inputs)));
    throw DeviceNotFound(fmt::format("'{}' matches {} input devices; name one by id or exact name:{}", query,
                                     matches.size(), describe(matches)));
}

} // namespace recd
