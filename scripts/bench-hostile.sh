#!/usr/bin/env bash
# `make bench-hostile`: what a hostile export costs the hub. One counter's real signed export
# (SESSIONS sessions), then the same export with its sessions.csv replaced by MIB megabytes of
# newlines and the manifest's entry made to fit (a stranger cannot sign it again): the peak
# memory and time of `jampasir hub import` (the counter's key trusted) and of `jampasir verify`
# on each, and of `jampasir hub serve` taking both as pushes over loopback. BIN=folder measures other binaries (an older build, say); default: the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=${SESSIONS:-300} mib=${MIB:-8}
scripts/install-deps.sh build bench
if [ -z "${BIN:-}" ]; then
    swift build -c release --product jampasir >/dev/null
    swift build -c release --product jampasird >/dev/null
fi
bin=${BIN:-$PWD/.build/release}
work=$(mktemp -d /var/tmp/jampasir-bench-hostile.XXXXXX)
trap 'rm -rf "$work"' EXIT
say() { echo "bench-hostile: $*" >&2; }

printf '[counter]\nid = "loket-1"\n[store]\npath = "%s/jampasir.sqlite"\n[metrics]\ntextfile = ""\n' "$work" > "$work/counter.toml"
"$bin/jampasird" --simulate --config "$work/counter.toml" < /dev/null 2>&1 > /dev/null \
    | grep -o 'public key [A-Za-z0-9+/=]*' | cut -d' ' -f3 > "$work/trusted.keys"
python3 scripts/demo-store.py "$work/jampasir.sqlite" --sessions "$sessions" --counter loket-1 --chain > /dev/null
mkdir -p "$work/intact"
"$bin/jampasir" export --config "$work/counter.toml" --to "$work/intact" > /dev/null
cp -r "$work/intact" "$work/hostile"
folder=$(dirname "$(find "$work/hostile" -name manifest.json)")
head -c "$((mib << 20))" /dev/zero | tr '\0' '\n' > "$folder/sessions.csv"
python3 - "$folder" <<'PY'
import hashlib, json, os, sys
folder = sys.argv[1]
path = os.path.join(folder, "manifest.json")
manifest = json.load(open(path))
data = open(os.path.join(folder, "sessions.csv"), "rb").read()
for entry in manifest["files"]:
    if entry["name"] == "sessions.csv":
        entry["sha256"], entry["size"] = hashlib.sha256(data).hexdigest(), len(data)
json.dump(manifest, open(path, "w"), indent=2)
PY

measure() {  # label, command… → a table row: seconds, peak RSS, first words of the answer
    /usr/bin/time -f '%e %M' -o "$work/time" "${@:2}" > "$work/out" 2>&1 || true
    read -r seconds kib < <(tail -n 1 "$work/time")
    printf '| %s | %s s | %d MB | %s |\n' "$1" "$seconds" "$((kib / 1024))" "$(head -c 90 "$work/out" | tr '\n' ' ' | sed "s|$work|…|g")"
}
say "$bin: one export of $sessions sessions, and its sessions.csv replaced by $mib MiB of newlines"
echo "| command | time | peak RSS | answer |"
echo "|---|---|---|---|"
measure "hub import, intact" "$bin/jampasir" hub import --hub-store "$work/hub/hub.sqlite" --trusted-keys "$work/trusted.keys" "$work/intact"
measure "hub import, $mib MiB of newlines" "$bin/jampasir" hub import --hub-store "$work/hub2/hub.sqlite" --trusted-keys "$work/trusted.keys" "$work/hostile"
measure "verify, intact" "$bin/jampasir" verify "$(dirname "$(find "$work/intact" -name manifest.json)")"
measure "verify, $mib MiB of newlines" "$bin/jampasir" verify "$folder"
leftovers=$(find "$work/hub2" -mindepth 2 2>/dev/null | grep -c . || true)
echo "hub folder after the hostile import: $leftovers entries"

# The same two as pushes (POST /v1/bundles, the bundle format of jampasir push) to a hub serving
# on loopback: its answers, and its peak memory over both.
bundle() {  # export folder → bundle body on stdout
    python3 - "$1" <<'PY'
import os, sys
folder, out = sys.argv[1], sys.stdout.buffer
out.write(b"JAMPASIR-BUNDLE 1\n")
for name in ["sessions.csv", "sessions.jsonl", "report.html", "chain.txt", "manifest.json"]:
    path = os.path.join(folder, name)
    if os.path.exists(path):
        data = open(path, "rb").read()
        out.write(b"%s %d\n" % (name.encode(), len(data)) + data + b"\n")
PY
}
bundle "$(dirname "$(find "$work/intact" -name manifest.json)")" > "$work/intact.bundle"
bundle "$folder" > "$work/hostile.bundle"
port=$((20000 + RANDOM % 20000))
/usr/bin/time -f '%M' -o "$work/serve.time" "$bin/jampasir" hub serve --hub-store "$work/hub3/hub.sqlite" \
    --trusted-keys "$work/trusted.keys" --listen "127.0.0.1:$port" 2> "$work/serve.log" &
server=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/v1/report" && break; sleep 0.2; done
for kind in intact hostile; do
    start=$(date +%s.%N)
    answer=$(curl -s --max-time 120 --data-binary "@$work/$kind.bundle" -H 'Content-Type: application/octet-stream' \
        -w ' HTTP %{http_code}' "http://127.0.0.1:$port/v1/bundles" | tr '\n' ' ' | head -c 120)
    printf '| push, %s | %s s | | %s |\n' "$kind" "$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')" "$answer"
done
pkill -TERM -P "$server"; wait "$server" 2>/dev/null || true   # the hub, below /usr/bin/time
echo "hub serve's peak RSS over both pushes: $(( $(tail -n 1 "$work/serve.time") / 1024 )) MB"
