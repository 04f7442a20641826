#!/usr/bin/env bash
# Runs the whole test suite (Swift Testing) and ends with one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift test --disable-xctest "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

summary=$(grep -E "Test run with [0-9]+ tests" "$log" | tail -n 1)
total=$(sed -nE 's/.*Test run with ([0-9]+) tests.*/\1/p' <<<"$summary")
failed_tests=$(grep -E "^✘ Test .* failed" "$log" | grep -vc "^✘ Test run with")
if [ -z "$total" ]; then
    echo "no test run summary found" >&2
    exit 1
fi
echo
echo "tests: $((total - failed_tests)) passed, ${failed_tests} failed"
if [ "$status" -ne 0 ] || [ "$failed_tests" -ne 0 ]; then
    exit 1
fi
