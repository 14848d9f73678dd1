// recd-analyze [--bursts HZ] FILE...: the facts of a recording, measured from its
// samples (libsndfile reads it back): duration, rate, channels, peak and RMS
// level, and the dominant tone; with --bursts, also where bursts of a HZ tone at
// 0.4 full scale begin (the markers the pre-roll benchmark plays). Used by
// scripts/demo and the benchmarks.

#include "tests/support/AudioFile.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <exception>
#include <string_view>

int main(int argc, char** argv)
{
    double burstHz = 0;
    int first = 1;
    if (argc > 2 && std::string_view(argv[1]) == "--bursts") {
        burstHz = std::atof(argv[2]);
        first = 3;
    }
    if (argc <= first || (first == 3 && burstHz <= 0)) {
        fmt::print(stderr, "usage: recd-analyze [--bursts HZ] FILE...\n");
        return 2;
    }
    int rc = 0;
    for (int i = first; i < argc; ++i) {
        try {
            const auto a = recd::test::readAudioFile(argv[i]);
            const auto x = a.channel(0);
            fmt::print("file:       {}\nduration:   {:.3f} s ({} frames)\nrate:       {} Hz\nchannels:   {}\n"
                       "peak level: {:.1f} dBFS\nrms level:  {:.1f} dBFS\ntone:       {:.1f} Hz\n",
                       argv[i], a.duration(), a.frames, a.rate, a.channels, recd::test::peakDbfs(a.samples),
                       recd::test::rmsDbfs(a.samples), recd::test::toneFrequency(x, a.rate));
            if (burstHz > 0)
                fmt::print("bursts:     {:.4f}\n", fmt::join(recd::test::toneBursts(x, a.rate, burstHz, 0.2), " "));
        } catch (const std::exception& e) {
            fmt::print(stderr, "recd-analyze: {}\n", e.what());
            rc = 1;
        }
    }
    return rc;
}
