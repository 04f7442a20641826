#!/usr/bin/env bash
# The office level on Debian's own Prometheus (`make test-prometheus`):
#   1. promtool checks the hub's rules and configuration and runs their unit tests
#      (packaging/prometheus/jampasir-rules.test.yml);
#   2. the real jampasird --simulate writes its metrics file; Debian's node-exporter reads it
#      through the link the package ships; Debian's prometheus scrapes it with the hub's
#      configuration and rules; a person presses the button and the hub sees the session
#      running, its remaining time, its outcome and today's figures; a stopped daemon is seen;
#   3. the wallboard page, served by that prometheus, in headless Chromium: its text is checked
#      and a screenshot is kept in .build-prometheus/ (look at it);
#   4. the history: two counters push their signed exports to the real `jampasir hub serve` on
#      loopback; one is cut off, makes a session and catches up; repeats are taken once, a
#      stranger and a tampered export refused, a rewritten store reported; the office report's
#      figures against the counters' own stores.
# Ends with `prometheus: N passed, N failed`.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work=$root/.build-prometheus
cache=${JAMPASIR_CACHE:-/var/cache/jampasir-build}/prometheus
bin=${BIN:-$root/.build/debug}
export DEBIAN_FRONTEND=noninteractive
say() { echo "prometheus-test: $*" >&2; }
passed=0 failed=0
check() {  # check "what" command...
    local what=$1; shift
    if "$@"; then passed=$((passed + 1)); say "ok: $what"; else failed=$((failed + 1)); say "FAIL: $what"; fi
}

