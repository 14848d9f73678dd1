#pragma once

#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace recd {

// Runs the user's hook commands (config on_stop) without ever waiting for them.
//
// A hook may transcribe or upload for minutes; recd must go on serving, so the
// command is spawned and left to run, and its exit status is collected later,
// when SIGCHLD arrives through the main loop's signalfd (reap()). Nothing a hook
// does, fails or prints changes the recording it was run for.
class HookRunner {
public:
    // Runs `/bin/sh -c '<command> "$@"' <name> <args...>`: the command is shell
    // words from the config, and the arguments follow it quoted. `env` is added
    // to recd's environment.
    void spawn(const std::string& name, const std::string& command, const std::vector<std::string>& args,
               const std::map<std::string, std::string>& env);
    // Collects every hook that has ended and logs how.
    void reap();

private:
    std::map<pid_t, std::string> running_; // pid -> what it was run for
};

} // namespace recd
