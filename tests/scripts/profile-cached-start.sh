#!/usr/bin/env bash
# Where the CPU goes during the cached start (the app's cold start to its saved locks drawn, and the
# blank app's start to its first frame), by process, thread and library: `perf record` of the whole
# machine around the benchmark's own cached-start runs, cut into each run's windows with the
# wall-clock moments and process ids the driver prints (its "wall clock:" lines). See
# docs/benchmarks.md, "The first frame, profiled (session 9)".
#
#   tests/scripts/profile-cached-start.sh APP BLANK [RUNS]   profile RUNS (default 5) starts of each
#   tests/scripts/profile-cached-start.sh --report DIR        the tables again from an earlier profile
#
# APP and BLANK are built binaries (e.g. target/bench-driver/unloc-desk built with
# `--features tauri/custom-protocol`); the driver must be built (target/bench-driver/unloc-bench, or
# set DRIVER). Writes perf.data, the driver's log and the tables into target/profile/<time>/ (big:
# not for the repository). Needs perf (root or perf_event_paranoid <= 0 for the whole machine).
# The figures are CPU time from samples (1 kHz per core, software clock: no hardware counters are
# needed); WebKit's own libraries have no symbols here, so inside them only the library is known.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

report() {
  local dir=$1
  perf script -i "$dir/perf.data" -F comm,pid,tid,time,period,ip,sym,dso 2>/dev/null \
    | python3 "$root/tests/scripts/profile-cached-start.py" "$dir/driver.log" | tee "$dir/report.txt"
}

if [[ ${1:-} == --report ]]; then
  report "$2"
  exit
fi

app=$(realpath "${1:?usage: $0 APP BLANK [RUNS]}")
blank=$(realpath "${2:?usage: $0 APP BLANK [RUNS]}")
runs=${3:-5}
driver=${DRIVER:-$root/target/bench-driver/unloc-bench}
[[ -x $driver ]] || { echo "profile: build the driver first (cargo build --profile bench-driver -p unloc-bench)" >&2; exit 1; }
dir=$root/target/profile/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$dir"
echo "profile: $runs cached starts of each app under perf; output in $dir"
# -a: the whole machine (the app, its WebKit processes, the X server, and whatever else runs);
# -g: call chains where frame pointers allow; -k realtime: sample times on the wall clock, as the
# driver's moments are.
perf record -a -g -k realtime -F 999 -o "$dir/perf.data" -- \
  tests/scripts/with-desktop.sh "$driver" --only cached --runs "$runs" --app "$app" --blank "$blank" \
  --out "$dir/bench.md" 2>"$dir/driver.log"
grep -h "^bench: " "$dir/driver.log" | grep -v "wall clock" || true
report "$dir"
