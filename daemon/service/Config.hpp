#pragma once

#include "daemon/engine/session/EngineSettings.hpp"
#include "common/SampleFormat.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace recd {

// The daemon's configuration: defaults for requests, and engine settings.
// Every key is optional; see README "Configuration".
struct Config {
    std::string device; // empty: the default input
    std::optional<unsigned> rate;
    std::optional<unsigned> channels;
    std::optional<SampleFormat> sampleFormat;
    std::filesystem::path directory; // where unnamed recordings go
    std::string nameTemplate = "recording-%Y%m%d-%H%M%S.wav";
    // Seconds of input kept in memory while idle, to begin recordings with
    // (0: the input is closed while idle).
    double preRoll = 0;
    // Minutes with no take after which the pre-roll's input is closed (0:
    // never); the next take opens it again.
    double preRollReleaseAfter = 10;
    // Whether the pre-roll stays while the machine runs on battery (UPower's
    // OnBattery); by default its input is closed until mains power is back.
    bool preRollOnBattery = false;
    // Whether the pre-roll keeps a Bluetooth headset's input open while idle,
    // which holds the headset in its call profile; by default it does not.
    bool preRollBluetooth = false;
    // Shell command run after each recording that ended with a file (not
    // cancelled), with the path and the duration as arguments.
    std::string onStop;
    // Shell command run as each part of a take in parts (split_every,
    // split_on_silence) is made final, with the part's path, its duration and
    // its number as arguments.
    std::string onPart;
    // Desktop notifications when a recording starts, is saved or fails.
    bool notify = false;
    // Global shortcuts through the desktop portal (GlobalShortcuts.hpp), and
    // the keys recd proposes for them (the shortcuts specification's syntax,
    // "CTRL+ALT+R"; the user confirms or changes them in the portal's dialog).
    bool shortcuts = false;
    std::string shortcutToggle = "CTRL+ALT+R";
    std::string shortcutPushToTalk = "CTRL+ALT+SPACE";
    // A tray item (StatusNotifierItem) with a menu (TrayIcon.hpp).
    bool tray = false;
    // Pause the MPRIS players that are playing while a take runs, and play
    // those again when it ends (MediaPlayerPauser).
    bool pausePlayers = false;
    EngineSettings engine;

    // $XDG_CONFIG_HOME/recd/recd.toml, or ~/.config/recd/recd.toml
    static std::filesystem::path defaultPath();
    // $XDG_MUSIC_DIR (environment or ~/.config/user-dirs.dirs) if set, else ~/Recordings
    static std::filesystem::path defaultDirectory();

    // Reads a TOML file. A missing file at the default path is not an error (all
    // defaults); a missing file named explicitly is. Throws ConfigError naming the
    // file, line and key.
    static Config load(const std::filesystem::path& path, bool mustExist);
};

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace recd
