#include "daemon/service/HookRunner.hpp"

#include "daemon/engine/device/OwnEnvironment.hpp"
#include "daemon/engine/Log.hpp"

#include <fmt/format.h>

#include <csignal>
#include <fcntl.h>
#include <cstring>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace recd {

void HookRunner::spawn(const std::string& name, const std::string& command, const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env)
{
    std::vector<std::string> argv{"/bin/sh", "-c", command + " \"$@\"", name};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> envv;
    for (char** e = environ; *e; ++e) {
        const std::string entry(*e);
        const std::string key = entry.substr(0, entry.find('='));
        // recd's own audio pacing and stream names are no business of a hook
        // that plays a sound.
        const bool ours = isOwnVariable(key);
        if (!env.contains(key) && !ours)
            envv.push_back(entry);
    }
    for (const auto& [key, value] : env)
        envv.push_back(key + "=" + value);
    auto pointers = [](std::vector<std::string>& v) {
        std::vector<char*> p;
        for (auto& s : v)
            p.push_back(s.data());
        p.push_back(nullptr);
        return p;
    };
    auto argp = pointers(argv);
    auto envp = pointers(envv);

    // recd blocks SIGTERM, SIGINT, SIGHUP and SIGCHLD for its signalfd and ignores
    // SIGPIPE and SIGXFSZ; a child inherits both across exec, so the hook gets an
    // empty mask and default dispositions back. Its stdin is /dev/null: it must
    // not read the daemon's.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGXFSZ, SIGTERM, SIGINT, SIGHUP, SIGCHLD})
        sigaddset(&defaults, sig);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);

    pid_t pid = -1;
    const int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argp.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        log().error("{} hook '{}': cannot run it: {}", name, command, std::strerror(rc));
        return;
    }
    const std::string what = fmt::format("{} hook '{}' ({})", name, command, fmt::join(args, " "));
    log().info("{}: started, pid {}", what, pid);
    running_.emplace(pid, what);
}

void HookRunner::reap()
{
    // Only the hooks' own pids: whatever else a library forked is not ours to reap.
    for (auto it = running_.begin(); it != running_.end();) {
        int status = 0;
        if (::waitpid(it->first, &status, WNOHANG) != it->first) {
            ++it;
            continue;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            log().info("{}: done", it->second);
        else if (WIFEXITED(status))
            log().warn("{}: failed with exit status {}", it->second, WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
            log().warn("{}: killed by {}", it->second, strsignal(WTERMSIG(status)));
        it = running_.erase(it);
    }
}

} // namespace recd
