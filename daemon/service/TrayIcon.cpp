#include "daemon/service/TrayIcon.hpp"

#include "common/MonotonicClock.hpp"
#include "common/NameOwnerWatch.hpp"
#include "daemon/engine/Log.hpp"
#include "daemon/service/OwnRequest.hpp"

#include <fmt/format.h>

#include <unistd.h>

namespace recd {

namespace {
constexpr const char* itemInterface = "org.kde.StatusNotifierItem";
constexpr const char* watcherName = "org.kde.StatusNotifierWatcher";
} // namespace

TrayIcon::TrayIcon(sdbus::IConnection& bus, Recorder& recorder)
    : bus_(bus), recorder_(recorder), serviceName_(fmt::format("org.kde.StatusNotifierItem-{}-1", ::getpid()))
{
    recorder_.addEvents(this);
    apply();
}

void TrayIcon::apply()
{
    if (recorder_.config().tray && !object_)
        show();
    else if (!recorder_.config().tray && object_)
        hide();
}

void TrayIcon::hide()
{
    watcherAppears_.reset();
    watcher_.reset();
    object_.reset();
    menu_.reset();
    try {
        bus_.releaseName(serviceName_); // the panel's watcher drops the item when its name goes
    } catch (const sdbus::Error&) {
        // never owned: the item was not shown
    }
    log().info("tray: the item is taken away (tray = false)");
}

void TrayIcon::show()
{
    toldNoWatcher_ = false;
    menu_ = std::make_unique<TrayMenu>(bus_, recorder_);
    object_ = sdbus::createObject(bus_, objectPath);
    const auto constant = [this](const char* name, auto value) {
        object_->registerProperty(name).onInterface(itemInterface).withGetter([value] { return value; });
    };
    constant("Category", std::string("ApplicationStatus"));
    constant("Id", std::string("recd"));
    constant("Title", std::string("recd"));
    constant("WindowId", std::int32_t{0});
    constant("IconThemePath", std::string());
    constant("Menu", sdbus::ObjectPath(TrayMenu::objectPath));
    constant("ItemIsMenu", false);
    constant("IconPixmap", Pixmaps{});
    constant("OverlayIconName", std::string());
    constant("OverlayIconPixmap", Pixmaps{});
    constant("AttentionIconName", std::string());
    constant("AttentionIconPixmap", Pixmaps{});
    constant("AttentionMovieName", std::string());
    object_->registerProperty("Status").onInterface(itemInterface).withGetter([this] { return status(); });
    object_->registerProperty("IconName").onInterface(itemInterface).withGetter([this] { return iconName(); });
    object_->registerProperty("ToolTip").onInterface(itemInterface).withGetter([this] { return toolTip(); });
    // A click on the icon toggles, as the toggle key does; the menu has the rest.
    object_->registerMethod("Activate").onInterface(itemInterface).implementedAs([this](std::int32_t, std::int32_t) {
        log().info("tray: clicked");
        ownRequest<std::pair<std::string, std::filesystem::path>>(
            "tray: toggle", [&](auto reply) { recorder_.toggle(RecordingRequest{}, monotonicUsec(), reply); });
    });
    object_->registerMethod("SecondaryActivate").onInterface(itemInterface).implementedAs([](std::int32_t, std::int32_t) {});
    object_->registerMethod("ContextMenu").onInterface(itemInterface).implementedAs([](std::int32_t, std::int32_t) {});
    object_->registerMethod("Scroll").onInterface(itemInterface).implementedAs([](std::int32_t, const std::string&) {});
    for (const char* name : {"NewTitle", "NewIcon", "NewAttentionIcon", "NewOverlayIcon", "NewToolTip"})
        object_->registerSignal(name).onInterface(itemInterface);
    object_->registerSignal("NewStatus").onInterface(itemInterface).withParameters<std::string>();
    object_->finishRegistration();
    try {
        bus_.requestName(serviceName_);
    } catch (const sdbus::Error& e) {
        log().warn("tray: cannot own {}: {}; no tray item", serviceName_, e.getMessage());
        return;
    }
    watcher_ = sdbus::createProxy(bus_, watcherName, "/StatusNotifierWatcher");
    watcher_->finishRegistration();
    // A panel that starts (or restarts) after recd: register with it then.
    watcherAppears_ = std::make_unique<sdbus::Slot>(watchNameOwner(bus_, watcherName, [this](const NameOwnerChange& change) {
        if (!change.gone())
            registerWithWatcher();
    }));
    registerWithWatcher();
}

TrayIcon::~TrayIcon() { recorder_.removeEvents(this); }

void TrayIcon::registerWithWatcher()
{
    watcher_->callMethodAsync("RegisterStatusNotifierItem")
        .onInterface(watcherName)
        .withArguments(serviceName_)
        .uponReplyInvoke([this](const sdbus::Error* error) {
            if (!error) {
                toldNoWatcher_ = false;
                return log().info("tray: the item is shown by the panel's StatusNotifierWatcher");
            }
            if (toldNoWatcher_)
                return;
            toldNoWatcher_ = true; // once, not at each retry
            log().info("tray: no panel shows tray items on this desktop ({}); recd goes on without one, and shows "
                       "its item once a panel with a tray starts",
                       error->getMessage());
        });
}

std::string TrayIcon::status() const
{
    // Passive: panels may fold the item away while nothing is recorded.
    const std::string state = recorder_.stateName();
    return state == "idle" ? "Passive" : "Active";
}

std::string TrayIcon::iconName() const
{
    const std::string state = recorder_.stateName();
    if (state == "recording")
        return "media-record";
    if (state == "paused")
        return "media-playback-pause";
    return state == "idle" ? "audio-input-microphone" : "media-playback-start"; // waiting, starting
}

TrayIcon::ToolTip TrayIcon::toolTip() const
{
    const std::string state = recorder_.stateName();
    const std::string path = recorder_.path().string();
    std::string text;
    if (state == "recording")
        text = "Recording to " + path;
    else if (state == "paused")
        text = "Paused: " + path;
    else if (state == "waiting")
        text = "Armed: " + path + " begins at the first sound";
    else if (state == "starting")
        text = "Starting " + path;
    else
        text = "Not recording; click to start";
    return ToolTip(iconName(), Pixmaps{}, std::string("recd"), text);
}

void TrayIcon::stateChanged()
{
    if (!object_)
        return;
    object_->emitSignal("NewIcon").onInterface(itemInterface);
    object_->emitSignal("NewToolTip").onInterface(itemInterface);
    object_->emitSignal("NewStatus").onInterface(itemInterface).withArguments(status());
    menu_->update();
}

} // namespace recd
