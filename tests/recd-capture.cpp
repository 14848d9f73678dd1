// recd-capture: records with the engine alone, no daemon and no D-Bus.
// For trying devices and formats, for the engine's rig tests, and for comparing
// the audio APIs. Results go to stdout as "key value" lines; logs go to stderr.

#include "daemon/engine/device/AudioSystem.hpp"
#include "daemon/engine/session/CaptureSession.hpp"
#include "daemon/engine/device/DeviceSelector.hpp"
#include "common/Errors.hpp"
#include "daemon/engine/Log.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <thread>

namespace {
volatile std::sig_atomic_t interrupted = 0;
}

int main(int argc, char** argv)
{
    CLI::App app{"Record from an input device with the recd engine (no daemon)", "recd-capture"};
    std::string path, device, apiName, format;
    std::optional<unsigned> rate, channels;
    double seconds = 3.0;
    double pauseAt = -1, pauseFor = 0;
    bool list = false, overwrite = false, verbose = false;
    app.add_option("path", path, "absolute path of the file to write (.wav .flac .ogg .opus .mp3)");
    app.add_option("-d,--device", device, "device id, exact name or unique substring");
    app.add_option("-r,--rate", rate, "sample rate in Hz");
    app.add_option("-c,--channels", channels, "number of channels");
    app.add_option("-f,--format", format, "sample format: s16, s24, s32, f32");
    app.add_option("-s,--seconds", seconds, "how long to record")->check(CLI::PositiveNumber);
    app.add_option("--api", apiName, "audio API: pulse or alsa")->check(CLI::IsMember({"pulse", "alsa"}));
    app.add_option("--pause-at", pauseAt, "pause after this many seconds");
    app.add_option("--pause-for", pauseFor, "stay paused this many seconds");
    app.add_flag("--overwrite", overwrite, "replace an existing file");
    app.add_flag("-l,--list", list, "list the devices and exit");
    app.add_flag("-v,--verbose", verbose, "debug logging");
    CLI11_PARSE(app, argc, argv);

    recd::log().set_level(verbose ? spdlog::level::debug : spdlog::level::warn);
    recd::EngineSettings settings;
    if (!apiName.empty())
        settings.api = *recd::parseAudioApi(apiName);
    std::signal(SIGINT, [](int) { interrupted = 1; });
    std::signal(SIGTERM, [](int) { interrupted = 1; });

    try {
        recd::AudioSystem audio(settings.api);
        const auto devices = audio.devices();
        if (list) {
            for (const auto& d : devices)
                fmt::print("{}\t{}\tin={}\tpreferred={}{}\n", d.id, d.name, d.inputChannels, d.preferredRate,
                           d.isDefault ? "\tdefault" : "");
            return 0;
        }
        if (path.empty())
            throw recd::InvalidArgument("give the path of the file to write");
        recd::RecordingRequest request;
        request.path = std::filesystem::absolute(path);
        request.device = device;
        request.rate = rate;
        request.channels = channels;
        request.overwrite = overwrite;
        if (!format.empty()) {
            request.sampleFormat = recd::parseSampleFormat(format);
            if (!request.sampleFormat)
                throw recd::InvalidArgument(fmt::format("unknown sample format '{}'; use one of {}", format,
                                                        recd::allSampleFormatNames()));
        }
        const recd::CapturePlan plan = recd::planCapture(request, devices);

        const auto t0 = std::chrono::steady_clock::now();
        recd::CaptureSession session(plan, settings);
        const auto started = std::chrono::steady_clock::now();
        auto sleepUntil = [&](double s) {
            while (!interrupted && !session.ended() &&
                   std::chrono::steady_clock::now() - started < std::chrono::duration<double>(s))
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
        };
        if (pauseAt >= 0) {
            sleepUntil(pauseAt);
            session.pause();
            sleepUntil(pauseAt + pauseFor);
            session.resume();
        }
        sleepUntil(seconds);
        const auto stopCalled = std::chrono::steady_clock::now();
        const recd::StopResult r = session.stop();
        const auto stopped = std::chrono::steady_clock::now();
        const auto status = session.status();
        using ms = std::chrono::duration<double, std::milli>;
        fmt::print("path {}\napi {}\ndevice {}\nrate {}\nchannels {}\nformat {}\n", r.path.string(),
                   recd::audioApiName(settings.api), plan.device.id, plan.rate, plan.channels,
                   recd::sampleFormatName(plan.sampleFormat));
        fmt::print("frames {}\nduration {:.6f}\nwall {:.6f}\nstart_ms {:.2f}\nstop_ms {:.2f}\n", r.frames, r.duration,
                   std::chrono::duration<double>(stopCalled - started).count(), ms(started - t0).count(),
                   ms(stopped - stopCalled).count());
        fmt::print("overruns {}\ninput_overflows {}\nreason {}\n", status.overruns, status.inputOverflows,
                   recd::stopReasonName(r.reason));
        return r.reason == recd::StopReason::Requested ? 0 : 1;
    } catch (const recd::Error& e) {
        fmt::print(stderr, "recd-capture: {}\n", e.what());
        return 1;
    }
}
