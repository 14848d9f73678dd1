#pragma once
// The mark of a recording in progress: a small JSON file in recd's state
// directory ($XDG_STATE_HOME/recd, not the user's recordings directory), written
// when a recording starts and removed once its file is final. A recd that finds
// it at start-up knows its predecessor died mid-recording and repairs that file.
// It lives in the state directory rather than $XDG_RUNTIME_DIR because the
// runtime directory is emptied at reboot, and a power cut is one of the things
// it must survive.

#include <filesystem>
#include <string>
#include <vector>

namespace recd {

class RecoveryMarker {
public:
    // $XDG_STATE_HOME/recd/recording.json, or ~/.local/state/recd/recording.json
    static std::filesystem::path defaultPath();
    explicit RecoveryMarker(std::filesystem::path file = defaultPath()) : file_(std::move(file)) {}

    // Records that `recordings` (one file, or one per input) are being
    // written: atomically (write, then rename) and durably (the file and its
    // directory synced) before it returns.
    void set(const std::vector<std::filesystem::path>& recordings);
    void clear();
    // The recordings a predecessor left marked, if any.
    std::vector<std::filesystem::path> pending() const;

private:
    std::filesystem::path file_;
};

} // namespace recd
