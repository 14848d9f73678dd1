#include "daemon/engine/file/TakeFiles.hpp"

#include "common/Errors.hpp"
#include "daemon/engine/Log.hpp"
#include "daemon/engine/file/FileNames.hpp"

#include <algorithm>

namespace recd {

TakeFiles::TakeFiles(const FileSpec& first, std::filesystem::path splitBase, std::uint64_t splitFrames,
                     std::function<void(const std::filesystem::path&)> onNewFile)
    : spec_(first), splitBase_(std::move(splitBase)), splitFrames_(splitFrames), onNewFile_(std::move(onNewFile)),
      writer_(std::make_unique<SoundFileWriter>(first)), currentPath_(first.destination.path())
{
    // Before the writer thread writes a frame: a crash from then on finds the
    // file named (RecoveryMarker), as each later part is named before its first.
    if (onNewFile_)
        onNewFile_(first.destination.path());
}

void TakeFiles::write(const std::byte* data, std::uint64_t frames, std::uint64_t fileFrame)
{
    const std::size_t frameBytes = static_cast<std::size_t>(spec_.channels) * captureBytesPerSample(spec_.sampleFormat);
    for (std::uint64_t done = 0; done < frames;) {
        // A new part when this one is full and there is more to write.
        if (splitFrames_ && fileFrame - partStart_ == splitFrames_)
            startNextPart(fileFrame);
        const std::uint64_t n =
            splitFrames_ ? std::min(frames - done, splitFrames_ - (fileFrame - partStart_)) : frames - done;
        writer_->write(data + done * frameBytes, n);
        fileFrame += n;
        done += n;
    }
}

void TakeFiles::stampFirstSample(std::uint64_t usec)
{
    spec_.firstSampleUsec = usec;
    writer_->stampFirstSample(usec);
}

std::optional<std::uint64_t> TakeFiles::truncate(std::uint64_t fileFrame)
{
    const std::uint64_t keep = std::max(fileFrame, partStart_);
    if (!writer_->truncate(keep - partStart_))
        return std::nullopt;
    return keep;
}

void TakeFiles::startNextPart(std::uint64_t fileFrame)
{
    writer_->close();
    const unsigned part = part_ + 1;
    FileSpec spec = spec_;
    spec.destination = spec.destination.withPath(partPath(splitBase_, part));
    // Where this part begins in the take, by the take's first sample.
    if (spec_.firstSampleUsec)
        spec.firstSampleUsec = spec_.firstSampleUsec + fileFrame * 1'000'000 / spec_.rate;
    std::unique_ptr<SoundFileWriter> writer;
    for (int attempt = 2;; ++attempt) {
        try {
            writer = std::make_unique<SoundFileWriter>(spec);
            break;
        } catch (const FileExists&) {
            // Never stop a take over a name: go on under the next free one.
            const std::filesystem::path wanted = partPath(splitBase_, part);
            spec.destination = spec.destination.withPath(withSuffix(wanted, std::to_string(attempt)));
            log().warn("'{}' exists; part {} goes to '{}'", wanted.string(), part, spec.destination.path().string());
        }
    }
    {
        std::lock_guard lock(mutex_);
        finishedParts_.push_back(currentPath_);
        currentPath_ = spec.destination.path();
        writer_ = std::move(writer);
        part_ = part;
    }
    partStart_ = fileFrame;
    if (onNewFile_)
        onNewFile_(spec.destination.path());
    log().info("recording goes on in part {}, '{}', at {:.3f} s", part, spec.destination.path().string(),
               static_cast<double>(fileFrame) / spec_.rate);
}

void TakeFiles::discardAll() noexcept
{
    writer_->discard();
    for (const auto& part : finishedParts_) {
        std::error_code ec;
        std::filesystem::remove(part, ec);
    }
}

std::filesystem::path TakeFiles::currentPath() const
{
    std::lock_guard lock(mutex_);
    return currentPath_;
}

unsigned TakeFiles::part() const
{
    std::lock_guard lock(mutex_);
    return part_;
}

std::uint64_t TakeFiles::bytesOnDisk() const
{
    std::lock_guard lock(mutex_);
    return writer_->bytesOnDisk();
}

} // namespace recd
