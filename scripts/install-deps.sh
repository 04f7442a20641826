#!/usr/bin/env bash
# Installs what a suite needs on the build machine, when missing (Debian 12/13, Ubuntu 24.04),
# then checks it (the preflight): every command the suite calls is there, and what it needs of
# the machine works. One table says what each suite needs: scripts/deps.table.
#
#   scripts/install-deps.sh [SUITE…]          install, then check (default suite: build)
#   scripts/install-deps.sh --check [SUITE…]  only check; installs nothing
#
# Every make target and suite starts with it, so a missing tool stops the suite at once with its
# name, not after half an hour. `make check-fresh` runs it for every suite on a new machine's root.
set -euo pipefail
cd "$(dirname "$0")/.."
table=scripts/deps.table
say() { echo "deps: $*" >&2; }

install=1
[ "${1:-}" = --check ] && { install=0; shift; }
[ $# -gt 0 ] || set -- build
suites=$(awk '!/^#/ && NF { print $1 }' "$table" | sort -u)
for suite in "$@"; do
    grep -Fqx "$suite" <<<"$suites" || { say "no suite '$suite' in $table (known: $(echo $suites))"; exit 2; }
done

rows() { # the table's rows for the suites asked for: package, then commands
    awk -v want=" $* " '!/^#/ && NF && index(want, " " $1 " ") { $1 = ""; print substr($0, 2) }' "$table"
}

if ! command -v swift >/dev/null 2>&1; then
    say "swift is not on PATH: install Swift 6 (https://www.swift.org/install/linux/) and try again"
    exit 1
fi

as_root() { # command…: as root, through sudo when not root
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else say "need root for: $* (install sudo, or run as root)"; return 1; fi
}

# --- install -----------------------------------------------------------------------------------
if [ $install = 1 ]; then
    missing=()
    while read -r package _; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done < <(rows "$@")
    if [ ${#missing[@]} -gt 0 ]; then
        mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
        say "installing for $*: ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

# --- preflight ---------------------------------------------------------------------------------
problems=0
problem() { say "$*"; problems=$((problems + 1)); }
while read -r package commands; do
    for command in $commands; do
        [ "$command" = - ] && continue
        command -v "$command" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$command" >/dev/null 2>&1 \
            || problem "$command is missing (Debian package $package): run scripts/install-deps.sh $*"
    done
done < <(rows "$@")
for suite in "$@"; do
    case $suite in
        build)
            for module in libgpiod libudev sqlite3; do
                pkg-config --exists "$module" 2>/dev/null || problem "pkg-config cannot find $module: install its -dev package (scripts/deps.table)"
            done ;;
        cross)
            # qemu-user registered with binfmt_misc (the F flag: chroots need no copy of qemu),
            # so that this kernel runs the Pi's binaries as the Pi's own would; then mmdebstrap
            # itself, asked to plan an arm64 root: it checks what it needs for a foreign one.
            # In make check-fresh's root the kernel is the host's: the root's own entry is
            # checked, the kernel left alone, and mmdebstrap asked in the check pass only (once
            # the root sees binfmt_misc, as a booted machine does).
            if [ -n "${JAMPASIR_FRESH_ROOT:-}" ]; then
                update-binfmts --display qemu-aarch64 2>/dev/null | grep -q "package = qemu-user-static" \
                    || problem "binfmt-support has no qemu-aarch64 entry (qemu-user-static registers it)"
            else
                if [ $install = 1 ] && ! grep -qs enabled /proc/sys/fs/binfmt_misc/qemu-aarch64; then
                    [ -e /proc/sys/fs/binfmt_misc/status ] || as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
                    as_root update-binfmts --enable qemu-aarch64 2>/dev/null || as_root update-binfmts --import qemu-aarch64 || true
                fi
                grep -qs enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 \
                    || problem "qemu-aarch64 is not registered with binfmt_misc: run scripts/install-deps.sh cross (as root; it registers it)"
            fi
            if command -v mmdebstrap >/dev/null && { [ -z "${JAMPASIR_FRESH_ROOT:-}" ] || [ $install = 0 ]; }; then
                plan=$(mktemp -d) && rmdir "$plan"
                mmdebstrap --simulate --quiet --variant=essential --architectures=arm64 trixie "$plan" \
                    "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >/dev/null 2>"$plan.log" \
                    || problem "mmdebstrap cannot make an arm64 root here: $(grep -m1 '^E:' "$plan.log" || tail -n1 "$plan.log")"
                rm -rf "$plan" "$plan.log"
            fi ;;
    esac
done
[ $problems -eq 0 ] || { say "$problems problem(s) for $*"; exit 1; }
