#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, checks formatting and
# lints, builds each binary once, then runs every test — unit, API client against the
# simulator, the real keychain, and the end-to-end suite driving the real app under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"

# Each stage's time, printed at the end (also after a failure): the test command has a budget
# (README: about 35 minutes from a fresh clone on 2 cores), and this shows where it goes.
stage_times=()
stage_name="setup"
stage_started=$SECONDS
stage() {
  stage_times+=("$(printf '%6d s  %s' $((SECONDS - stage_started)) "$stage_name")")
  stage_name=$1
  stage_started=$SECONDS
  echo "== $1"
}
print_stage_times() {
  stage_times+=("$(printf '%6d s  %s' $((SECONDS - stage_started)) "$stage_name")")
  echo "== time by stage"
  printf '%s\n' "${stage_times[@]}"
  printf '%6d s  in all\n' "$SECONDS"
}
trap print_stage_times EXIT

tests/scripts/setup.sh --packaging

stage "format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
# Every UI module parses: a lost brace otherwise shows only as an app stuck at its spinner.
find ui -name '*.js' -print0 | while IFS= read -r -d '' module; do
  node --input-type=module --check <"$module" || { echo "ui: $module does not parse" >&2; exit 1; }
done
node tests/scripts/ui-size.mjs
node tests/scripts/locale-words.mjs --self-test
node tests/scripts/ui-units.mjs

stage "the release workflow: pinned actions, least privilege, tag = version, updater key pair"
tests/scripts/release-check.sh self-test

stage "build (once; the tests reuse these binaries)"
cargo build --workspace --bins --quiet

stage "tests (unit, client, keychain, team database)"
mkdir -p tests/artifacts target
# UNLOC_PG_REQUIRED: the team database's tests fail, rather than skip, without the throwaway server
# (with-postgres.sh: a PostgreSQL cluster on a loopback port, removed afterwards).
export UNLOC_E2E=1 UNLOC_REAL_KEYCHAIN=1 UNLOC_PG_REQUIRED=1 RUST_LOG=${RUST_LOG:-warn}
failed=0
tests/scripts/with-desktop.sh tests/scripts/with-postgres.sh \
  cargo test --workspace --exclude unloc-e2e --no-fail-fast -- --test-threads=2 2>&1 \
  | tee target/unit.log || failed=1

stage "tests (end to end: the real app under Xvfb against the simulator)"
# The scenarios' own reports (fault table, payloads, audit, axe, budgets) are kept in target/e2e.log
# for the hostile-world report below, which reads them instead of running those scenarios again.
tests/scripts/with-desktop.sh tests/scripts/with-postgres.sh \
  cargo test -p unloc-e2e --test e2e --no-fail-fast -- --nocapture --test-threads=2 2>&1 \
  | tee target/e2e.log || failed=1
if ((failed)); then
  # Once more at the end, where a reader of only the output's last lines (CI's summary) finds it:
  # each failure's own words. With --nocapture a scenario's error is printed when it happens,
  # minutes before the list of failed tests.
  echo "== what failed (each failure's first lines; the whole output is above)"
  grep -a -h -E -A6 "^Error: |panicked at " target/unit.log target/e2e.log \
    | grep -a -v -E "^ +[0-9]+: |^ +at |^stack backtrace:|^note: run with|^--$" | head -n 120 || true
  echo "run-tests: tests failed (see above)" >&2
  exit 1
fi

stage "one app, one window: a start without a display, a second start, the window's place after a restart"
tests/scripts/one-window.sh

stage "the hostile-world report: fault table, faults and injection payloads in the app, secrets audit, axe"
tests/scripts/hostile-report.sh --from-log target/e2e.log

stage "the benchmark, quick mode (proves it still runs; the figures come from tests/scripts/benchmark.sh)"
tests/scripts/benchmark.sh --quick --runs 1

stage "installers: build the .deb and .rpm (the release profile without optimisation or LTO: see build-installers.sh)"
tests/scripts/build-installers.sh --test-build
stage "installers: install the .deb, run it, uninstall"
tests/scripts/install-test.sh
