#include "client/Monitor.hpp"

#include "client/ExitCode.hpp"
#include "client/Interrupt.hpp"
#include "client/Output.hpp"

#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace recctl {

namespace {

constexpr double floorDb = -60.0; // the left end of a bar
constexpr int barWidth = 40;

std::string channelName(std::size_t c, std::size_t channels)
{
    if (channels == 2)
        return c == 0 ? "L" : "R";
    return fmt::format("{}", c + 1);
}

// Each channel's label: L and R, or its number; with several inputs side by
// side, the input's number first (1 and 2 for mono inputs; 1L, 1R, 2L, 2R),
// and `names` gets a line per input that says which is which.
std::vector<std::string> channelLabels(const nlohmann::json& status, std::size_t channels,
                                       std::vector<std::string>& names)
{
    std::vector<std::string> labels;
    const auto inputs = status.value("inputs", nlohmann::json::array());
    std::size_t sideBySide = 0;
    for (const auto& in : inputs)
        sideBySide += in.value("channels", 0u);
    if (inputs.size() > 1 && sideBySide == channels) {
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            const std::size_t n = inputs[i].value("channels", 0u);
            names.push_back(fmt::format("input {}: {}", i + 1, inputs[i].value("name", std::string())));
            for (std::size_t c = 0; c < n; ++c)
                labels.push_back(n == 1 ? fmt::format("{}", i + 1) : fmt::format("{}{}", i + 1, channelName(c, n)));
        }
        return labels;
    }
    for (std::size_t c = 0; c < channels; ++c)
        labels.push_back(channelName(c, channels));
    return labels;
}

// A bar from -60 to 0 dBFS: '#' up to the RMS level, '|' at the peak.
std::string bar(double peak, double rms)
{
    auto cell = [](double db) {
        return static_cast<int>(std::clamp((db - floorDb) / -floorDb, 0.0, 1.0) * barWidth);
    };
    std::string b(barWidth, ' ');
    for (int i = 0; i < cell(rms); ++i)
        b[static_cast<std::size_t>(i)] = '#';
    if (peak > floorDb)
        b[static_cast<std::size_t>(std::min(cell(peak), barWidth - 1))] = '|';
    return b;
}

std::string db(double v) { return v <= -999 ? "  -inf" : fmt::format("{:6.1f}", v); }

} // namespace

int runMonitor(sdbus::IConnection& bus, RecorderProxy& recorder, std::optional<unsigned> count)
{
    struct Update {
        std::vector<double> peak, rms;
        double elapsed = 0;
    };
    std::mutex mutex;
    std::condition_variable arrived;
    std::vector<Update> pending;
    recorder.onLevels = [&](const std::vector<double>& peak, const std::vector<double>& rms, double elapsed) {
        {
            std::lock_guard lock(mutex);
            pending.push_back({peak, rms, elapsed});
        }
        arrived.notify_one();
    };
    catchInterrupts();
    bus.enterEventLoopAsync();
    recorder.WatchLevels();

    const bool tty = ::isatty(STDOUT_FILENO) == 1;
    std::size_t drawn = 0; // lines drawn last time, to redraw over them
    auto draw = [&](const std::vector<std::string>& lines) {
        if (!tty) {
            for (const auto& l : lines)
                fmt::print("{}\n", l);
            std::fflush(stdout);
            return;
        }
        std::string out = drawn ? fmt::format("\x1b[{}F", drawn) : std::string("\x1b[?25l");
        for (const auto& l : lines)
            out += "\x1b[2K" + l + "\n";
        fmt::print("{}", out);
        std::fflush(stdout);
        drawn = lines.size();
    };

    unsigned updates = 0;
    std::vector<std::string> labels, names; // of the take's channels, asked when their number changes
    auto lastLevel = std::chrono::steady_clock::now();
    std::string lastState;
    while (!interrupted() && (!count || updates < *count)) {
        std::vector<Update> got;
        {
            std::unique_lock lock(mutex);
            arrived.wait_for(lock, std::chrono::milliseconds(100), [&] { return !pending.empty(); });
            got.swap(pending);
        }
        if (!got.empty()) {
            const Update& u = got.back();
            lastLevel = std::chrono::steady_clock::now();
            lastState = "recording";
            std::vector<std::string> lines;
            bool newTake = false;
            if (labels.size() != u.peak.size()) {
                names.clear();
                labels = channelLabels(toJson(recorder.GetStatus()), u.peak.size(), names);
                newTake = true;
            }
            if (tty) {
                lines.push_back(fmt::format("recording  {:9.1f} s", u.elapsed));
                lines.insert(lines.end(), names.begin(), names.end());
                for (std::size_t c = 0; c < u.peak.size(); ++c)
                    lines.push_back(fmt::format("{:>2} [{}] {} dBFS peak {} rms{}", labels[c],
                                                bar(u.peak[c], u.rms[c]), db(u.peak[c]), db(u.rms[c]),
                                                u.peak[c] >= -0.1 ? "  CLIP" : ""));
            } else {
                // Which input is which, once per take of several.
                if (newTake)
                    lines.insert(lines.end(), names.begin(), names.end());
                std::string line = fmt::format("recording elapsed={:.3f}", u.elapsed);
                for (std::size_t c = 0; c < u.peak.size(); ++c)
                    line += fmt::format(" {}:peak={:.1f},rms={:.1f}{}", labels[c], u.peak[c], u.rms[c],
                                        u.peak[c] >= -0.1 ? ",clip" : "");
                lines.push_back(line);
            }
            draw(lines);
            updates += static_cast<unsigned>(got.size());
        } else if (std::chrono::steady_clock::now() - lastLevel > std::chrono::milliseconds(500)) {
            // No levels: idle or paused. Say which, once per change.
            const auto status = recorder.GetStatus();
            const std::string state = status.at("state").get<std::string>();
            if (state != lastState) {
                draw({state == "paused" ? "paused" : fmt::format("{} (waiting for a recording)", state)});
                lastState = state;
            }
            lastLevel = std::chrono::steady_clock::now();
        }
    }
    try {
        recorder.UnwatchLevels();
    } catch (const sdbus::Error&) {
        // recd went away; nothing to undo
    }
    if (tty)
        fmt::print("\x1b[?25h");
    std::fflush(stdout);
    return Success;
}

} // namespace recctl
