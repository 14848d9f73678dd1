// The desktop's services recd talks to, as stand-ins (tests/support/
// DesktopStandIns.hpp) on the user bus of a real user manager: a panel's
// StatusNotifierWatcher, the shortcuts portal and a playing media player, so
// that the suite sees recd's desktop features work from the installed unit,
// under its sandbox. Commands on stdin, one per line:
//   press ID | release ID HELD_MS   a shortcut's key, as the portal reports it
//   report                           what recd did, as key=value lines, then "end"
// It ends at the end of its input.

#include "tests/support/DesktopStandIns.hpp"

#include <iostream>
#include <sstream>

using namespace recd::test;

int main()
{
    StandInWatcher watcher;
    StandInPortal portal;
    StandInPlayer player("standin", "Playing");
    for (std::string line; std::getline(std::cin, line);) {
        std::istringstream words(line);
        std::string command, id;
        std::uint64_t heldMs = 0;
        words >> command >> id >> heldMs;
        if (command == "press") {
            portal.key(true, id);
        } else if (command == "release") {
            portal.key(false, id, heldMs);
        } else if (command == "report") {
            {
                std::lock_guard lock(watcher.mutex);
                std::cout << "items=";
                for (const auto& item : watcher.items)
                    std::cout << item << ' ';
                std::cout << '\n';
            }
            {
                std::lock_guard lock(portal.mutex);
                std::cout << "portal=" << portal.order << "\napp=";
                for (const auto& app : portal.registered)
                    std::cout << app << ' ';
                std::cout << "\nbound=";
                for (const auto& s : portal.bound)
                    std::cout << s.get<0>() << ' ';
                std::cout << '\n';
            }
            std::cout << "player=";
            for (const auto& call : player.called())
                std::cout << call << ' ';
            std::cout << "\nend" << std::endl;
        }
    }
}
