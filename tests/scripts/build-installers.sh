#!/usr/bin/env bash
# Builds the release installers this machine can build — .deb and .rpm — and prints their sizes.
# AppImage, MSI/NSIS and DMG are built by the release workflow on their own runners
# (.github/workflows/release.yml): AppImage's bundler downloads its tools, which this machine cannot.
# Output: target/release/bundle/{deb,rpm}/
#
# --test-build (the test command): the release profile without optimisation (opt-level 0), with
# link-time optimisation off and 16 codegen units. What the installers test checks (the package
# installs, the installed app starts, signs in, and uninstalls cleanly) depends on none of them, and
# on 2 cores they are most of the build's time: built from nothing, about 300 s at opt-level 0
# against 9-13 min as before (opt-level "s" without LTO). Such packages are for that test only.
# panic = abort and strip, which change behaviour and contents, stay as released. The release
# workflow and the benchmark build with the profile exactly as Cargo.toml has it.
set -euo pipefail
kind="release"
if [[ ${1:-} == --test-build ]]; then
  kind="test (unoptimised, not for release)"
  export CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
elif [[ -n ${1:-} ]]; then
  echo "usage: $0 [--test-build]" >&2
  exit 2
fi
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"

tests/scripts/setup.sh --packaging
tools="$PWD/target/tools"
if [[ ! -x $tools/node_modules/.bin/tauri ]]; then
  command -v npm >/dev/null || { echo "installers: npm is needed (apt-get install nodejs npm)" >&2; exit 1; }
  echo "installers: installing the Tauri CLI (npm @tauri-apps/cli@^2) into target/tools"
  npm install --silent --no-audit --no-fund --prefix "$tools" '@tauri-apps/cli@^2' >/dev/null
fi

echo "installers: $kind build (a few minutes)"
(cd src-tauri && "$tools/node_modules/.bin/tauri" build --bundles deb,rpm --ci >/dev/null)

echo "installers ($kind build):"
for file in target/release/bundle/deb/*.deb target/release/bundle/rpm/*.rpm; do
  awk -v f="$file" -v b="$(stat -c %s "$file")" 'BEGIN { printf "  %-60s %6.1f MB\n", f, b / 1048576 }'
done
