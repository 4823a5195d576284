"""Tables for tests/scripts/profile-cached-start.sh: reads `perf script` output (fields comm, pid,
tid, time, period, ip, sym, dso, with call chains) on standard input and the driver's log (argument 1),
whose "wall clock:" lines give each run's moments (ms since the epoch) and process ids. Sums the
sampled CPU time of each run's processes inside three windows:

  blank: start -> first frame    the blank app's launch to its first animation frame
  app: start -> saved locks      the app's launch to the start-up reply with the saved locks
  app: saved locks -> drawn      the data in the page to the rows' frame drawn (the first task after it)

and splits it by process, by thread and by area (which library the sample was in). Figures are
medians over the runs of each window, in ms of CPU time; "wall" is the window's own length.
"""

import re
import statistics
import sys
from collections import defaultdict

CLOCK = re.compile(r"bench:\s+(blank|app) run (\d+): wall clock: (.*); pids ([\d ]+)")
SAMPLE = re.compile(r"^(.*?)\s+(\d+)/(\d+)\s+(\d+\.\d+):\s+(\d+)\s+(.*)$")
FRAME = re.compile(r"^\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)$")

# Which area a library belongs to, by the start of its file name (first match wins).
AREAS = [
    ("libwebkit2gtk", "WebKit (WebCore: style, layout, paint incl. Skia; no symbols)"),
    ("libjavascriptcoregtk", "JavaScriptCore (+ WTF)"),
    ("[unknown]", "JIT code / unknown"),
    ("//anon", "JIT code / unknown"),
    ("perf-", "JIT code / unknown"),  # JavaScriptCore's map of its JIT code (/tmp/perf-PID.map)
    ("libfontconfig", "text: fontconfig"),
    ("libharfbuzz", "text: harfbuzz"),
    ("libfreetype", "text: freetype"),
    ("libicu", "text: ICU"),
    ("libcairo", "cairo / pixman"),
    ("libpixman", "cairo / pixman"),
    ("libatk", "accessibility (atk, at-spi)"),
    ("libatspi", "accessibility (atk, at-spi)"),
    ("libgtk", "GTK / GDK"),
    ("libgdk", "GTK / GDK"),
    ("libglib", "GLib / GObject / GIO"),
    ("libgobject", "GLib / GObject / GIO"),
    ("libgio", "GLib / GObject / GIO"),
    ("libc.so", "libc, libstdc++, libm, ld.so"),
    ("libc-", "libc, libstdc++, libm, ld.so"),
    ("libstdc++", "libc, libstdc++, libm, ld.so"),
    ("libm.so", "libc, libstdc++, libm, ld.so"),
    ("ld-linux", "libc, libstdc++, libm, ld.so"),
    ("[kernel", "kernel"),
    ("libLLVM", "OpenGL (Mesa, llvmpipe)"),
    ("libgallium", "OpenGL (Mesa, llvmpipe)"),
    ("swrast", "OpenGL (Mesa, llvmpipe)"),
    ("libEGL", "OpenGL (Mesa, llvmpipe)"),
    ("libGL", "OpenGL (Mesa, llvmpipe)"),
    ("libgbm", "OpenGL (Mesa, llvmpipe)"),
    ("libepoxy", "OpenGL (Mesa, llvmpipe)"),
    ("libsqlite", "SQLite"),
    ("unloc-desk", "the app's own code (Rust)"),
    ("unloc-bench-blank", "the app's own code (Rust)"),
    ("app-", "the app's own code (Rust)"),  # a copied binary, e.g. app-before / app-after
]


def area(dso):
    name = dso.rsplit("/", 1)[-1]
    for prefix, label in AREAS:
        if name.startswith(prefix) or dso.startswith(prefix):
            return label
    return "other: " + name


def read_windows(log_path):
    """(label, run, start_s, end_s, pids) for every window the driver's log gives."""
    windows = []
    with open(log_path, encoding="utf-8", errors="replace") as log:
        for line in log:
            match = CLOCK.search(line)
            if not match:
                continue
            name, run, moments, pids = match.groups()
            at = {}
            for part in moments.split(", "):
                key, _, value = part.rpartition(" ")
                at[key] = float(value) / 1000.0
            pids = [int(p) for p in pids.split()]
            if name == "blank":
                windows.append(("blank: start -> first frame", run, at["launched"], at["painted"], pids))
            else:
                windows.append(("app: start -> saved locks", run, at["launched"], at["the saved locks"], pids))
                windows.append(("app: saved locks -> drawn", run, at["the saved locks"], at["the rows drawn"], pids))
    return windows


