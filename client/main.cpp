// recctl: controls recd from the shell, for scripts and desktop hotkeys.
// Each command is one D-Bus call; the first call starts recd by D-Bus activation.

#include "client/CallTimeout.hpp"
#include "client/ExitCode.hpp"
#include "client/Interrupt.hpp"
#include "client/InvocationTime.hpp"
#include "client/LineOutput.hpp"
#include "client/Output.hpp"
#include "client/Monitor.hpp"
#include "client/RecorderProxy.hpp"
#include "client/StartFlags.hpp"
#include "client/StatusFollower.hpp"
#include "common/WavRepair.hpp"
#include "common/Errors.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <atomic>
#include <csignal>
#include <future>
#include <unistd.h>
#include <mutex>
#include <functional>
#include <optional>

namespace {

const char* const footer = R"(Exit codes:
  0  success
  1  the operation failed (the message says why)
  2  usage error
  3  recd could not be reached or started
  4  nothing to act on (stop, pause, resume or cancel while idle)
  5  already recording (start while a recording runs)
  6  wait --timeout passed with the recording still running

Examples:
  recctl start ~/notes/idea.wav      # prints the absolute path
  recctl stop                        # prints "<path><TAB><seconds>"
  recctl toggle                      # bind this to a key
  recctl stop || recctl start        # the same, by exit code)";

// `recctl start -`: recd writes the take into recctl's stdout (the descriptor
// goes over D-Bus), and recctl stays until the take stops, so a pipeline such as
// `recctl start - | recognizer` lasts as long as the take. Ctrl-C stops it.
int streamToStdout(sdbus::IConnection& bus, recctl::RecorderProxy& recorder, recctl::Dict options, bool raw)
{
    if (::isatty(STDOUT_FILENO)) {
        fmt::print(stderr, "recctl: stdout is a terminal; `recctl start -` streams audio, so pipe it (recctl start - "
                           "| program) or give a file name\n");
        return recctl::Usage;
    }
    auto result = recctl::nextStop(recorder, [](const std::string& path) { return path == "-"; });
    recctl::catchInterrupts();
    std::signal(SIGPIPE, SIG_IGN);
    bus.enterEventLoopAsync();
    options["fd"] = sdbus::Variant(sdbus::UnixFd(STDOUT_FILENO));
    if (raw)
        options["raw"] = sdbus::Variant(true);
    recorder.StartRecording("", options);
    // recd holds its own copy now; ours must not keep the reader waiting after the take.
    ::close(STDOUT_FILENO);
    while (result.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
        if (recctl::takeInterrupt()) {
            try {
                recorder.StopRecording();
            } catch (const sdbus::Error&) {
                // it ended meanwhile
            }
        }
    }
    const std::string reason = result.get().reason;
    if (reason == "device_lost" || reason == "error") {
        fmt::print(stderr, "recctl: the take ended by a fault: {} (recctl status shows why)\n", reason);
        return recctl::Failed;
    }
    return recctl::Success; // io_error included: the reader went away, which ends a stream
}

int waitForStop(sdbus::IConnection& bus, recctl::RecorderProxy& recorder, std::optional<double> timeout, bool json)
{
    auto result = recctl::nextStop(recorder); // listen first, then look
    bus.enterEventLoopAsync();
    const auto status = recorder.GetStatus();
    if (status.at("state").get<std::string>() == "idle") {
        fmt::print(stderr, "recctl: nothing to wait for: not recording\n");
        return recctl::NothingToActOn;
    }
    if (timeout && result.wait_for(std::chrono::duration<double>(*timeout)) != std::future_status::ready) {
        fmt::print(stderr, "recctl: still recording after {} s\n", *timeout);
        return recctl::TimedOut;
    }
    const recctl::StoppedTake s = result.get();
    fmt::print("{}", recctl::formatEnded(s.path, s.duration, json, "was saved", {{"reason", s.reason}}));
    if (s.reason == "device_lost" || s.reason == "io_error" || s.reason == "error") {
        fmt::print(stderr, "recctl: the recording ended by a fault: {} (recctl status shows why)\n", s.reason);
        return recctl::Failed;
    }
    return recctl::Success;
}

} // namespace

