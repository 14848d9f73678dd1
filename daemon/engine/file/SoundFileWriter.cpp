#include "daemon/engine/file/SoundFileWriter.hpp"

#include "common/Errors.hpp"
#include "daemon/engine/Log.hpp"
#include "common/WriteAll.hpp"

#include <sndfile.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace recd {

namespace {

std::string errnoText(int err) { return std::strerror(err); }

int createExclusive(const std::filesystem::path& path, mode_t mode)
{
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
}

std::filesystem::path temporaryBeside(const std::filesystem::path& target)
{
    std::random_device random;
    return target.parent_path() /
           fmt::format(".{}.recd-{:08x}.tmp", target.filename().string(), random());
}

} // namespace

namespace {

// The RIFF/WAVE header of a stream whose length is not known: sizes at their
// maximum, as arecord writes to a pipe. libsndfile will not write WAV to a pipe
// (it must seek back to fill in the sizes: SFE_NO_PIPE_WRITE), so recd writes
// these 44 bytes itself and lets libsndfile write the samples as raw PCM.
void writeStreamingWavHeader(int fd, const FileSpec& spec)
{
    const unsigned bits = fileBitsPerSample(spec.sampleFormat);
    const unsigned blockAlign = spec.channels * bits / 8;
    std::array<unsigned char, 44> h{};
    auto put = [&h](std::size_t at, std::uint32_t v, int bytes) {
        for (int i = 0; i < bytes; ++i)
            h[at + static_cast<std::size_t>(i)] = static_cast<unsigned char>(v >> (8 * i));
    };
    std::memcpy(h.data(), "RIFF", 4);
    put(4, 0xffffffffu, 4);
    std::memcpy(h.data() + 8, "WAVEfmt ", 8);
    put(16, 16, 4);
    put(20, spec.sampleFormat == SampleFormat::F32 ? 3 : 1, 2); // IEEE float or PCM
    put(22, spec.channels, 2);
    put(24, spec.rate, 4);
    put(28, spec.rate * blockAlign, 4);
    put(32, blockAlign, 2);
    put(34, bits, 2);
    std::memcpy(h.data() + 36, "data", 4);
    put(40, 0xffffffffu, 4);
    if (::write(fd, h.data(), h.size()) != static_cast<ssize_t>(h.size())) {
        const int err = errno;
        throw IoError(fmt::format("writing the WAV header to the stream failed: {}", errnoText(err)), err);
    }
}

} // namespace

// libsndfile on a descriptor recd only appends to. sf_open_fd would take the
// offset after the header (or the client's own offset in its file) for an
// embedded file and refuse raw PCM there, so libsndfile gets virtual I/O that
// counts from 0 and never seeks.
struct StreamIo {
    int fd;
    sf_count_t written = 0;

    static sf_count_t length(void* self) { return static_cast<StreamIo*>(self)->written; }
    static sf_count_t tell(void* self) { return static_cast<StreamIo*>(self)->written; }
    static sf_count_t seek(sf_count_t offset, int whence, void* self)
    {
        auto& io = *static_cast<StreamIo*>(self);
        const sf_count_t target = whence == SEEK_SET ? offset : whence == SEEK_CUR ? io.written + offset : -1;
        return target == io.written ? io.written : -1; // only "where it is"
    }
    static sf_count_t read(void*, sf_count_t, void*) { return 0; }
    static sf_count_t write(const void* data, sf_count_t bytes, void* self)
    {
        auto& io = *static_cast<StreamIo*>(self);
        // Short on EPIPE, when the reader went away (SIGPIPE is ignored): the
        // short count fails the write.
        const auto done = static_cast<sf_count_t>(writeAll(io.fd, data, static_cast<std::size_t>(bytes)));
        io.written += done;
        return done;
    }
};

void SoundFileWriter::openStream(const FileSpec& spec)
{
    streaming_ = true;
    fd_ = ::fcntl(spec.destination.fd(), F_DUPFD_CLOEXEC, 0);
    if (fd_ < 0) {
        const int err = errno;
        throw IoError(fmt::format("cannot use the descriptor passed for the stream: {}", errnoText(err)), err);
    }
    try {
        if (!spec.destination.raw())
            writeStreamingWavHeader(fd_, spec);
    } catch (...) {
        ::close(fd_);
        throw;
    }
    SF_INFO info{};
    info.samplerate = static_cast<int>(spec.rate);
    info.channels = static_cast<int>(spec.channels);
    info.format = SF_FORMAT_RAW | (spec.destination.container().sndfileFormatFor(spec.sampleFormat) & SF_FORMAT_SUBMASK);
    stream_ = std::make_unique<StreamIo>(StreamIo{fd_});
    static SF_VIRTUAL_IO io{&StreamIo::length, &StreamIo::seek, &StreamIo::read, &StreamIo::write, &StreamIo::tell};
    file_ = sf_open_virtual(&io, SFM_WRITE, &info, stream_.get());
    if (!file_) {
        const std::string why = sf_strerror(nullptr);
        ::close(fd_);
        throw IoError(fmt::format("cannot stream {} to the descriptor: {}", spec.destination.raw() ? "PCM" : "WAV", why));
    }
}

