#!/usr/bin/env bash
# Checks the shipped systemd unit: `systemd-analyze verify` (against the built daemon) and the
# hardening score of `systemd-analyze security --offline=true`, which must stay at most 2.0.
set -euo pipefail
cd "$(dirname "$0")/.."
unit=systemd/jampasird.service
limit=2.0
command -v systemd-analyze >/dev/null || apt-get install -y -qq --no-install-recommends systemd >/dev/null

score=$(systemd-analyze security --offline=true "$unit" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
echo "systemd: exposure of $unit: $score (limit $limit)"

swift build --product jampasird >/dev/null
# verify wants ExecStart's binary where the package installs it: lend it a temporary link.
cleanup=""
if [ ! -e /usr/bin/jampasird ] && [ -w /usr/bin ]; then
    ln -s "$PWD/.build/debug/jampasird" /usr/bin/jampasird && cleanup=/usr/bin/jampasird
fi
trap '[ -z "$cleanup" ] || rm -f "$cleanup"' EXIT
verify=0
systemd-analyze verify "$unit" || verify=1

ok=$(awk -v s="$score" -v l="$limit" 'BEGIN { print (s != "" && s <= l) ? 1 : 0 }')
echo "systemd: $((ok + 1 - verify)) passed, $((1 - ok + verify)) failed"
[ "$ok" = 1 ] && [ "$verify" = 0 ]
