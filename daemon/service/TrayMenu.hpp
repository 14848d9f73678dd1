#pragma once
// The tray item's menu, as com.canonical.dbusmenu at /MenuBar: Start or
// Stop, Pause or Resume, Cancel, and "Open the recordings folder", each
// enabled as the recorder's state allows. The panel asks for the layout when
// it shows the menu, and clicks come back as Event calls; recd announces a
// new layout (LayoutUpdated) only when its state changes.

#include "daemon/service/Recorder.hpp"

#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace recd {

class TrayMenu {
public:
    static constexpr const char* objectPath = "/MenuBar";

    TrayMenu(sdbus::IConnection& bus, Recorder& recorder);
    // The recorder's state changed: the entries' labels and enabled states.
    void update();

private:
    using Properties = std::map<std::string, sdbus::Variant>;
    using Layout = sdbus::Struct<std::int32_t, Properties, std::vector<sdbus::Variant>>;
    enum Entry : std::int32_t { Root = 0, StartStop = 1, PauseResume = 2, Cancel = 3, Separator = 4, OpenFolder = 5 };

    Properties properties(std::int32_t id) const;
    Layout layout(std::int32_t id, std::int32_t depth) const;
    void clicked(std::int32_t id);
    // Asks the desktop's file manager (org.freedesktop.FileManager1, which
    // Nautilus, Dolphin, Nemo and Thunar offer) to show the folder: it runs as
    // a service of its own, outside recd's unit. xdg-open where none answers.
    void openFolder();

    Recorder& recorder_;
    std::unique_ptr<sdbus::IObject> object_;
    std::unique_ptr<sdbus::IProxy> fileManager_;
    std::uint32_t revision_ = 1;
};

} // namespace recd
