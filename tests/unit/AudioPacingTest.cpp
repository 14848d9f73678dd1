// The audio pacing: which chunk size each API gets by default, and how the
// delivery interval reaches libpulse (an environment variable it reads at each
// stream's connect) without overriding a user's own choice.

#include "AudioPacing.hpp"
#include "CaptureSession.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace recd;
using namespace std::chrono_literals;

namespace {

const char* variable() { return deliveryIntervalVariable; }

} // namespace

TEST(AudioPacing, PulseGetsSmallChunksWhenPacedAndAlsaKeepsItsPeriods)
{
    ::unsetenv(variable());
    EXPECT_EQ(defaultBufferFrames(AudioApi::Pulse), 512u) << "unpaced, the server would deliver every chunk";
    requestDeliveryInterval(AudioApi::Alsa);
    EXPECT_EQ(std::getenv(variable()), nullptr) << "ALSA's plugin paces by its period";
    requestDeliveryInterval(AudioApi::Pulse);
    EXPECT_EQ(defaultBufferFrames(AudioApi::Pulse), 128u);
    EXPECT_EQ(defaultBufferFrames(AudioApi::Alsa), 512u);

    EngineSettings settings;
    settings.api = AudioApi::Pulse;
    EXPECT_EQ(settings.framesPerBuffer(), 128u);
    settings.api = AudioApi::Alsa;
    EXPECT_EQ(settings.framesPerBuffer(), 512u);
    settings.bufferFrames = 1024; // buffer_frames in the config wins for either API
    EXPECT_EQ(settings.framesPerBuffer(), 1024u);
    ::unsetenv(variable());
}

TEST(AudioPacing, AUsersOwnIntervalWinsAndIsNotCountedAsOurs)
{
    ::setenv(variable(), "40", 1);
    requestDeliveryInterval(AudioApi::Pulse, 10ms);
    EXPECT_STREQ(std::getenv(variable()), "40");
    EXPECT_EQ(deliveryInterval(), 40ms);
    EXPECT_FALSE(deliveryIntervalIsOurs()) << "a hook inherits the user's setting";

    ::unsetenv(variable());
    EXPECT_EQ(deliveryInterval(), 0ms) << "unset: the server paces by the buffer";
    requestDeliveryInterval(AudioApi::Pulse);
    EXPECT_EQ(std::string(std::getenv(variable())), std::to_string(defaultDeliveryInterval.count()));
    EXPECT_EQ(deliveryInterval(), defaultDeliveryInterval);
    EXPECT_TRUE(deliveryIntervalIsOurs());
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
