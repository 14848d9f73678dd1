#include "common/WavRepair.hpp"

#include "common/Errors.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace recd {

namespace {

class File {
public:
    explicit File(const std::filesystem::path& path) : path_(path)
    {
        fd_ = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (fd_ < 0)
            throw failed("cannot open");
    }
    ~File() { ::close(fd_); }

    std::uint64_t size() const
    {
        struct stat st{};
        ::fstat(fd_, &st);
        return static_cast<std::uint64_t>(st.st_size);
    }
    bool read(std::uint64_t at, void* out, std::size_t n) const
    {
        return ::pread(fd_, out, n, static_cast<off_t>(at)) == static_cast<ssize_t>(n);
    }
    template <class T>
    T le(std::uint64_t at) const // little-endian integer at `at`
    {
        unsigned char b[sizeof(T)] = {};
        if (!read(at, b, sizeof b))
            throw InvalidArgument(fmt::format("'{}' ends inside its WAV header", path_.string()));
        T v = 0;
        for (std::size_t i = 0; i < sizeof(T); ++i)
            v |= static_cast<T>(b[i]) << (8 * i);
        return v;
    }
    template <class T>
    void put(std::uint64_t at, T v)
    {
        unsigned char b[sizeof(T)];
        for (std::size_t i = 0; i < sizeof(T); ++i)
            b[i] = static_cast<unsigned char>(v >> (8 * i));
        if (::pwrite(fd_, b, sizeof b, static_cast<off_t>(at)) != static_cast<ssize_t>(sizeof b))
            throw failed("cannot write");
    }
    std::string tag(std::uint64_t at) const
    {
        char t[4] = {};
        return read(at, t, 4) ? std::string(t, 4) : std::string();
    }
    void truncate(std::uint64_t size)
    {
        if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
            throw failed("cannot truncate");
    }
    void sync() { ::fdatasync(fd_); }

private:
    IoError failed(const char* what) const { return IoError::fromErrno(what, path_.string()); }

    std::filesystem::path path_;
    int fd_ = -1;
};

} // namespace

std::string WavRepairReport::describe(const std::filesystem::path& path) const
{
    if (!changed)
        return fmt::format("{}: header already right ({:.3f} s)", path.string(), newSeconds());
    std::string out = fmt::format("{}: data size {} -> {} bytes ({:.3f} s -> {:.3f} s)", path.string(), oldDataBytes,
                                  newDataBytes, oldSeconds(), newSeconds());
    if (trimmedBytes)
        out += fmt::format(", cut {} bytes of a partial frame", trimmedBytes);
    return out;
}

WavRepairReport repairWav(const std::filesystem::path& path)
{
    File f(path);
    const std::string riff = f.tag(0);
    if ((riff != "RIFF" && riff != "RF64") || f.tag(8) != "WAVE")
        throw InvalidArgument(fmt::format("'{}' is not a WAV file (no RIFF/RF64 WAVE header); only WAV headers can "
                                          "be repaired",
                                          path.string()));
    const bool rf64 = riff == "RF64";
    const std::uint64_t fileSize = f.size();

    WavRepairReport r;
    std::uint64_t ds64 = 0, dataAt = 0;
    for (std::uint64_t at = 12; at + 8 <= fileSize;) {
        const std::string id = f.tag(at);
        const std::uint64_t size = f.le<std::uint32_t>(at + 4);
        if (id == "fmt ") {
            r.rate = f.le<std::uint32_t>(at + 12);
            r.blockAlign = f.le<std::uint16_t>(at + 20);
        } else if (id == "ds64") {
            ds64 = at;
        } else if (id == "data") {
            dataAt = at;
            break;
        }
        at += 8 + size + (size & 1);
    }
    if (!dataAt || !r.blockAlign)
        throw InvalidArgument(fmt::format("'{}' has no fmt or data chunk; it cannot be repaired", path.string()));

    const std::uint64_t dataStart = dataAt + 8;
    const std::uint64_t available = fileSize > dataStart ? fileSize - dataStart : 0;
    r.newDataBytes = available - available % r.blockAlign;
    r.trimmedBytes = available - r.newDataBytes;
    r.oldDataBytes = rf64 && ds64 ? f.le<std::uint64_t>(ds64 + 16) : f.le<std::uint32_t>(dataAt + 4);
    if (!rf64 && r.newDataBytes > 0xffffffffULL - dataStart)
        r.newDataBytes = (0xffffffffULL - dataStart) / r.blockAlign * r.blockAlign; // all a RIFF header can say

    const std::uint64_t riffSize = dataStart + r.newDataBytes - 8;
    const bool riffRight = rf64 ? (ds64 && f.le<std::uint64_t>(ds64 + 8) == riffSize)
                                : f.le<std::uint32_t>(4) == riffSize;
    r.changed = r.oldDataBytes != r.newDataBytes || r.trimmedBytes || !riffRight;
    if (!r.changed)
        return r;
    if (r.trimmedBytes)
        f.truncate(dataStart + r.newDataBytes);
    if (rf64 && ds64) {
        f.put<std::uint64_t>(ds64 + 8, riffSize);
        f.put<std::uint64_t>(ds64 + 16, r.newDataBytes);
        f.put<std::uint64_t>(ds64 + 24, r.newDataBytes / r.blockAlign);
    } else {
        f.put<std::uint32_t>(4, static_cast<std::uint32_t>(riffSize));
        f.put<std::uint32_t>(dataAt + 4, static_cast<std::uint32_t>(r.newDataBytes));
    }
    f.sync();
    return r;
}

} // namespace recd
