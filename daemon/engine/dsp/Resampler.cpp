#include "daemon/engine/dsp/Resampler.hpp"

#include <samplerate.h>

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace recd {

Resampler::Resampler(const CaptureFormat& format) : format_(format)
{
    int error = 0;
    state_ = src_new(SRC_SINC_FASTEST, static_cast<int>(format.channels), &error);
    if (!state_)
        throw std::runtime_error(std::string("cannot make a resampler: ") + src_strerror(error));
}

Resampler::~Resampler() { src_delete(state_); }

std::size_t Resampler::process(const std::byte* in, std::size_t frames, double inPerOut, std::vector<std::byte>& out)
{
    const std::size_t samples = frames * format_.channels;
    in_.resize(samples);
    switch (format_.sampleFormat) {
    case SampleFormat::S16:
        src_short_to_float_array(reinterpret_cast<const short*>(in), in_.data(), static_cast<int>(samples));
        break;
    case SampleFormat::S24:
    case SampleFormat::S32:
        src_int_to_float_array(reinterpret_cast<const int*>(in), in_.data(), static_cast<int>(samples));
        break;
    case SampleFormat::F32: std::memcpy(in_.data(), in, samples * sizeof(float)); break;
    }
    const double ratio = 1.0 / inPerOut;
    out_.resize((static_cast<std::size_t>(std::ceil(static_cast<double>(frames) * ratio)) + 64) * format_.channels);
    std::size_t used = 0, produced = 0;
    do {
        SRC_DATA data{};
        data.data_in = in_.data() + used * format_.channels;
        data.input_frames = static_cast<long>(frames - used);
        data.data_out = out_.data() + produced * format_.channels;
        data.output_frames = static_cast<long>(out_.size() / format_.channels - produced);
        data.src_ratio = ratio;
        if (const int error = src_process(state_, &data); error != 0)
            throw std::runtime_error(std::string("resampling failed: ") + src_strerror(error));
        used += static_cast<std::size_t>(data.input_frames_used);
        produced += static_cast<std::size_t>(data.output_frames_gen);
        if (used < frames && data.output_frames_gen == data.output_frames)
            out_.resize(out_.size() * 2); // more came out than foreseen: room for the rest
        else if (used < frames && data.input_frames_used == 0)
            break; // it keeps the rest to look ahead
    } while (used < frames);
    const std::size_t bytes = produced * format_.frameBytes();
    const std::size_t at = out.size();
    out.resize(at + bytes);
    const int n = static_cast<int>(produced * format_.channels);
    switch (format_.sampleFormat) {
    case SampleFormat::S16: src_float_to_short_array(out_.data(), reinterpret_cast<short*>(out.data() + at), n); break;
    case SampleFormat::S24:
    case SampleFormat::S32: src_float_to_int_array(out_.data(), reinterpret_cast<int*>(out.data() + at), n); break;
    case SampleFormat::F32: std::memcpy(out.data() + at, out_.data(), bytes); break;
    }
    return produced;
}

} // namespace recd
