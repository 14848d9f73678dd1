#include "client/Interrupt.hpp"

#include <atomic>
#include <csignal>

namespace recctl {

namespace {

std::atomic<bool> flag{false};

extern "C" void onInterrupt(int) { flag.store(true); }

} // namespace

void catchInterrupts()
{
    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);
}

bool interrupted() { return flag.load(); }
bool takeInterrupt() { return flag.exchange(false); }

} // namespace recctl
