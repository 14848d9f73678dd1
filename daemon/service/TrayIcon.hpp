#pragma once
// A tray item (config tray = true): a StatusNotifierItem
// (org.kde.StatusNotifierItem at /StatusNotifierItem), registered with the
// panel's org.kde.StatusNotifierWatcher, whose icon, tooltip and status say
// whether a take runs, with the menu of TrayMenu. A click toggles.
//
// Panels that show such items: KDE Plasma, Waybar's tray, the GNOME Shell
// AppIndicator extension, xfce4-panel, and others. Without a watcher on the
// bus recd logs once and goes on; if one comes later (the panel started after
// recd, or restarted), recd registers with it then. Nothing runs on a timer:
// the item changes when the state does, so its tooltip shows no running clock
// (`recctl status --follow` does).

#include "daemon/service/Recorder.hpp"
#include "daemon/service/TrayMenu.hpp"

#include <sdbus-c++/sdbus-c++.h>

#include <memory>
#include <string>

namespace recd {

class TrayIcon final : public RecorderEvents {
public:
    static constexpr const char* objectPath = "/StatusNotifierItem";

    TrayIcon(sdbus::IConnection& bus, Recorder& recorder);
    ~TrayIcon();
    // Follows the config (at start-up, and after a reload): the item is shown
    // when tray is turned on, and taken away when it is turned off.
    void apply();

    void recordingStarted(const Destination&, std::uint64_t) override {}
    void recordingStopped(const StopResult&) override {}
    void stateChanged() override;

private:
    using Pixmaps = std::vector<sdbus::Struct<std::int32_t, std::int32_t, std::vector<std::uint8_t>>>;
    using ToolTip = sdbus::Struct<std::string, Pixmaps, std::string, std::string>;

    void show();
    void hide();
    void registerWithWatcher();
    std::string iconName() const;
    std::string status() const;
    ToolTip toolTip() const;

    sdbus::IConnection& bus_;
    Recorder& recorder_;
    std::string serviceName_; // org.kde.StatusNotifierItem-PID-1, which the watcher is told
    std::unique_ptr<TrayMenu> menu_;
    std::unique_ptr<sdbus::IObject> object_;
    std::unique_ptr<sdbus::IProxy> watcher_;
    std::unique_ptr<sdbus::Slot> watcherAppears_;
    bool toldNoWatcher_ = false;
};

} // namespace recd
