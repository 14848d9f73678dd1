#!/usr/bin/env python3
"""recd side by side with arecord and parecord, on the rig (run by bench/run).

Prints one table (figure, recd, arecord, parecord, ratio, target, met?) and
writes it as JSON to bench/results/latest.json. Timings are measured here and
never asserted by tests.
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
LONG = "--long" in sys.argv
# --only idle,cpu,latency,cold,align,load,lowpower,preroll: measure just those figures (for
# working on one of them; the table in RESULTS.md comes from a full run).
ONLY = next((a.split("=", 1)[1].split(",") for a in sys.argv if a.startswith("--only=")), None)


def wanted(group):
    return ONLY is None or group in ONLY
FORMAT = ["--rate", "48000", "--channels", "2", "--format", "s16"]


def run_seconds(pid):
    """user+sys CPU of every live thread, to the nanosecond (the scheduler's
    sum_exec_runtime): clock ticks are too coarse for a process that uses 0.2 s
    in a minute. Threads that ended are not counted, so measure a window that
    every thread of interest lives through."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # ended in between
    return total / 1e9


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def wakeups(pid):
    """Context switches of every thread: each is the thread waking up."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            text = f.read()
        total += sum(int(x) for x in re.findall(r"ctxt_switches:\s+(\d+)", text))
    return total


def recctl(*args, check=True):
    r = subprocess.run([RECCTL, *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"recctl {' '.join(args)}: {r.stderr.strip()}")
    return r


def daemon_pid():
    out = subprocess.run(["busctl", "--user", "call", "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionUnixProcessID", "s", "org.recd.Recorder1"],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[1])


def duration_of(path):
    out = subprocess.run([ANALYZE, path], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"duration:\s+([\d.]+)", out).group(1))


def pct(values, p):
    v = sorted(values)
    k = (len(v) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def ensure_daemon():
    recctl("status")  # activates recd if it is not running
    return daemon_pid()


def run_tools(seconds, work, tag, stress=False):
    """arecord and parecord for `seconds`; finish_tools() gives their CPU and overruns."""
    procs = {
        "arecord": subprocess.Popen(["arecord", "-q", "-D", "default", "-f", "S16_LE", "-r", "48000", "-c", "2",
                                     "-d", str(seconds), os.path.join(work, f"arecord-{tag}.wav")],
                                    stderr=subprocess.PIPE, text=True),
        "parecord": subprocess.Popen(["parecord", "--rate=48000", "--channels=2", "--format=s16le",
                                      "--file-format=wav", os.path.join(work, f"parecord-{tag}.wav")],
                                     stderr=subprocess.PIPE, text=True),
    }
    return procs


def finish_tools(procs, window, recd_pid):
    """CPU of each tool and of recd over the same `window` seconds, all three
    recording the same source at once, then the tools' overruns."""
    pids = {**{name: p.pid for name, p in procs.items()}, "recd": recd_pid}
    time.sleep(1)  # every stream is open and delivering
    before = {name: run_seconds(pid) for name, pid in pids.items()}
    time.sleep(window)
    cpu = {name: run_seconds(pid) - before[name] for name, pid in pids.items()}
    procs["parecord"].terminate()
    out = {"recd": {"cpu": cpu["recd"]}}
    for name, p in procs.items():
        _, err = p.communicate(timeout=90)
        out[name] = {"cpu": cpu[name], "overruns": err.count("overrun")}
    return out


