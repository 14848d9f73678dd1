#pragma once
// The D-Bus face of the Recorder: translates calls, options and errors, and
// publishes the Recorder's events as signals and property changes. No logic of
// its own lives here.

#include "daemon/service/Recorder.hpp"
#include "org.recd.Recorder1.adaptor.h"

#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <string>

namespace recd {

class RecorderAdaptor final : public sdbus::AdaptorInterfaces<org::recd::Recorder1_adaptor>, public RecorderEvents {
public:
    static constexpr const char* objectPath = "/org/recd/Recorder1";

    RecorderAdaptor(sdbus::IConnection& connection, Recorder& recorder);
    ~RecorderAdaptor();

    // RecorderEvents
    void recordingStarted(const Destination& destination, std::uint64_t firstSampleUsec) override;
    void recordingStopped(const StopResult& result) override;
    void stateChanged() override;

    // Emits Level with the levels measured since the last call, if any client
    // watches and a take is running. Called on the main loop when the writer
    // says new levels are ready.
    void emitLevels();

private:
    using Options = std::map<std::string, sdbus::Variant>;

    // Answered asynchronously (Method.Async in the XML): when the Recorder
    // replies, which for a start that opens an input is once audio flows.
    void StartRecording(sdbus::Result<std::string>&& result, std::string path, Options options) override;
    void ToggleRecording(sdbus::Result<std::string, std::string>&& result, std::string path,
                         Options options) override;
    void StopRecording(sdbus::Result<std::string, double, uint64_t>&& result) override;
    void StopRecordingAt(sdbus::Result<std::string, double, uint64_t>&& result, uint64_t monotonic_usec) override;
    void CancelRecording(sdbus::Result<>&& result) override;
    double GetDuration() override;
    void PauseRecording() override;
    void ResumeRecording() override;
    std::map<std::string, sdbus::Variant> GetStatus() override;
    std::vector<std::map<std::string, sdbus::Variant>> ListDevices() override;
    void WatchLevels() override;
    void UnwatchLevels() override;
    std::string State() override;
    std::string Path() override;

    // Runs a call, turning engine errors into their D-Bus errors.
    template <class F>
    auto translate(const char* method, F&& f) -> decltype(f());
    // Runs call(reply) and answers `result` when the Recorder calls reply, with
    // convert(value) or the error's D-Bus error; an error thrown at once is
    // answered at once.
    template <class T, class... Out, class Convert, class Call>
    static void answer(const char* method, sdbus::Result<Out...>&& result, Convert convert, Call call);

    void unwatch(const std::string& client);

    Recorder& recorder_;
    sdbus::IConnection& connection_;
    // Clients that asked for Level, each with a match on its NameOwnerChanged,
    // so one that leaves the bus without unwatching is dropped too. recd sees
    // bus traffic only for its watchers, never for clients in general.
    std::map<std::string, sdbus::Slot> watchers_;
    std::vector<sdbus::Slot> retiredMatches_;
};

// Parses StartRecording's options; throws InvalidArgument naming a bad key.
RecordingRequest requestFromOptions(const std::string& path, const std::map<std::string, sdbus::Variant>& options);

} // namespace recd