SoundFileWriter::SoundFileWriter(const FileSpec& spec) : spec_(spec)
{
    if (spec.destination.streamed()) {
        openStream(spec);
        return;
    }
    const std::filesystem::path createAt = spec.overwrite ? temporaryBeside(spec.destination.path()) : spec.destination.path();
    fd_ = createExclusive(createAt, spec.mode);
    if (fd_ < 0) {
        const int err = errno;
        if (err == EEXIST)
            throw FileExists(fmt::format("'{}' already exists; choose another name or ask to overwrite it",
                                         spec.destination.path().string()));
        throw IoError(fmt::format("cannot create '{}': {}", createAt.string(), errnoText(err)), err);
    }
    // fchmod: the umask may have narrowed the mode asked for.
    ::fchmod(fd_, spec.mode);

    SF_INFO info{};
    info.samplerate = static_cast<int>(spec.rate);
    info.channels = static_cast<int>(spec.channels);
    info.format = spec.destination.container().sndfileFormatFor(spec.sampleFormat);
    file_ = sf_open_fd(fd_, SFM_WRITE, &info, SF_TRUE);
    if (!file_) {
        const std::string why = sf_strerror(nullptr);
        ::close(fd_);
        fd_ = -1;
        ::unlink(createAt.c_str());
        throw IoError(fmt::format("cannot write {} to '{}': {}", spec.destination.container().name, spec.destination.path().string(), why));
    }
    // Must be set before the first write (libsndfile decides RIFF vs RF64 then).
    sf_command(file_, SFC_RF64_AUTO_DOWNGRADE, nullptr, SF_TRUE);
    if (patchableWav() && spec.firstSampleUsec)
        writeBroadcastInfo(spec);

    if (spec.overwrite && ::rename(createAt.c_str(), spec.destination.path().c_str()) != 0) {
        const int err = errno;
        sf_close(file_);
        file_ = nullptr;
        fd_ = -1;
        ::unlink(createAt.c_str());
        throw IoError(fmt::format("cannot replace '{}': {}", spec.destination.path().string(), errnoText(err)), err);
    }
}

// The Broadcast WAV (EBU Tech 3285) 'bext' chunk: when the take began, so it can
// be lined up with other recordings and logs. The time reference counts samples
// since local midnight at the first sample, which is the origination date and
// time (pre-roll included); libsndfile writes the chunk ahead of the audio.
void SoundFileWriter::writeBroadcastInfo(const FileSpec& spec)
{
    SF_BROADCAST_INFO bext{};
    const std::time_t seconds = static_cast<std::time_t>(spec.firstSampleUsec / 1'000'000);
    const double fraction = static_cast<double>(spec.firstSampleUsec % 1'000'000) / 1e6;
    std::tm local{};
    localtime_r(&seconds, &local);
    char date[11], time[9];
    std::strftime(date, sizeof date, "%Y-%m-%d", &local);
    std::strftime(time, sizeof time, "%H:%M:%S", &local);
    std::memcpy(bext.origination_date, date, sizeof bext.origination_date);
    std::memcpy(bext.origination_time, time, sizeof bext.origination_time);
    const double sinceMidnight = local.tm_hour * 3600.0 + local.tm_min * 60.0 + local.tm_sec + fraction;
    const auto reference = static_cast<std::uint64_t>(std::llround(sinceMidnight * spec.rate));
    bext.time_reference_low = static_cast<unsigned>(reference & 0xffffffffu);
    bext.time_reference_high = static_cast<unsigned>(reference >> 32);
    bext.version = 1;
    std::snprintf(bext.description, sizeof bext.description, "recd: %s", spec.source.c_str());
    std::snprintf(bext.originator, sizeof bext.originator, "recd");
    std::snprintf(bext.originator_reference, sizeof bext.originator_reference, "recd-%llu",
                  static_cast<unsigned long long>(spec.firstSampleUsec));
    const int n = std::snprintf(bext.coding_history, sizeof bext.coding_history, "A=PCM,F=%u,W=%u,M=%s,T=recd\r\n",
                                spec.rate, fileBitsPerSample(spec.sampleFormat),
                                spec.channels == 1 ? "mono" : spec.channels == 2 ? "stereo" : "multichannel");
    bext.coding_history_size = static_cast<unsigned>(std::max(0, n));
    if (sf_command(file_, SFC_SET_BROADCAST_INFO, &bext, sizeof bext) != SF_TRUE)
        log().warn("'{}': libsndfile did not take the broadcast info (bext): {}", spec.destination.path().string(),
                   sf_strerror(file_));
}