# --- Debian's prometheus, promtool and node-exporter, unpacked (no service started here) ----
scripts/install-deps.sh build prometheus
version=$(apt-cache policy prometheus | sed -n 's/ *Candidate: //p')
[ -n "$version" ] || { apt-get update -qq; version=$(apt-cache policy prometheus | sed -n 's/ *Candidate: //p'); }
[ -n "$version" ] || { say "apt knows no prometheus package: check /etc/apt/sources.list (Debian main)"; exit 1; }
tools=$cache/$version
if [ ! -x "$tools/usr/bin/prometheus" ]; then
    say "fetching Debian's prometheus $version and prometheus-node-exporter"
    rm -rf "$tools" && mkdir -p "$tools/debs" && chmod 777 "$tools/debs"
    (cd "$tools/debs" && apt-get download -qq prometheus prometheus-node-exporter 2>/dev/null)
    for deb in "$tools"/debs/*.deb; do dpkg-deb -x "$deb" "$tools"; done
    rm -rf "$tools/debs"
fi
prometheus=$tools/usr/bin/prometheus promtool=$tools/usr/bin/promtool
node_exporter=$tools/usr/bin/prometheus-node-exporter
say "$("$prometheus" --version 2>&1 | head -n1)"

[ -x "$bin/jampasird" ] || swift build --product jampasird >/dev/null
[ -x "$bin/jampasir" ] || swift build --product jampasir >/dev/null

# --- 1. the hub's files -----------------------------------------------------------------
rules=$root/packaging/prometheus
rm -rf "$work" && mkdir -p "$work"
check "promtool check rules" "$promtool" check rules "$rules/jampasir-rules.yml"
sed "s|/etc/prometheus/jampasir-rules.yml|$rules/jampasir-rules.yml|" "$rules/prometheus-hub.yml" > "$work/hub-check.yml"
check "promtool check config (the hub's example)" "$promtool" check config "$work/hub-check.yml"
check "promtool check config (the regional hub's example)" "$promtool" check config "$rules/prometheus-region.yml"
check "promtool test rules (today's figures, the office, the alerts)" \
    "$promtool" test rules "$rules/jampasir-rules.test.yml"
check "promtool test rules (over days: counters on different versions for a week)" \
    "$promtool" test rules "$rules/jampasir-rules.week.test.yml"

# --- 2. counter → node-exporter → prometheus --------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ne_port=$(free_port) prom_port=$(free_port)
metrics=$work/run/jampasir/metrics/jampasir.prom
textfiles=$work/node-exporter
mkdir -p "$textfiles" "$work/state"
# The link the package ships in node-exporter's textfile directory (here: into $work/run).
ln -s "$metrics" "$textfiles/jampasir.prom"
cat > "$work/jampasir.toml" <<EOF
[counter]
id = "loket-1"
[store]
path = "$work/state/jampasir.sqlite"
[metrics]
textfile = "$metrics"
EOF
mkfifo "$work/keys"
"$bin/jampasird" --simulate --config "$work/jampasir.toml" < "$work/keys" > /dev/null 2> "$work/daemon.log" &
daemon=$!
exec 3> "$work/keys"
"$node_exporter" --collector.disable-defaults --collector.textfile --collector.textfile.directory="$textfiles" \
    --web.listen-address="127.0.0.1:$ne_port" 2> "$work/node-exporter.log" &
exporter=$!
# A second counter (its node-exporter serving a file written as an overtime session with a
# display fault would be) and a third that is off, for the wallboard.
ne2_port=$(free_port) dead_port=$(free_port)
mkdir -p "$work/node-exporter-2"
"$node_exporter" --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$work/node-exporter-2" --web.listen-address="127.0.0.1:$ne2_port" \
    2> "$work/node-exporter-2.log" &
exporter2=$!
# The hub's configuration and rules, with these counters as targets and 1 s intervals, so that
# the test need not wait for minutes.
ne4_port=$(free_port)
python3 - "$rules/prometheus-hub.yml" "$work/prometheus.yml" "$work/rules.yml" "$ne_port" "$ne2_port" "$dead_port" \
    "$ne4_port" <<'PY'
import sys
source, target, rules, ne, ne2, dead, ne4 = sys.argv[1:]
text = open(source).read()
for old, new in [("/etc/prometheus/jampasir-rules.yml", rules), ("scrape_interval: 15s", "scrape_interval: 1s"),
                 ("evaluation_interval: 1m", "evaluation_interval: 1s"), ("loket-1.local:9100", "127.0.0.1:" + ne),
                 ("loket-2.local:9100", "127.0.0.1:" + ne2)]:
    assert old in text, old
    text = text.replace(old, new)
more = ''.join('      - targets: ["127.0.0.1:%s"]\n        labels: {office: singkawang, counter: "%s"}\n' % (port, name)
               for port, name in ((dead, "3"), (ne4, "4")))
text = text.replace('    # Keep what the office needs', more + '    # Keep what the office needs')
open(target, "w").write(text)
PY
# (and the alerts' waits in seconds, not minutes: `for: 5m` becomes `for: 5s`)
sed -e "s|interval: 1m|interval: 1s|" -e "s|for: \([0-9]*\)m$|for: \1s|" "$rules/jampasir-rules.yml" > "$work/rules.yml"
mkdir -p "$work/consoles"
cp "$rules/jampasir-wallboard.html" "$work/consoles/"
"$prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" --web.console.templates="$work/consoles" \
    --web.console.libraries="$tools/etc/prometheus/console_libraries" 2> "$work/prometheus.log" &
server=$!
cleanup() { exec 3>&- 2>/dev/null || true; kill "$daemon" "$exporter" "$exporter2" "$server" ${region:-} ${daemon4:-} ${exporter4:-} 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT

# The value of a PromQL query with one result ("none" when empty).
query() {
    curl -sfG "http://127.0.0.1:${port:-$prom_port}/api/v1/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
result = json.load(sys.stdin)["data"]["result"]
print(result[0]["value"][1] if len(result) == 1 else ("none" if not result else "many"))' 2>/dev/null || echo "error"
}
# Waits (up to 30 s) until query $1 gives $2.
until_query() {
    for _ in $(seq 300); do [ "$(query "$1")" = "$2" ] && return 0; sleep 0.1; done
    say "  $1 = $(query "$1"), wanted $2"; return 1
}
# Presses the button (keys on descriptor $1) every 0.3 s until the daemon's log $2 says session
# number $4 "started" or "ended" ($3): a press within the rearm guard or the result's hold may be
# ignored, as it should be, so one press is not enough to know.
press_until() {  # fd log started|ended count
    for _ in $(seq 100); do
        [ "$(grep -c "] session [0-9]* $3" "$2")" -ge "$4" ] && return 0
        printf ' ' >&"$1"; sleep 0.3
    done
    return 1
}
between() { python3 -c "import sys; sys.exit(0 if $2 < float('$1') <= $3 else 1)"; }

check "the daemon is ready" bash -c "for _ in \$(seq 200); do grep -q 'ready after' '$work/daemon.log' && exit 0; sleep 0.1; done; exit 1"
check "promtool check metrics: the daemon's file follows the naming rules" \
    bash -c "for _ in \$(seq 100); do [ -s '$metrics' ] && break; sleep 0.1; done; '$promtool' check metrics < '$metrics'"
check "the hub scrapes the counter" until_query 'up{job="jampasir",counter="1",office="singkawang"}' 1
check "every outcome is there from 0" until_query 'count(jampasir_sessions_total{counter="1"} == 0)' 4
check "idle: no session running" until_query 'jampasir_session_running{counter="1"}' 0
printf ' ' >&3
check "a press: the hub sees the session running" until_query 'jampasir_session_running{counter="1"}' 1
remaining=$(query 'jampasir_session_started_timestamp_seconds + jampasir_session_limit_seconds - time()')
check "remaining time from PromQL ($remaining s) is within the two minutes" between "$remaining" 100 120
printf ' ' >&3
check "the second press: in time, counted" until_query 'jampasir_sessions_total{counter="1",outcome="in_time"}' 1
check "the histogram's bucket at the limit holds it" \
    until_query 'jampasir_session_duration_seconds_bucket{counter="1",le="120"}' 1
check "today's figures (recording rule)" until_query 'counter:jampasir_sessions:today{counter="1",outcome="in_time"}' 1
check "the office's % in time" until_query 'office:jampasir_in_time:ratio_today{office="singkawang"}' 1
# A regional hub with the example's configuration federates this office hub.
region_port=$(free_port)
sed -e "s|hub-singkawang.local:9090|127.0.0.1:$prom_port|" -e "s|scrape_interval: 1m|scrape_interval: 1s|" \
    -e "/hub-pontianak/,+1d" "$rules/prometheus-region.yml" > "$work/region.yml"
"$prometheus" --config.file="$work/region.yml" --storage.tsdb.path="$work/tsdb-region" \
    --web.listen-address="127.0.0.1:$region_port" 2> "$work/prometheus-region.log" &
region=$!
until_region_query() { port=$region_port until_query "$@"; }
check "the regional hub federates the office's % in time, its labels kept" \
    until_region_query 'office:jampasir_in_time:ratio_today{office="singkawang",hub="singkawang"}' 1

# --- 3. the wallboard ---------------------------------------------------------------------
board="http://127.0.0.1:$prom_port/consoles/jampasir-wallboard.html"
check "running again (a session while the board is looked at)" press_until 3 "$work/daemon.log" started 2
check "the hub sees it" until_query 'jampasir_session_running{counter="1"}' 1
# Counter 2: counter 1's file as it would read 2:30 into a session, the display failing.
python3 - "$metrics" "$work/node-exporter-2/jampasir.prom" <<'PY'
import sys, time
text = open(sys.argv[1]).read()
lines = []
for line in text.splitlines():
    if line.startswith("jampasir_session_started_timestamp_seconds "):
        line = "jampasir_session_started_timestamp_seconds %.3f" % (time.time() - 150)
    elif line.startswith("jampasir_display_ok "):
        line = "jampasir_display_ok 0"
    lines.append(line)
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
PY
check "counter 2 is scraped, counter 3 is not" until_query 'sum(up{job="jampasir"})' 2
chrome=(chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1920,1080
    --virtual-time-budget=8000)
"${chrome[@]}" --dump-dom "$board" > "$work/wallboard.html" 2> "$work/chromium.log" || true
"${chrome[@]}" --screenshot="$work/wallboard.png" "$board" 2>> "$work/chromium.log" || true
tile() { grep -o "<section class=\"tile[^>]*>.\{0,40\}Loket $1<" "$work/wallboard.html" || true; }
check "the wallboard: counter 1 counting down" grep -q 'data-state="running" data-today="1"' <<<"$(tile 1)"
check "the wallboard: counter 2 over its limit" grep -q 'data-state="overtime"' <<<"$(tile 2)"
check "the wallboard: counter 3 offline" grep -q 'data-state="offline"' <<<"$(tile 3)"
check "the wallboard speaks Bahasa Indonesia" grep -q 'Melayani.*Lewat batas: GRATIS.*Layar rusak.*Tidak terhubung' \
    "$work/wallboard.html"
check "a screenshot was taken ($work/wallboard.png)" test -s "$work/wallboard.png"

# --- counter 4: cut off from the hub, it works on, and is counted in full when back ----------
mkdir -p "$work/node-exporter-4" "$work/state-4"
ln -s "$work/run-4/jampasir.prom" "$work/node-exporter-4/jampasir.prom"
printf '[counter]\nid = "loket-4"\n[store]\npath = "%s"\n[metrics]\ntextfile = "%s"\n' \
    "$work/state-4/jampasir.sqlite" "$work/run-4/jampasir.prom" > "$work/loket-4.toml"
mkfifo "$work/keys-4"
"$bin/jampasird" --simulate --config "$work/loket-4.toml" < "$work/keys-4" > /dev/null 2> "$work/daemon-4.log" &
daemon4=$!
exec 5> "$work/keys-4"
exporter4_up() {
    "$node_exporter" --collector.disable-defaults --collector.textfile \
        --collector.textfile.directory="$work/node-exporter-4" --web.listen-address="127.0.0.1:$ne4_port" \
        2>> "$work/node-exporter-4.log" &
    exporter4=$!
}
exporter4_up
check "counter 4 is seen, nothing done yet" until_query 'jampasir_sessions_total{counter="4",outcome="in_time"}' 0
kill "$exporter4"; wait "$exporter4" 2>/dev/null || true
check "counter 4 cut off: the hub sees it down" until_query 'up{counter="4"}' 0
check "JamPasirCounterDown fires for it" \
    until_query 'ALERTS{alertname="JamPasirCounterDown",alertstate="firing",counter="4"}' 1
two_sessions() {
    press_until 5 "$work/daemon-4.log" started 1 && press_until 5 "$work/daemon-4.log" ended 1 &&
        press_until 5 "$work/daemon-4.log" started 2 && press_until 5 "$work/daemon-4.log" ended 2
}
check "meanwhile, two sessions at counter 4" two_sessions
exporter4_up
check "back: its two sessions count today" until_query 'counter:jampasir_sessions:today{counter="4",outcome="in_time"}' 2
# (counter 2's file came with its session already counted: the hub counts from its first
# sight of a counter each day, so 1 at counter 1, 0 at counter 2, 2 at counter 4)
check "  … in the office's figures too" \
    until_query 'office:jampasir_sessions:today{office="singkawang",outcome="in_time"}' 3
check "  … and its alert is over" until_query 'count(ALERTS{alertname="JamPasirCounterDown",counter="4",alertstate="firing"}) or vector(0)' 0
printf q >&5; exec 5>&-
wait "$daemon4" || true
kill "$exporter4" 2>/dev/null || true

# --- a stopped daemon -----------------------------------------------------------------------
printf 'q' >&3
exec 3>&-
check "the daemon stops cleanly" wait "$daemon"
check "its file is gone" test ! -e "$metrics"
check "node-exporter says so" until_query 'node_textfile_scrape_error{counter="1"}' 1
check "the hub sees a counter that answers without JamPasir (JamPasirNotPublishing's condition)" \
    until_query '(up{job="jampasir"} == 1) unless on (instance) jampasir_build_info' 1
check "JamPasirNotPublishing fires for counter 1 (after its for:, here 5 s)" \
    until_query 'ALERTS{alertname="JamPasirNotPublishing",alertstate="firing",counter="1"}' 1
check "JamPasirCounterDown fires for counter 3, which is off" \
    until_query 'ALERTS{alertname="JamPasirCounterDown",alertstate="firing",counter="3"}' 1
check "JamPasirDisplayFault fires for counter 2" \
    until_query 'ALERTS{alertname="JamPasirDisplayFault",alertstate="firing",counter="2"}' 1

# --- 4. the history over the LAN: counters push signed exports to `jampasir hub serve` -------
jampasir=$bin/jampasir
# n more in-time sessions on a simulated counter (press_until above).
sessions() {  # config log n
    local config=$1 log=$2 n=$3 keys=$work/keys-$RANDOM status=0
    touch "$log"
    local done_before; done_before=$(grep -c '] session [0-9]* ended' "$log" || true)
    mkfifo "$keys"
    "$bin/jampasird" --simulate --config "$config" < "$keys" > /dev/null 2>> "$log" &
    local counter=$!
    exec 4> "$keys"
    local session
    for session in $(seq $((done_before + 1)) $((done_before + n))); do
        press_until 4 "$log" started "$session" && press_until 4 "$log" ended "$session" || status=1
    done
    printf q >&4; exec 4>&-
    wait "$counter" || status=1
    rm -f "$keys"
    return $status
}
public_key() { grep -o 'public key [A-Za-z0-9+/=]*' "$1" | tail -n1 | cut -d' ' -f3; }
# Runs a command; passes when its exit status is $1 and its output (both streams) holds $2.
says() {  # status text command...
    local want=$1 text=$2 status=0; shift 2
    "$@" > "$work/said" 2>&1 || status=$?
    grep -qF -- "$text" "$work/said" && [ "$status" -eq "$want" ] && return 0
    say "  exit $status, said: $(head -c 600 "$work/said")"; return 1
}
counter_config() {  # id → its configuration (metrics off: the live level is tested above)
    mkdir -p "$work/$1"
    printf '[counter]\nid = "%s"\n[store]\npath = "%s"\n[metrics]\ntextfile = ""\n' "$1" "$work/$1/jampasir.sqlite" \
        > "$work/$1.toml"
    echo "$work/$1.toml"
}
one=$work/jampasir.toml  # counter 1 above: one session in time, one interrupted by the stop
two=$(counter_config loket-2) stranger=$(counter_config loket-x)
check "counter 2 makes two sessions" sessions "$two" "$work/daemon-2.log" 2
check "a counter of another office makes one" sessions "$stranger" "$work/daemon-x.log" 1
hub_address=127.0.0.1:$(free_port)
printf '[export]\ntrusted_keys = ["%s", "%s"]\n[hub]\nstore = "%s"\nlisten = "%s"\nwallboard_origin = "%s"\n[report]\ntime_zone = "Asia/Pontianak"\n' \
    "$(public_key "$work/daemon.log")" "$(public_key "$work/daemon-2.log")" "$work/hub/hub.sqlite" "$hub_address" \
    "http://127.0.0.1:$prom_port" \
    > "$work/hub.toml"
hub_up() {
    local before; before=$(grep -c "listening on $hub_address" "$work/hub.log" 2>/dev/null) || before=0
    "$jampasir" hub serve --config "$work/hub.toml" 2>> "$work/hub.log" &
    hub=$!
    for _ in $(seq 100); do [ "$(grep -c "listening on $hub_address" "$work/hub.log")" -gt "$before" ] && return 0; sleep 0.1; done
    return 1
}
hub_down() { kill "$hub" && wait "$hub" 2>/dev/null; ! curl -s "http://$hub_address/" > /dev/null; }
trap 'kill "${hub:-}" 2>/dev/null || true; cleanup' EXIT
push() { "$jampasir" push --hub "$hub_address" --config "$@"; }
check "jampasir hub serve listens" hub_up
check "counter 1 pushes: its sessions are imported" \
    says 0 "pushed to $hub_address: imported: loket-1: 2 new sessions, 0 known" push "$one"
check "counter 2 pushes" says 0 "imported: loket-2: 2 new sessions, 0 known" push "$two"
check "a second push sends nothing" says 0 "nothing new since the last push to $hub_address" push "$two"
check "the hub goes away" hub_down
check "counter 2, cut off, makes a session" sessions "$two" "$work/daemon-2.log" 1
check "its push tries again after 5 s, then says the hub cannot be reached (exit 69)" \
    says 69 "trying again in 5 s" push "$two" --attempts 2
check "... and that the next push will send it" grep -q "cannot reach the hub $hub_address after 2 tries.*next push" "$work/said"
check "the hub is back" hub_up
check "counter 2 catches up: only the new session is new" \
    says 0 "imported: loket-2: 1 new sessions, 2 known" push "$two"
check "the same sessions again are taken once" says 0 "imported: loket-2: 0 new sessions, 3 known" push "$two" --force
check "a counter the office does not trust is refused (exit 65)" \
    says 65 "refused the export: refused: " push "$stranger"
# A tampered export, as anyone on the LAN could post it: counter 2's own, one duration changed.
mkdir -p "$work/stick" && "$jampasir" export --config "$two" --to "$work/stick" > /dev/null
python3 - "$work/stick" "$work/tampered.bundle" <<'PY'
import glob, sys
folder = sorted(glob.glob(sys.argv[1] + "/JAMPASIR/*/*"))[-1]
body = b"JAMPASIR-BUNDLE 1\n"
for path in sorted(glob.glob(folder + "/*")):
    data = open(path, "rb").read()
    if path.endswith("sessions.jsonl"):
        data = data.replace(b'"duration_ms":', b'"duration_ms":1', 1)
    body += b"%s %d\n" % (path.rsplit("/", 1)[1].encode(), len(data)) + data + b"\n"
