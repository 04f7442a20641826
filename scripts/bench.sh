#!/usr/bin/env bash
# `make bench`: rerunnable benchmarks of the store and the export against their anchors,
# printed as a table (release build; SESSIONS=300000 by default).
#   export of the whole store (CSV, JSONL, HTML report, signed manifest) vs `sqlite3 -csv`
#   peak memory (max RSS) of the export
#   audit chain verification (`jampasir verify --store`)
#   daemon start-up to "ready" against that store
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=${SESSIONS:-300000}
command -v sqlite3 >/dev/null || apt-get install -y -qq --no-install-recommends sqlite3 >/dev/null
[ -x /usr/bin/time ] || apt-get install -y -qq --no-install-recommends time >/dev/null
swift build -c release --product jampasird >/dev/null
swift build -c release --product jampasir >/dev/null
bin=.build/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/state" "$work/out"
printf '[counter]\nid = "bench"\n[store]\npath = "%s/state/s.sqlite"\n[report]\ntime_zone = "Asia/Jakarta"\n' "$work" > "$work/c.toml"
"$bin/jampasird" --simulate --config "$work/c.toml" < /dev/null > /dev/null 2>&1
# Every session chained, as the daemon would have chained them one by one.
python3 scripts/demo-store.py "$work/state/s.sqlite" --sessions "$sessions" --counter bench --chain > /dev/null

measure() { # label, command... → "seconds max_rss_kib"
    /usr/bin/time -f '%e %M' -o "$work/time" "$@" > "$work/stdout" 2> "$work/stderr" \
        || { echo "bench: failed: $*" >&2; cat "$work/stdout" "$work/stderr" >&2; kill $$; }
    cat "$work/time"
}
read -r export_s export_kib < <(measure "$bin/jampasir" export --config "$work/c.toml" --to "$work/out")
read -r sqlite_s sqlite_kib < <(measure sqlite3 -csv "$work/state/s.sqlite" "SELECT * FROM session ORDER BY started_at, id")
read -r verify_s verify_kib < <(measure "$bin/jampasir" verify --store "$work/state/s.sqlite")
grep -q "^OK" "$work/stdout" || { echo "bench: the chain did not verify" >&2; exit 1; }
startup=$("$bin/jampasird" --simulate --config "$work/c.toml" < /dev/null 2>&1 | sed -n 's/.*ready after \([0-9]*\) ms.*/\1/p' | head -n1)
ratio=$(awk -v a="$export_s" -v b="$sqlite_s" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r), $(swift --version 2>/dev/null | head -n1)"
echo "store: $sessions sessions, $(du -h "$work/state/s.sqlite" | cut -f1)"
printf '%-52s %12s %14s\n' "benchmark" "time" "max RSS"
printf '%-52s %11ss %10s MiB\n' "jampasir export (CSV+JSONL+HTML+manifest)" "$export_s" "$((export_kib / 1024))"
printf '%-52s %11ss %10s MiB\n' "anchor: sqlite3 -csv of the same rows" "$sqlite_s" "$((sqlite_kib / 1024))"
printf '%-52s %12s\n' "export / anchor" "${ratio}x"
printf '%-52s %11ss %10s MiB\n' "jampasir verify --store ($sessions-entry audit chain)" "$verify_s" "$((verify_kib / 1024))"
printf '%-52s %10s ms\n' "jampasird start-up to ready (simulator)" "$startup"
