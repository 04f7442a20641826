#!/usr/bin/env bash
# `make test-hub-load`: the office LAN at its worst against the real `jampasir hub serve` on
# loopback, for LOAD_SECONDS (60): 8 counters each calling once a second with their own keys
# (`jampasir call`, its 3 s deadline), the kiosk asking for a ticket every 2.5 s on a slow
# printer (scripts/hub-load.py printer), the hall display's poll 5 times a second, two counters
# pushing their real exports over and over, Debian's slowhttptest in slowloris, slow-body and
# slow-read modes (100 connections each), and bundles of an unknown signer and a newline bomb
# posted in a loop (scripts/hub-load.py drives it). Passes only with 0 calls past 3 s (or
# failed), every ticket the hub called told to a counter in time, every push and ticket taken,
# no hall poll past 3 s and the hub's peak RSS under 150 MB; prints
# the figures. BIN=folder measures other binaries (an older build, say); default: the release
# binaries `make torture` builds (.build-static-v1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build hub-load
if [ -z "${BIN:-}" ]; then
    swift build -c release --static-swift-stdlib --scratch-path .build-static-v1 --product jampasird >/dev/null
    swift build -c release --static-swift-stdlib --scratch-path .build-static-v1 --product jampasir >/dev/null
fi
bin=${BIN:-$PWD/.build-static-v1/release}
work=$(mktemp -d /var/tmp/jampasir-hub-load.XXXXXX)
hub="" printer=""
cleanup() {
    for pid in $hub $printer; do kill "$pid" 2>/dev/null || true; done
    pkill -f "slowhttptest.*$work" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
say() { echo "hub-load: $*" >&2; }
port=$((20000 + RANDOM % 20000))

# Eight counters (loket-1 … loket-8), each with its device key and a few sessions; one stranger.
say "$bin: 8 counters and a stranger, each with a key and a store"
for id in 1 2 3 4 5 6 7 8 x; do
    printf '[counter]\nid = "loket-%s"\n[store]\npath = "%s/loket-%s/jampasir.sqlite"\n[push]\nhub = "127.0.0.1:%s"\n[metrics]\ntextfile = ""\n' \
        "$id" "$work" "$id" "$port" > "$work/loket-$id.toml"
    mkdir -p "$work/loket-$id"
    "$bin/jampasird" --simulate --config "$work/loket-$id.toml" < /dev/null 2>&1 > /dev/null \
        | grep -o 'public key [A-Za-z0-9+/=]*' | cut -d' ' -f3 > "$work/loket-$id.key"
    python3 scripts/demo-store.py "$work/loket-$id/jampasir.sqlite" --sessions 200 --counter "loket-$id" --chain > /dev/null
done
cat "$work"/loket-[1-8].key > "$work/trusted.keys"
# The kiosk's printer: a slow one (about 1.2 s a ticket) on a pseudo-terminal.
python3 scripts/hub-load.py printer "$work/printer.path" &
printer=$!
for _ in $(seq 50); do [ -s "$work/printer.path" ] && break; sleep 0.1; done
printf '[hub]\nstore = "%s/hub/hub.sqlite"\n[export]\ntrusted_keys = [%s]\n[queue]\nprinter = "%s"\n' "$work" \
    "$(sed 's/.*/"&"/' "$work/trusted.keys" | paste -sd,)" "$(cat "$work/printer.path")" > "$work/hub.toml"

"$bin/jampasir" hub serve --config "$work/hub.toml" --listen "127.0.0.1:$port" 2> "$work/hub.log" &
hub=$!
for _ in $(seq 100); do grep -q "listening on" "$work/hub.log" && break; sleep 0.1; done
grep -q "listening on" "$work/hub.log" || { say "the hub did not start: $(cat "$work/hub.log")"; exit 1; }
# A counter is known by its first export: each pushes once before it calls.
for id in 1 2 3 4 5 6 7 8; do
    "$bin/jampasir" push --config "$work/loket-$id.toml" > /dev/null || { say "loket-$id's first push failed"; exit 1; }
done

# The hostile bundles: the stranger's export (unknown signer) and loket-1's with its
# sessions.csv replaced by 8 MiB of newlines (the manifest made to fit; nobody can sign it again).
for id in x 1; do mkdir -p "$work/export-$id"; "$bin/jampasir" export --config "$work/loket-$id.toml" --to "$work/export-$id" > /dev/null; done
python3 scripts/hub-load.py bundles "$work/export-x" "$work/export-1" "$work/stranger.bundle" "$work/bomb.bundle"

say "$((${LOAD_SECONDS:-60})) s of load on 127.0.0.1:$port"
url=http://127.0.0.1:$port
slow() { slowhttptest "$@" -c 100 -r 50 -l "${LOAD_SECONDS:-60}" -p 3 -o "$work/slow-$RANDOM" > /dev/null 2>&1 & }
slow -H -i 5 -u "$url/v1/queue"
slow -B -i 5 -s 65536 -t POST -u "$url/v1/bundles"
slow -X -k 1 -n 5 -w 1 -y 2 -z 1 -u "$url/hall"
status=0
python3 scripts/hub-load.py run --bin "$bin" --work "$work" --url "$url" --hub-pid "$hub" \
    --seconds "${LOAD_SECONDS:-60}" || status=$?
kill -TERM "$hub"; wait "$hub" 2>/dev/null || true; hub=""
pkill -f "slowhttptest.*$work" 2>/dev/null || true
exit $status