open(sys.argv[2], "wb").write(body)
PY
post_tampered() {
    [ "$(curl -s -o "$work/answer" -w '%{http_code}' -H 'Content-Type: application/octet-stream' \
        --data-binary @"$work/tampered.bundle" "http://$hub_address/v1/bundles")" = 422 ] && grep -q '"refused"' "$work/answer"
}
check "a tampered export is refused (422)" post_tampered
# The office's figures against an independent count over the counters' own stores.
expected=$(sqlite3 -csv "$work/state/jampasir.sqlite" "ATTACH '$work/loket-2/jampasir.sqlite' AS two;
    SELECT count(*), sum(outcome = 'in_time'), sum(outcome = 'overtime'), sum(free_service),
           sum(outcome = 'cancelled'), sum(outcome = 'interrupted')
    FROM (SELECT outcome, free_service FROM main.session UNION ALL SELECT outcome, free_service FROM two.session)")
office=$("$jampasir" hub report --config "$work/hub.toml" --format csv | python3 -c '
import csv, sys
rows = [r for r in csv.DictReader(sys.stdin) if r["kind"] == "office"]
print(",".join(str(sum(int(r[k]) for r in rows)) for k in
      ("sessions", "in_time", "overtime", "free_services", "cancelled", "interrupted")))')
check "the office report's figures ($office) are the counters' own ($expected)" test "$office" = "$expected"
# A counter whose store was rewritten (its second session deleted, triggers dropped first): the
# push is taken, the hub names the change (exit 1) and keeps what it saw first.
store2=$work/loket-2/jampasir.sqlite
sqlite3 "$store2" "$(sqlite3 "$store2" "SELECT 'DROP TRIGGER ' || name || ';' FROM sqlite_master WHERE type = 'trigger'")
    DELETE FROM session WHERE id = 2;"
check "a rewritten history is reported (exit 1)" \
    says 1 "session 2 received before is missing" push "$two" --force
check "... as the hub's answer" grep -q "history_changed: loket-2: 0 new sessions" "$work/said"
check "jampasir hub counters lists the finding" says 0 "FINDING" "$jampasir" hub counters --config "$work/hub.toml"
check "the hub logged each request with its answer" grep -q "127.0.0.1: 409 history_changed: loket-2" "$work/hub.log"
# The directorate: a regional hub (the same software, its own store, trusting the same counters)
# receives everything this office hub took, with `jampasir hub forward`.
region_address=127.0.0.1:$(free_port)
sed -e "s|$work/hub/hub.sqlite|$work/region/hub.sqlite|" -e "s|$hub_address|$region_address|" "$work/hub.toml" \
    > "$work/region.toml"
"$jampasir" hub serve --config "$work/region.toml" 2> "$work/region.log" &
region_hub=$!
trap 'kill "${hub:-}" "${region_hub:-}" 2>/dev/null || true; cleanup' EXIT
check "the regional hub listens" bash -c "for _ in \$(seq 100); do grep -q 'listening on' '$work/region.log' && exit 0; sleep 0.1; done; exit 1"
bundles=$(sqlite3 "$work/hub/hub.sqlite" "SELECT count(*) FROM bundle")
forward() { "$jampasir" hub forward --config "$work/hub.toml" --to "$region_address"; }
check "jampasir hub forward sends the office's $bundles exports; the rewrite is found above too (exit 1)" \
    says 1 "history_changed: loket-2: 0 new sessions; session 2 received before is missing" forward
check "  … each one" test "$(grep -c '^FORWARDED ' "$work/said")" = "$bundles"
check "  … and not again" says 0 "nothing to forward to $region_address" forward
region_figures() {
    "$jampasir" hub report --config "$1" --format csv
}
check "the region's office figures are the office hub's" \
    test "$(region_figures "$work/region.toml")" = "$(region_figures "$work/hub.toml")"
# The wallboard's history line: the office hub's last 30 days and its findings, which the page
# (Prometheus's origin) reads from `jampasir hub serve` (another origin).
history_board="$board?hub=http://$hub_address"
"${chrome[@]}" --dump-dom "$history_board" > "$work/wallboard-history.html" 2>> "$work/chromium.log" || true
"${chrome[@]}" --screenshot="$work/wallboard-history.png" "$history_board" 2>> "$work/chromium.log" || true
office_sessions=$("$jampasir" hub report --config "$work/hub.toml" --format csv | python3 -c '
import csv, sys
print(sum(int(r["sessions"]) for r in csv.DictReader(sys.stdin) if r["kind"] == "office"))')
findings=$(sqlite3 "$work/hub/hub.sqlite" "SELECT count(*) FROM finding")
history_line() { grep -o '<div id="history"[^>]*>' "$work/wallboard-history.html"; }
check "the wallboard's last 30 days: $office_sessions sessions, $findings finding(s), from the hub" \
    bash -c "grep -q 'data-sessions=\"$office_sessions\"' <<<'$(history_line)' && grep -q 'data-findings=\"$findings\"' <<<'$(history_line)'"
check "  … in Bahasa Indonesia, the finding named ($work/wallboard-history.png)" \
    grep -q '30 hari terakhir.*temuan: riwayat loket diubah' "$work/wallboard-history.html"
check "  … which only the wallboard's origin (hub.wallboard_origin) may read from another origin" \
    bash -c "! curl -s -D - -o /dev/null -H 'Origin: http://evil.example' 'http://$hub_address/v1/report' | grep -qi '^access-control-allow-origin'"
check "a request naming another host (DNS rebinding) is refused (421)" \
    test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example' "http://$hub_address/v1/report")" = 421

# --- the second promise: the queue on the same hub, its kiosk printer played on a pseudo-terminal
# (raw, answering DLE EOT as an Epson does), the counters' calls and the hall display -----------
python3 - "$work/printed.bin" > "$work/printer.path" <<'PY' &
import os, pty, sys, tty
master, slave = pty.openpty()
tty.setraw(slave)
print(os.ttyname(slave), flush=True)
out, buf = open(sys.argv[1], "ab"), b""
while True:
    buf += os.read(master, 4096)
    while (i := buf.find(b"\x10\x04")) >= 0 and i + 2 < len(buf):
        out.write(buf[:i]); os.write(master, b"\x12"); buf = buf[i + 3:]
    if b"\x10" not in buf:
        out.write(buf); buf = b""
    out.flush()
PY
printer=$!
trap 'kill "${hub:-}" "${region_hub:-}" "${printer:-}" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 50); do [ -s "$work/printer.path" ] && break; sleep 0.1; done
printf '[queue]\noffice = "Kantor Imigrasi Singkawang"\nprinter = "%s"\n' "$(cat "$work/printer.path")" >> "$work/hub.toml"
check "the hub stops" hub_down
check "  … and starts again with the kiosk's printer (queue.printer)" hub_up
ticket() { curl -s -X POST "http://$hub_address/v1/queue/ticket" | grep -q "\"detail\":\"$1\""; }
three_tickets() { ticket A-001 && ticket A-002 && ticket A-003; }
check "the kiosk prints A-001, A-002, A-003" three_tickets
check "  … on the printer, with the people ahead" grep -aq "2 orang di depan Anda" "$work/printed.bin"
# Counters call with their own device keys (jampasir call, as the call button does).
printf '[push]\nhub = "%s"\n' "$hub_address" | tee -a "$two" >> "$stranger"
check "an unsigned call is refused (401), nothing called" \
    test "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$hub_address/v1/queue/call?counter=loket-2")" = 401
check "a counter the hub does not trust is refused, with the key to add" \
    says 69 "is not one of the office's counters: add its public key" "$jampasir" call --config "$stranger"
check "jampasir call --check: the hub takes loket-2's calls, calling nobody" \
    says 0 "takes loket-2's calls" "$jampasir" call --check --config "$two"
check "loket-2 calls A-001 with its own key" says 0 "loket-2: ticket A-001 called here" "$jampasir" call --config "$two"
check "  … and the hub logged the call from loket-2" grep -q "200 called: loket-2: A-001" "$work/hub.log"
"${chrome[@]}" --dump-dom "http://$hub_address/hall" > "$work/hall.html" 2>> "$work/chromium.log" || true
"${chrome[@]}" --screenshot="$work/hall.png" "http://$hub_address/hall" 2>> "$work/chromium.log" || true
check "the hall display shows A-001 at Loket 2 and 2 waiting of 120 ($work/hall.png)" \
    bash -c "grep -q 'id=\"ticket\">A-001<' '$work/hall.html' && grep -q 'id=\"counter\">Loket 2<' '$work/hall.html' && grep -q 'Waiting: 2 / 120' '$work/hall.html'"
curl -s "http://$hub_address/metrics" > "$work/queue.prom"
check "the hub's queue metrics follow Prometheus's naming rules (promtool check metrics)" \
    bash -c "'$promtool' check metrics < '$work/queue.prom'"
check "  … 2 waiting, nobody past 60 minutes yet" \
    bash -c "grep -qx 'jampasir_queue_waiting 2' '$work/queue.prom' && grep -qx 'jampasir_queue_waiting_past_mark{mark_minutes=\"60\"} 0' '$work/queue.prom'"
curl -s -o "$work/call.wav" "http://$hub_address/v1/queue/announcement.wav?ticket=A-001&counter=loket-2"
check "the spoken call is a WAV of speech (espeak-ng, $(soxi -D "$work/call.wav" 2>/dev/null) s)" \
    bash -c "[ \"\$(head -c 4 '$work/call.wav')\" = RIFF ] && awk -v d=\"\$(soxi -D '$work/call.wav')\" 'BEGIN { exit !(d > 1.5 && d < 8) }'"
# The printer unplugged: the next press prints nothing, and the hall and Prometheus say why.
kill "$printer" 2>/dev/null || true; wait "$printer" 2>/dev/null || true
check "the printer unplugged: a press gives no ticket (503)" \
    test "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$hub_address/v1/queue/ticket")" = 503
"${chrome[@]}" --dump-dom "http://$hub_address/hall" > "$work/hall-printer.html" 2>> "$work/chromium.log" || true
"${chrome[@]}" --screenshot="$work/hall-printer.png" "http://$hub_address/hall" 2>> "$work/chromium.log" || true
check "  … the hall display says the printer is not answering ($work/hall-printer.png)" \
    grep -q 'id="printer"[^>]*>Printer tiket · Ticket printer: printer tidak menjawab' "$work/hall-printer.html"
check "  … and jampasir_queue_printer_ready is 0 (alert JamPasirTicketPrinterNotReady)" \
    bash -c "curl -s 'http://$hub_address/metrics' | grep -qx 'jampasir_queue_printer_ready 0'"
[ -n "${KEEP_SCREENSHOTS:-}" ] && cp "$work"/*.png "$KEEP_SCREENSHOTS"/ 2>/dev/null

echo "prometheus: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
