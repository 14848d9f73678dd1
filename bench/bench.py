#!/usr/bin/env python3
"""recd side by side with arecord, parecord and pw-record, on one rig (run by bench/run).

bench/run starts a rig for each sound server (PulseAudio, then PipeWire with
pipewire-pulse), each with its tone feeder at 400 ms latency so that the
feeder does not set the pace of what is measured, and runs this inside it with
--server=NAME: the figures go to bench/results/NAME.json. `bench.py --report`
then prints one table for both and writes it to bench/RESULTS.md. Timings are
measured here and never asserted by tests.
"""
import contextlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("RECD_BUILD_DIR", os.path.join(ROOT, "build"))
RECD = os.path.join(BUILD, "daemon", "recd")
RECCTL = os.path.join(BUILD, "client", "recctl")
ANALYZE = os.path.join(BUILD, "tests", "recd-analyze")
STANDINS = os.path.join(BUILD, "tests", "desktop-standins")
RESULTS = os.path.join(ROOT, "bench", "results")
LONG = "--long" in sys.argv
SERVER = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--server=")), "pulseaudio")
PIPEWIRE = SERVER == "pipewire"
# --only=record,preroll,latency,align,stopat,rss,cold,meeting,meeting-rss,desktop,native: just those groups (for
# working on one figure; RESULTS.md comes from a full run).
ONLY = next((a.split("=", 1)[1].split(",") for a in sys.argv if a.startswith("--only=")), None)
RATE = 48000
FORMAT = ["--rate", str(RATE), "--channels", "2", "--format", "s16"]
RECORD_SECONDS = 60
NATIVE = 'audio_api = "pulse-native"\n'
TOOLS = ["arecord", "parecord"] + (["pw-record"] if PIPEWIRE else [])


def wanted(group):
    return ONLY is None or group in ONLY


# --- what a process costs ------------------------------------------------------

def threads(pid):
    """{tid: (name, cpu seconds, context switches)} of every live thread. CPU is
    the scheduler's sum_exec_runtime, to the nanosecond: clock ticks are too
    coarse for a process that uses 0.2 s in a minute. Each context switch is the
    thread going to sleep and being woken again: a wake-up."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                cpu = int(f.read().split()[0]) / 1e9
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                text = f.read()
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue  # ended in between
        out[tid] = (name, cpu, sum(int(x) for x in re.findall(r"ctxt_switches:\s+(\d+)", text)))
    return out


def difference(before, after, seconds):
    """CPU seconds and wake-ups per second between two threads() snapshots taken
    `seconds` apart, in total and per thread name (threads that lived through
    the window)."""
    per = {}
    for tid, (name, cpu, sw) in after.items():
        if tid in before:
            c, w = per.get(name, (0.0, 0.0))
            per[name] = (c + cpu - before[tid][1], w + (sw - before[tid][2]) / seconds)
    return {"cpu": sum(c for c, _ in per.values()), "wakeups": sum(w for _, w in per.values()), "threads": per}


WINDOW = 10  # seconds


def windowed(pids, seconds):
    """The cost of each process ({name: pid}) over the next `seconds`, measured
    at once in windows of WINDOW seconds: {name: cost}, where a cost is the
    difference() over the whole span, plus "cpu_low", the CPU of the cheapest
    window scaled to the span.

    Why the cheapest window: on this kind of virtual machine a libpulse client's
    audio threads now and then cost 10 to 30 times as much CPU per wake-up for
    minutes on end (seen alike in arecord, recd with either input, on both
    servers; perf and the scheduler's clock agree, so it is time the guest sees
    the thread run, most likely the host taking the CPU away under it). Which
    client it strikes, and when, is luck, so a mean over one minute compares
    luck. The cheapest window is what the client itself costs; the mean is
    kept beside it."""
    snaps = [{name: threads(p) for name, p in pids.items()}]
    began = time.monotonic()
    marks = [began]
    for _ in range(max(1, round(seconds / WINDOW))):
        time.sleep(WINDOW)
        snaps.append({name: threads(p) for name, p in pids.items()})
        marks.append(time.monotonic())
    span = marks[-1] - began
    out = {}
    for name in pids:
        whole = difference(snaps[0][name], snaps[-1][name], span)
        parts = [difference(snaps[i][name], snaps[i + 1][name], marks[i + 1] - marks[i])["cpu"] / (marks[i + 1] - marks[i])
                 for i in range(len(snaps) - 1)]
        whole["cpu_low"] = min(parts) * span
        out[name] = whole
    return out, span


def thread_table(c, seconds):
    """A cost's threads as the report shows them: CPU per hour, wake-ups per second."""
    return {n: {"cpu_s_per_hour": cpu * 3600 / seconds, "wakeups_per_s": w}
            for n, (cpu, w) in sorted(c["threads"].items())}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


