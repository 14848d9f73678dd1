// IoError keeps the errno of the call that failed, from each place the file
// system can refuse a take: creating the file, writing its audio, checking the
// target. Real files and real descriptors: /dev/full is the disk that is full.

#include "daemon/engine/file/Container.hpp"
#include "common/Errors.hpp"
#include "daemon/engine/session/RecordingRequest.hpp"
#include "daemon/engine/file/SoundFileWriter.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <memory>
#include <unistd.h>

using namespace recd;

namespace {

int errnoOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const IoError& e) {
        return e.errorNumber();
    }
    ADD_FAILURE() << "no IoError";
    return -1;
}

FileSpec wavAt(const std::filesystem::path& path)
{
    FileSpec spec;
    spec.destination = Destination::file(path, containerForPath(path));
    return spec;
}

} // namespace

TEST(IoError, CreatingInADirectoryThatIsGoneKeepsEnoent)
{
    const auto spec = wavAt("/nonexistent-recd-dir/take.wav");
    EXPECT_EQ(errnoOf([&] { SoundFileWriter w(spec); }), ENOENT);
}

TEST(IoError, AFullDiskKeepsEnospcForTheHeaderAndForTheAudio)
{
    const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    ASSERT_GE(full, 0);
    auto fd = std::shared_ptr<const int>(new int(full), [](const int* p) {
        ::close(*p);
        delete p;
    });
    FileSpec spec;
    spec.destination = Destination::descriptor(fd, Destination::Framing::Wav);
    // A WAV stream writes its header first.
    EXPECT_EQ(errnoOf([&] { SoundFileWriter w(spec); }), ENOSPC);
    // Raw PCM has no header: the audio's own write fails.
    spec.destination = Destination::descriptor(fd, Destination::Framing::Raw);
    SoundFileWriter raw(spec);
    std::array<std::byte, 4 * 4800> audio{};
    EXPECT_EQ(errnoOf([&] { raw.write(audio.data(), 4800); }), ENOSPC);
}

TEST(IoError, ATargetDirectoryThatIsGoneIsRefusedWithEnoent)
{
    EXPECT_EQ(errnoOf([] { checkTargetPath("/nonexistent-recd-dir/take.wav", false); }), ENOENT);
}
