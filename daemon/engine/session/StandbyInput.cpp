#include "daemon/engine/session/StandbyInput.hpp"

#include "daemon/engine/session/CaptureSession.hpp"
#include "daemon/engine/ThreadName.hpp"

#include "common/Errors.hpp"
#include "daemon/engine/Log.hpp"

#include <cmath>

namespace recd {

namespace {

// How often the standby thread frees old audio and checks the stream. It is the
// only recd thread that wakes while a pre-roll waits for a take, so not often:
// the ring holds the ring_seconds a writer may stall on top of the pre-roll,
// and a take drains it first thing anyway.
constexpr auto drainEvery = std::chrono::milliseconds(500);
// How long to wait before opening again after the device failed or was missing.
constexpr auto retryEvery = std::chrono::seconds(2);
// How often to look again whether an input held back (a Bluetooth headset) is
// still the one to keep: the user may pick another default input meanwhile.
constexpr auto heldBackRetry = std::chrono::seconds(10);

} // namespace

StandbyInput::StandbyInput(std::function<CapturePlan()> plan, double preRollSeconds, const EngineSettings& settings,
                           StreamCloser& closer, std::chrono::duration<double> releaseAfter, HoldBack holdBack)
    : plan_(std::move(plan)), holdBack_(std::move(holdBack)), preRollSeconds_(preRollSeconds),
      releaseAfter_(releaseAfter), settings_(settings), opener_(settings.api, settings.firstBufferTimeout),
      closer_(closer), thread_([this] {
          nameThisThread("recd-pre-roll");
          run();
      })
{
}

StandbyInput::~StandbyInput()
{
    {
        std::lock_guard lock(mutex_);
        quit_ = true;
    }
    changed_.notify_one();
    thread_.join();
    closer_.close(std::move(stream_));
}

std::optional<RunningInput> StandbyInput::take(const DeviceInfo& device, const CaptureFormat& format)
{
    std::lock_guard lock(mutex_);
    if (!stream_ || lent_ || stream_->failed() || device_.id != device.id) {
        log().info("pre-roll: no running input for '{}' to begin with; opening it", device.name);
        return std::nullopt;
    }
    const CaptureFormat& have = stream_->format();
    if (have != format) {
        log().info("pre-roll: the input is kept open at {} Hz, {} ch, {}; this recording asks for {} Hz, {} ch, {}, "
                   "so it has no pre-roll",
                   have.rate, have.channels, sampleFormatName(have.sampleFormat), format.rate, format.channels,
                   sampleFormatName(format.sampleFormat));
        return std::nullopt;
    }
    drain();
    RunningInput input;
    input.stream = std::move(stream_);
    input.readFrame = readFrame_;
    input.retainFrames = retainFrames_;
    input.giveBack = [weak = weak_from_this(), &closer = closer_](std::unique_ptr<CaptureSource> s,
                                                                  std::uint64_t readFrame) {
        if (auto self = weak.lock())
            self->giveBack(std::move(s), readFrame);
        else
            closer.close(std::move(s)); // the pre-roll was turned off meanwhile
    };
    lent_ = true;
    return input;
}

std::string StandbyInput::heldBack() const
{
    std::lock_guard lock(mutex_);
    return heldBack_;
}

bool StandbyInput::released() const
{
    std::lock_guard lock(mutex_);
    return released_;
}

void StandbyInput::warmAgain()
{
    {
        std::lock_guard lock(mutex_);
        idleSince_ = std::chrono::steady_clock::now();
        if (!released_)
            return;
        released_ = false;
    }
    changed_.notify_one();
}

void StandbyInput::giveBack(std::unique_ptr<CaptureSource> stream, std::uint64_t readFrame)
{
    {
        std::lock_guard lock(mutex_);
        lent_ = false;
        idleSince_ = std::chrono::steady_clock::now();
        if (quit_ || stream_) {
            closer_.close(std::move(stream));
            return;
        }
        stream_ = std::move(stream);
        readFrame_ = readFrame;
        drain();
    }
    changed_.notify_one();
}

void StandbyInput::drain()
{
    // The callback fills the ring; this end frees all but the last pre-roll seconds.
    const std::size_t frameBytes = stream_->format().frameBytes();
    const std::uint64_t held = stream_->ring().readable() / frameBytes;
    if (held > retainFrames_) {
        stream_->ring().consume((held - retainFrames_) * frameBytes);
        readFrame_ += held - retainFrames_;
    }
}

void StandbyInput::run()
{
    std::unique_lock lock(mutex_);
    auto nextOpen = std::chrono::steady_clock::now();
    bool warned = false;
    while (!quit_) {
        if (stream_ && (stream_->failed() || monotonicNs() - stream_->progress().lastBufferNs >
                                                 settings_.silentDeviceTimeout.count() * 1'000'000)) {
            log().warn("pre-roll: the input '{}' stopped delivering; opening it again", device_.name);
            closer_.close(std::move(stream_));
            nextOpen = std::chrono::steady_clock::now() + retryEvery;
        }
        if (stream_ && releaseAfter_.count() > 0 && std::chrono::steady_clock::now() - idleSince_ >= releaseAfter_) {
            log().info("pre-roll: released '{}' after {:.0f} s with no take; the next take starts without "
                       "pre-roll, and it is kept again after that take",
                       device_.name, releaseAfter_.count());
            closer_.close(std::move(stream_));
            released_ = true;
        }
        if (!stream_ && !lent_ && !released_ && std::chrono::steady_clock::now() >= nextOpen) {
            // Opening waits for the first buffer: not under the lock, so that a
            // recording asking for the stream meanwhile opens its own at once.
            const std::string heldBefore = heldBack_;
            lock.unlock();
            std::unique_ptr<CaptureSource> opened;
            DeviceInfo device;
            std::uint64_t retain = 0;
            std::string heldBack;
            try {
                const CapturePlan plan = plan_();
                device = plan.device;
                heldBack = holdBack_ ? holdBack_(plan.device) : std::string();
                if (heldBack.empty()) {
                    // A buffer more than the pre-roll: a take counts its pre-roll
                    // back from now by the stream's clock, a mean over bursty
                    // deliveries, which can put now up to a buffer behind the
                    // newest frames (PipeWire gave 1.998 s of 2 without it).
                    const unsigned buffer = relaxedDeliveryFrames(settings_.framesPerBuffer(), plan.rate);
                    retain = static_cast<std::uint64_t>(std::llround(preRollSeconds_ * plan.rate)) + buffer;
                    const auto ringFrames =
                        static_cast<std::size_t>(std::ceil((settings_.ringSeconds + preRollSeconds_) * plan.rate));
                    opened = opener_.open(plan.device, captureFormat(plan), buffer, ringFrames);
                    log().info("pre-roll: keeping '{}' open with the last {:.1f} s ({} Hz, {} ch, {})", device.name,
                               preRollSeconds_, plan.rate, plan.channels, sampleFormatName(plan.sampleFormat));
                    warned = false;
                } else if (heldBack != heldBefore) {
                    log().info("pre-roll: not keeping '{}' open: {}", device.name, heldBack);
                }
            } catch (const std::exception& e) {
                if (!warned)
                    log().warn("pre-roll: cannot keep the input open: {}; trying again every {} s", e.what(),
                               retryEvery.count());
                warned = true;
            }
            lock.lock();
            heldBack_ = heldBack;
            if (opened && !quit_) {
                stream_ = std::move(opened);
                idleSince_ = std::chrono::steady_clock::now();
                device_ = device;
                retainFrames_ = retain;
                readFrame_ = 0;
            } else {
                closer_.close(std::move(opened));
                nextOpen = std::chrono::steady_clock::now() + (heldBack.empty() ? retryEvery : heldBackRetry);
            }
        }
        if (stream_)
            drain();
        changed_.wait_for(lock, drainEvery);
    }
}

} // namespace recd
