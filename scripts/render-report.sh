#!/usr/bin/env bash
# Renders the supervisor's HTML report to a PNG with headless Chromium, to look at it:
#   scripts/render-report.sh [OUT.png] [--english]
# Builds a demo store of two weeks of sessions, exports it with `jampasir export`, screenshots
# report.html. Installs chromium when missing (scripts/deps.table).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.state/report.png}
lang=id
[ "${2:-}" = "--english" ] && lang=en
scripts/install-deps.sh build prometheus
swift build --product jampasir >/dev/null
swift build --product jampasird >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/state" "$work/out" "$(dirname "$out")"
printf '[counter]\nid = "loket-2"\n[store]\npath = "%s/state/jampasir.sqlite"\n[report]\ntime_zone = "Asia/Jakarta"\nlanguage = "%s"\n' "$work" "$lang" > "$work/jampasir.toml"
# The daemon creates the store and the device key; it stops at once (no terminal input).
.build/debug/jampasird --simulate --config "$work/jampasir.toml" < /dev/null > /dev/null 2>&1
scripts/demo-store.py "$work/state/jampasir.sqlite" > /dev/null
.build/debug/jampasir export --config "$work/jampasir.toml" --to "$work/out"
report=$(find "$work/out" -name report.html)
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,1700 --screenshot="$PWD/$out" "file://$report" 2>/dev/null
echo "report rendered to $out"