# --- recd ---------------------------------------------------------------------

def recctl(*args, check=True):
    r = subprocess.run([RECCTL, *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"recctl {' '.join(args)}: {r.stderr.strip()}")
    return r


def busname_owned():
    # busctl asks the bus, which does not activate recd; recctl would.
    return subprocess.run(["busctl", "--user", "status", "org.recd.Recorder1"], capture_output=True).returncode == 0


def daemon_pid():
    out = subprocess.run(["busctl", "--user", "call", "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionUnixProcessID", "s", "org.recd.Recorder1"],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[1])


def stop_daemon():
    if busname_owned():
        os.kill(daemon_pid(), 15)
    while busname_owned():
        time.sleep(0.05)


@contextlib.contextmanager
def daemon_with(config_text, work, name, debug_log=None):
    """A recd of our own with this configuration (none: the defaults) in place of
    an activated one, its debug log in debug_log if given; yields its pid."""
    stop_daemon()
    config = os.path.join(work, f"{name}.toml")
    with open(config, "w") as f:
        f.write(config_text)
    level = ["--log-level", "debug" if debug_log else "warn"]
    daemon = subprocess.Popen([RECD, "--config", config] + level,
                              stderr=open(debug_log, "w") if debug_log else None)
    try:
        while not busname_owned():
            time.sleep(0.05)
        yield daemon.pid
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def duration_of(path):
    out = subprocess.run([ANALYZE, path], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"duration:\s+([\d.]+)", out).group(1))


def pct(values, p):
    v = sorted(values)
    k = (len(v) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


# --- the sound server ------------------------------------------------------------

def graph_quantum():
    """PipeWire: the period the graph runs at, as pw-top shows it for the rig's
    null sink (the driver). pw-top 0.3.65 has no batch mode, so it runs in tmux."""
    session = f"recd-bench-{os.getpid()}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "40",
                    f"env XDG_RUNTIME_DIR={os.environ['XDG_RUNTIME_DIR']} pw-top"], check=True)
    try:
        time.sleep(3)
        screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    for line in screen.splitlines():
        cols = line.split()
        if len(cols) > 3 and cols[-1] == "recd_mic" and cols[2].isdigit():
            return int(cols[2])
    return None


def node_latencies():
    """PipeWire: node.latency each client's stream asks for, by binary."""
    nodes = json.loads(subprocess.run(["pw-dump"], capture_output=True, text=True, check=True).stdout)
    out = {}
    for n in nodes:
        props = (n.get("info") or {}).get("props") or {}
        if n.get("type") == "PipeWire:Interface:Node" and "node.latency" in props:
            out[props.get("application.process.binary", props.get("node.name"))] = props["node.latency"]
    return out


def source_latency_ms():
    """PulseAudio: the latency the rig's microphone is configured for right now
    (what its clients asked for): the server's period for this source."""
    out = subprocess.run(["pactl", "list", "sources"], capture_output=True, text=True).stdout
    for block in out.split("\n\n"):
        if "Name: recd_mic.monitor" in block:
            m = re.search(r"Latency: \d+ usec, configured (\d+) usec", block)
            return int(m.group(1)) / 1000 if m else None
    return None


def server_period_ms():
    if PIPEWIRE:
        q = graph_quantum()
        return q * 1000 / RATE if q else None
    return source_latency_ms()


