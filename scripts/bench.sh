#!/usr/bin/env bash
# `make bench`: rerunnable benchmarks of the store and the export against their anchors,
# printed as a table (release build; SESSIONS=300000 by default).
#   export of the whole store (CSV, JSONL, HTML report, signed manifest) vs `sqlite3 -csv`
#   peak memory (max RSS) of the export
#   audit chain verification (`jampasir verify --store`)
#   daemon start-up to "ready" against that store
#   idle cost of the real daemon (simulator backends): CPU time, wake-ups and RSS over 60 s idle
#   and 60 s of a running countdown (IDLE_SECONDS to change), then back-to-back sessions against
#   the whole store (BACK_TO_BACK sessions, 20 by default): CPU time per session and per hour
#   (DAEMON=path measures another build of the executable, a baseline)
#   store commit latency, edge → frame, countdown frame timing over a 2-minute session (real
#   clock), memory after 10,000 sessions: jampasir-bench (FRAME_SECONDS to shorten)
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=${SESSIONS:-300000}
scripts/install-deps.sh build bench
swift build -c release --product jampasir >/dev/null
swift build -c release --product jampasir-bench >/dev/null
bin=.build/release
idle_seconds=${IDLE_SECONDS:-60}
frame_seconds=${FRAME_SECONDS:-120}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/state" "$work/out"
# The daemon as the package ships it: the one static executable, started by the name jampasird.
swift build -c release --static-swift-stdlib --scratch-path .build-static-v1 --product jampasir >/dev/null
ln -s "$(realpath "${DAEMON:-.build-static-v1/release/jampasir}")" "$work/jampasird"
printf '[counter]\nid = "bench"\n[store]\npath = "%s/state/s.sqlite"\n[report]\ntime_zone = "Asia/Jakarta"\n[metrics]\ntextfile = "%s/metrics.prom"\n' "$work" "$work" > "$work/c.toml"
"$work/jampasird" --simulate --config "$work/c.toml" < /dev/null > /dev/null 2>&1
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
startup=$("$work/jampasird" --simulate --config "$work/c.toml" < /dev/null 2>&1 | sed -n 's/.*ready after \([0-9]*\) ms.*/\1/p' | head -n1)
read -r csv_s csv_kib < <(measure "$bin/jampasir" sessions --config "$work/c.toml" --format csv)
ratio=$(awk -v a="$export_s" -v b="$sqlite_s" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')
csv_ratio=$(awk -v a="$csv_s" -v b="$sqlite_s" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')

# The real daemon, idle and counting down: /proc/PID/stat (utime+stime, in clock ticks) and, per
# thread, the voluntary context switches (each is a wake-up from a sleep). Counted per thread,
# so that a thread ending in between cannot hide another's wake-ups.
ticks=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
snapshot() { # pid file → one line per thread: tid name voluntary_switches
    for t in /proc/"$1"/task/*; do
        printf '%s %s %s\n' "${t##*/}" "$(tr ' ' _ < "$t/comm")" "$(awk '/^voluntary_ctxt_switches/ { print $2 }' "$t/status")"
    done | sort > "$2"
}
wakeups() { # before after → "total name:count …" (a thread started in between counts whole)
    join -a2 -e0 -o '2.1,2.2,1.3,2.3' "$1" "$2" |
        awk '{ d = $4 - $3; if (d > 0) { by[$2] += d; s += d } } END { printf "%d", s; for (n in by) printf " %s:%d", n, by[n]; print "" }'
}
mkfifo "$work/button"
"$work/jampasird" --simulate --config "$work/c.toml" < "$work/button" > /dev/null 2> "$work/daemon.log" &
daemon=$!
exec 3> "$work/button"
while ! grep -q "ready after" "$work/daemon.log"; do sleep 0.05; done
sleep 2
cpu0=$(cpu "$daemon"); snapshot "$daemon" "$work/t0"
sleep "$idle_seconds"
cpu1=$(cpu "$daemon"); snapshot "$daemon" "$work/t1"
rss() { awk '/^VmRSS/ { r = int($2 / 1024) } /^RssAnon/ { a = int($2 / 1024) } END { print r "/" a }' "/proc/$1/status"; }
idle_rss=$(rss "$daemon")
printf ' ' >&3   # start a session: a countdown runs (2:00 by default)
sleep 1
cpu2=$(cpu "$daemon"); snapshot "$daemon" "$work/t2"
sleep "$idle_seconds"
cpu3=$(cpu "$daemon"); snapshot "$daemon" "$work/t3"
run_rss=$(rss "$daemon")
# Back-to-back: a stop (the outcome recorded, chained and counted for the metrics), the re-arm
# guard, a start, and so on.
back_to_back=${BACK_TO_BACK:-20}
ended() { grep -c "session [0-9]* ended" "$work/daemon.log" || true; }
ended0=$(ended)
cpu4=$(cpu "$daemon"); phase0=$(date +%s.%N)
for _ in $(seq "$back_to_back"); do
    printf ' ' >&3; sleep 1.2
    printf ' ' >&3; sleep 1.2
done
cpu5=$(cpu "$daemon"); phase1=$(date +%s.%N)
[ "$(($(ended) - ended0))" -eq "$back_to_back" ] \
    || { echo "bench: $back_to_back sessions asked, $(($(ended) - ended0)) ended" >&2; exit 1; }
printf 'q' >&3
exec 3>&-
wait "$daemon" || true
read -r idle_wakes idle_by < <(wakeups "$work/t0" "$work/t1")
read -r run_wakes run_by < <(wakeups "$work/t2" "$work/t3")
per_second() { awk -v d="$1" -v s="$idle_seconds" 'BEGIN { printf "%.2f", d / s }'; }
cpu_ms() { awk -v d="$1" -v t="$ticks" -v s="$idle_seconds" 'BEGIN { printf "%.2f", d * 1000 / t / s }'; }
idle_ms_s=$(cpu_ms $((cpu1 - cpu0)))
run_ms_s=$(cpu_ms $((cpu3 - cpu2)))
# A session's own CPU (recording, chaining, metrics): the phase's CPU less the countdown's for
# the half of it that counts down; and an hour of 90-second sessions (40).
session_ms=$(awk -v d=$((cpu5 - cpu4)) -v t="$ticks" -v n="$back_to_back" -v run="$run_ms_s" -v a="$phase0" -v b="$phase1" \
    'BEGIN { printf "%.1f", (d * 1000 / t - run * (b - a) / 2) / n }')
hour_idle_s=$(awk -v r="$idle_ms_s" 'BEGIN { printf "%.1f", r * 3.6 }')
hour_busy_s=$(awk -v r="$run_ms_s" -v s="$session_ms" 'BEGIN { printf "%.1f", (r * 3600 + s * 40) / 1000 }')

mkdir -p "$work/bench"
commit=$("$bin/jampasir-bench" commit-latency "$work/bench" 1000)
edge=$("$bin/jampasir-bench" edge-to-frame 100)
memory=$("$bin/jampasir-bench" memory "$work/bench" 10000 | tail -n1)
frames=$("$bin/jampasir-bench" frame-timing "$frame_seconds")

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r), $(swift --version 2>/dev/null | head -n1)"
echo "store: $sessions sessions, $(du -h "$work/state/s.sqlite" | cut -f1)"
printf '%-52s %12s %14s\n' "benchmark" "time" "max RSS"
printf '%-52s %11ss %10s MiB\n' "jampasir export (CSV+JSONL+HTML+manifest)" "$export_s" "$((export_kib / 1024))"
printf '%-52s %11ss %10s MiB\n' "anchor: sqlite3 -csv of the same rows" "$sqlite_s" "$((sqlite_kib / 1024))"
printf '%-52s %12s\n' "export / anchor" "${ratio}x"
printf '%-52s %11ss %10s MiB\n' "jampasir verify --store ($sessions-entry audit chain)" "$verify_s" "$((verify_kib / 1024))"
printf '%-52s %10s ms\n' "jampasird start-up to ready (simulator)" "$startup"
printf '%-52s %11ss %10s MiB\n' "jampasir sessions --format csv (CSV only)" "$csv_s" "$((csv_kib / 1024))"
printf '%-52s %12s\n' "CSV / anchor" "${csv_ratio}x"
printf '%-52s %9s/s %7s ms CPU/s %7s MiB\n' "daemon idle: wake-ups, CPU, RSS/anonymous" "$(per_second "$idle_wakes")" "$idle_ms_s" "$idle_rss"
echo "  by thread over ${idle_seconds} s: ${idle_by:-none}"
printf '%-52s %9s/s %7s ms CPU/s %7s MiB\n' "daemon counting down: wake-ups, CPU, RSS/anonymous" "$(per_second "$run_wakes")" "$run_ms_s" "$run_rss"
echo "  by thread over ${idle_seconds} s: ${run_by:-none}"
printf '%-52s %10s ms\n' "daemon, one session's own CPU ($back_to_back back to back)" "$session_ms"
printf '%-52s %11ss %s\n' "daemon CPU per hour, idle / 40 sessions of 90 s" "$hour_idle_s" "/ ${hour_busy_s} s"
echo "$commit"
echo "$edge"
echo "$memory"
echo "$frames"
