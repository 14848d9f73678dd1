#include "daemon/service/DesktopNotifier.hpp"

#include "daemon/engine/Log.hpp"

#include <fmt/format.h>

namespace recd {

DesktopNotifier::DesktopNotifier(sdbus::IConnection& bus, Recorder& recorder)
    : recorder_(recorder),
      proxy_(sdbus::createProxy(bus, "org.freedesktop.Notifications", "/org/freedesktop/Notifications"))
{
    proxy_->finishRegistration();
    recorder_.addEvents(this);
}

DesktopNotifier::~DesktopNotifier() { recorder_.removeEvents(this); }

void DesktopNotifier::recordingStarted(const Destination& destination, std::uint64_t)
{
    notify("Recording", destination.streamed() ? "into a pipe" : destination.path().string(), false);
}

void DesktopNotifier::recordingStopped(const StopResult& r)
{
    const std::string where = r.streamed ? "the pipe" : r.path.string();
    switch (r.reason) {
    case StopReason::Requested:
    case StopReason::MaxDuration:
    case StopReason::Silence:
        notify("Recording saved", fmt::format("{:.1f} s in {}", r.duration, where), false);
        break;
    case StopReason::Cancelled: notify("Recording cancelled", "the file was deleted", false); break;
    case StopReason::Recovered:
        notify("Recording recovered", fmt::format("{:.1f} s kept in {} after recd was stopped", r.duration, where),
               false);
        break;
    case StopReason::DeviceLost:
    case StopReason::IoError:
    case StopReason::Error:
        notify("Recording failed",
               fmt::format("{}: {}; {:.1f} s kept in {}", stopReasonName(r.reason), r.message, r.duration, where),
               true);
        break;
    }
}

void DesktopNotifier::notify(const std::string& summary, const std::string& body, bool urgent)
{
    if (!recorder_.config().notify)
        return;
    std::map<std::string, sdbus::Variant> hints{{"urgency", sdbus::Variant(static_cast<std::uint8_t>(urgent ? 2 : 1))},
                                                {"category", sdbus::Variant(std::string("device"))}};
    try {
        proxy_->callMethodAsync("Notify")
            .onInterface("org.freedesktop.Notifications")
            .withArguments(std::string("recd"), shown_, std::string("audio-input-microphone"), summary, body,
                           std::vector<std::string>{}, hints, std::int32_t{urgent ? 0 : 5000})
            .uponReplyInvoke([this](const sdbus::Error* error, std::uint32_t id) {
                if (error)
                    log().info("no desktop notification: {}", error->getMessage());
                else
                    shown_ = id;
            });
    } catch (const sdbus::Error& e) {
        log().info("no desktop notification: {}", e.getMessage());
    }
}

} // namespace recd
