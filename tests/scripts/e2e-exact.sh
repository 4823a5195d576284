#!/usr/bin/env bash
# Runs the named end-to-end scenarios by their exact names and fails unless every one of them ran
# and passed: a renamed or removed scenario must not turn into "0 passed" and exit 0.
# Usage: tests/scripts/e2e-exact.sh [--include-ignored] AREA::SCENARIO...
# (the caller sets the environment: UNLOC_E2E, a desktop session via with-desktop.sh, ...)
set -euo pipefail
cd "$(dirname "$0")/../.."
extra=()
if [[ ${1:-} == --include-ignored ]]; then
  extra=(--include-ignored)
  shift
fi
(($# > 0)) || { echo "e2e-exact: name at least one scenario" >&2; exit 2; }
output=$(mktemp -t unloc-e2e-exact.XXXXXX)
trap 'rm -f "$output"' EXIT
status=0
cargo test --quiet -p unloc-e2e --test e2e -- --nocapture --test-threads=1 --exact "${extra[@]}" "$@" \
  | tee "$output" || status=$?
summary=$(grep -E '^test result: ' "$output" | tail -1 || true)
passed=$(sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed.*/\1/p' <<<"$summary")
if ((status != 0)); then
  echo "e2e-exact: FAILED: the scenarios failed (exit $status)" >&2
  exit "$status"
fi
if [[ ${passed:-0} != "$#" ]]; then
  echo "e2e-exact: FAILED: $# scenarios named, ${passed:-0} passed ($summary); is a name wrong or a scenario ignored?" >&2
  exit 1
fi
echo "e2e-exact: $# of $# named scenarios passed"
