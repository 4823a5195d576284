#!/usr/bin/env bash
# Speed and footprint of Unloc Desk against a blank Tauri app (tests/bench/blank) built the same
# way, under the project's private desktop (Xvfb, D-Bus, keyring) against the simulator.
#
#   tests/scripts/benchmark.sh          full run: release builds of both apps and their .deb/.rpm,
#                                       10,000 locks, 100,000 events, median of 5 runs, the history
#                                       sync of 1,000 locks at the app's budget (8 min); writes
#                                       docs/benchmarks.md (the table between its markers)
#   tests/scripts/benchmark.sh --quick  about a minute: the debug builds the test command already
#                                       made, 1,000 locks, 10,000 events, 3 runs, an Activity
#                                       archive of 20,000 events; writes
#                                       target/bench/quick.md (proves the benchmark still runs)
#
# Every figure is a ratio against the blank app measured in the same run: the machine is shared,
# so absolute times vary from run to run. Run the full mode on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
root=$PWD

# The test binary of unloc-desk's activity_sync tests (its ignored pace test times the history
# sync through the governor), built with the given cargo options; its path on standard output.
# Selected as the test command's unit tests select (the workspace but the end-to-end crate), so
# the quick mode finds it built: a narrower `-p` selection resolves other features for Tauri and
# Tokio and builds them, the app's library and this test again (minutes on 2 cores).
sync_bench() {
  cargo test --quiet "$@" --workspace --exclude unloc-e2e --test activity_sync --no-run --message-format=json \
    | grep -o '"executable":"[^"]*activity_sync-[^"]*"' | cut -d'"' -f4 | tail -n 1
}

if [[ ${1:-} == --quick ]]; then
  shift
  # What the test command's build stage and unit tests built, with the same selections (above):
  # nothing is built again. So in quick mode the blank app carries the app's Tauri features
  # (built together, Cargo unifies them); the full run builds each app on its own.
  cargo build --quiet --workspace --bins
  cargo build --quiet --workspace --exclude unloc-e2e --example activity_bench
  sync_test=$(sync_bench)
  driver=target/debug/unloc-bench
  args=(--quick --app "$root/target/debug/unloc-desk" --blank "$root/target/debug/unloc-bench-blank"
    --activity-bench "$root/target/debug/examples/activity_bench" --sync-bench "$sync_test"
    --out "$root/target/bench/quick.md")
else
  tools="$root/target/tools"
  if [[ ! -x $tools/node_modules/.bin/tauri ]]; then
    echo "benchmark: installing the Tauri CLI (npm @tauri-apps/cli@^2) into target/tools"
    npm install --silent --no-audit --no-fund --prefix "$tools" '@tauri-apps/cli@^2' >/dev/null
  fi
  # Each release binary is built once, by the bundler, and the benchmark runs that same binary.
  # One app at a time: built together, Cargo would unify Tauri's features and the blank app
  # would carry the app's.
  echo "benchmark: release build and packages of the blank app (minutes)"
  (cd tests/bench/blank && "$tools/node_modules/.bin/tauri" build --bundles deb,rpm --ci >/dev/null)
  echo "benchmark: release build and packages of Unloc Desk (minutes)"
  (cd src-tauri && "$tools/node_modules/.bin/tauri" build --bundles deb,rpm --ci >/dev/null)
  cargo build --quiet --profile bench-driver -p unloc-bench
  # The Activity filter is measured in-process over the app's own store code, optimised like the
  # release build (the bench-driver profile: release without link-time optimisation).
  cargo build --quiet --profile bench-driver --workspace --exclude unloc-e2e --example activity_bench
  sync_test=$(sync_bench --profile bench-driver)
  driver=target/bench-driver/unloc-bench
  args=(--activity-bench "$root/target/bench-driver/examples/activity_bench"
    --sync-bench "$sync_test"
    --app "$root/target/release/unloc-desk" --blank "$root/target/release/unloc-bench-blank"
    --packages "$root/target/release/bundle" --out "$root/docs/benchmarks.md")
fi

[[ -x $sync_test ]] || { echo "benchmark: the activity_sync test binary was not built" >&2; exit 1; }
echo "benchmark: load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
tests/scripts/with-desktop.sh "$driver" "${args[@]}" "$@"