def main():
    work = tempfile.mkdtemp(prefix="recd-bench.")
    results = []

    def row(figure, recd, arecord=None, parecord=None, target="", met=None, unit=""):
        ratio = (recd / arecord) if (arecord not in (None, 0) and recd is not None) else None
        results.append({"figure": figure, "unit": unit, "recd": recd, "arecord": arecord, "parecord": parecord,
                        "ratio": ratio, "target": target, "met": met})

    # In this order: 6 first, while nothing has run yet (idle cost with no
    # recording, pre_roll 0); the low-power and pre-roll groups last, as they run
    # a recd of their own.
    groups = [
        ("idle", lambda: idle(daemon_pid(), row)),
        ("cpu", lambda: cpu(daemon_pid(), work, row)),
        ("latency", lambda: latency(work, row)),
        ("cold", lambda: cold_start(work, row)),
        ("align", lambda: alignment(work, row)),
        ("load", lambda: load(daemon_pid(), work, row)),
        ("lowpower", lambda: low_power(work, row)),
        ("preroll", lambda: pre_roll(work, row)),
    ]
    ensure_daemon()
    for group, measure in groups:
        if wanted(group):
            measure()
    shutil.rmtree(work, ignore_errors=True)
    return results


def idle(pid, row):
    time.sleep(1)
    c0, w0 = run_seconds(pid), wakeups(pid)
    time.sleep(60)
    c1, w1 = run_seconds(pid), wakeups(pid)
    row("idle CPU over 60 s", c1 - c0, unit="s", target="~0")
    row("idle wakeups per second", (w1 - w0) / 60, unit="/s", target="0 from recd's timers", met=(w1 - w0) == 0)


def cpu(pid, work, row, label="", tag="cpu"):
    """1. CPU per recorded hour: a 60 s take each, at the same time, same source."""
    take = 60
    # arecord runs a little longer than the window, so that it is still recording
    # at its end.
    procs = run_tools(take + 5, work, tag)
    recctl("start", os.path.join(work, f"recd-{tag}.wav"), *FORMAT)
    tools = finish_tools(procs, take, pid)
    recctl("stop")
    recd_cpu = tools["recd"]["cpu"]
    per_hour = lambda s: s * 3600 / take
    row(f"{label}CPU seconds per recorded hour", per_hour(recd_cpu), per_hour(tools["arecord"]["cpu"]),
        per_hour(tools["parecord"]["cpu"]), "<= 1.25x arecord",
        per_hour(recd_cpu) <= 1.25 * per_hour(tools["arecord"]["cpu"]), "s")


def start_stop_pairs(work, tag, pairs=50):
    """Wall time of `recctl start` and of `recctl stop` (ms), over pairs 50-70 ms
    apart. The sound server delivers every 10 ms, and a start waits for the next
    delivery: strictly periodic pairs would lock onto one phase of that rhythm
    and report all lucky or all unlucky starts (measured: medians of 9 and 18 ms
    in two runs). A key press has no phase, so neither do these: a random
    wait (seeded, to be repeatable) spreads them over the whole interval."""
    jitter = random.Random(6)
    starts, stops = [], []
    for i in range(pairs):
        path = os.path.join(work, f"{tag}{i}.wav")
        time.sleep(jitter.uniform(0, 0.02))
        t0 = time.monotonic()
        recctl("start", path, *FORMAT)
        t1 = time.monotonic()
        time.sleep(0.05 + jitter.uniform(0, 0.02))
        t2 = time.monotonic()
        recctl("stop")
        t3 = time.monotonic()
        starts.append((t1 - t0) * 1000)
        stops.append((t3 - t2) * 1000)
        os.unlink(path)
    return starts, stops


def busname_owned():
    # busctl asks the bus, which does not activate recd; recctl would.
    return subprocess.run(["busctl", "--user", "status", "org.recd.Recorder1"], capture_output=True).returncode == 0


def stop_daemon():
    os.kill(daemon_pid(), 15)
    while busname_owned():
        time.sleep(0.05)


@contextlib.contextmanager
def daemon_with(config_text, work, name):
    """A recd of our own with this configuration, in place of the activated one;
    yields its pid."""
    if busname_owned():
        stop_daemon()
    config = os.path.join(work, f"{name}.toml")
    with open(config, "w") as f:
        f.write(config_text)
    daemon = subprocess.Popen([RECD, "--config", config, "--log-level", "warn"])
    try:
        while not busname_owned():
            time.sleep(0.05)
        yield daemon.pid
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def latency(work, row, label="", tag="lat"):
    """3. Command latency with a warm daemon: 50 start/stop pairs."""
    starts, stops = start_stop_pairs(work, tag)
    row(f"{label}recctl start, warm: median", statistics.median(starts), unit="ms", target="< 15 ms",
        met=statistics.median(starts) < 15)
    row(f"{label}recctl start, warm: p95", pct(starts, 95), unit="ms")
    row(f"{label}recctl stop, warm: median", statistics.median(stops), unit="ms", target="< 15 ms",
        met=statistics.median(stops) < 15)
    row(f"{label}recctl stop, warm: p95", pct(stops, 95), unit="ms")


