// recd-analyze FILE...: the facts of a recording, measured from its samples
// (libsndfile reads it back): duration, rate, channels, peak and RMS level, and
// the dominant tone. Used by scripts/demo and the benchmarks.

#include "AudioFile.hpp"

#include <fmt/format.h>

#include <exception>

int main(int argc, char** argv)
{
    if (argc < 2) {
        fmt::print(stderr, "usage: recd-analyze FILE...\n");
        return 2;
    }
    int rc = 0;
    for (int i = 1; i < argc; ++i) {
        try {
            const auto a = recd::test::readAudioFile(argv[i]);
            const auto x = a.channel(0);
            fmt::print("file:       {}\nduration:   {:.3f} s ({} frames)\nrate:       {} Hz\nchannels:   {}\n"
                       "peak level: {:.1f} dBFS\nrms level:  {:.1f} dBFS\ntone:       {:.1f} Hz\n",
                       argv[i], a.duration(), a.frames, a.rate, a.channels, recd::test::peakDbfs(a.samples),
                       recd::test::rmsDbfs(a.samples), recd::test::toneFrequency(x, a.rate));
        } catch (const std::exception& e) {
            fmt::print(stderr, "recd-analyze: {}\n", e.what());
            rc = 1;
        }
    }
    return rc;
}
