// sandbox-probe: run as a copy of recd.service (same hardening lines, this
// program as ExecStart), it tries what each hardening line forbids and prints
// one line per setting: "Setting=value: applied", "...: NOT applied (why)", or
// "...: not checkable (why)" where the machine itself forbids the same thing.
// tests/user-manager/suite requires "applied" for every hardening line the
// installed unit has, so a line the user manager silently skips fails the test.
// Each attempt runs in a child where it could change the process (personality,
// namespaces, scheduling), so one check cannot mask another.

#include <sched.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>

namespace {

int failures = 0;

void report(const char* setting, bool applied, const std::string& detail = {})
{
    std::printf("%s: %s%s%s\n", setting, applied ? "applied" : "NOT applied", detail.empty() ? "" : " ",
                detail.c_str());
    failures += applied ? 0 : 1;
}

// Runs attempt() in a child; its return value (an errno, or 0 for success)
// becomes the child's exit status. A child killed by a signal reports -signal.
int inChild(const std::function<int()>& attempt)
{
    const pid_t pid = ::fork();
    if (pid == 0)
        ::_exit(attempt());
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

int errnoOf(long result) { return result == -1 ? errno : 0; }

// Where the machine itself forbids what the line forbids, so there is nothing
// to tell apart.
void uncheckable(const char* setting, const char* why) { std::printf("%s: not checkable %s\n", setting, why); }

std::string statusField(const std::string& name)
{
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind(name + ":", 0) == 0)
            return line.substr(line.find_first_not_of(" \t", name.size() + 1));
    return {};
}

std::string describe(int result)
{
    if (result == 0)
        return "(the call succeeded)";
    if (result < 0)
        return "(killed by signal " + std::to_string(-result) + ")";
    return std::string("(") + std::strerror(result) + ")";
}

} // namespace

int main(int argc, char** argv)
{
    const std::string scratch = argc > 1 ? argv[1] : "/tmp";

    report("NoNewPrivileges=yes", statusField("NoNewPrivs") == "1", "(NoNewPrivs " + statusField("NoNewPrivs") + ")");

    // ptrace is outside @system-service; PTRACE_TRACEME is allowed to anyone.
    int r = inChild([] { return errnoOf(::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)); });
    report("SystemCallFilter=@system-service", r == EPERM, describe(r));

    // setuid to one's own uid is allowed to anyone, and is in @privileged.
    r = inChild([] { return errnoOf(::setuid(::getuid())); });
    report("SystemCallFilter=~@privileged", r == EPERM, describe(r));
    report("SystemCallErrorNumber=EPERM", r == EPERM, describe(r));

#if defined(__x86_64__)
    // getpid through the 32-bit entry point: allowed unless only native calls are.
    r = inChild([] {
        long ret = 0;
        asm volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
        return ret > 0 ? 0 : static_cast<int>(-ret);
    });
    if (r == -SIGSEGV)
        uncheckable("SystemCallArchitectures=native", "(int 0x80 faults: this kernel has no 32-bit entry point)");
    else
        report("SystemCallArchitectures=native", r == -SIGSYS || r == EPERM, describe(r));
#else
    uncheckable("SystemCallArchitectures=native", "(only checked on x86-64)");
#endif

    // A user namespace is the one namespace an unprivileged process may make.
    r = inChild([] { return errnoOf(::unshare(CLONE_NEWUSER)); });
    report("RestrictNamespaces=yes", r == EPERM, describe(r));

    // An unprivileged process may not take real-time priority anyway, so ask
    // for one out of range: the kernel answers EINVAL before it checks any
    // permission, the filter RestrictRealtime= installs answers EPERM.
    r = inChild([] {
        sched_param p{};
        p.sched_priority = 1000;
        return errnoOf(::sched_setscheduler(0, SCHED_FIFO, &p));
    });
    report("RestrictRealtime=yes", r == EPERM, describe(r));

    const std::string file = scratch + "/sandbox-probe-suid";
    ::unlink(file.c_str());
    std::ofstream(file) << "x";
    r = errnoOf(::chmod(file.c_str(), 04755));
    ::unlink(file.c_str());
    report("RestrictSUIDSGID=yes", r == EPERM, describe(r));

    r = inChild([] { return errnoOf(::personality(static_cast<unsigned long>(PER_LINUX) | static_cast<unsigned long>(ADDR_NO_RANDOMIZE))); });
    report("LockPersonality=yes", r == EPERM, describe(r));

    const mode_t mask = ::umask(0077);
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", mask);
    report("UMask=0077", mask == 0077, std::string("(umask ") + octal + ")");

    return failures == 0 ? 0 : 1;
}
