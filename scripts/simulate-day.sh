#!/usr/bin/env bash
# `make simulate-day`: office days with 2 to 6 counters open, applicants drawn as a Poisson
# process with a morning peak, service times from the project's demo sessions (the same
# sessions `scripts/demo-store.py` gives every other demo). Prints the table in README
# "The queue". Arguments go to `jampasir simulate-day` (e.g. --applicants 300 --days 50).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product jampasir >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '' > "$work/empty.toml"
# The daemon makes the store (schema and chain) and stops at the end of its input; the demo fills it.
ln -s "$PWD/.build/release/jampasir" "$work/jampasird"
"$work/jampasird" --simulate --config "$work/empty.toml" --store "$work/demo.sqlite" < /dev/null > /dev/null 2>&1
python3 scripts/demo-store.py "$work/demo.sqlite" --sessions 2000 --counter demo > /dev/null
.build/release/jampasir simulate-day --config "$work/empty.toml" --store "$work/demo.sqlite" "$@"