SoundFileWriter::~SoundFileWriter()
{
    if (file_) {
        try {
            close();
        } catch (const Error& e) {
            log().error("{}", e.what());
        }
    }
}

// libsndfile's text, and the errno its failed write(2) left (it does not keep one).
void SoundFileWriter::fail(const char* what, int err)
{
    throw IoError(fmt::format("{} '{}' failed: {}", what, spec_.destination.path().string(), sf_strerror(file_)), err);
}

void SoundFileWriter::write(const std::byte* data, std::size_t count)
{
    if (count == 0)
        return;
    const auto n = static_cast<sf_count_t>(count);
    sf_count_t done = 0;
    switch (spec_.sampleFormat) {
    case SampleFormat::S16: done = sf_writef_short(file_, reinterpret_cast<const short*>(data), n); break;
    case SampleFormat::S24:
    case SampleFormat::S32: done = sf_writef_int(file_, reinterpret_cast<const int*>(data), n); break;
    case SampleFormat::F32: done = sf_writef_float(file_, reinterpret_cast<const float*>(data), n); break;
    }
    const int err = done != n ? errno : 0;
    if (done > 0)
        frames_ += static_cast<std::uint64_t>(done);
    if (done != n)
        fail("writing to", err);
}

void SoundFileWriter::sync()
{
    if (streaming_)
        return; // a pipe has no header to patch and nothing to sync to disk
    if (!spec_.destination.container().lossy())
        sf_command(file_, SFC_UPDATE_HEADER_NOW, nullptr, 0);
    // Not sf_write_sync as well: it is an fsync(2) whose error libsndfile drops,
    // and a second wait for the disk each second (libsndfile keeps no buffer of
    // its own to flush). fdatasync covers the data and the file's new size.
    if (::fdatasync(fd_) != 0) {
        const int err = errno;
        throw IoError(fmt::format("syncing '{}' failed: {}", spec_.destination.path().string(), errnoText(err)), err);
    }
}

bool SoundFileWriter::patchableWav() const
{
    return !streaming_ &&
           (spec_.destination.container().sndfileFormatFor(spec_.sampleFormat) & SF_FORMAT_TYPEMASK) == SF_FORMAT_RF64;
}

void SoundFileWriter::stampFirstSample(std::uint64_t firstSampleUsec)
{
    if (!patchableWav())
        return;
    spec_.firstSampleUsec = firstSampleUsec;
    writeBroadcastInfo(spec_);
}

bool SoundFileWriter::truncate(std::uint64_t frames)
{
    // libsndfile seeks back and ftruncates the file; the header gets the new
    // sizes when it is written next (sync or close).
    if (!patchableWav())
        return false;
    sf_count_t at = static_cast<sf_count_t>(frames);
    if (sf_command(file_, SFC_FILE_TRUNCATE, &at, sizeof at) != 0)
        throw IoError(fmt::format("cutting '{}' back to {} frames failed: {}", spec_.destination.path().string(), frames,
                                  sf_strerror(file_)));
    return true;
}

void SoundFileWriter::close()
{
    if (!file_)
        return;
    sf_write_sync(file_);
    const int rc = sf_close(file_);
    file_ = nullptr;
    if (streaming_)
        ::close(fd_); // virtual I/O: libsndfile does not own it
    fd_ = -1;
    if (rc != 0)
        throw IoError(fmt::format("finalizing '{}' failed: {}", spec_.destination.path().string(), sf_error_number(rc)));
}

void SoundFileWriter::discard() noexcept
{
    if (file_) {
        sf_close(file_);
        file_ = nullptr;
        if (streaming_)
            ::close(fd_);
        fd_ = -1;
    }
    if (!streaming_)
        ::unlink(spec_.destination.path().c_str());
}

std::uint64_t SoundFileWriter::bytesOnDisk() const
{
    if (streaming_)
        return frames_ * spec_.channels * fileBitsPerSample(spec_.sampleFormat) / 8 + (spec_.destination.raw() ? 0 : 44);
    // By path, not descriptor: the writer thread may be closing the descriptor
    // while another thread asks.
    struct stat st{};
    if (::stat(spec_.destination.path().c_str(), &st) == 0)
        return static_cast<std::uint64_t>(st.st_size);
    return 0;
}

} // namespace recd
