#!/usr/bin/env bash
# `make bench-hub`: can one hub take a national day? OFFICES (125) × COUNTERS (8) counters, each
# with SESSIONS (300) sessions in its own store, exported and signed by the real `jampasir
# export` with its own device key; then the real `jampasir hub import` (release build) takes
# the lot as one stick: time, rate, peak memory, the hub's store on disk; the same again (all
# known: the cost of idempotence); and `jampasir hub report` over everything, whose office total
# must be every session once. The counters' stores live on tmpfs (they stand for a thousand
# machines; their writes are not what is measured); the hub's store is on disk, as on a hub.
set -euo pipefail
cd "$(dirname "$0")/.."
offices=${OFFICES:-125} per_office=${COUNTERS:-8} sessions=${SESSIONS:-300}
total=$((offices * per_office))
scripts/install-deps.sh build bench
swift build -c release --product jampasird >/dev/null
swift build -c release --product jampasir >/dev/null
export bin=$PWD/.build/release sessions
export work; work=$(mktemp -d /var/tmp/jampasir-bench-hub.XXXXXX)
export farm; farm=$(mktemp -d /dev/shm/jampasir-counters.XXXXXX)
trap 'rm -rf "$work" "$farm"' EXIT
say() { echo "bench-hub: $*" >&2; }

# One counter: its store and key made by jampasird itself, its sessions (scripts/demo-store.py,
# chained as jampasird chains them), its signed export onto the common stick.
counter() {  # number id
    local dir=$farm/$2
    mkdir -p "$dir"
    printf '[counter]\nid = "%s"\n[store]\npath = "%s/jampasir.sqlite"\n[metrics]\ntextfile = ""\n[report]\ntime_zone = "Asia/Pontianak"\n' \
        "$2" "$dir" > "$dir/jampasir.toml"
    "$bin/jampasird" --simulate --config "$dir/jampasir.toml" < /dev/null 2>&1 > /dev/null \
        | grep -o 'public key [A-Za-z0-9+/=]*' | cut -d' ' -f3 > "$dir/public.key"
    python3 scripts/demo-store.py "$dir/jampasir.sqlite" --sessions "$sessions" --counter "$2" --chain > /dev/null
    "$bin/jampasir" export --config "$dir/jampasir.toml" --to "$work/stick" > /dev/null
    [ $(($1 % 100)) -ne 0 ] || echo "bench-hub: $1 counters exported" >&2
}
export -f counter
mkdir -p "$work/stick"
say "making $total counters' signed exports of $sessions sessions each ($offices offices × $per_office)"
start=$SECONDS
for office in $(seq "$offices"); do for desk in $(seq "$per_office"); do
    echo "$(((office - 1) * per_office + desk)) kantor-$office-loket-$desk"
done; done | xargs -P "$(nproc)" -n 2 bash -c 'counter "$@"' _
say "exports made in $((SECONDS - start)) s"
cat "$farm"/*/public.key > "$work/trusted.keys"
[ "$(grep -c . "$work/trusted.keys")" -eq "$total" ] || { say "not every counter logged its key"; exit 1; }
stick_bytes=$(du -sb "$work/stick" | cut -f1)

hub=(--hub-store "$work/hub/hub.sqlite" --trusted-keys "$work/trusted.keys")
measure() {  # command... → "seconds max_rss_kib"
    /usr/bin/time -f '%e %M' -o "$work/time" "$@" > "$work/out" 2> "$work/err" || {
        local status=$?
        [ "$status" -eq 0 ] || { say "failed ($status): $*"; tail -n 5 "$work/out" "$work/err" >&2; exit 1; }
    }
    cat "$work/time"
}
say "jampasir hub import: $total exports"
read -r first_s first_kib < <(measure "$bin/jampasir" hub import "${hub[@]}" "$work/stick")
imported=$(grep -c '^IMPORTED ' "$work/out" || true)
[ "$imported" -eq "$total" ] || { say "imported $imported of $total"; tail -n 3 "$work/out" >&2; exit 1; }
hub_bytes=$(du -sb "$work/hub/hub.sqlite" | cut -f1)
evidence_bytes=$(du -sb "$work/hub/bundles" | cut -f1)
rows=$(sqlite3 "$work/hub/hub.sqlite" "SELECT count(*) FROM session")
say "the same again"
read -r again_s again_kib < <(measure "$bin/jampasir" hub import "${hub[@]}" "$work/stick")
known=$(grep -c '^KNOWN ' "$work/out" || true)
say "jampasir hub report"
read -r report_s report_kib < <(measure "$bin/jampasir" hub report --hub-store "$work/hub/hub.sqlite" --format csv)
office_total=$(python3 -c '
import csv, sys
print(sum(int(r["sessions"]) for r in csv.DictReader(open(sys.argv[1])) if r["kind"] == "office"))' "$work/out")

# The wallboard's question to `jampasir hub serve`, every minute: the last 30 and 7 days, first
# computed (the 7 days read by the index on the start), then asked again with nothing new.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin/jampasir" hub serve --hub-store "$work/hub/hub.sqlite" --trusted-keys "$work/trusted.keys" --listen "127.0.0.1:$port" \
    2> "$work/serve.log" &
serving=$!
for _ in $(seq 100); do grep -q "listening on" "$work/serve.log" 2>/dev/null && break; sleep 0.1; done
served() { curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/v1/report?days=$1"; }
served_30=$(served 30) served_30_again=$(served 30) served_7=$(served 7)
kill "$serving"; wait "$serving" 2>/dev/null || true

per_second=$(python3 -c "print(round($rows / $first_s))")
cat <<EOF
| hub, national day ($offices offices × $per_office counters × $sessions sessions) | figure |
|---|---|
| exports on the stick | $total, $((stick_bytes / 1048576)) MiB |
| first import (verify, witness, store, keep evidence) | $first_s s, $per_second sessions/s, peak RSS $((first_kib / 1024)) MiB |
| sessions in the hub's store | $rows |
| hub store | $((hub_bytes / 1048576)) MiB ($((hub_bytes / rows)) bytes/session) + evidence $((evidence_bytes / 1048576)) MiB |
| the same stick again ($known of $total known) | $again_s s, peak RSS $((again_kib / 1024)) MiB |
| office report over everything (csv) | $report_s s, peak RSS $((report_kib / 1024)) MiB; office total $office_total sessions |
| \`GET /v1/report?days=30\` (the wallboard's): first, then again with nothing new; \`days=7\` | $served_30 s, $served_30_again s; $served_7 s |
EOF
[ "$rows" -eq $((total * sessions)) ] && [ "$known" -eq "$total" ] && [ "$office_total" -eq "$rows" ] || {
    say "wrong: $rows sessions stored, $known known, office total $office_total"; exit 1; }
