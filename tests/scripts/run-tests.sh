#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, checks formatting and
# lints, builds each binary once, then runs every test — unit, API client against the
# simulator, the real keychain, and the end-to-end suite driving the real app under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"

tests/scripts/setup.sh --packaging

echo "== format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
node tests/scripts/ui-size.mjs
node tests/scripts/locale-words.mjs --self-test
node tests/scripts/ui-units.mjs

echo "== the release workflow: pinned actions, least privilege, tag = version, updater key pair"
tests/scripts/release-check.sh self-test

echo "== build (once; the tests reuse these binaries)"
cargo build --workspace --bins --quiet

echo "== tests (unit, client, keychain, end to end)"
mkdir -p tests/artifacts
export UNLOC_E2E=1 UNLOC_REAL_KEYCHAIN=1 RUST_LOG=${RUST_LOG:-warn}
tests/scripts/with-desktop.sh cargo test --workspace --no-fail-fast -- --test-threads=2

echo "== one app, one window: a second start, the window's place after a restart"
tests/scripts/one-window.sh

echo "== the hostile-world report: fault table, faults and injection payloads in the app, secrets audit, axe"
tests/scripts/hostile-report.sh

echo "== the benchmark, quick mode (proves it still runs; the figures come from tests/scripts/benchmark.sh)"
tests/scripts/benchmark.sh --quick --runs 1

echo "== installers: build the .deb and .rpm, install the .deb, run it, uninstall"
tests/scripts/build-installers.sh
tests/scripts/install-test.sh
