#!/usr/bin/env bash
# Installs what building, running and testing Unloc Desk needs on Debian/Ubuntu, and only
# what is missing: system libraries (apt) and tauri-driver (cargo). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/../.."

packages=(
  libwebkit2gtk-4.1-dev pkg-config build-essential   # build the app (WebKitGTK)
  xvfb xauth webkit2gtk-driver imagemagick            # run headless, WebDriver, screenshots
  xdotool x11-utils                                   # find the app's window and read its name and icon
  gnome-keyring dbus-x11 libsecret-tools              # a real Secret Service keychain for tests and the demo
  python3 python3-yaml python3-cryptography           # the release workflow check (tests/scripts/release-check.sh)
  postgresql openssl                                  # the team database: a throwaway server with TLS (with-postgres.sh)
)

# Building installers also needs the Tauri CLI (from npm) and rpm's tools.
command -v npm >/dev/null || packages+=(nodejs npm)   # the Tauri CLI and axe-core come from npm
if [[ ${1:-} == --packaging ]]; then
  packages+=(rpm)
fi

missing=()
for package in "${packages[@]}"; do
  [[ $package == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "setup: Rust is needed (https://rustup.rs); install it and run this again" >&2
  exit 1
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v tauri-driver >/dev/null; then
  echo "setup: installing tauri-driver"
  cargo install tauri-driver --version '^2' --locked --quiet
fi
# axe-core runs inside the app's webview in the accessibility test (not committed: fetched from npm).
if [[ ! -f target/tools/node_modules/axe-core/axe.min.js ]]; then
  command -v npm >/dev/null || { echo "setup: npm is needed for axe-core (apt-get install nodejs npm)" >&2; exit 1; }
  npm install --silent --no-audit --no-fund --prefix target/tools 'axe-core@4' >/dev/null
fi
echo "setup: all tools present"
