#pragma once
// The file, or with split_every the numbered parts, that one take writes.
//
// Writes go to the current part until it holds splitFrames, then that part is
// made final before the next one exists (a crash leaves every finished part
// whole), and the next part's time stamp is where it begins in the take. Only
// the session's writer thread writes; the path, the part number and the bytes on
// disk may be read from any thread.

#include "daemon/engine/file/SoundFileWriter.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace recd {

class TakeFiles {
public:
    // Creates the first file from `first` (throws FileExists, IoError, ... with
    // nothing left behind). splitFrames 0: one file. Each next part is named
    // from splitBase (partPath) and announced to onNewFile before audio goes in.
    TakeFiles(const FileSpec& first, std::filesystem::path splitBase, std::uint64_t splitFrames,
              std::function<void(const std::filesystem::path&)> onNewFile);

    // --- the writer thread
    // Frames [fileFrame, fileFrame + frames) of the take: never an empty last
    // part, never a frame twice.
    void write(const std::byte* data, std::uint64_t frames, std::uint64_t fileFrame);
    // The wall-clock time of the take's first sample, once it is known.
    void stampFirstSample(std::uint64_t usec);
    void sync() { writer_->sync(); }
    // Cuts the take back to `fileFrame` frames, within the current part. The
    // take's new length, or nothing if the container cannot be cut.
    std::optional<std::uint64_t> truncate(std::uint64_t fileFrame);

    // --- after the writer thread ended
    void close() { writer_->close(); }
    // Deletes the current part, and with it every finished one.
    void discardAll() noexcept;
    // Deletes the current part (a take stopped before any sound).
    void discard() noexcept { writer_->discard(); }

    // --- any thread
    std::filesystem::path currentPath() const;
    unsigned part() const;
    std::uint64_t bytesOnDisk() const;

private:
    void startNextPart(std::uint64_t fileFrame);

    FileSpec spec_; // of the first part; the next ones differ in path and time stamp
    const std::filesystem::path splitBase_;
    const std::uint64_t splitFrames_;
    std::function<void(const std::filesystem::path&)> onNewFile_;
    std::uint64_t partStart_ = 0; // writer thread: the take's frame the current part begins at

    mutable std::mutex mutex_; // writer_ is replaced, and the rest changes, under it
    std::unique_ptr<SoundFileWriter> writer_;
    std::filesystem::path currentPath_;
    std::vector<std::filesystem::path> finishedParts_;
    unsigned part_ = 1;
};

} // namespace recd
