#!/usr/bin/env bash
# Runs a command inside a private desktop session: its own D-Bus session bus with an unlocked
# gnome-keyring (the Secret Service the app keeps tokens in) and, when there is no display, Xvfb.
# Usage: tests/scripts/with-desktop.sh COMMAND [ARGS...]
set -euo pipefail

if [[ ${UNLOC_IN_DESKTOP:-} != 1 ]]; then
  export UNLOC_IN_DESKTOP=1
  if [[ -z ${DISPLAY:-} ]]; then
    exec xvfb-run -a -s "-screen 0 1280x900x24" dbus-run-session -- "$0" "$@"
  fi
  exec dbus-run-session -- "$0" "$@"
fi

# A throwaway keyring: the daemon keeps it under XDG_DATA_HOME, unlocked with a fixed password.
if [[ -z ${UNLOC_KEEP_XDG:-} ]]; then
  home=$(mktemp -d -t unloc-desktop.XXXXXX)
  export XDG_DATA_HOME="$home/data" XDG_CONFIG_HOME="$home/config" XDG_CACHE_HOME="$home/cache"
  mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
fi
eval "$(printf 'unloc-test' | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)" || true
export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true
exec "$@"
