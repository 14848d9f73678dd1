# A real systemd user manager for the tests, sourced by tests/user-manager/suite.
#
# The test machine (like CI's) runs no systemd as PID 1, so `systemd --user`
# refuses to start (it checks for /run/systemd/system). Everything below happens
# in a private mount namespace, so nothing leaks to the machine: systemd's
# runtime directories and a journald on tmpfs, the installed tree overlaid at
# its prefix, a delegated cgroup, then the manager itself, dropped to a real
# user with its own runtime directory and user bus (dbus.socket). The way was
# first found by hand: ../shared/recipes/systemd-user-manager.md in the steering
# repository.
#
# Needs: root, unshare/nsenter/setpriv (util-linux), useradd, systemd,
# systemd-journald, dbus-user-session, and write access to the cgroup trees.
# um_can_host prints why not when one is missing.

# um_can_host: 0 if this machine can host a user manager, else prints why.
um_can_host() {
    [ "$(id -u)" -eq 0 ] || { echo "needs root to create a test user and a mount namespace"; return 1; }
    local c
    for c in unshare nsenter setpriv useradd userdel /lib/systemd/systemd /lib/systemd/systemd-journald; do
        command -v "$c" >/dev/null || { echo "$c is missing"; return 1; }
    done
    [ -e /usr/lib/systemd/user/dbus.socket ] || { echo "no user bus unit (package dbus-user-session)"; return 1; }
    um_cgroup_roots >/dev/null || { echo "no writable cgroup tree under /sys/fs/cgroup to delegate"; return 1; }
    unshare -m true 2>/dev/null || { echo "cannot create a mount namespace (unshare -m failed)"; return 1; }
}

