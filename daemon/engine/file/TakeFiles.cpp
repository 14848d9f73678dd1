#include "daemon/engine/file/TakeFiles.hpp"

#include "common/Errors.hpp"
#include "daemon/engine/Log.hpp"
#include "daemon/engine/file/FileNames.hpp"

#include <algorithm>
#include <cstring>
#include <exception>

namespace recd {

TakeFiles::TakeFiles(const FileSpec& first, const std::vector<std::string>& sources, std::filesystem::path splitBase,
                     Parts parts, OnNewFiles onNewFiles)
    : splitBase_(std::move(splitBase)), splitFrames_(parts.splitFrames), numbered_(parts.numbered || parts.splitFrames),
      onPartClosed_(std::move(parts.onClosed)), onNewFiles_(std::move(onNewFiles))
{
    const auto count = static_cast<unsigned>(std::max<std::size_t>(1, sources.size()));
    frameBytes_ = static_cast<std::size_t>(first.channels) * count * captureBytesPerSample(first.sampleFormat);
    try {
        for (unsigned i = 0; i < count; ++i) {
            File file{first, nullptr, {}};
            if (!sources.empty())
                file.spec.source = sources[i];
            if (count > 1)
                file.spec.destination =
                    first.destination.withPath(takeFilePath(splitBase_, i, count, numbered_ ? 1 : 0));
            file.writer = std::make_unique<SoundFileWriter>(file.spec);
            files_.push_back(std::move(file));
        }
    } catch (...) {
        discard(); // the files of the other inputs, created before this one failed
        throw;
    }
    // Before the writer thread writes a frame: a crash from then on finds the
    // files named (RecoveryMarker), as each later part is named before its first.
    announce();
}

TakeFiles::~TakeFiles() = default;

void TakeFiles::announce() const
{
    if (onNewFiles_)
        onNewFiles_(currentPaths());
}

void TakeFiles::write(const std::byte* data, std::uint64_t frames, std::uint64_t fileFrame)
{
    if (frames && !open())
        openNextPart(fileFrame); // the next utterance
    for (std::uint64_t done = 0; done < frames;) {
        // A new part when this one is full and there is more to write.
        if (splitFrames_ && fileFrame - partStart_ == splitFrames_)
            startNextPart(fileFrame);
        const std::uint64_t n =
            splitFrames_ ? std::min(frames - done, splitFrames_ - (fileFrame - partStart_)) : frames - done;
        const std::byte* run = data + done * frameBytes_;
        if (files_.size() == 1) {
            files_[0].writer->write(run, n);
        } else {
            // Each file takes its own channels of every frame.
            const std::size_t fileBytes = frameBytes_ / files_.size();
            split_.resize(n * fileBytes);
            for (std::size_t f = 0; f < files_.size(); ++f) {
                for (std::uint64_t i = 0; i < n; ++i)
                    std::memcpy(split_.data() + i * fileBytes, run + i * frameBytes_ + f * fileBytes, fileBytes);
                files_[f].writer->write(split_.data(), n);
            }
        }
        fileFrame += n;
        done += n;
        partFrames_ += n;
    }
}

void TakeFiles::stampFirstSample(std::uint64_t usec)
{
    for (auto& file : files_) {
        file.spec.firstSampleUsec = usec;
        if (file.writer)
            file.writer->stampFirstSample(usec);
    }
}

void TakeFiles::sync()
{
    for (auto& file : files_)
        if (file.writer) // between utterances every part is final, and synced when it was closed
            file.writer->sync();
}

std::optional<std::uint64_t> TakeFiles::truncate(std::uint64_t fileFrame)
{
    // Every file is in the same container: either all of them can be cut or none.
    const std::uint64_t keep = std::max(fileFrame, partStart_);
    if (!open())
        return keep; // between utterances: the last part is final, and ends on its margin
    for (auto& file : files_)
        if (!file.writer->truncate(keep - partStart_))
            return std::nullopt;
    partFrames_ = keep - partStart_;
    return keep;
}

std::unique_ptr<SoundFileWriter> TakeFiles::openPart(FileSpec& spec, unsigned file, unsigned part) const
{
    const auto count = static_cast<unsigned>(files_.size());
    spec.destination = spec.destination.withPath(takeFilePath(splitBase_, file, count, part));
    for (int attempt = 2;; ++attempt) {
        try {
            return std::make_unique<SoundFileWriter>(spec);
        } catch (const FileExists&) {
            // Never stop a take over a name: go on under the next free one.
            const std::filesystem::path wanted = takeFilePath(splitBase_, file, count, part);
            spec.destination = spec.destination.withPath(withSuffix(wanted, std::to_string(attempt)));
            log().warn("'{}' exists; part {} goes to '{}'", wanted.string(), part, spec.destination.path().string());
        }
    }
}

void TakeFiles::startNextPart(std::uint64_t fileFrame)
{
    finishParts();
    openNextPart(fileFrame);
}

void TakeFiles::closePart()
{
    if (open())
        finishParts();
}

void TakeFiles::finishParts()
{
    for (auto& file : files_)
        file.writer->close();
    reportPart();
    {
        std::lock_guard lock(mutex_);
        for (auto& file : files_) {
            file.finishedParts.push_back(file.writer->path());
            file.writer.reset();
        }
    }
    partFrames_ = 0;
}

void TakeFiles::reportPart() const
{
    std::error_code ec;
    if (!onPartClosed_ || !numbered_ || !partFrames_ || !std::filesystem::exists(files_[0].writer->path(), ec))
        return;
    std::vector<std::filesystem::path> paths;
    for (const auto& file : files_)
        paths.push_back(file.writer->path());
    onPartClosed_(paths, partFrames_);
}

void TakeFiles::openNextPart(std::uint64_t fileFrame)
{
    const unsigned part = part_ + 1;
    std::vector<std::unique_ptr<SoundFileWriter>> writers;
    for (unsigned f = 0; f < files_.size(); ++f) {
        FileSpec spec = files_[f].spec;
        // Where this part begins in the take, by the take's first sample.
        if (spec.firstSampleUsec)
            spec.firstSampleUsec += fileFrame * 1'000'000 / spec.rate;
        writers.push_back(openPart(spec, f, part));
    }
    {
        std::lock_guard lock(mutex_);
        for (std::size_t f = 0; f < files_.size(); ++f)
            files_[f].writer = std::move(writers[f]);
        part_ = part;
    }
    partStart_ = fileFrame;
    announce();
    log().info("recording goes on in part {}, '{}', at {:.3f} s", part, currentPath().string(),
               static_cast<double>(fileFrame) / files_[0].spec.rate);
}

void TakeFiles::close()
{
    if (!open())
        return; // between utterances: every part is final already
    std::exception_ptr first;
    for (auto& file : files_) {
        try {
            file.writer->close();
        } catch (...) {
            if (!first)
                first = std::current_exception();
        }
    }
    if (first)
        std::rethrow_exception(first);
    reportPart(); // the last part, as the others were; not after a failure, which ends the take as an error
}

void TakeFiles::discard() noexcept
{
    for (auto& file : files_)
        if (file.writer)
            file.writer->discard();
}

void TakeFiles::discardAll() noexcept
{
    discard();
    for (const auto& file : files_)
        for (const auto& part : file.finishedParts) {
            std::error_code ec;
            std::filesystem::remove(part, ec);
        }
}

std::filesystem::path TakeFiles::currentPath() const { return currentPaths().front(); }

std::vector<std::filesystem::path> TakeFiles::currentPaths() const
{
    std::lock_guard lock(mutex_);
    std::vector<std::filesystem::path> paths;
    // Between utterances: the last part, which is final.
    for (const auto& file : files_)
        paths.push_back(file.writer ? file.writer->path() : file.finishedParts.back());
    return paths;
}

unsigned TakeFiles::part() const
{
    std::lock_guard lock(mutex_);
    return part_;
}

std::uint64_t TakeFiles::bytesOnDisk() const
{
    std::lock_guard lock(mutex_);
    std::uint64_t bytes = 0;
    for (const auto& file : files_)
        if (file.writer)
            bytes += file.writer->bytesOnDisk();
    return bytes;
}

} // namespace recd