int main(int argc, char** argv)
{
    // The moment the user asked: a stop or a toggle ends the take there, not
    // ~10 ms later when the call reaches recd.
    const std::uint64_t invokedUsec = recctl::invocationUsec();
    CLI::App app{"recctl: control the recd audio recorder", "recctl"};
    app.footer(footer);
    app.require_subcommand(1);
    app.set_version_flag("-V,--version", std::string("recctl ") + RECD_VERSION);

    recctl::StartFlags startFlags, toggleFlags;
    bool json = false;
    const char* const jsonHelp = "print one JSON object instead of the line (carries any path, tabs and newlines "
                                 "included)";
    auto* start = app.add_subcommand(
        "start", "start recording; prints the absolute path of the file. PATH - streams WAV to stdout until the "
                 "take stops (recctl stop, max duration, silence, Ctrl-C)");
    startFlags.addTo(*start);
    bool rawStream = false;
    start->add_flag("--raw", rawStream, "with PATH -: headerless PCM instead of WAV");
    start->add_flag("-j,--json", json, jsonHelp);
    auto* toggle = app.add_subcommand("toggle", "start when idle, stop when recording; prints what start or stop prints");
    toggleFlags.addTo(*toggle);
    toggle->add_flag("-j,--json", json, jsonHelp);
    auto* stop = app.add_subcommand("stop", "stop recording; prints the path and the duration in seconds, tab-separated");
    stop->add_flag("-j,--json", json, jsonHelp);
    auto* pause = app.add_subcommand("pause", "pause the recording (paused time is left out of the file)");
    auto* resume = app.add_subcommand("resume", "resume a paused recording");
    auto* cancel = app.add_subcommand("cancel", "stop recording and delete the file");
    std::optional<double> waitTimeout;
    auto* wait = app.add_subcommand(
        "wait", "wait until the current recording stops (max duration, silence, another client) and print what "
                "stop prints; exits 1 if it ended by a fault, 4 if nothing is recording");
    wait->add_option("-t,--timeout", waitTimeout, "give up after this many seconds (exit 6)")
        ->check(CLI::PositiveNumber);
    wait->add_flag("-j,--json", json, jsonHelp);
    std::optional<unsigned> monitorCount;
    auto* monitor = app.add_subcommand(
        "monitor", "live input meter while recording: a bar per channel with peak and RMS dBFS, a clip marker, "
                   "the elapsed time and the state; redraws in place on a terminal, one line per update when "
                   "piped; Ctrl-C ends it");
    monitor->add_option("-n,--count", monitorCount, "end after this many level updates (about 10 a second)")
        ->check(CLI::PositiveNumber);
    auto* duration = app.add_subcommand("duration", "print the seconds recorded so far (0.000 when idle)");
    auto* status = app.add_subcommand("status", "show what recd is doing");
    status->add_flag("-j,--json", json, "one JSON object with the fields of GetStatus; with --follow, one per line");
    bool follow = false;
    std::string statusFormat;
    status->add_flag("-F,--follow", follow,
                     "print a line now and one per change (state, path, elapsed time at most once a second "
                     "while recording) until interrupted; recd spends nothing on it while idle");
    status->add_option("--format", statusFormat,
                       "text, json (as --json) or waybar (a Waybar custom module's JSON: text, tooltip, class idle, "
                       "recording, paused or waiting); waybar prints one line, or a line per change with --follow")
        ->check(CLI::IsMember({"text", "json", "waybar"}));
    auto* devices = app.add_subcommand("devices", "list the input devices");
    devices->add_flag("-j,--json", json, "one JSON array with the fields of ListDevices");
    std::vector<std::string> repairFiles;
    auto* repair = app.add_subcommand(
        "repair", "fix the header of WAV files whose writer died (sizes from the file length); no daemon needed");
    repair->add_option("files", repairFiles, "WAV files to repair")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return recctl::Usage;
    }

    if (repair->parsed()) {
        // Local work on files: recd need not run, and is not started for it.
        int rc = recctl::Success;
        for (const auto& file : repairFiles) {
            try {
                fmt::print("{}\n", recd::repairWav(file).describe(file));
            } catch (const recd::Error& e) {
                fmt::print(stderr, "recctl: {}\n", e.what());
                rc = recctl::Failed;
            }
        }
        return rc;
    }

    std::unique_ptr<sdbus::IConnection> bus;
    try {
        bus = sdbus::createSessionBusConnection();
        bus->setMethodCallTimeout(recctl::callTimeout());
        const bool hears = wait->parsed() || monitor->parsed() || (start->parsed() && startFlags.path == "-");
        // Refused before anything starts: a path the line output cannot carry.
        if (!json && start->parsed() && startFlags.path != "-")
            recctl::requireOneLine(startFlags.absolutePath(), "was not started", recctl::Usage);
        if (!json && toggle->parsed())
            recctl::requireOneLine(toggleFlags.absolutePath(), "was not started, and nothing was stopped",
                                   recctl::Usage);
        recctl::RecorderProxy recorder(*bus, hears ? recctl::RecorderProxy::Signals::Hear
                                                   : recctl::RecorderProxy::Signals::Ignore);

        if (start->parsed() && startFlags.path == "-") {
            return streamToStdout(*bus, recorder, startFlags.options(), rawStream);
        } else if (start->parsed()) {
            if (rawStream)
                throw sdbus::Error("org.recd.Recorder1.Error.InvalidArgument",
                                   "--raw is for `recctl start -` (a stream to stdout); files get a header");
            fmt::print("{}", recctl::formatStarted(recorder.StartRecording(startFlags.absolutePath(), startFlags.options()),
                                                   json));
        } else if (toggle->parsed()) {
            auto options = toggleFlags.options();
            options["at"] = sdbus::Variant(invokedUsec);
            auto [state, path] = recorder.ToggleRecording(toggleFlags.absolutePath(), options);
            if (state == "recording") {
                fmt::print("{}", recctl::formatStarted(path, json, {{"state", state}}));
            } else {
                // The daemon has just stopped; ask it for the duration it finalized.
                const auto s = recorder.GetStatus();
                const auto it = s.find("last_duration");
                const double seconds = it != s.end() ? it->second.get<double>() : 0.0;
                fmt::print("{}", recctl::formatEnded(path, seconds, json, "was stopped and saved", {{"state", state}}));
            }
        } else if (stop->parsed()) {
            auto [path, seconds, frames] = recorder.StopRecordingAt(invokedUsec);
            fmt::print("{}", recctl::formatEnded(path, seconds, json, "was stopped and saved", {{"frames", frames}}));
        } else if (pause->parsed()) {
            recorder.PauseRecording();
        } else if (resume->parsed()) {
            recorder.ResumeRecording();
        } else if (cancel->parsed()) {
            recorder.CancelRecording();
        } else if (wait->parsed()) {
            return waitForStop(*bus, recorder, waitTimeout, json);
        } else if (monitor->parsed()) {
            return recctl::runMonitor(*bus, recorder, monitorCount);
        } else if (duration->parsed()) {
            fmt::print("{:.3f}\n", recorder.GetDuration());
        } else if (status->parsed() && (follow || statusFormat == "waybar")) {
            const auto format = statusFormat == "waybar"             ? recctl::FollowFormat::Waybar
                                : json || statusFormat == "json" ? recctl::FollowFormat::Json
                                                                     : recctl::FollowFormat::Text;
            if (follow)
                return recctl::followStatus(*bus, recorder, format);
            fmt::print("{}\n", recctl::followLine(recctl::followedNow(recorder), format));
        } else if (status->parsed()) {
            json = json || statusFormat == "json";
            const auto s = recorder.GetStatus();
            fmt::print("{}", json ? recctl::toJson(s).dump(2) + "\n" : recctl::formatStatus(s));
        } else if (devices->parsed()) {
            const auto list = recorder.ListDevices();
            if (json) {
                nlohmann::json out = nlohmann::json::array();
                for (const auto& d : list)
                    out.push_back(recctl::toJson(d));
                fmt::print("{}\n", out.dump(2));
            } else {
                fmt::print("{}", recctl::formatDevices(list));
            }
        }
        return recctl::Success;
    } catch (const recctl::PathNotOnALine& e) {
        fmt::print(stderr, "recctl: {}\n", e.what());
        return e.code;
    } catch (const sdbus::Error& e) {
        const recctl::ExitCode code = recctl::exitCodeFor(e.getName());
        if (code == recctl::Unreachable)
            fmt::print(stderr, "recctl: {}\n", recctl::unreachableMessage(e, bus.get()));
        else
            fmt::print(stderr, "recctl: {}\n", e.getMessage());
        return code;
    }
}
