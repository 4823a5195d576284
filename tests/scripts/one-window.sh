#!/usr/bin/env bash
# One app, one window: a start without a display ends with a sentence in the log (not a panic), a
# second start with the same folders (with a display or without) exits at once and leaves one
# window (the first is brought forward), and a moved and resized window comes back at its place
# after a restart. Runs the debug binary (cargo build -p unloc-desk --bins) inside
# tests/scripts/with-desktop.sh: Xvfb without a window manager, a private D-Bus session, its own
# XDG folders.
# Usage: tests/scripts/one-window.sh [APP_BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ ${UNLOC_IN_DESKTOP:-} != 1 ]]; then
  exec tests/scripts/with-desktop.sh "$0" "$@"
fi

app=$(realpath "${1:-target/debug/unloc-desk}")
[[ -x $app ]] || { echo "one-window: $app is missing: run cargo build -p unloc-desk --bins" >&2; exit 1; }
work=$(mktemp -d -t unloc-one-window.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "one-window: FAILED: $*" >&2
  # A panic's message comes before its backtrace: show it, then how the log ends.
  for log in "$work"/*.log; do
    [[ -f $log ]] || continue
    { grep -m2 -A2 -e 'panicked' -e 'ERROR' "$log" || true; tail -5 "$log"; } | sed "s|^|  $(basename "$log"): |" >&2
  done
  echo "  the X server ($DISPLAY): $(xdpyinfo 2>&1 | head -2 | tr '\n' ' ')" >&2
  exit 1
}

windows() { xdotool search --onlyvisible --name '^Unloc Desk$' 2>/dev/null || true; }

# Starts the app in the background; waits (60 s at most) until its window is mapped.
start() {
  "$app" >"$work/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do
    [[ -n $(windows) ]] && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || fail "the app ($1) ended before it showed a window"
    sleep 0.1
  done
  fail "no window within 60 s ($1)"
}

# Stops the app the way a log-out does (SIGTERM) and waits until it has exited.
stop() {
  kill -TERM "$1"
  for _ in $(seq 200); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  fail "the app did not stop within 20 s of SIGTERM"
}

geometry() { # x y width height of the app's window
  local window
  window=$(windows | head -1)
  [[ -n $window ]] || { echo "no window"; return 0; }
  xwininfo -id "$window" 2>/dev/null | awk '/Absolute upper-left X/ {x=$4} /Absolute upper-left Y/ {y=$4}
    /^ *Width:/ {w=$2} /^ *Height:/ {h=$2} END {print x, y, w, h}'
}

x_server() { xdpyinfo >/dev/null 2>&1 && echo answers || echo "xdpyinfo: $(xdpyinfo 2>&1 | head -1)"; }

saved_place() { # x y width height of the main window as the app wrote it down (tauri-plugin-window-state)
  local file="${XDG_CONFIG_HOME:?}/no.unlocdesk.desktop/.window-state.json"
  [[ -f $file ]] || { echo "nothing saved"; return 0; }
  node -e 'try { const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).main;
    console.log(m ? [m.x, m.y, m.width, m.height].join(" ") : "no main window saved") }
    catch (e) { console.log("unreadable: " + e.message) }' "$file"
}

# The app writes its place down shortly after a move (window.rs, save_place_as_it_changes), so the
# test stops it only once that is on disk: a stop sent the instant the X server has moved the
# window could otherwise reach the app before the move does, which is not what a user can do.
wait_saved_place() { # wanted geometry
  wait_for "$1" saved_place || fail "the app did not write down its new place within 20 s: the file says '$seen', expected '$1'"
}

wait_geometry() { # wanted geometry, what it is about
  wait_for "$1" geometry || fail "$2: the window is at '$seen', expected '$1'"
}

# Runs the command after the wanted text until it prints that text, 20 s at most; what it printed
# last is left in $seen.
seen=""
wait_for() {
  local wanted=$1
  shift
  for _ in $(seq 200); do
    seen=$("$@")
    [[ $seen == "$wanted" ]] && return 0
    sleep 0.1
  done
  return 1
}

# The X server answers before the first start: a window that cannot open for want of a display
# would otherwise read as the app's failure.
wait_for "answers" x_server || fail "the X server ($DISPLAY) did not answer within 20 s: $seen"
echo "one-window: a start without a display"
no_display=99
# A number no X server has: no socket or lock file here, and nothing answers on it (Xvfb also
# listens on an abstract socket, which a container may share without sharing /tmp).
while [[ -e /tmp/.X11-unix/X$no_display || -e /tmp/.X$no_display-lock ]] \
  || xdpyinfo -display ":$no_display" >/dev/null 2>&1; do
  no_display=$((no_display + 1))
done
without_display() { env -u WAYLAND_SOCKET DISPLAY=":$no_display" WAYLAND_DISPLAY= GDK_BACKEND=x11 "$@"; }
status=0
without_display timeout 30 "$app" >"$work/no-display.log" 2>&1 || status=$?
[[ $status == 1 ]] || fail "started without a display, the app ended with status $status (expected 1; 124: it did not end within 30 s)"
grep -q "could not open its window: the desktop's display could not be opened" "$work/no-display.log" \
  || fail "started without a display, the app's log does not say why it stopped"
! grep -q panicked "$work/no-display.log" || fail "started without a display, the app panicked"
rm "$work/no-display.log"
echo "one-window: without a display the app ended with status 1 and said why"

echo "one-window: first start"
start first
first=${pids[-1]}
count=$(windows | wc -l)
[[ $count == 1 ]] || fail "one start shows $count windows"

echo "one-window: a second start with the same folders"
started=$(date +%s%N)
status=0
timeout 30 "$app" >"$work/second.log" 2>&1 || status=$?
took=$(( ($(date +%s%N) - started) / 1000000 ))
[[ $status == 0 ]] || fail "the second start ended with status $status (124: it did not end within 30 s)"
count=$(windows | wc -l)
[[ $count == 1 ]] || fail "after a second start there are $count windows"
kill -0 "$first" 2>/dev/null || fail "the first instance is gone"
echo "one-window: the second start ended in ${took} ms and left 1 window"

echo "one-window: a second start without a display (a terminal without DISPLAY) hands over too"
status=0
without_display timeout 30 "$app" >"$work/second-no-display.log" 2>&1 || status=$?
[[ $status == 0 ]] || fail "a second start without a display ended with status $status, not handing over to the first"
count=$(windows | wc -l)
[[ $count == 1 ]] || fail "after a second start without a display there are $count windows"
echo "one-window: it ended with status 0 and left 1 window"

echo "one-window: move and resize, then restart"
window=$(windows | head -1)
xdotool windowsize "$window" 1000 700
xdotool windowmove "$window" 123 77
wait_geometry "123 77 1000 700" "after moving"
wait_saved_place "123 77 1000 700"
echo "one-window: the new place was written down while the app ran"
stop "$first"
start again
wait_geometry "123 77 1000 700" "after the restart"
echo "one-window: the window came back at 123,77 at 1000x700"
echo "one-window: 4 passed, 0 failed"
