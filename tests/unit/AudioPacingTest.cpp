// The audio pacing: which chunk size each API gets by default, the larger one
// of a kept (pre-roll) input, and a user's own PULSE_LATENCY_MSEC read as
// libpulse reads it.

#include "daemon/engine/capture/AudioPacing.hpp"
#include "daemon/engine/session/CaptureSession.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace recd;
using namespace std::chrono_literals;

namespace {

const char* variable() { return deliveryIntervalVariable; }

} // namespace

TEST(AudioPacing, BothApisAskForNoLessThanTheGraphsDefaultPeriod)
{
    // PipeWire's default quantum is 1024 frames and its default largest 2048: a
    // buffer of 2048 never lowers the period the graph would run at without recd.
    EXPECT_GE(defaultBufferFrames, 2048u);
    EngineSettings settings;
    settings.api = AudioApi::Pulse;
    EXPECT_EQ(settings.framesPerBuffer(), defaultBufferFrames);
    settings.api = AudioApi::Alsa;
    EXPECT_EQ(settings.framesPerBuffer(), defaultBufferFrames);
    settings.bufferFrames = 512; // buffer_frames in the config wins for either API
    EXPECT_EQ(settings.framesPerBuffer(), 512u);
}

TEST(AudioPacing, ARelaxedStreamIsDeliveredATenthOfASecondOrItsBufferIfLarger)
{
    EXPECT_EQ(relaxedDeliveryFrames(2048, 48000), 4800u);
    EXPECT_EQ(relaxedDeliveryFrames(2048, 44100), 4410u);
    EXPECT_EQ(relaxedDeliveryFrames(2048, 8000), 2048u);
    EXPECT_EQ(relaxedDeliveryFrames(16384, 48000), 16384u);
}

TEST(AudioPacing, TheApisAreNamedAsTheConfigNamesThem)
{
    for (const auto api : {AudioApi::Pulse, AudioApi::Alsa, AudioApi::PulseNative})
        EXPECT_EQ(parseAudioApi(audioApiName(api)), api);
    EXPECT_EQ(parseAudioApi("pulse-native"), AudioApi::PulseNative);
    EXPECT_FALSE(parseAudioApi("jack"));
}

TEST(AudioPacing, RecdSetsNoLatencyOfItsOwn)
{
    ::unsetenv(variable());
    EXPECT_EQ(deliveryInterval(), 0ms) << "unset: the server paces by the buffer";
    ::setenv(variable(), "40", 1);
    EXPECT_EQ(deliveryInterval(), 40ms) << "a user's own choice is read as libpulse reads it";
    ::unsetenv(variable());
}

TEST(AudioPacing, ReadsTheIntervalAsLibpulseDoes)
{
    // libpulse takes a whole number of milliseconds and ignores anything else.
    for (const char* ignored : {"", "ten", "10ms", "-5", "2.5"}) {
        ::setenv(variable(), ignored, 1);
        EXPECT_EQ(deliveryInterval(), 0ms) << "'" << ignored << "'";
    }
    ::setenv(variable(), "25", 1);
    EXPECT_EQ(deliveryInterval(), 25ms);
    ::unsetenv(variable());
}
