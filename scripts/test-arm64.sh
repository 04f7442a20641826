#!/usr/bin/env bash
# `make test-arm64`: the counter's architecture. Cross-builds the whole test suite and the
# release binaries for aarch64 (Debian 13 / Raspberry Pi OS trixie, scripts/cross.sh) and runs
# them on an emulated Cortex-A72 (qemu-user through binfmt_misc, so that every process the
# tests start — the real jampasir and jampasird — is aarch64 too):
#   1. the Swift test suite (engine, store, export, property tests…), as `swift test` runs it,
#      less the suites that only drive gpg, apt and dpkg (the booted counter runs those on arm64);
#   2. the crash loop (scripts/torture.py) on the arm64 release jampasird --simulate and
#      jampasir: sessions, SIGKILLs, restarts, `jampasir verify --store` after each.
# Ends with `arm64: N passed, N failed` (suites and checks together).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cross.sh
release=${RELEASE:-trixie}
scratch=$PWD/.build-$release-arm64
log=$(mktemp)
trap 'rm -f "$log"' EXIT

started=$SECONDS
cross_host_tools
cross_say "building the tests for aarch64 (debug)"
cross_swift "$release" arm64 build --build-tests --scratch-path "$scratch" 2>&1 | grep -E "error|warning: unre|Compiling|Build" | tail -n 3
cross_say "building jampasird and jampasir for aarch64 (release, static Swift runtime)"
for product in jampasird jampasir; do
    cross_swift "$release" arm64 build -c release --static-swift-stdlib --scratch-path "$scratch" --product "$product" \
        2>&1 | tail -n 1
done
built=$((SECONDS - started))

export QEMU_LD_PREFIX NO_COLOR=1 JAMPASIR_TESTS_EMULATED=1   # the suites of gpg/apt/dpkg skip (runsUnderEmulation)
QEMU_LD_PREFIX=$(cross_sysroot "$release" arm64)
# qemu-user looks up absolute paths in the sysroot first and "/" exists there, so libudev's
# walk from "/" to "sys" must find the real /sys inside it (an artefact of emulation, not of arm64).
mkdir -p "$QEMU_LD_PREFIX/sys"
mountpoint -q "$QEMU_LD_PREFIX/sys" || mount --bind /sys "$QEMU_LD_PREFIX/sys"
trap 'rm -f "$log"; umount "$QEMU_LD_PREFIX/sys" 2>/dev/null || true' EXIT
bundle=$scratch/debug/JamPasirPackageTests.xctest
passed=0 failed=0
check() { # description, command…
    local what=$1; shift
    if "$@"; then echo "ok - $what"; passed=$((passed + 1)); else echo "not ok - $what"; failed=$((failed + 1)); fi
}
is_aarch64() { readelf -h "$1" 2>/dev/null | grep -q "Machine: *AArch64"; }
check "the test bundle is an aarch64 executable" is_aarch64 "$bundle"
check "jampasird is an aarch64 executable" is_aarch64 "$scratch/release/jampasird"
check "jampasir is an aarch64 executable" is_aarch64 "$scratch/release/jampasir"
check "jampasird --version runs on aarch64" "$scratch/release/jampasird" --version

tests_started=$SECONDS
"$bundle" --testing-library swift-testing 2>&1 | tee "$log" >/dev/null || true
summary=$(scripts/test-summary.sh "swift tests on aarch64" "$log") || true
grep -E "^✘" "$log" | head -n 40 || true
# The slowest tests under emulation (the budget's first suspects; run in parallel, so each
# figure includes its waits for the cores).
grep -E "^✔ Test .* passed after" "$log" | sed -E 's/^✔ Test (.*) passed after ([0-9.]+) seconds.*/\2 s  \1/' \
    | sort -rn | head -n 8 | sed 's/^/slowest on aarch64: /' || true
echo "$summary"
check "the Swift test suite passes on aarch64 ($((SECONDS - tests_started)) s)" grep -q " 0 failed" <<<"$summary"

check "crash loop with the aarch64 jampasird and jampasir" \
    python3 scripts/torture.py --bin "$scratch/release" --iterations "${ARM64_TORTURE_ITERATIONS:-4}"

echo "arm64: built in ${built} s, whole run $((SECONDS - started)) s"
echo "arm64: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