def cold_start(work, row):
    """Cold start: no daemon; D-Bus activation starts it."""
    cold = []
    for i in range(5):
        stop_daemon()
        time.sleep(0.2)
        path = os.path.join(work, f"cold{i}.wav")
        t0 = time.monotonic()
        recctl("start", path, *FORMAT)
        cold.append((time.monotonic() - t0) * 1000)
        recctl("stop")
    row("recctl start, cold (activation): median of 5", statistics.median(cold), unit="ms", target="< 250 ms",
        met=statistics.median(cold) < 250)


def alignment(work, row):
    """4. Alignment: |file duration - wall time between start returning and stop being called|."""
    errors = []
    for i in range(20):
        path = os.path.join(work, f"align{i}.wav")
        recctl("start", path, *FORMAT)
        t0 = time.monotonic()
        time.sleep(0.5 + (i % 5) * 0.2)
        t1 = time.monotonic()
        recctl("stop")
        errors.append(abs(duration_of(path) - (t1 - t0)) * 1000)
    row("alignment |file - wall|: p95 of 20", pct(errors, 95), unit="ms", target="< 25 ms", met=pct(errors, 95) < 25)
    row("alignment |file - wall|: median", statistics.median(errors), unit="ms")


def load(pid, work, row):
    """2 and 5. A long take under load: RSS after 1 and 3 (10 with --long) minutes,
    and overruns while stress-ng loads the machine, recd and arecord side by side."""
    minutes = 10 if LONG else 3
    stress_s = max(300, minutes * 60)
    stress = subprocess.Popen(["stress-ng", "--cpu", "2", "--io", "1", "--hdd", "1", "--timeout", f"{stress_s}s",
                               "--quiet", "--temp-path", work], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = {"arecord": subprocess.Popen(["arecord", "-D", "default", "-f", "S16_LE", "-r", "48000", "-c", "2",
                                          "-d", str(stress_s), os.path.join(work, "arecord-stress.wav")],
                                         stderr=subprocess.PIPE, text=True)}
    recctl("start", os.path.join(work, "recd-stress.wav"), *FORMAT)
    t0 = time.monotonic()
    rss = {}
    for mark in sorted({1, 3, minutes}):
        while time.monotonic() - t0 < mark * 60:
            time.sleep(1)
        rss[mark] = rss_kib(pid)
    while time.monotonic() - t0 < stress_s:
        time.sleep(1)
    status = json.loads(recctl("status", "--json").stdout)
    recctl("stop")
    stress.wait()
    _, err = procs["arecord"].communicate(timeout=60)
    row(f"RSS after 1 min", rss[1], unit="KiB")
    row(f"RSS after {minutes} min", rss[minutes], unit="KiB")
    growth = (rss[minutes] - rss[1]) / 1024
    row(f"RSS growth 1 -> {minutes} min", growth, unit="MiB", target="< 1 MiB", met=growth < 1)
    drops = status["overruns"] + status["input_overflows"]
    row(f"overruns + input overflows, {stress_s // 60} min under stress-ng", drops, err.count("overrun"),
        target="recd 0", met=drops == 0, unit="")


def low_power(work, row):
    """The cost of recd's default pacing, shown by the configuration that records
    as arecord does: RtAudio's ALSA back end through the same PulseAudio plugin,
    with 4096-frame periods (85 ms), so that the reading thread wakes once a
    period instead of once per packet. CPU next to arecord, and what it costs in
    start latency."""
    label = "audio_api alsa, buffer_frames 4096: "
    with daemon_with('audio_api = "alsa"\nbuffer_frames = 4096\n', work, "low-power") as pid:
        cpu(pid, work, row, label=label, tag="low-power-cpu")
        starts, _ = start_stop_pairs(work, "low", pairs=10)
        row(f"{label}recctl start, warm: median of 10", statistics.median(starts), unit="ms")


def write_markers(path):
    """Raw s16le stereo at 48 kHz: 60 ms bursts of 1 kHz at 0.4 full scale, at 0 s and 1 s."""
    import math
    import struct
    frames = []
    for i in range(int(1.6 * 48000)):
        k = i % 48000
        v = 0.4 * math.sin(2 * math.pi * 1000 * k / 48000) if i < 96000 and k < 0.06 * 48000 else 0.0
        s = int(round(v * 32767))
        frames.append(struct.pack("<hh", s, s))
    with open(path, "wb") as f:
        f.write(b"".join(frames))


def pre_roll(work, row):
    """With pre_roll = 2 in the config: warm start and stop (the input is already
    open), and where a marker played half a second before start lands in the file,
    against a marker exactly 1 s later in the same pacat stream, recorded live."""
    with daemon_with("pre_roll = 2\n", work, "pre-roll"):
        time.sleep(2.5)  # the pre-roll fills
        latency(work, row, label="pre_roll 2: ", tag="pre")

        markers = os.path.join(work, "markers.raw")
        write_markers(markers)
        errors, missing = [], 0
        for i in range(10):
            time.sleep(2.1)  # a full pre-roll again
            path = os.path.join(work, f"marker{i}.wav")
            play = subprocess.Popen(["pacat", "--playback", "--raw", "--rate=48000", "--channels=2",
                                     "--format=s16le", "--device=recd_mic", "--latency-msec=20", markers])
            time.sleep(0.5)
            recctl("start", path, *FORMAT)
            time.sleep(1.2)
            recctl("stop")
            play.wait()
            out = subprocess.run([ANALYZE, "--bursts", "1000", path], capture_output=True, text=True,
                                 check=True).stdout
            bursts = [float(x) for x in re.search(r"bursts:\s*(.*)", out).group(1).split()]
            if len(bursts) != 2 or bursts[0] >= 2.0:
                missing += 1
                continue
            errors.append(abs(bursts[1] - bursts[0] - 1.0) * 1000)
        row("pre_roll 2: marker before start, offset error: max of 10", max(errors) if errors else None, unit="ms",
            target="< 10 ms", met=bool(errors) and missing == 0 and max(errors) < 10)
        row("pre_roll 2: markers missing from the pre-roll", missing, unit="", target="0", met=missing == 0)


def show(results, machine):
    def fmt(v):
        if v is None:
            return "-"
        if isinstance(v, bool):
            return "yes" if v else "no"
        return f"{v:.3f}" if isinstance(v, float) and abs(v) < 10 else (f"{v:.1f}" if isinstance(v, float) else str(v))
    head = ["figure", "unit", "recd", "arecord", "parecord", "ratio", "target", "met?"]
    rows = [[r["figure"], r["unit"], fmt(r["recd"]), fmt(r["arecord"]), fmt(r["parecord"]), fmt(r["ratio"]),
             r["target"], fmt(r["met"]) if r["met"] is not None else ""] for r in results]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows]
    return "\n".join(out) + f"\n\nMachine: {machine}\n"


if __name__ == "__main__":
    machine = f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // 2**30} GiB, " \
              f"{os.uname().sysname} {os.uname().release}; {'long' if LONG else 'quick'} mode"
    results = main()
    table = show(results, machine)
    print(table)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "latest.json"), "w") as f:
        json.dump({"machine": machine, "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "figures": results}, f, indent=2)
    if ONLY is not None:
        sys.exit(0)  # a partial run is not a result to keep
    with open(os.path.join(ROOT, "bench", "RESULTS.md"), "w") as f:
        f.write("# Benchmark results\n\nThe last run of `bench/run` (see README, Benchmarks).\n\n" + table)