def samples(stream):
    """(comm, pid, tid, time_s, period_ns, [(sym, dso), ...] leaf first) from `perf script`."""
    head, chain = None, []
    for line in stream:
        line = line.rstrip("\n")
        if not line.strip():
            if head:
                yield (*head, chain)
            head, chain = None, []
            continue
        frame = FRAME.match(line)
        if head and frame:
            chain.append((frame.group(2), frame.group(3)))
            continue
        match = SAMPLE.match(line)
        if match:
            if head:
                yield (*head, chain)
            comm, pid, tid, time, period, rest = match.groups()
            head, chain = (comm.strip(), int(pid), int(tid), float(time), int(period)), []
            leaf = re.match(r"([0-9a-f]+)\s+(.*?)\s+\((.*)\)$", rest.strip())
            if leaf:
                chain.append((leaf.group(2), leaf.group(3)))
    if head:
        yield (*head, chain)


def main():
    windows = read_windows(sys.argv[1])
    if not windows:
        sys.exit("profile: no 'wall clock:' lines in the driver's log")
    windows.sort(key=lambda w: w[2])
    first, last = windows[0][2], max(w[3] for w in windows)
    # per window index: {(kind, key): ns}
    sums = [defaultdict(int) for _ in windows]
    process_names = {}
    for comm, pid, tid, time, period, chain in samples(sys.stdin):
        if time < first or time > last:
            continue
        for index, (_, _, start, end, pids) in enumerate(windows):
            if not start <= time <= end:
                continue
            total = sums[index]
            if pid in pids:
                if pid == tid:
                    process_names[pid] = comm
                leaf_sym, leaf_dso = chain[0] if chain else ("[unknown]", "[unknown]")
                total[("pid", pid)] += period
                total[("thread", (pid, comm))] += period
                total[("area", (pid, area(leaf_dso)))] += period
                sym = re.sub(r"\+0x[0-9a-f]+$", "", leaf_sym)
                total[("symbol", (pid, area(leaf_dso), sym))] += period
                # A sample in libc or the kernel, charged to the first other library up its chain
                # (only where frame pointers let perf walk it).
                if area(leaf_dso) in ("libc, libstdc++, libm, ld.so", "kernel", "GLib / GObject / GIO"):
                    caller = next((area(d) for _, d in chain[1:] if area(d) != area(leaf_dso)), "(no caller seen)")
                    total[("via", (pid, area(leaf_dso), caller))] += period
            elif pid == 0:
                total[("machine", "idle (no process on the core)")] += period
            else:
                total[("machine", "other processes")] += period

    labels = list(dict.fromkeys(w[0] for w in windows))

    def ms(ns):
        return ns / 1e6

    for label in labels:
        indices = [i for i, w in enumerate(windows) if w[0] == label]
        walls = [(windows[i][3] - windows[i][2]) * 1000 for i in indices]
        print(f"\n== {label}: {len(indices)} runs, wall {statistics.median(walls):.0f} ms median "
              f"({min(walls):.0f}-{max(walls):.0f})")
        # Process roles: the main comm of each pid; summed per comm per run.
        per_run = []
        for i in indices:
            by = defaultdict(float)
            for (kind, key), ns in sums[i].items():
                if kind == "pid":
                    by["process: " + process_names.get(key, f"pid {key} (no main-thread sample)")] += ms(ns)
                elif kind == "thread":
                    by["thread: " + process_names.get(key[0], "?") + " / " + key[1]] += ms(ns)
                elif kind == "area":
                    by["area: " + process_names.get(key[0], "?") + " / " + key[1]] += ms(ns)
                    # The summary: the launched process (the UI process) and its web process.
                    role = "UI process" if key[0] == windows[i][4][0] else (
                        "web process" if process_names.get(key[0], "").startswith("WebKitWeb") else None)
                    if role:
                        by["summary: " + role + " / " + key[1]] += ms(ns)
                        by["summary: " + role + " / all"] += ms(ns)
                elif kind == "machine":
                    by["machine: " + key] += ms(ns)
                elif kind == "via":
                    by["via: " + process_names.get(key[0], "?") + " / " + key[1] + " <- " + key[2]] += ms(ns)
                elif kind == "symbol":
                    by["symbol: " + process_names.get(key[0], "?") + " / " + key[1] + " / " + key[2]] += ms(ns)
            per_run.append(by)
        keys = set().union(*per_run)
        rows = []
        for key in keys:
            values = [run.get(key, 0.0) for run in per_run]
            rows.append((key, statistics.median(values), min(values), max(values)))
        for section, limit, floor in [("machine", 10, 0), ("process", 10, 0), ("thread", 14, 2),
                                      ("area", 40, 2), ("via", 20, 3), ("symbol", 40, 3), ("summary", 60, 0)]:
            picked = sorted((r for r in rows if r[0].startswith(section + ": ") and r[1] >= floor),
                            key=lambda r: -r[1])[:limit]
            if not picked:
                continue
            print(f"  -- by {section} (CPU ms: median, min-max over runs)")
            for key, med, low, high in picked:
                print(f"    {med:7.1f}  ({low:6.1f}-{high:6.1f})  {key[len(section) + 2:]}")


main()
