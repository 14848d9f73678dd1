#include "daemon/service/PowerSource.hpp"

#include "daemon/engine/Log.hpp"

#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <string>
#include <vector>

namespace recd {

namespace {
constexpr const char* upowerName = "org.freedesktop.UPower";
constexpr const char* upowerPath = "/org/freedesktop/UPower";
} // namespace

PowerSource::PowerSource(std::function<void()> changed) : changed_(std::move(changed))
{
    try {
        // sd-bus takes DBUS_SYSTEM_BUS_ADDRESS, where the tests put a stand-in.
        bus_ = sdbus::createSystemBusConnection();
        upower_ = sdbus::createProxy(*bus_, upowerName, upowerPath);
        // A signal on the bus thread, never a poll: nothing runs while the
        // power source stays as it is.
        upower_->uponSignal("PropertiesChanged")
            .onInterface("org.freedesktop.DBus.Properties")
            .call([this](const std::string& interface, const std::map<std::string, sdbus::Variant>& props,
                         const std::vector<std::string>&) {
                const auto it = props.find("OnBattery");
                if (interface != upowerName || it == props.end())
                    return;
                onBattery_.store(it->second.get<bool>(), std::memory_order_relaxed);
                changed_();
            });
        upower_->finishRegistration();
        bus_->enterEventLoopAsync();
    } catch (const sdbus::Error& e) {
        log().info("no system bus ({}): recd works as on mains power", e.getMessage());
        upower_.reset();
        bus_.reset();
        return;
    }
    try {
        onBattery_.store(upower_->getProperty("OnBattery").onInterface(upowerName).get<bool>());
        log().info("power: {}", onBattery() ? "on battery" : "on mains power");
    } catch (const sdbus::Error& e) {
        // It may start later: its PropertiesChanged is heard then.
        log().info("no UPower on the system bus ({}): recd works as on mains power", e.getMessage());
    }
}

PowerSource::~PowerSource()
{
    if (bus_)
        bus_->leaveEventLoop();
}

} // namespace recd
