#pragma once

#include "common/Errors.hpp"

#include <string>

namespace recd {

// The one place where engine errors become D-Bus error names.
std::string dbusErrorName(ErrorKind kind);

} // namespace recd
