#!/usr/bin/env bash
# Reads a Swift Testing log and prints the one summary line: `LABEL: N passed, N failed`
# (`, N skipped` when a suite skipped itself).
# Exits 1 when a test failed or no run summary was found (a crash before the end).
#   scripts/test-summary.sh LABEL LOG
set -uo pipefail
label=$1 log=$2
summary=$(grep -E "Test run with [0-9]+ tests" "$log" | tail -n 1)
total=$(sed -nE 's/.*Test run with ([0-9]+) tests.*/\1/p' <<<"$summary")
failed=$(grep -E "^✘ Test .* failed" "$log" | grep -vc "^✘ Test run with")
skipped=$(grep -cE "^➜ Test .* skipped" "$log")
if [ -z "$total" ]; then
    echo "$label: no test run summary found (the run ended early)" >&2
    exit 1
fi
echo
echo "$label: $((total - failed - skipped)) passed, ${failed} failed$([ "$skipped" -eq 0 ] || echo ", $skipped skipped")"
[ "$failed" -eq 0 ]
