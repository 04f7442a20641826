#!/usr/bin/env bash
# Checks the shipped systemd units: `systemd-analyze verify` (against the built binaries) and the
# hardening score of `systemd-analyze security --offline=true`: the timing daemon at most 2.0,
# the privileged mount helper (which must share the host's mount namespace) at most 4.0, the
# push and the hub (which need the network) at most 3.0.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build systemd
passed=0
failed=0

swift build --product jampasird >/dev/null
swift build --product jampasir-mountd >/dev/null
swift build --product jampasir >/dev/null
# verify wants ExecStart's binaries where the package installs them: lend them temporary links.
links=()
trap 'rm -f "${links[@]}"' EXIT
lend() { # installed path, built binary
    if [ ! -e "$1" ]; then mkdir -p "$(dirname "$1")" && ln -s "$PWD/$2" "$1" && links+=("$1"); fi
}
lend /usr/bin/jampasird .build/debug/jampasird
lend /usr/lib/jampasir/jampasir-mountd .build/debug/jampasir-mountd
lend /usr/bin/jampasir .build/debug/jampasir

for entry in jampasird.service:2.0 jampasir-mountd.service:4.0 jampasir-push.service:3.0 jampasir-hub.service:3.0; do
    unit=systemd/${entry%%:*}
    limit=${entry##*:}
    score=$(systemd-analyze security --offline=true "$unit" 2>/dev/null \
        | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    echo "systemd: exposure of $unit: $score (limit $limit)"
    if awk -v s="$score" -v l="$limit" 'BEGIN { exit !(s != "" && s <= l) }'; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done
if systemd-analyze verify systemd/jampasird.service systemd/jampasir-mountd.service systemd/jampasir-mountd.socket \
    systemd/jampasir-usb-policy.service systemd/jampasir-push.service systemd/jampasir-push.timer \
    systemd/jampasir-hub.service systemd/jampasir-update-recover.service systemd/jampasir-update-trial.service \
    systemd/jampasir-update.socket systemd/jampasir-update@.service; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
fi
echo "systemd: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
