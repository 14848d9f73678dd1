#pragma once
// Who owns a bus name, as it changes: org.freedesktop.DBus's NameOwnerChanged,
// matched on that name (or on every name under a prefix), so that only
// changes of the names wanted ever wake the listener. Used by recd for the
// clients and services it depends on, and by recctl for recd itself.

#include <fmt/format.h>
#include <sdbus-c++/sdbus-c++.h>

#include <functional>
#include <string>

namespace recd {

struct NameOwnerChange {
    std::string name, oldOwner, newOwner;
    bool gone() const { return newOwner.empty(); }
};

enum class NameMatch { Exact, Namespace };

// Calls onChange, on the connection's event loop, each time `name` (or with
// Namespace, a name under it: org.mpris.MediaPlayer2 matches
// org.mpris.MediaPlayer2.vlc) gets, changes or loses its owner, for as long as
// the returned slot lives.
[[nodiscard]] inline sdbus::Slot watchNameOwner(sdbus::IConnection& bus, const std::string& name,
                                                std::function<void(const NameOwnerChange&)> onChange,
                                                NameMatch match = NameMatch::Exact)
{
    return bus.addMatch(fmt::format("type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                                    "member='NameOwnerChanged',{}='{}'",
                                    match == NameMatch::Exact ? "arg0" : "arg0namespace", name),
                        [onChange = std::move(onChange)](sdbus::Message& m) {
                            NameOwnerChange change;
                            m >> change.name >> change.oldOwner >> change.newOwner;
                            onChange(change);
                        });
}

} // namespace recd
