#pragma once
// Runs the real binaries (recd, recctl) from tests, as a user or a script would.

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>
#include <sys/types.h>

namespace recd::test {

struct ProcessResult {
    int exitCode = -1; // -1: killed by a signal
    std::string out;
    std::string err;
};

// Runs argv to completion with extra environment variables (an empty value
// removes the variable), capturing stdout and stderr.
ProcessResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                  std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Polls done() every 20 ms until it holds (true) or timeout passes (false).
bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout);

// A background process, killed (SIGTERM, then SIGKILL) when it goes out of scope.
class Child {
public:
    Child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
          const std::string& stderrFile = "");
    ~Child();
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    pid_t pid() const { return pid_; }
    bool running();
    // Sends sig and waits up to timeout; returns the exit code (-1 if it did not
    // end or died from a signal).
    int stop(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(5));
    int wait(std::chrono::milliseconds timeout);

private:
    pid_t pid_ = -1;
    int status_ = -1;
    bool reaped_ = false;
};

} // namespace recd::test
