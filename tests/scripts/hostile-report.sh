#!/usr/bin/env bash
# The "hostile world" report, from one command: the fault catalogue against the real client, then —
# in the real app under Xvfb — the faults, the injection payloads, the secrets audit and the
# accessibility check, each printing its table, and the request budgets (lines starting "budget:", from
# tests/e2e/budget.rs, measured in the simulator's request log). Exits non-zero if any row fails.
# Part of tests/scripts/run-tests.sh; run it alone after a build: tests/scripts/hostile-report.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"

echo "== fault catalogue (the real API client against the simulator)"
cargo run --quiet -p unloc-desk --example fault_table

echo "== the real app: faults, injection payloads, secrets audit, accessibility, request budgets"
cargo build --quiet -p unloc-desk
# Only the report lines and the verdicts: the desktop session's own chatter is dropped. Exact names,
# and e2e-exact.sh fails unless all of them passed (a rename must not run nothing and pass).
UNLOC_E2E=1 tests/scripts/with-desktop.sh tests/scripts/e2e-exact.sh \
  faults::each_fault_gets_its_own_message_and_the_list_stays \
  injection::hostile_text_stays_text_in_every_field \
  session::sign_in_see_locks_and_events_then_sign_out \
  session::without_a_keychain_sign_in_works_for_this_run_and_says_so \
  accessibility::every_view_passes_axe_and_shows_focus \
  budget::opening_a_busy_lock_sends_at_most_3_requests_in_the_next_60_s \
  budget::a_retry_after_on_the_first_history_request_quiets_every_route \
  budget::a_lock_out_during_work_sends_one_request_and_one_notice \
  budget::one_unreadable_lock_among_40_leaves_39_shown_and_a_notice \
  2> >(grep -vE 'dbus-daemon|xdg-desktop-portal|pw\.conf|PipeWire|RealtimeKit|SpiRegistry|max threads|^\s*$|Could not connect' >&2)
