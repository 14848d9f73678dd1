#pragma once
// Whether the machine runs on battery: UPower's OnBattery, on the system bus.

#include <atomic>
#include <functional>
#include <memory>

namespace sdbus {
class IConnection;
class IProxy;
} // namespace sdbus

namespace recd {

class PowerSource {
public:
    // `changed` is called on this object's own bus thread when OnBattery
    // changes: it must only wake the owner, who then reads onBattery().
    explicit PowerSource(std::function<void()> changed);
    ~PowerSource();
    PowerSource(const PowerSource&) = delete;
    PowerSource& operator=(const PowerSource&) = delete;

    // False where there is no UPower (a desktop without it, a container): as on
    // mains power.
    bool onBattery() const { return onBattery_.load(std::memory_order_relaxed); }

private:
    std::function<void()> changed_;
    std::atomic<bool> onBattery_{false};
    std::unique_ptr<sdbus::IConnection> bus_;
    std::unique_ptr<sdbus::IProxy> upower_;
};

} // namespace recd