def start_tools(work, tag, seconds):
    """Each reference recorder on the default source, same format."""
    procs = {
        "arecord": ["arecord", "-q", "-D", "pulse", "-f", "S16_LE", "-r", str(RATE), "-c", "2", "-d", str(seconds),
                    os.path.join(work, f"arecord-{tag}.wav")],
        "parecord": ["parecord", f"--rate={RATE}", "--channels=2", "--format=s16le", "--file-format=wav",
                     os.path.join(work, f"parecord-{tag}.wav")],
        "pw-record": ["pw-record", "--rate", str(RATE), "--channels", "2", "--format", "s16",
                      os.path.join(work, f"pw-record-{tag}.wav")],
    }
    return {name: subprocess.Popen(procs[name], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for name in TOOLS}


def stop_tools(procs):
    for p in procs.values():
        if p.poll() is None:
            p.terminate()
    for p in procs.values():
        p.communicate(timeout=30)


# --- the figures -----------------------------------------------------------------

class Table:
    def __init__(self):
        self.rows = []
        self.threads = {}

    def row(self, figure, unit, recd, tools=None, ratio=None, target="", met=None):
        self.rows.append({"figure": figure, "unit": unit, "recd": recd, "tools": tools or {}, "ratio": ratio,
                          "target": target, "met": met})


def recording(work, t, label="", config=""):
    """CPU and wake-ups while recording, recd and every reference tool on the
    same source at once, over the same minute; on PipeWire, the graph's quantum
    with no recorder, with recd alone, and with all of them."""
    tag = re.sub(r"\W+", "-", label).strip("-").lower() or "cost"  # each run's own files
    with daemon_with(config, work, "defaults") as pid:
        if PIPEWIRE:
            idle_q = graph_quantum()
            recctl("start", os.path.join(work, f"{tag}-alone.wav"), *FORMAT)
            time.sleep(1)
            alone_q = graph_quantum()
            latency = node_latencies().get("recd")
            recctl("stop")
        procs = start_tools(work, tag, RECORD_SECONDS + 10)
        recctl("start", os.path.join(work, f"{tag}.wav"), *FORMAT)
        time.sleep(2)  # every stream is open and delivering
        pids = {"recd": pid, **{name: p.pid for name, p in procs.items()}}
        if PIPEWIRE:
            all_q = graph_quantum()
            latencies = node_latencies()
        figures, window = windowed(pids, RECORD_SECONDS)
        recctl("stop")
        stop_tools(procs)

    tools_cpu = {n: figures[n]["cpu_low"] * 3600 / window for n in TOOLS}
    tools_mean = {n: figures[n]["cpu"] * 3600 / window for n in TOOLS}
    tools_wake = {n: figures[n]["wakeups"] for n in TOOLS}
    recd_cpu, recd_wake = figures["recd"]["cpu_low"] * 3600 / window, figures["recd"]["wakeups"]
    recd_mean = figures["recd"]["cpu"] * 3600 / window
    t.row(f"{label}CPU seconds per recorded hour (cheapest 10 s)", "s", recd_cpu, tools_cpu,
          recd_cpu / tools_cpu["arecord"], "<= 0.8x arecord", recd_cpu <= 0.8 * tools_cpu["arecord"])
    t.row(f"{label}CPU seconds per recorded hour (mean of the minute)", "s", recd_mean, tools_mean,
          recd_mean / tools_mean["arecord"])
    t.row(f"{label}wake-ups per second while recording", "/s", recd_wake, tools_wake, recd_wake / tools_wake["arecord"],
          "<= 1.0x arecord", recd_wake <= tools_wake["arecord"])
    t.threads[f"{label}recording"] = thread_table(figures["recd"], window)
    t.threads[f"{label}recording, arecord"] = thread_table(figures["arecord"], window)
    if PIPEWIRE:
        t.row(f"{label}graph quantum: no recorder / recd alone / all recording", "frames",
              f"{idle_q} / {alone_q} / {all_q}", target="recd alone = no recorder", met=alone_q == idle_q)
        t.row(f"{label}node.latency asked for", "", latency,
              {n: latencies.get(n) for n in TOOLS}, target=">= 1024/48000",
              met=latency is not None and int(latency.split("/")[0]) >= 1024)
    if not label:
        t.arecord_recording = (tools_cpu["arecord"], tools_wake["arecord"])


def pre_roll_idle(work, t, label="", config=""):
    """pre_roll = 2, no take: what keeping the input open costs, all day."""
    with daemon_with("pre_roll = 2\n" + config, work, "pre-roll") as pid:
        time.sleep(4)  # opened and filled
        figures, window = windowed({"recd": pid}, 60)
    c = figures["recd"]
    cpu_h = c["cpu_low"] * 3600 / window
    ref = getattr(t, "arecord_recording", None)
    t.row(f"{label}pre_roll 2, idle: CPU seconds per hour (cheapest 10 s)", "s", cpu_h, {"arecord": ref[0]} if ref else None,
          cpu_h / ref[0] if ref else None, "<= arecord recording", ref is not None and cpu_h <= ref[0])
    t.row(f"{label}pre_roll 2, idle: wake-ups per second", "/s", c["wakeups"], {"arecord": ref[1]} if ref else None,
          c["wakeups"] / ref[1] if ref else None, "<= arecord recording, <= 30",
          ref is not None and c["wakeups"] <= min(30, ref[1]))
    t.threads[f"{label}pre_roll idle"] = thread_table(c, window)


def command_latency(work, t, label="", config=""):
    """recctl start and stop, each minus recctl status (the fixed cost of any
    call: process start, bus connection, round trip), medians of 30. A random
    wait before each keeps them from locking onto one phase of the server's
    delivery rhythm, as a key press has no phase either."""
    jitter = random.Random(6)
    status, starts, stops, period = [], [], [], None
    log = os.path.join(work, "latency.log")
    with daemon_with(config, work, "latency", debug_log=log):
        if config:
            time.sleep(4)  # a pre-roll fills
        for i in range(30):
            path = os.path.join(work, f"lat{i}.wav")
            time.sleep(jitter.uniform(0.05, 0.1))
            t0 = time.monotonic()
            recctl("status")
            t1 = time.monotonic()
            time.sleep(jitter.uniform(0, 0.05))
            t2 = time.monotonic()
            recctl("start", path, *FORMAT)
            t3 = time.monotonic()
            if i == 5:
                period = server_period_ms()
            time.sleep(0.3 + jitter.uniform(0, 0.05))
            t4 = time.monotonic()
            recctl("stop")
            t5 = time.monotonic()
            status.append((t1 - t0) * 1000)
            starts.append((t3 - t2) * 1000)
            stops.append((t5 - t4) * 1000)
            os.unlink(path)
    base = statistics.median(status)
    target = period + 10 if period else None
    target_text = f"<= {target:.1f} ms (period {period:.1f} + 10)" if period else "period unknown"
    t.row(f"{label}recctl status (fixed cost of a call): median", "ms", base)
    for name, values in (("start", starts), ("stop", stops)):
        extra = statistics.median(values) - base
        t.row(f"{label}recctl {name} minus status: median", "ms", extra, target=target_text,
              met=target is not None and extra <= target)
    # Where a start that opens a stream spends its time (recd's debug log): the
    # server setting the stream up, then its first buffer, neither of which recd
    # can shorten without asking the graph for a shorter period.
    with open(log) as f:
        text = f.read()
    for what, pattern in (("the server sets the stream up", r"record stream ready ([\d.]+) ms"),
                          ("then its first buffer", r"first buffer ([\d.]+) ms after the stream was opened")):
        values = [float(v) for v in re.findall(pattern, text)]
        if values:
            t.row(f"{label}start, opening a stream: {what}: median", "ms", statistics.median(values))


def timed_takes(work, name, stop, config=""):
    """20 takes of 0.5-1.3 s, each started with recctl and ended by stop(t0),
    where t0 is when start returned; stop returns the moment the file should end
    at. The errors |file duration - (that moment - t0)|, in ms."""
    errors = []
    with daemon_with(config, work, name):
        for i in range(20):
            path = os.path.join(work, f"{name}{i}.wav")
            recctl("start", path, *FORMAT)
            t0 = time.monotonic()
            time.sleep(0.5 + (i % 5) * 0.2)
            end = stop()
            errors.append(abs(duration_of(path) - (end - t0)) * 1000)
    return errors


def alignment(work, t, label="", config=""):
    """Press to first sample: the file against the wall time from start
    returning to stop being called."""
    def stop():
        end = time.monotonic()
        recctl("stop")
        return end
    errors = timed_takes(work, re.sub(r"\W+", "", label) + "align", stop, config)
    t.row(f"{label}alignment, press to first sample: p95 of 20", "ms", pct(errors, 95), target="<= 10 ms",
          met=pct(errors, 95) <= 10)


def stop_at(work, t, label="", config=""):
    """StopRecordingAt: a client reports the press 30 ms after it happened (as
    recctl, started by a key binding, does). The last frame against the press."""
    def stop():
        press = time.monotonic()
        time.sleep(0.03)
        subprocess.run(["busctl", "--user", "call", "org.recd.Recorder1", "/org/recd/Recorder1",
                        "org.recd.Recorder1", "StopRecordingAt", "t", str(int(press * 1e6))],
                       capture_output=True, check=True)
        return press
    errors = timed_takes(work, re.sub(r"\W+", "", label) + "stop-at", stop, config)
    t.row(f"{label}StopRecordingAt, last frame against the press: p95 of 20", "ms", pct(errors, 95), target="<= 10 ms",
          met=pct(errors, 95) <= 10)


def meeting(work, t):
    """Several inputs in one take: CPU and wake-ups of recd recording one, two
    and three inputs (the rig's microphone each time: one stream per input,
    as with distinct sources), beside as many parecord processes on the same
    source over the same minute."""
    costs = {}
    for n in (1, 2, 3):
        inputs = [a for _ in range(n) for a in ("--device", "@input")]
        with daemon_with("", work, f"meeting{n}") as pid:
            procs = [subprocess.Popen(["parecord", f"--rate={RATE}", "--channels=1", "--format=s16le",
                                       "--file-format=wav", os.path.join(work, f"parecord-meeting{n}-{i}.wav")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                     for i in range(n)]
            recctl("start", os.path.join(work, f"meeting{n}.wav"), "--rate", str(RATE), "--channels", "1",
                   "--format", "s16", *inputs)
            time.sleep(2)
            pids = {"recd": pid, **{f"parecord{i}": p.pid for i, p in enumerate(procs)}}
            figures, window = windowed(pids, RECORD_SECONDS)
            status = json.loads(recctl("status", "--json").stdout)
            recctl("stop")
            stop_tools({f"parecord{i}": p for i, p in enumerate(procs)})
        # An input read through the resampler costs more; on one source it
        # should never be.
        corrected = sum(1 for i in status.get("inputs", []) if i.get("drift_corrected"))
        per_hour = lambda name, key="cpu_low": figures[name][key] * 3600 / window
        recd_cpu = per_hour("recd")
        tools_cpu = sum(per_hour(f"parecord{i}") for i in range(n))
        costs[n] = recd_cpu
        extra = "" if n == 1 else f", {recd_cpu - costs[n - 1]:.1f} s more than {n - 1}; {corrected} resampled"
        met = None if n == 1 else recd_cpu - costs[n - 1] <= costs[1]
        t.row(f"meeting, {n} input{'s' if n > 1 else ''}: CPU seconds per recorded hour (cheapest 10 s){extra}", "s",
              recd_cpu, {"parecord": tools_cpu}, None,
              "" if n == 1 else "each input more <= 1 input's CPU", met)
        t.row(f"meeting, {n} input{'s' if n > 1 else ''}: wake-ups per second", "/s", figures["recd"]["wakeups"],
              {"parecord": sum(figures[f"parecord{i}"]["wakeups"] for i in range(n))})
        t.threads[f"meeting, {n} inputs"] = thread_table(figures["recd"], window)


def meeting_memory(work, t):
    """RSS over a take of three inputs (2 min, or 10 with --long), from 10 s in."""
    minutes = 10 if LONG else 2
    with daemon_with("", work, "meeting-rss") as pid:
        recctl("start", os.path.join(work, "meeting-rss.wav"), "--rate", str(RATE), "--channels", "1",
               "--format", "s16", *[a for _ in range(3) for a in ("--device", "@input")])
        time.sleep(10)
        first = rss_kib(pid)
        time.sleep(minutes * 60 - 10)
        last = rss_kib(pid)
        recctl("stop")
    growth = (last - first) / 1024
    t.row(f"meeting, 3 inputs: RSS growth over {minutes} min of recording ({first} KiB at 10 s)", "MiB", growth,
          target="< 1 MiB (flat)", met=growth < 1)


def memory(work, t):
    """RSS growth over pre-roll idle then recording (10 + 10 min with --long,
    2 + 2 otherwise), from 10 s in."""
    minutes = 10 if LONG else 2
    with daemon_with("pre_roll = 2\n", work, "memory") as pid:
        time.sleep(10)
        first = rss_kib(pid)
        time.sleep(minutes * 60 - 10)
        recctl("start", os.path.join(work, "memory.wav"), *FORMAT)
        time.sleep(minutes * 60)
        last = rss_kib(pid)
        recctl("stop")
    growth = (last - first) / 1024
    t.row(f"RSS growth, {minutes} min pre-roll idle + {minutes} min recording ({first} KiB at 10 s)", "MiB",
          growth, target="< 1 MiB", met=growth < 1)


def cold_start(work, t):
    """No daemon: D-Bus activation starts it (the rig's bus, services from the build)."""
    cold = []
    for i in range(5):
        stop_daemon()
        time.sleep(0.2)
        path = os.path.join(work, f"cold{i}.wav")
        t0 = time.monotonic()
        recctl("start", path, *FORMAT)
        cold.append((time.monotonic() - t0) * 1000)
        recctl("stop")
    stop_daemon()
    t.row("recctl start, cold (D-Bus activation): median of 5", "ms", statistics.median(cold), target="< 250 ms",
          met=statistics.median(cold) < 250)


DESKTOP_ALL_ON = 'notify = true\npause_players = true\nshortcuts = true\ntray = true\non_part = "true"\n'


def desktop(work, t):
    """The desktop features (issue 16) all on, against all off: notifications,
    paused players, portal shortcuts, the tray item and on_part, with stand-ins
    for the portal, a panel and a playing player on the bus
    (tests/user-manager/desktop-standins; none of the real ones runs headless).
    Idle recd's CPU and wake-ups, and what a `recctl status --follow` costs
    recd while a take records, against the same take with nobody following."""
    standins = subprocess.Popen([STANDINS], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    figures = {}
    try:
        time.sleep(0.5)  # the stand-ins own their names
        for label, config in [("off", ""), ("on", DESKTOP_ALL_ON)]:
            with daemon_with(config, work, f"desktop-{label}") as pid:
                recctl("start", os.path.join(work, f"desktop-{label}-warm.wav"))  # every feature has worked once
                time.sleep(0.5)
                recctl("stop")
                time.sleep(1)
                figures[f"idle {label}"] = windowed({"recd": pid}, 30)
                if label == "on":
                    recctl("start", os.path.join(work, "desktop-alone.wav"), *FORMAT)
                    time.sleep(2)
                    figures["recording"] = windowed({"recd": pid}, 30)
                    follower = subprocess.Popen([RECCTL, "status", "--follow", "--format", "waybar"],
                                                stdout=subprocess.DEVNULL)
                    time.sleep(1)
                    figures["recording, followed"] = windowed({"recd": pid}, 30)
                    follower.terminate()
                    follower.wait()
                    recctl("stop")
    finally:
        standins.stdin.close()
        standins.wait()
    rate = lambda key: (figures[key][0]["recd"]["cpu_low"] * 3600 / figures[key][1], figures[key][0]["recd"]["wakeups"])
    off, on = rate("idle off"), rate("idle on")
    t.row("desktop features off / all on, idle: wake-ups per second", "/s", f"{off[1]:.2f} / {on[1]:.2f}",
          target="0 with all on", met=on[1] == 0)
    t.row("desktop features off / all on, idle: CPU seconds per hour", "s", f"{off[0]:.3f} / {on[0]:.3f}")
    alone, followed = rate("recording"), rate("recording, followed")
    t.row("all on, recording: wake-ups per second, alone / with status --follow", "/s",
          f"{alone[1]:.1f} / {followed[1]:.1f}", target="the same (the follower asks recd every 30 s)",
          met=followed[1] - alone[1] <= 1.5)
    t.row("all on, recording: CPU seconds per hour, alone / with status --follow (cheapest 10 s)", "s",
          f"{alone[0]:.1f} / {followed[0]:.1f}")
    for key in ("recording", "recording, followed"):
        t.threads[f"desktop all on, {key}"] = thread_table(figures[key][0]["recd"], figures[key][1])


def measure():
    work = tempfile.mkdtemp(prefix="recd-bench.")
    t = Table()
    groups = [("record", recording), ("preroll", pre_roll_idle),
              ("latency", command_latency),
              ("latency", lambda w, tt: command_latency(w, tt, "pre_roll 2: ", "pre_roll = 2\n")),
              ("align", alignment), ("stopat", stop_at), ("cold", cold_start), ("rss", memory),
              ("meeting", meeting), ("meeting-rss", meeting_memory), ("desktop", desktop),
              # recd's own PulseAudio input (audio_api, PulseInput.hpp), beside
              # RtAudio's, which is the default
              ("native", lambda w, tt: recording(w, tt, "pulse-native: ", NATIVE)),
              ("native", lambda w, tt: pre_roll_idle(w, tt, "pulse-native: ", NATIVE)),
              ("native", lambda w, tt: command_latency(w, tt, "pulse-native: ", NATIVE)),
              ("native", lambda w, tt: alignment(w, tt, "pulse-native: ", NATIVE)),
              ("native", lambda w, tt: stop_at(w, tt, "pulse-native: ", NATIVE))]
    try:
        for group, run in groups:
            if wanted(group):
                run(work, t)
    finally:
        stop_daemon()
        shutil.rmtree(work, ignore_errors=True)
    return t


# --- the report --------------------------------------------------------------------

SERVERS = [("pulseaudio", "PulseAudio"), ("pipewire", "PipeWire")]


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def markdown(head, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])


def report():
    head = ["server", "figure", "unit", "recd", "arecord", "parecord", "pw-record", "recd/arecord", "target", "met?"]
    rows, thread_rows, machine = [], [], ""
    for key, title in SERVERS:
        path = os.path.join(RESULTS, f"{key}.json")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            data = json.load(f)
        machine = data["machine"]
        for r in data["rows"]:
            tools = r["tools"]
            rows.append([title, r["figure"], r["unit"], fmt(r["recd"]), fmt(tools.get("arecord")),
                         fmt(tools.get("parecord")), fmt(tools.get("pw-record")), fmt(r["ratio"]), r["target"],
                         fmt(r["met"]) if r["met"] is not None else ""])
        for phase, per in data["threads"].items():
            for name, v in per.items():
                thread_rows.append([title, phase, name, fmt(v["cpu_s_per_hour"]), fmt(v["wakeups_per_s"])])
    text = markdown(head, rows)
    if thread_rows:
        text += "\n\nPer thread (CPU seconds per hour, wake-ups per second):\n\n" + \
                markdown(["server", "while", "thread", "CPU s/h", "wake-ups/s"], thread_rows)
    return text + f"\n\nMachine: {machine}\n"


if __name__ == "__main__":
    if "--report" in sys.argv:
        table = report()
        print(table)
        if ONLY is None:
            with open(os.path.join(ROOT, "bench", "RESULTS.md"), "w") as f:
                f.write("# Benchmark results\n\nThe last run of `bench/run` (see README, Benchmarks), "
                        "both sound servers, tone feeder at 400 ms latency.\n\n" + table)
        sys.exit(0)
    machine = f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // 2**30} GiB, " \
              f"{os.uname().sysname} {os.uname().release}; {'long' if LONG else 'quick'} mode"
    table = measure()
    os.makedirs(RESULTS, exist_ok=True)
    # A partial run (--only) never replaces a full one.
    name = f"{SERVER}.json" if ONLY is None else f"{SERVER}-only-{'-'.join(ONLY)}{'-long' if LONG else ''}.json"
    with open(os.path.join(RESULTS, name), "w") as f:
        json.dump({"machine": machine, "server": SERVER, "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                   "rows": table.rows, "threads": table.threads}, f, indent=2)
