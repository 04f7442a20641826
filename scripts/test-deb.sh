#!/usr/bin/env bash
# Checks the package (`make test-deb`): lintian accepts it (no errors), and in a fresh Debian
# 12 chroot (debootstrap) it installs with its dependencies, puts its files where expected,
# its binaries run, and purge removes everything but the state directory.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export DEBIAN_FRONTEND=noninteractive
for tool in lintian debootstrap; do
    command -v "$tool" >/dev/null || apt-get install -y -qq --no-install-recommends "$tool" >/dev/null
done
scripts/make-deb.sh
deb=$(ls -t dist/jampasir_*.deb | head -n1)
passed=0
failed=0
check() { # description, command...
    local what=$1; shift
    if "$@"; then echo "ok - $what"; passed=$((passed + 1)); else echo "not ok - $what"; failed=$((failed + 1)); fi
}

echo "lintian:"
lintian --fail-on error --suppress-tags no-manual-page "$deb" | sed 's/^/  /' || true
check "lintian reports no errors" lintian --fail-on error "$deb"

chroot=$root/.build-deb/chroot
if [ ! -x "$chroot/usr/bin/apt-get" ]; then
    rm -rf "$chroot"
    debootstrap --variant=minbase bookworm "$chroot" http://deb.debian.org/debian >/dev/null
fi
cleanup() { umount "$chroot/proc" 2>/dev/null || true; }
trap cleanup EXIT
mount -t proc proc "$chroot/proc"
cp "$deb" "$chroot/tmp/jampasir.deb"
in_chroot() { chroot "$chroot" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
in_chroot apt-get update -qq
check "installs with its dependencies" in_chroot apt-get install -y -qq /tmp/jampasir.deb
for file in /usr/bin/jampasird /usr/bin/jampasir /usr/lib/jampasir/jampasir-mountd /lib/systemd/system/jampasird.service \
    /lib/systemd/system/jampasir-mountd.service /lib/systemd/system/jampasir-mountd.socket /usr/lib/udev/rules.d/60-jampasir.rules \
    /usr/lib/sysusers.d/jampasir.conf /usr/lib/tmpfiles.d/jampasir.conf /etc/jampasir/jampasir.toml; do
    check "installed $file" test -e "$chroot$file"
done
check "jampasird --version runs" in_chroot jampasird --version
check "jampasir --version runs" in_chroot jampasir --version
check "user jampasir created" in_chroot getent passwd jampasir
check "service enabled" test -L "$chroot/etc/systemd/system/multi-user.target.wants/jampasird.service"
check "mount helper socket enabled" test -L "$chroot/etc/systemd/system/sockets.target.wants/jampasir-mountd.socket"
check "jampasir-mountd --help runs" in_chroot /usr/lib/jampasir/jampasir-mountd --help
check "state directory created" test -d "$chroot/var/lib/jampasir"
echo "evidence" > "$chroot/var/lib/jampasir/keep-me"
check "purges" in_chroot dpkg --purge jampasir
check "binaries removed" test ! -e "$chroot/usr/bin/jampasird"
check "configuration removed" test ! -e "$chroot/etc/jampasir"
check "service no longer enabled" test ! -e "$chroot/etc/systemd/system/multi-user.target.wants/jampasird.service"
check "socket no longer enabled" test ! -e "$chroot/etc/systemd/system/sockets.target.wants/jampasir-mountd.socket"
check "state directory kept" test -e "$chroot/var/lib/jampasir/keep-me"
echo "deb: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
