#!/usr/bin/env bash
# Renders the supervisor's HTML report to a PNG with headless Chromium, to look at it:
#   scripts/render-report.sh [OUT.png] [--english]
# Builds a demo store of two weeks of sessions, exports it with `jampasir export`, screenshots
# report.html. Installs chromium when missing (apt).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.state/report.png}
lang=id
[ "${2:-}" = "--english" ] && lang=en
command -v chromium >/dev/null || { apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; }
swift build --product jampasir >/dev/null
swift build --product jampasird >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/state" "$work/out" "$(dirname "$out")"
printf '[counter]\nid = "loket-2"\n[store]\npath = "%s/state/jampasir.sqlite"\n[report]\ntime_zone = "Asia/Jakarta"\nlanguage = "%s"\n' "$work" "$lang" > "$work/jampasir.toml"
# The daemon creates the store and the device key; it stops at once (no terminal input).
.build/debug/jampasird --simulate --config "$work/jampasir.toml" < /dev/null > /dev/null 2>&1
python3 - "$work/state/jampasir.sqlite" <<'PY'
import random, sqlite3, sys, datetime as dt
random.seed(7)
db = sqlite3.connect(sys.argv[1])
start = dt.datetime(2026, 11, 16, 1, 0, tzinfo=dt.timezone.utc)  # 08:00 WIB
rows = []
for day in range(14):
    t = start + dt.timedelta(days=day)
    for _ in range(random.randint(20, 45)):
        t += dt.timedelta(seconds=random.randint(180, 900))
        d = max(20_000, int(random.gauss(85_000, 22_000)))
        outcome = 'in_time' if d <= 120_000 else 'overtime'
        r = random.random()
        if r < 0.05: outcome, d = 'cancelled', random.randint(10_000, 140_000)
        elif r < 0.06: outcome, d = 'interrupted', None
        free = 1 if outcome in ('overtime', 'interrupted') else 0
        end = t + dt.timedelta(milliseconds=d or 0)
        f = lambda x: x.strftime('%Y-%m-%d %H:%M:%S.000')
        rows.append(('loket-2', 'demo', f(t), 0, 1, 120000, f(end), d, outcome, free))
db.executemany('INSERT INTO session (counter_id, boot_id, started_at, started_monotonic_ns, clock_synchronized, limit_ms, ended_at, duration_ms, outcome, free_service) VALUES (?,?,?,?,?,?,?,?,?,?)', rows)
db.commit()
PY
.build/debug/jampasir export --config "$work/jampasir.toml" --to "$work/out"
report=$(find "$work/out" -name report.html)
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,1250 --screenshot="$PWD/$out" "file://$report" 2>/dev/null
echo "report rendered to $out"
