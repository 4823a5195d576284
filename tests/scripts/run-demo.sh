#!/usr/bin/env bash
# The demo: installs what is missing, builds, starts the Unloc API simulator with sample data
# and opens Unloc Desk pointed at it. Press "Sign in" — the demo token is already provided.
# Extra arguments go to the simulator, e.g.: tests/scripts/run-demo.sh --locks 10000 --busy-lock-events 100000
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"

tests/scripts/setup.sh
echo "demo: building (the first time takes a few minutes)"
cargo build --bins --quiet -p unloc-desk -p unloc-sim

workdir=$(mktemp -d -t unloc-demo.XXXXXX)
target/debug/unloc-sim --locks 60 --events-per-lock 80 --no-hostile-lock "$@" >"$workdir/sim.out" 2>"$workdir/sim.err" &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true; rm -rf "$workdir"' EXIT

for _ in $(seq 100); do
  grep -q '^UNLOC_API_TOKEN=' "$workdir/sim.out" 2>/dev/null && break
  kill -0 $sim_pid 2>/dev/null || { cat "$workdir/sim.err" >&2; echo "demo: the simulator did not start" >&2; exit 1; }
  sleep 0.1
done
grep -v '^UNLOC_' "$workdir/sim.out"
set -a
# shellcheck disable=SC1091
source <(grep '^UNLOC_' "$workdir/sim.out")
set +a

# The demo keeps its settings apart from a real installation's.
export XDG_DATA_HOME="$PWD/target/demo-home/data" XDG_CONFIG_HOME="$PWD/target/demo-home/config" XDG_CACHE_HOME="$PWD/target/demo-home/cache"
mkdir -p "$XDG_DATA_HOME"
echo "demo: opening Unloc Desk (partner $UNLOC_PARTNER_ID at $UNLOC_API_BASE)"
if [[ -n ${DISPLAY:-} && -n ${DBUS_SESSION_BUS_ADDRESS:-} ]]; then
  target/debug/unloc-desk
else
  # No desktop session here: give the app a private one (keychain, and Xvfb without a display).
  UNLOC_KEEP_XDG=1 tests/scripts/with-desktop.sh target/debug/unloc-desk
fi
