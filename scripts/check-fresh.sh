#!/usr/bin/env bash
# `make check-fresh`: what a new build machine lacks, found in minutes instead of at CI's last step.
#
# Makes (once, cached) the root of a new Debian 12 machine with Swift: Debian's minbase plus
# swift.org's prerequisites for Debian 12, nothing else, with this machine's Swift bind-mounted
# at /opt/swift. Then, in a throw-away copy of it (overlayfs), does what CI does before its
# suites: .ci/run's own bootstrap line, and every suite's install step
# (scripts/install-deps.sh SUITE, the one each suite starts with), each followed by the suite's
# preflight (every command it calls is there, pkg-config finds the libraries, qemu's binfmt is
# registered and mmdebstrap's arch-test can run an arm64 binary). Builds nothing.
# The kernel (binfmt_misc) is the host's: this machine's qemu-aarch64 registration is made by
# its own install step, and inside the root only the root's own registration is checked.
# Run it whenever an install list, a suite or a dependency changes. Needs root and the mirror.
# Ends with `check-fresh: N passed, N failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
say() { echo "check-fresh: $*" >&2; }
[ "$(id -u)" -eq 0 ] || { say "needs root (chroot, mounts): sudo env PATH=\"\$PATH\" make check-fresh"; exit 1; }
# Every mount below lives in a mount namespace of its own: gone with this process, however it ends.
if [ -z "${JAMPASIR_FRESH_NS:-}" ]; then
    exec env JAMPASIR_FRESH_NS=1 unshare --mount --propagation private "$0" "$@"
fi
source scripts/cross.sh   # JAMPASIR_CACHE, DEBIAN_MIRROR, cross_unmount
swift_home=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")")
[ -x "$swift_home/usr/bin/swift" ] && [ "$swift_home" != / ] \
    || { say "cannot tell the Swift toolchain's own folder from $(command -v swift) (a toolchain under /opt, say, is what it lends the root)"; exit 1; }
scripts/install-deps.sh fresh cross
started=$SECONDS

# --- the new machine's root (cached): minbase + swift.org's Debian 12 prerequisites ----------
swift_prerequisites="binutils-gold gcc git libcurl4-openssl-dev libedit-dev libicu-dev libncurses-dev libpython3-dev \
libsqlite3-dev libxml2-dev pkg-config tzdata uuid-dev ca-certificates"
base=$JAMPASIR_CACHE/fresh-bookworm
stamp="1 $swift_prerequisites"
if [ "$(cat "$base/.stamp" 2>/dev/null)" != "$stamp" ]; then
    say "making a new Debian 12 machine's root (once; ~3 min)"
    cross_unmount "$base"
    rm -rf "$base" && mkdir -p "$base/archives/partial"
    mmdebstrap --quiet --variant=minbase --include="${swift_prerequisites// /,}" \
        --aptopt='APT::Install-Recommends "false"' bookworm "$base/root" \
        "deb $DEBIAN_MIRROR bookworm main" "deb $DEBIAN_MIRROR bookworm-updates main" \
        "deb ${DEBIAN_MIRROR%/debian}/debian-security bookworm-security main"
    rm -f "$base/root/var/cache/apt/archives/"*.deb
    echo "$stamp" > "$base/.stamp"
fi

# --- this run: a copy that is thrown away, the checkout and Swift at the same paths ----------
work=$JAMPASIR_CACHE/fresh-run
fresh=$work/root
cleanup() { cross_unmount "$fresh"; umount -l "$fresh" 2>/dev/null || true; rm -rf "$work/upper" "$work/overlay-work"; }
trap cleanup EXIT
cleanup
mkdir -p "$fresh" "$work/upper" "$work/overlay-work"
mount -t overlay overlay -o "lowerdir=$base/root,upperdir=$work/upper,workdir=$work/overlay-work" "$fresh"
mount -t proc proc "$fresh/proc"
mount --rbind /sys "$fresh/sys" && mount --make-rslave "$fresh/sys"
mount --rbind /dev "$fresh/dev" && mount --make-rslave "$fresh/dev"
mount --bind "$base/archives" "$fresh/var/cache/apt/archives"   # downloads kept between runs
for dir in "$swift_home" "$root"; do
    mkdir -p "$fresh$dir" && mount --bind "$dir" "$fresh$dir" && mount -o remount,bind,ro "$fresh$dir"
done
cp -L /etc/resolv.conf "$fresh/etc/resolv.conf"
in_fresh() { # command line, run as CI would: root, Swift on PATH, in the checkout
    chroot "$fresh" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive JAMPASIR_FRESH_ROOT=1 \
        DEBIAN_MIRROR="$DEBIAN_MIRROR" ${http_proxy:+http_proxy="$http_proxy"} ${https_proxy:+https_proxy="$https_proxy"} \
        PATH="$swift_home/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        bash -c "cd '$root' && $1"
}

passed=0 failed=0
check() { # what, command line in the new root
    local what=$1 log; log=$(mktemp)
    if in_fresh "$2" >"$log" 2>&1; then echo "ok - $what"; passed=$((passed + 1))
    else echo "not ok - $what"; sed 's/^/#   /' "$log" | tail -n 15; failed=$((failed + 1)); fi
    rm -f "$log"
}

check "swift runs on the new machine (its prerequisites are the base)" "swift --version"
bootstrap=$(grep -m1 '^command -v make' .ci/run) || { say ".ci/run has no bootstrap line (command -v make …) to try"; exit 1; }
check ".ci/run's bootstrap installs make" "$bootstrap && make --version"
suites=$(awk '!/^#/ && NF && !seen[$1]++ { print $1 }' scripts/deps.table)
for suite in $suites; do
    check "install step: scripts/install-deps.sh $suite" "scripts/install-deps.sh $suite"
done
# every suite checked again once all are installed (no install step undoes another's), with
# binfmt_misc visible as on a booted machine (kept out of the installs: no package script in
# the root may register anything with the host's kernel)
mount -t binfmt_misc binfmt_misc "$fresh/proc/sys/fs/binfmt_misc"
for suite in $suites; do
    check "preflight: scripts/install-deps.sh --check $suite" "scripts/install-deps.sh --check $suite"
done
# only install-deps.sh installs on the build machine (apt in a guest's root or the virtual
# counter's journeys is the guest's own; the kernel suite follows the mirror's current headers)
strays=$(grep -rn --include='*.sh' --include=Makefile --include=run -E '(apt-get|apt) .*install|dpkg +(-i|--install)' scripts Tests Makefile .ci \
    | grep -v -e '^[^:]*:[0-9]*: *#' -e '^scripts/install-deps.sh:' -e '^\.ci/run:[0-9]*:command -v make' -e '^Tests/counter/journeys.sh:' \
        -e 'in_chroot ' -e 'chroot "\$' -e 'linux-headers-\$kver' || true)
if [ -z "$strays" ]; then echo "ok - no suite installs on the build machine outside scripts/install-deps.sh"; passed=$((passed + 1))
else echo "not ok - installs outside scripts/install-deps.sh (add them to scripts/deps.table):"; sed 's/^/#   /' <<<"$strays"; failed=$((failed + 1)); fi

say "$(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s"
echo "check-fresh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
