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
# Every UI module parses: a lost brace otherwise shows only as an app stuck at its spinner.
find ui -name '*.js' -print0 | while IFS= read -r -d '' module; do
  node --input-type=module --check <"$module" || { echo "ui: $module does not parse" >&2; exit 1; }
done
node tests/scripts/ui-size.mjs
node tests/scripts/locale-words.mjs --self-test
node tests/scripts/ui-units.mjs

echo "== the release workflow: pinned actions, least privilege, tag = version, updater key pair"
tests/scripts/release-check.sh self-test

echo "== build (once; the tests reuse these binaries)"
cargo build --workspace --bins --quiet

echo "== tests (unit, client, keychain, team database)"
mkdir -p tests/artifacts target
# UNLOC_PG_REQUIRED: the team database's tests fail, rather than skip, without the throwaway server
# (with-postgres.sh: a PostgreSQL cluster on a loopback port, removed afterwards).
export UNLOC_E2E=1 UNLOC_REAL_KEYCHAIN=1 UNLOC_PG_REQUIRED=1 RUST_LOG=${RUST_LOG:-warn}
failed=0
tests/scripts/with-desktop.sh tests/scripts/with-postgres.sh \
  cargo test --workspace --exclude unloc-e2e --no-fail-fast -- --test-threads=2 || failed=1

echo "== tests (end to end: the real app under Xvfb against the simulator)"
# The scenarios' own reports (fault table, payloads, audit, axe, budgets) are kept in target/e2e.log
# for the hostile-world report below, which reads them instead of running those scenarios again.
tests/scripts/with-desktop.sh tests/scripts/with-postgres.sh \
  cargo test -p unloc-e2e --test e2e --no-fail-fast -- --nocapture --test-threads=2 2>&1 \
  | tee target/e2e.log || failed=1
((failed == 0)) || { echo "run-tests: tests failed (see above)" >&2; exit 1; }

echo "== one app, one window: a second start, the window's place after a restart"
tests/scripts/one-window.sh

echo "== the hostile-world report: fault table, faults and injection payloads in the app, secrets audit, axe"
tests/scripts/hostile-report.sh --from-log target/e2e.log

echo "== the benchmark, quick mode (proves it still runs; the figures come from tests/scripts/benchmark.sh)"
tests/scripts/benchmark.sh --quick --runs 1

echo "== installers: build the .deb and .rpm, install the .deb, run it, uninstall"
tests/scripts/build-installers.sh
tests/scripts/install-test.sh
