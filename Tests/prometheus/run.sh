#!/usr/bin/env bash
# The office level on Debian's own Prometheus (`make test-prometheus`):
#   1. promtool checks the hub's rules and configuration and runs their unit tests
#      (packaging/prometheus/jampasir-rules.test.yml);
#   2. the real jampasird --simulate writes its metrics file; Debian's node-exporter reads it
#      through the link the package ships; Debian's prometheus scrapes it with the hub's
#      configuration and rules; a person presses the button and the hub sees the session
#      running, its remaining time, its outcome and today's figures; a stopped daemon is seen;
#   3. the wallboard page, served by that prometheus, in headless Chromium: its text is checked
#      and a screenshot is kept in .build-prometheus/ (look at it).
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
for tool in curl python3 chromium; do command -v $tool >/dev/null || missing+=" $tool"; done
if [ -n "${missing:-}" ]; then
    say "installing${missing}"
    apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing fonts-dejavu-core >/dev/null
fi
version=$(apt-cache policy prometheus | sed -n 's/ *Candidate: //p')
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

# --- 1. the hub's files -----------------------------------------------------------------
rules=$root/packaging/prometheus
rm -rf "$work" && mkdir -p "$work"
check "promtool check rules" "$promtool" check rules "$rules/jampasir-rules.yml"
sed "s|/etc/prometheus/jampasir-rules.yml|$rules/jampasir-rules.yml|" "$rules/prometheus-hub.yml" > "$work/hub-check.yml"
check "promtool check config (the hub's example)" "$promtool" check config "$work/hub-check.yml"
check "promtool test rules (today's figures, the office, the alerts)" \
    "$promtool" test rules "$rules/jampasir-rules.test.yml"

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
python3 - "$rules/prometheus-hub.yml" "$work/prometheus.yml" "$work/rules.yml" "$ne_port" "$ne2_port" "$dead_port" <<'PY'
import sys
source, target, rules, ne, ne2, dead = sys.argv[1:]
text = open(source).read()
for old, new in [("/etc/prometheus/jampasir-rules.yml", rules), ("scrape_interval: 15s", "scrape_interval: 1s"),
                 ("evaluation_interval: 1m", "evaluation_interval: 1s"), ("loket-1.local:9100", "127.0.0.1:" + ne),
                 ("loket-2.local:9100", "127.0.0.1:" + ne2)]:
    assert old in text, old
    text = text.replace(old, new)
third = '      - targets: ["127.0.0.1:%s"]\n        labels: {office: singkawang, counter: "3"}\n' % dead
text = text.replace('    # Keep what the office needs', third + '    # Keep what the office needs')
open(target, "w").write(text)
PY
sed "s|interval: 1m|interval: 1s|" "$rules/jampasir-rules.yml" > "$work/rules.yml"
mkdir -p "$work/consoles"
cp "$rules/jampasir-wallboard.html" "$work/consoles/"
"$prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" --web.console.templates="$work/consoles" \
    --web.console.libraries="$tools/etc/prometheus/console_libraries" 2> "$work/prometheus.log" &
server=$!
cleanup() { exec 3>&- 2>/dev/null || true; kill "$daemon" "$exporter" "$exporter2" "$server" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT

# The value of a PromQL query with one result ("none" when empty).
query() {
    curl -sfG "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
result = json.load(sys.stdin)["data"]["result"]
print(result[0]["value"][1] if len(result) == 1 else ("none" if not result else "many"))' 2>/dev/null || echo "error"
}
# Waits (up to 30 s) until query $1 gives $2.
until_query() {
    for _ in $(seq 300); do [ "$(query "$1")" = "$2" ] && return 0; sleep 0.1; done
    say "  $1 = $(query "$1"), wanted $2"; return 1
}
between() { python3 -c "import sys; sys.exit(0 if $2 < float('$1') <= $3 else 1)"; }

check "the daemon is ready" bash -c "for _ in \$(seq 200); do grep -q 'ready after' '$work/daemon.log' && exit 0; sleep 0.1; done; exit 1"
check "promtool check metrics: the daemon's file follows the naming rules" \
    bash -c "'$promtool' check metrics < '$metrics'"
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

# --- 3. the wallboard ---------------------------------------------------------------------
board="http://127.0.0.1:$prom_port/consoles/jampasir-wallboard.html"
printf ' ' >&3  # a session running while the board is looked at
check "running again" until_query 'jampasir_session_running{counter="1"}' 1
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

# --- a stopped daemon -----------------------------------------------------------------------
printf 'q' >&3
exec 3>&-
check "the daemon stops cleanly" wait "$daemon"
check "its file is gone" test ! -e "$metrics"
check "node-exporter says so" until_query 'node_textfile_scrape_error{counter="1"}' 1
check "the hub sees a counter that answers without JamPasir (JamPasirNotPublishing's condition)" \
    until_query '(up{job="jampasir"} == 1) unless on (instance) jampasir_build_info' 1

echo "prometheus: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
