#pragma once
// Where a take goes, decided once when the request is planned: a file of recd's
// own, in the container its extension names, or a descriptor a client handed
// over (option fd), framed as WAV with a streaming header or as raw PCM.
// Nothing downstream tells the two apart by looking at a path.

#include "daemon/engine/file/Container.hpp"

#include <filesystem>
#include <memory>

namespace recd {

class Destination {
public:
    enum class Framing { Wav, Raw };

    // No file yet: a format planned as for WAV, which stores every sample
    // format (the pre-roll's, before any take asks for a file).
    Destination();
    // A file at `path` (absolute), written in `container`.
    static Destination file(std::filesystem::path path, const Container& container);
    // The descriptor `fd` (kept open while anything holds it; the writer dups it).
    static Destination descriptor(std::shared_ptr<const int> fd, Framing framing);

    bool streamed() const { return fd_ != nullptr; }
    // The file; for a descriptor, which has none, "-": what StartRecording
    // returns and RecordingStopped reports for it.
    const std::filesystem::path& path() const { return path_; }
    // The container of the file; WAV for a descriptor, whose sample formats raw
    // PCM takes too.
    const Container& container() const { return *container_; }
    // With streamed() only.
    int fd() const { return *fd_; }
    bool raw() const { return framing_ == Framing::Raw; }

    // The same file kind elsewhere: the next part of a split take.
    Destination withPath(std::filesystem::path path) const;

private:
    std::filesystem::path path_;
    const Container* container_ = nullptr;
    std::shared_ptr<const int> fd_;
    Framing framing_ = Framing::Wav;
};

} // namespace recd
