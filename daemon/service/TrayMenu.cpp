#include "daemon/service/TrayMenu.hpp"

#include "common/MonotonicClock.hpp"
#include "daemon/engine/Log.hpp"
#include "daemon/service/OwnRequest.hpp"

#include <fmt/format.h>

#include <cctype>

namespace recd {

namespace {
constexpr const char* menuInterface = "com.canonical.dbusmenu";
} // namespace

TrayMenu::TrayMenu(sdbus::IConnection& bus, Recorder& recorder)
    : recorder_(recorder), object_(sdbus::createObject(bus, objectPath)),
      fileManager_(sdbus::createProxy(bus, "org.freedesktop.FileManager1", "/org/freedesktop/FileManager1"))
{
    fileManager_->finishRegistration();
    using IdList = std::vector<std::int32_t>;
    object_->registerMethod("GetLayout")
        .onInterface(menuInterface)
        .withInputParamNames("parentId", "recursionDepth", "propertyNames")
        .withOutputParamNames("revision", "layout")
        .implementedAs([this](std::int32_t parent, std::int32_t depth, const std::vector<std::string>&) {
            return std::tuple<std::uint32_t, Layout>(revision_, layout(parent, depth));
        });
    object_->registerMethod("GetGroupProperties")
        .onInterface(menuInterface)
        .implementedAs([this](const IdList& ids, const std::vector<std::string>&) {
            std::vector<sdbus::Struct<std::int32_t, Properties>> out;
            for (const auto id : ids.empty() ? IdList{StartStop, PauseResume, Cancel, Separator, OpenFolder} : ids)
                out.emplace_back(id, properties(id));
            return out;
        });
    object_->registerMethod("GetProperty").onInterface(menuInterface).implementedAs([this](std::int32_t id, const std::string& name) {
        const auto props = properties(id);
        const auto it = props.find(name);
        if (it == props.end())
            throw sdbus::Error("com.canonical.dbusmenu.Error.UnknownProperty",
                               "menu entry " + std::to_string(id) + " has no property '" + name + "'");
        return it->second;
    });
    object_->registerMethod("Event")
        .onInterface(menuInterface)
        .implementedAs([this](std::int32_t id, const std::string& event, const sdbus::Variant&, std::uint32_t) {
            if (event == "clicked")
                clicked(id);
        });
    object_->registerMethod("EventGroup")
        .onInterface(menuInterface)
        .implementedAs([this](const std::vector<sdbus::Struct<std::int32_t, std::string, sdbus::Variant, std::uint32_t>>& events) {
            for (const auto& e : events)
                if (e.get<1>() == "clicked")
                    clicked(e.get<0>());
            return IdList{};
        });
    object_->registerMethod("AboutToShow").onInterface(menuInterface).implementedAs([](std::int32_t) { return false; });
    object_->registerMethod("AboutToShowGroup").onInterface(menuInterface).implementedAs([](const IdList&) {
        return std::tuple<IdList, IdList>{};
    });
    object_->registerProperty("Version").onInterface(menuInterface).withGetter([] { return std::uint32_t{3}; });
    object_->registerProperty("TextDirection").onInterface(menuInterface).withGetter([] { return std::string("ltr"); });
    object_->registerProperty("Status").onInterface(menuInterface).withGetter([] { return std::string("normal"); });
    object_->registerProperty("IconThemePath").onInterface(menuInterface).withGetter([] { return std::vector<std::string>{}; });
    object_->registerSignal("LayoutUpdated").onInterface(menuInterface).withParameters<std::uint32_t, std::int32_t>();
    object_->registerSignal("ItemsPropertiesUpdated")
        .onInterface(menuInterface)
        .withParameters<std::vector<sdbus::Struct<std::int32_t, Properties>>,
                        std::vector<sdbus::Struct<std::int32_t, std::vector<std::string>>>>();
    object_->finishRegistration();
}

TrayMenu::Properties TrayMenu::properties(std::int32_t id) const
{
    const std::string state = recorder_.stateName();
    const bool idle = state == "idle";
    const auto entry = [](const std::string& label, bool enabled, const std::string& icon) {
        return Properties{{"label", sdbus::Variant(label)},
                          {"enabled", sdbus::Variant(enabled)},
                          {"visible", sdbus::Variant(true)},
                          {"icon-name", sdbus::Variant(icon)}};
    };
    switch (id) {
    case Root: return {{"children-display", sdbus::Variant(std::string("submenu"))}};
    case StartStop:
        return idle ? entry("Start recording", true, "media-record") : entry("Stop and save", true, "media-playback-stop");
    case PauseResume:
        return state == "paused" ? entry("Resume", true, "media-playback-start")
                                 : entry("Pause", state == "recording", "media-playback-pause");
    case Cancel: return entry("Cancel (delete the take)", !idle, "edit-delete");
    case Separator: return {{"type", sdbus::Variant(std::string("separator"))}, {"visible", sdbus::Variant(true)}};
    case OpenFolder: return entry("Open the recordings folder", true, "folder-music");
    default: return {};
    }
}

TrayMenu::Layout TrayMenu::layout(std::int32_t id, std::int32_t depth) const
{
    std::vector<sdbus::Variant> children;
    if (id == Root && depth != 0)
        for (const auto child : {StartStop, PauseResume, Cancel, Separator, OpenFolder})
            children.emplace_back(Layout(child, properties(child), {}));
    return Layout(id, properties(id), std::move(children));
}

void TrayMenu::clicked(std::int32_t id)
{
    const std::string state = recorder_.stateName();
    const Properties entry = properties(id);
    log().info("tray menu: {}", entry.count("label") ? entry.at("label").get<std::string>() : "?");
    // Each reports in the log; the icon and the tooltip show the new state.
    switch (id) {
    case StartStop:
        ownRequest<std::pair<std::string, std::filesystem::path>>(
            "tray menu: start or stop", [&](auto reply) { recorder_.toggle(RecordingRequest{}, monotonicUsec(), reply); });
        break;
    case PauseResume:
        try {
            recorder_.setPaused(state != "paused");
        } catch (...) {
            log().error("tray menu: pause or resume failed: {}", describe(std::current_exception()));
        }
        break;
    case Cancel:
        ownRequest<StopResult>("tray menu: cancel", [&](auto reply) { recorder_.cancel(reply); });
        break;
    case OpenFolder:
        openFolder();
        break;
    default: break;
    }
}

namespace {

// A file URI for a path: each byte outside RFC 3986's unreserved set (and
// the slashes) percent-encoded.
std::string fileUri(const std::filesystem::path& path)
{
    std::string uri = "file://";
    for (const unsigned char c : path.string()) {
        if (std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~')
            uri += static_cast<char>(c);
        else
            uri += fmt::format("%{:02X}", c);
    }
    return uri;
}

} // namespace

void TrayMenu::openFolder()
{
    const std::filesystem::path folder = recorder_.folder();
    fileManager_->callMethodAsync("ShowFolders")
        .onInterface("org.freedesktop.FileManager1")
        .withArguments(std::vector<std::string>{fileUri(folder)}, std::string())
        .uponReplyInvoke([this, folder](const sdbus::Error* error) {
            if (!error)
                return;
            log().info("tray menu: no file manager answers on D-Bus ({}); opening '{}' with xdg-open",
                       error->getMessage(), folder.string());
            recorder_.openFolder();
        });
}

void TrayMenu::update()
{
    object_->emitSignal("LayoutUpdated").onInterface(menuInterface).withArguments(++revision_, std::int32_t{Root});
}

} // namespace recd
