#include "daemon/engine/device/OwnEnvironment.hpp"

#include <cstdlib>
#include <set>

namespace recd {

namespace {

std::set<std::string, std::less<>>& own()
{
    static std::set<std::string, std::less<>> names;
    return names;
}

} // namespace

bool setOwnVariable(const char* name, const std::string& value)
{
    own().erase(name);
    if (std::getenv(name) || ::setenv(name, value.c_str(), 0) != 0)
        return false;
    own().insert(name);
    return true;
}

bool isOwnVariable(std::string_view name)
{
    return own().find(name) != own().end();
}

} // namespace recd
