#pragma once
// StartRecording's options as recctl's flags, made from the one table of them
// (common/StartOptions.hpp). `start` and `toggle` share them.

#include "client/Output.hpp"
#include "common/StartOptions.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace recctl {

struct StartFlags {
    std::string path;
    recd::StartOptions values;
    // -d, which may be repeated: one is `device`, several are `inputs`.
    std::vector<std::string> devices;

    // PATH and a flag for each option the table gives one.
    void addTo(CLI::App& cmd);
    // The path as recd needs it: absolute (from the current directory); empty stays empty.
    std::string absolutePath() const;
    // The options given, as StartRecording's dictionary.
    Dict options() const;
};

} // namespace recctl
