#!/usr/bin/env bash
# The "hostile world" report, from one command: the fault catalogue against the real client, then —
# in the real app under Xvfb — the faults, the injection payloads, the secrets audit and the
# accessibility check, each printing its table, and the request budgets (lines starting "budget:", from
# tests/e2e/budget.rs, measured in the simulator's request log). Exits non-zero if any row fails.
# Run it alone after a build: tests/scripts/hostile-report.sh
# With --from-log FILE (how tests/scripts/run-tests.sh calls it) the app scenarios are not run again:
# their verdicts and report lines are read from the end-to-end run's output (cargo test --nocapture),
# and the report fails unless each named scenario is there and passed.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
from_log=
if [[ ${1:-} == --from-log ]]; then
  from_log=${2:?--from-log needs the file the end-to-end run wrote}
  [[ -f $from_log ]] || { echo "hostile-report: $from_log does not exist" >&2; exit 2; }
fi
scenarios=(
  faults::each_fault_gets_its_own_message_and_the_list_stays
  injection::hostile_text_stays_text_in_every_field
  session::sign_in_see_locks_and_events_then_sign_out
  session::without_a_keychain_sign_in_works_for_this_run_and_says_so
  accessibility::every_view_passes_axe_and_shows_focus
  budget::opening_a_busy_lock_sends_at_most_3_requests_in_the_next_60_s
  budget::a_retry_after_on_the_first_history_request_quiets_every_route
  budget::a_lock_out_during_work_sends_one_request_and_one_notice
  budget::one_unreadable_lock_among_40_leaves_39_shown_and_a_notice
  team::settings_team_tests_saves_and_keeps_the_password_in_the_keychain_only
  team_desks::two_desks_share_keys_live_and_catch_up_after_the_database_was_gone
)

echo "== fault catalogue (the real API client against the simulator)"
# Built with the package selection of the test command's unit tests (the whole workspace but the
# end-to-end crate, dev-dependencies on), which already built it: `-p unloc-desk` alone resolves
# other features for Tauri and builds it, the app's library and this example a second time.
cargo build --quiet --workspace --exclude unloc-e2e --example fault_table
target/debug/examples/fault_table

echo "== the real app: faults, injection payloads, secrets audits, accessibility, request budgets, two desks"
if [[ -n $from_log ]]; then
  # The report blocks: a heading line the scenarios print, then its indented rows.
  awk '/^(budget: |faults in the app:|injection payloads|accessibility \(axe|secrets audit|team password audit|two desks: )/ { print; block = 1; next }
       block && /^  / { print; next }
       { block = 0 }' "$from_log"
  missing=0
  for name in "${scenarios[@]}"; do
    if ! grep -qxF "test $name ... ok" "$from_log"; then
      echo "hostile-report: FAILED: $name did not pass in $from_log" >&2
      missing=$((missing + 1))
    fi
  done
  ((missing == 0)) || exit 1
  echo "hostile-report: ${#scenarios[@]} of ${#scenarios[@]} named scenarios passed (read from $from_log)"
  exit 0
fi
cargo build --quiet --workspace --bins
# Only the report lines and the verdicts: the desktop session's own chatter is dropped. Exact names,
# and e2e-exact.sh fails unless all of them passed (a rename must not run nothing and pass). The team
# scenarios need a PostgreSQL server: with-postgres.sh starts a throwaway one and removes it after.
UNLOC_E2E=1 tests/scripts/with-desktop.sh tests/scripts/with-postgres.sh tests/scripts/e2e-exact.sh "${scenarios[@]}" \
  2> >(grep -vE 'dbus-daemon|xdg-desktop-portal|pw\.conf|PipeWire|RealtimeKit|SpiRegistry|max threads|^\s*$|Could not connect' >&2)
