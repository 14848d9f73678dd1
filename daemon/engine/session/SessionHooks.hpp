#pragma once
// What a CaptureSession calls back, and the services it is lent. Every callback
// runs on the session's writer thread unless said otherwise, so each must only
// note or wake, never call back into the session.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

namespace recd {

class CaptureOpener;
class StreamCloser;

struct SessionHooks {
    // Where a finished session's streams are closed, after its file is final, so
    // that a stop does not wait for the device. Null: the session closes them
    // itself before stop() returns.
    StreamCloser* streamCloser = nullptr;
    // Where the session gets its input, and a new one when it reconnects. Null:
    // the devices of EngineSettings::api (DeviceOpener). A test lends one that
    // hands out a source of its own (tests/support/FakeCaptureSource.hpp).
    CaptureOpener* opener = nullptr;
    // The session ended by itself (max_duration, silence, device lost, write
    // error): the owner then calls finish().
    std::function<void()> onEnded;
    // New levels are ready (about every 100 ms of audio, only while metering is on).
    std::function<void()> onLevels;
    // A take armed with start_on_sound heard sound and began.
    std::function<void()> onBegan;
    // A part of a take in parts (split_every, split_on_silence) is final:
    // CaptureSession::takeClosedParts() has it.
    std::function<void()> onPartClosed;
    // The files the take writes (one, or with layout files one per input),
    // before audio goes into them: the first from the constructor (on the
    // caller's thread), each next part of a split take on the writer thread.
    std::function<void(const std::vector<std::filesystem::path>&)> onNewFiles;
    // Before each write, with the frames in the file so far. For tests only: a
    // disk that stalls for seconds on cue cannot be produced in a container, so a
    // test stalls the writer here instead.
    std::function<void(std::uint64_t framesInFile)> beforeWrite;
};

} // namespace recd
