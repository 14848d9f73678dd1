// recd: the recording daemon. Owns the audio input and records it to files,
// controlled over D-Bus (org.recd.Recorder1 on the session bus).

#include "daemon/engine/capture/AudioPacing.hpp"
#include "daemon/service/Config.hpp"
#include "daemon/service/EventLoop.hpp"
#include "daemon/service/JournalStream.hpp"
#include "daemon/service/PowerSource.hpp"
#include "daemon/engine/Log.hpp"
#include "daemon/service/Recorder.hpp"
#include "daemon/service/DesktopNotifier.hpp"
#include "daemon/service/GlobalShortcuts.hpp"
#include "daemon/service/MediaPlayerPauser.hpp"
#include "daemon/service/TrayIcon.hpp"
#include "daemon/dbus/RecorderAdaptor.hpp"
#include "daemon/engine/device/StreamIdentity.hpp"

#include <CLI/CLI.hpp>
#include <sdbus-c++/sdbus-c++.h>
#include <spdlog/spdlog.h>

#include <csignal>

namespace {
constexpr int exitBadConfig = 78; // EX_CONFIG, sysexits.h
}

#ifndef RECD_VERSION
#define RECD_VERSION "unknown"
#endif

int main(int argc, char** argv)
{
    CLI::App app{"recd: records audio from an input device to files, controlled over D-Bus "
                 "(org.recd.Recorder1 on the session bus; see recctl)",
                 "recd"};
    std::string configPath;
    std::string level = "info";
    app.add_option("-c,--config", configPath, "configuration file (TOML)")
        ->default_str(recd::Config::defaultPath().string());
    app.add_option("-l,--log-level", level, "trace, debug, info, warn or error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
    app.set_version_flag("-V,--version", std::string("recd ") + RECD_VERSION);
    CLI11_PARSE(app, argc, argv);

    auto& log = recd::log();
    log.set_level(spdlog::level::from_str(level));
    if (recd::stderrIsJournal())
        recd::logWithJournalPriorities(log);
    else
        log.set_pattern("%L %v"); // run by hand: the level's letter, no time stamps

    const bool explicitConfig = !configPath.empty();
    const std::filesystem::path path = explicitConfig ? std::filesystem::path(configPath) : recd::Config::defaultPath();
    recd::Config config;
    try {
        config = recd::Config::load(path, explicitConfig);
    } catch (const recd::ConfigError& e) {
        log.critical("bad configuration: {}", e.what());
        // EX_CONFIG: the unit does not restart recd for it (RestartPreventExitStatus).
        return exitBadConfig;
    }
    // Before any thread exists: it sets an environment variable that libpulse
    // reads each time a stream is opened (StreamIdentity.hpp). recd sets no
    // latency there (AudioPacing.hpp).
    recd::nameStreams(config.engine.api);
    // A client that vanishes while we write to it must not kill the daemon, nor
    // may a file-size limit (RLIMIT_FSIZE): with SIGXFSZ ignored the write fails
    // with EFBIG, and the recording ends as io_error with its file finalized.
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGXFSZ, SIG_IGN);

    std::unique_ptr<sdbus::IConnection> bus;
    try {
        bus = sdbus::createSessionBusConnection();
    } catch (const sdbus::Error& e) {
        log.critical("cannot connect to the session bus: {}", e.getMessage());
        return 1;
    }

    recd::EventLoop loop(*bus);
    recd::Recorder recorder(config, [&loop] { loop.wake(); });
    recd::RecorderAdaptor adaptor(*bus, recorder);
    recd::DesktopNotifier notifier(*bus, recorder);
    recd::MediaPlayerPauser players(*bus, recorder);
    // The writer thread wakes the loop when a take ended by itself, and when new
    // levels are ready for the Level signal.
    recd::PowerSource power([&loop] { loop.wake(); });
    recorder.setOnBattery(power.onBattery());
    loop.onWake = [&] {
        recorder.reapEnded();
        adaptor.emitLevels();
        recorder.setOnBattery(power.onBattery());
    };
    loop.onChild = [&] { recorder.reapHooks(); };
    loop.onReload = [&] {
        try {
            recorder.setConfig(recd::Config::load(path, explicitConfig));
            log.info("reloaded the configuration from {}", path.string());
        } catch (const recd::ConfigError& e) {
            log.error("kept the old configuration: {}", e.what());
        }
    };

    // The name last: a client activated us and waits for it, and by now every
    // method can be served.
    try {
        bus->requestName("org.recd.Recorder1");
    } catch (const sdbus::Error& e) {
        log.critical("cannot own org.recd.Recorder1 (is another recd running?): {}", e.getMessage());
        return 1;
    }
    recorder.recoverInterrupted();
    // Once recd can serve: a shortcut may be pressed as soon as it is bound.
    recd::GlobalShortcuts shortcuts(*bus, recorder);
    recd::TrayIcon tray(*bus, recorder);
    // A reload (SIGHUP) turns them on or off as the new config says.
    loop.onReload = [&, reload = loop.onReload] {
        reload();
        shortcuts.apply();
        tray.apply();
    };
    log.info("recd {} ready: {} audio, recordings in {}", RECD_VERSION,
             recd::audioApiName(config.engine.api), config.directory.string());

    // Whatever ends the daemon, a take in progress is finalized first: a main
    // loop that fails (poll refused, a callback threw) included.
    int sig = 0;
    bool failed = false;
    try {
        sig = loop.run();
    } catch (const std::exception& e) {
        log.critical("the main loop failed: {}", e.what());
        failed = true;
    }
    try {
        recorder.finishForExit(); // a start abandoned, a take finalized
    } catch (const std::exception& e) {
        log.error("finalizing the recording: {}", e.what());
    }
    log.info("recd exiting{}", failed ? std::string(" after the failure") : sig ? fmt::format(" on {}", strsignal(sig))
                                                                                : std::string(" (bus gone)"));
    return failed ? 1 : 0; // a failure: the unit's Restart=on-failure starts recd again
}
