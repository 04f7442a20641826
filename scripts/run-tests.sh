#!/usr/bin/env bash
# Runs the whole test suite (Swift Testing) and ends with one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift test --disable-xctest "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
scripts/test-summary.sh tests "$log" && [ "$status" -eq 0 ]