# The cgroup trees the manager needs a delegated directory in: the unified
# (v2) tree, and the named systemd (v1) tree where the layout is hybrid.
um_cgroup_roots() {
    local roots=()
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        roots=(/sys/fs/cgroup)
    else
        [ -d /sys/fs/cgroup/unified ] && roots+=(/sys/fs/cgroup/unified)
        [ -d /sys/fs/cgroup/systemd ] && roots+=(/sys/fs/cgroup/systemd)
    fi
    [ ${#roots[@]} -gt 0 ] || return 1
    local r
    for r in "${roots[@]}"; do [ -w "$r" ] || return 1; done
    printf '%s\n' "${roots[@]}"
}

# um_boot WORK USER [OVERLAY_DIR STAGE_ROOT] [--deny-userns HELPER]
# Creates USER (a fresh one), masks what would compete for the audio in its
# user manager, enables the user bus, and boots the manager in a new mount
# namespace. With OVERLAY_DIR, STAGE_ROOT/OVERLAY_DIR (a `meson install
# --destdir` tree) is laid over OVERLAY_DIR. Sets UM_USER, UM_UID, UM_HOME,
# UM_WORK; the manager's PID is in WORK/manager.pid.
um_boot() {
    UM_WORK=$1 UM_USER=$2
    local overlay=${3:-} stage=${4:-} deny=""
    [ "${5:-}" = --deny-userns ] && deny=$6
    userdel -rf "$UM_USER" >/dev/null 2>&1 || true
    useradd -m -s /bin/bash "$UM_USER"
    UM_UID=$(id -u "$UM_USER") UM_HOME=$(getent passwd "$UM_USER" | cut -d: -f6)
    local conf=$UM_HOME/.config/systemd/user u
    mkdir -p "$conf/sockets.target.wants"
    for u in pipewire.service pipewire.socket pipewire-pulse.service pipewire-pulse.socket \
        wireplumber.service pulseaudio.service pulseaudio.socket; do
        ln -sf /dev/null "$conf/$u"
    done
    ln -sf /usr/lib/systemd/user/dbus.socket "$conf/sockets.target.wants/dbus.socket"
    chown -R "$UM_USER": "$UM_HOME/.config"

    local roots
    roots=$(um_cgroup_roots | tr '\n' ' ')
    cat >"$UM_WORK/inside.sh" <<EOF
set -e
echo \$\$ >"$UM_WORK/manager.pid"
if [ -n "$overlay" ]; then
    mount -t overlay overlay -o "lowerdir=$stage$overlay:$overlay" "$overlay"
fi
# systemd's own runtime directories: sd_booted() looks for /run/systemd/system.
mount -t tmpfs -o mode=755 tmpfs /run/systemd
mkdir -p /run/systemd/system /run/systemd/journal
# A journald of the namespace's own. Persistent storage (on tmpfs) so that it
# keeps a journal per user, which the user reads with journalctl --user.
mount -t tmpfs -o mode=755 tmpfs /run/log
mount -t tmpfs -o mode=755 tmpfs /var/log
mkdir -p /var/log/journal
setsid /lib/systemd/systemd-journald </dev/null >/dev/null 2>&1 &
echo \$! >"$UM_WORK/journald.pid"
for i in \$(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
journalctl --flush >/dev/null 2>&1 || true
# A service's sandbox needs unit-root, and /run as a mount point of its own.
mkdir -m0400 /run/systemd/unit-root
mount --rbind /run /run
# The places a user records to that are not home: another file system, and a
# tiny one that fills up.
mkdir -p /mnt/recd-um-disk /mnt/recd-um-full
mount -t tmpfs -o mode=755 tmpfs /mnt/recd-um-disk
mount -t tmpfs -o mode=755,size=256k tmpfs /mnt/recd-um-full
chown "$UM_USER": /mnt/recd-um-disk /mnt/recd-um-full
# A delegated cgroup, as logind would make for user@UID.service.
for root in $roots; do
    d=\$root/user.slice/user-$UM_UID.slice/user@$UM_UID.service
    mkdir -p "\$d"
    chown -R "$UM_USER": "\$d"
    echo \$\$ >"\$d/cgroup.procs"
done
# The runtime directory, a tmpfs of its own as logind makes it; and
# /run/media, where udisks mounts removable disks.
mkdir -p /run/user/$UM_UID /run/media
mount -t tmpfs -o mode=700,uid=$UM_UID,gid=$(id -g "$UM_USER") tmpfs /run/user/$UM_UID
mount -t tmpfs -o mode=755 tmpfs /run/media
exec $deny setpriv --reuid="$UM_UID" --regid="$(id -g "$UM_USER")" --init-groups --inh-caps=-all \
    env -i HOME="$UM_HOME" USER="$UM_USER" LOGNAME="$UM_USER" SHELL=/bin/bash SYSTEMD_LOG_TARGET=journal \
    XDG_RUNTIME_DIR=/run/user/$UM_UID PATH="$UM_HOME/.local/bin:/usr/local/bin:/usr/bin:/bin" \
    /lib/systemd/systemd --user
EOF
    setsid unshare -m --propagation private bash "$UM_WORK/inside.sh" \
        </dev/null >"$UM_WORK/manager.log" 2>&1 &
    local i state
    for i in $(seq 200); do
        if [ -s "$UM_WORK/manager.pid" ] && kill -0 "$(cat "$UM_WORK/manager.pid")" 2>/dev/null; then
            state=$(um_user systemctl --user is-system-running 2>/dev/null || true)
            case "$state" in running | degraded) return 0 ;; esac
        fi
        sleep 0.05
    done
    echo "the user manager did not come up: $(tail -5 "$UM_WORK/manager.log")" >&2
    return 1
}

# um_user CMD...: CMD as the test user, inside the namespace, in the session
# environment a desktop gives (runtime directory, user bus).
um_user() {
    nsenter -t "$(cat "$UM_WORK/manager.pid")" -m \
        setpriv --reuid="$UM_UID" --regid="$(id -g "$UM_USER")" --init-groups \
        env -i HOME="$UM_HOME" USER="$UM_USER" LOGNAME="$UM_USER" LANG=C.UTF-8 \
        XDG_RUNTIME_DIR="/run/user/$UM_UID" DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$UM_UID/bus" \
        PATH="$UM_HOME/.local/bin:/usr/local/bin:/usr/bin:/bin" ${RECCTL_TIMEOUT:+RECCTL_TIMEOUT=$RECCTL_TIMEOUT} "$@"
}

# um_root CMD...: CMD as root inside the namespace (sees what the user sees).
um_root() { nsenter -t "$(cat "$UM_WORK/manager.pid")" -m "$@"; }

# um_sound: a PulseAudio server with a null sink whose monitor is the default
# source, fed a 440 Hz tone at -6 dBFS, both as transient units of the user
# manager, on the standard socket ($XDG_RUNTIME_DIR/pulse/native) where recd,
# started by the manager, finds it as it would on a desktop. The feeder uses a
# large latency, as a real microphone is not paced by a player.
um_sound() {
    um_user systemd-run --user --quiet --unit=rig-pulse --collect \
        pulseaudio -n --daemonize=no --exit-idle-time=-1 --log-target=stderr --log-level=notice \
        --load="module-native-protocol-unix auth-anonymous=1" \
        --load="module-null-sink sink_name=recd_mic rate=48000 channels=2 sink_properties=device.description=recd-virtual-microphone" \
        --load=module-always-sink
    local i
    for i in $(seq 100); do um_user pactl info >/dev/null 2>&1 && break; sleep 0.05; done
    um_user pactl info >/dev/null || {
        echo "the sound server did not start:" >&2
        um_user systemctl --user status rig-pulse --no-pager >&2
        return 1
    }
    um_user pactl set-default-sink recd_mic
    um_user pactl set-default-source recd_mic.monitor
    um_user systemd-run --user --quiet --unit=rig-feed --collect sh -c \
        'sox -q -n -r 48000 -c 2 -b 16 -e signed -t raw - synth 86400 sine 440 vol 0.5 |
         pacat --playback --raw --rate=48000 --channels=2 --format=s16le --device=recd_mic --latency-msec=200'
    # A fresh server is slow to deliver its first capture (see tests/rig): warm it.
    for i in $(seq 40); do
        local t0 t1
        t0=$(date +%s%N)
        um_user timeout 3 parec --raw --latency-msec=20 --rate=48000 --channels=2 --format=s16le 2>/dev/null |
            head -c 19200 >/dev/null || true
        t1=$(date +%s%N)
        [ $(((t1 - t0) / 1000000)) -lt 400 ] && break
    done
}

# um_gone PID: the process has ended (a zombie waiting for its reaper counts).
um_gone() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# um_teardown: the manager and everything under it, journald, the namespace,
# the cgroup directories and the user. Leaves no process behind.
um_teardown() {
    [ -n "${UM_USER:-}" ] || return 0
    local pid
    if [ -s "$UM_WORK/manager.pid" ]; then
        um_user systemctl --user exit >/dev/null 2>&1 || true
        pid=$(cat "$UM_WORK/manager.pid")
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    pkill -KILL -u "$UM_USER" 2>/dev/null || true
    [ -s "$UM_WORK/journald.pid" ] && kill "$(cat "$UM_WORK/journald.pid")" 2>/dev/null || true
    for _ in $(seq 50); do pgrep -u "$UM_USER" >/dev/null || break; sleep 0.1; done
    if [ -s "$UM_WORK/journald.pid" ]; then
        pid=$(cat "$UM_WORK/journald.pid")
        for _ in $(seq 50); do um_gone "$pid" && break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    local root
    for root in $(um_cgroup_roots 2>/dev/null); do
        [ -d "$root/user.slice/user-$UM_UID.slice" ] &&
            find "$root/user.slice/user-$UM_UID.slice" -depth -type d -exec rmdir {} + 2>/dev/null || true
    done
    userdel -rf "$UM_USER" >/dev/null 2>&1 || true
    UM_USER=""
}
