#pragma once

#include "daemon/engine/file/Container.hpp"
#include "daemon/engine/file/Destination.hpp"
#include "common/SampleFormat.hpp"

#include <cstddef>
#include <cstdint>
#include <atomic>
#include <filesystem>
#include <memory>
#include <sys/types.h>

struct sf_private_tag;

namespace recd {

struct FileSpec {
    Destination destination;
    SampleFormat sampleFormat = SampleFormat::S16;
    unsigned rate = 48000;
    unsigned channels = 2;
    bool overwrite = false;
    mode_t mode = 0600;
    // Wall-clock time of the first sample, microseconds since the epoch (0:
    // unknown). WAV files carry it in a Broadcast WAV 'bext' chunk.
    std::uint64_t firstSampleUsec = 0;
    std::string source; // the input device's name, for the bext description
};

struct StreamIo;

// The writer: libsndfile on a file recd created itself.
//
// The file is created with O_EXCL|O_NOFOLLOW, so an existing file or a symlink at
// the path is never written through, and a file that appears between the checks
// and the creation is not clobbered. With overwrite, the new file is created under
// a temporary name beside the target and renamed over it, which replaces it
// atomically. If opening fails, whatever was created is removed.
class SoundFileWriter {
public:
    explicit SoundFileWriter(const FileSpec& spec);
    ~SoundFileWriter();
    SoundFileWriter(const SoundFileWriter&) = delete;
    SoundFileWriter& operator=(const SoundFileWriter&) = delete;

    // Writes interleaved frames in the capture layout of spec.sampleFormat.
    // Throws IoError naming the path and the system's reason.
    void write(const std::byte* frames, std::size_t count);
    // Brings the header's sizes up to date and flushes the data to the disk, so a
    // crash after this leaves a file that opens with everything written so far.
    void sync();
    // Cuts the file back to its first `frames` frames, where the container allows
    // it (WAV); false where it does not (the compressed containers).
    bool truncate(std::uint64_t frames);
    // For a file created before its first sample's time was known (start_on_sound):
    // the Broadcast WAV time stamp, before the first write.
    void stampFirstSample(std::uint64_t firstSampleUsec);
    // Finalizes the header and closes. Throws IoError.
    void close();
    // Closes and deletes the file.
    void discard() noexcept;

    std::uint64_t framesWritten() const { return frames_; }
    std::uint64_t bytesOnDisk() const;
    const std::filesystem::path& path() const { return spec_.destination.path(); }

private:
    void writeBroadcastInfo(const FileSpec& spec);
    void openStream(const FileSpec& spec);
    // A WAV file of recd's own: it takes a bext chunk and can be cut back
    // (not a stream, not a compressed container).
    bool patchableWav() const;
    [[noreturn]] void fail(const char* what, int err = 0);

    FileSpec spec_;
    int fd_ = -1;
    sf_private_tag* file_ = nullptr;
    bool streaming_ = false;
    std::unique_ptr<StreamIo> stream_; // a stream's virtual I/O
    std::atomic<std::uint64_t> frames_{0}; // read by bytesOnDisk() from other threads
};

} // namespace recd
