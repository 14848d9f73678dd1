#pragma once
// The file, or with split_every or split_on_silence the numbered parts, that
// one take writes; with layout files, one such file (or series of parts) per
// input, side by side.
//
// Writes go to the current part until it holds splitFrames (or the writer ends
// an utterance: closePart), then that part is made final before the next one
// exists (a crash leaves every finished part whole), and the next part's time
// stamp is where it begins in the take. The
// files of several inputs are split at the same frame, so part n of every input
// covers the same stretch of the take. Only the session's writer thread writes;
// the paths, the part number and the bytes on disk may be read from any thread.

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
    using OnNewFiles = std::function<void(const std::vector<std::filesystem::path>&)>;
    // A part is final: every file's, and the frames it holds.
    using OnPartClosed = std::function<void(const std::vector<std::filesystem::path>&, std::uint64_t frames)>;
    struct Parts {
        bool numbered = false;        // the files are parts: take-001.wav, take-002.wav, ...
        std::uint64_t splitFrames = 0; // a part every this many frames (0: where closePart says)
        OnPartClosed onClosed;         // on the thread that closed it (the writer's, or close()'s)
    };

    // Creates the first file from `first` (throws FileExists, IoError, ... with
    // nothing left behind). splitFrames 0: one file. With more than one source
    // (layout files), one file per source, each of first.channels channels,
    // named by takeFilePath from splitBase and described as that source. Each
    // next part is named from splitBase too, and the files being written are
    // announced to onNewFiles before audio goes into them.
    TakeFiles(const FileSpec& first, const std::vector<std::string>& sources, std::filesystem::path splitBase,
              Parts parts, OnNewFiles onNewFiles);
    ~TakeFiles();

    // --- the writer thread
    // Frames [fileFrame, fileFrame + frames) of the take, every file's channels
    // side by side: never an empty last part, never a frame twice. After
    // closePart() the next write begins the next part, at fileFrame.
    void write(const std::byte* data, std::uint64_t frames, std::uint64_t fileFrame);
    // Makes the current part final now (an utterance ended); no part is open
    // until the next write.
    void closePart();
    // The wall-clock time of the take's first sample, once it is known.
    void stampFirstSample(std::uint64_t usec);
    void sync();
    // Cuts the take back to `fileFrame` frames, within the current part. The
    // take's new length, or nothing if the container cannot be cut.
    std::optional<std::uint64_t> truncate(std::uint64_t fileFrame);

    // --- after the writer thread ended
    // Closes every file; throws the first file's IoError after trying them all.
    void close();
    // Deletes the current parts, and with them every finished one.
    void discardAll() noexcept;
    // Deletes the current parts (a take stopped before any sound).
    void discard() noexcept;

    // --- any thread
    // The first file's current part: what a take of several files is known by.
    std::filesystem::path currentPath() const;
    // Every file's current part, in the order of the sources.
    std::vector<std::filesystem::path> currentPaths() const;
    unsigned part() const;
    std::uint64_t bytesOnDisk() const;

private:
    // One file of the take (of one source), and the parts of it already final.
    struct File {
        FileSpec spec; // of the first part; the next ones differ in path and time stamp
        std::unique_ptr<SoundFileWriter> writer;
        std::vector<std::filesystem::path> finishedParts;
    };

    void startNextPart(std::uint64_t fileFrame);
    void openNextPart(std::uint64_t fileFrame);
    void finishParts(); // closes the open parts and reports them
    // Hands the open parts, once closed, to onPartClosed: every file's path
    // and the frames they hold. Not an empty part, nor one that is gone.
    void reportPart() const;
    bool open() const { return files_[0].writer != nullptr; }
    std::unique_ptr<SoundFileWriter> openPart(FileSpec& spec, unsigned file, unsigned part) const;
    void announce() const;

    const std::filesystem::path splitBase_;
    const std::uint64_t splitFrames_;
    const bool numbered_;
    OnPartClosed onPartClosed_;
    OnNewFiles onNewFiles_;
    std::uint64_t partFrames_ = 0; // writer thread: frames in the current part
    std::size_t frameBytes_ = 0;  // of the frames written: every file's channels
    std::uint64_t partStart_ = 0; // writer thread: the take's frame the current parts begin at
    std::vector<std::byte> split_; // writer thread: one file's channels of a write

    mutable std::mutex mutex_; // the writers are replaced, and the part number changes, under it
    std::vector<File> files_; // writer null between utterances
    unsigned part_ = 1;
};

} // namespace recd
