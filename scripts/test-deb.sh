#!/usr/bin/env bash
# Checks the package (`make test-deb`, `make test-deb ARCH=arm64`): lintian accepts it (no
# errors), and in a fresh chroot of the release it is for (mmdebstrap; a foreign architecture
# runs under qemu-user through binfmt_misc, as on the Pi) apt installs it with its
# dependencies, its files are where expected, its binaries run, and purge removes everything
# but the state directory. Ends with `deb: N passed, N failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export DEBIAN_FRONTEND=noninteractive
scripts/install-deps.sh build deb $([ "${ARCH:-$(dpkg --print-architecture)}" = "$(dpkg --print-architecture)" ] || echo cross)
deb=$(scripts/make-deb.sh | tail -n1)
arch=$(dpkg-deb -f "$deb" Architecture)
case $(dpkg-deb -f "$deb" Version) in
    *+deb12) release=bookworm unitdir=/lib/systemd/system ;;
    *+deb13) release=trixie unitdir=/usr/lib/systemd/system ;;
esac
echo "deb: $(basename "$deb") for $release $arch"
passed=0
failed=0
check() { # description, command...
    local what=$1; shift
    if "$@"; then echo "ok - $what"; passed=$((passed + 1)); else echo "not ok - $what"; failed=$((failed + 1)); fi
}

echo "lintian:"
lintian --fail-on error,warning "$deb" | sed 's/^/  /' || true
check "lintian reports no errors and no warnings" lintian --fail-on error,warning "$deb"

chroot=$root/.build-deb/chroot-$release-$arch
cleanup() { umount "$chroot/proc" 2>/dev/null || true; }
trap cleanup EXIT
cleanup
if [ ! -x "$chroot/usr/bin/apt-get" ]; then
    rm -rf "$chroot"
    mmdebstrap --quiet --variant=minbase --architectures="$arch" "$release" "$chroot" http://deb.debian.org/debian
fi
mount -t proc proc "$chroot/proc"
cp "$deb" "$chroot/tmp/jampasir.deb"
in_chroot() { chroot "$chroot" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
in_chroot apt-get update -qq

# An upgrade keeps what the counter holds: the package is first installed as the previous
# release laid it out (a lower version, its units under /lib as before trixie), a counter's state
# is made (an edited configuration, a store and its device key from a run of the daemon, the
# authorised keys), and this package is installed over it.
previous=$root/.build-deb/previous-$release-$arch
in_chroot dpkg --purge jampasir >/dev/null 2>&1 || true     # left by an earlier run that stopped
rm -rf "$chroot/var/lib/jampasir" "$chroot/etc/jampasir"   # a counter's state from an earlier run
rm -rf "$previous" && dpkg-deb -R "$deb" "$previous"
sed -i 's/^Version: .*/Version: 0.0.1-1/' "$previous/DEBIAN/control"
if [ "$unitdir" != /lib/systemd/system ]; then
    mkdir -p "$previous/lib/systemd" && mv "$previous$unitdir" "$previous/lib/systemd/system"
fi
dpkg-deb --root-owner-group -Zxz --build "$previous" "$chroot/tmp/previous.deb" >/dev/null
check "the previous release installs" in_chroot apt-get install -y -qq /tmp/previous.deb
in_chroot sh -c 'keys=$(mktemp -d) && line=$(jampasir export-key new --to "$keys" | grep "^authorized_keys = ") &&
    sed -i "s/^# id = .*/id = \"loket-upgrade\"/; s|^# authorized_keys = \[\]|$line|" /etc/jampasir/jampasir.toml &&
    jampasird --simulate < /dev/null > /dev/null 2>&1' || true
state() { (cd "$chroot" && sha256sum etc/jampasir/jampasir.toml var/lib/jampasir/device.key var/lib/jampasir/jampasir.sqlite*) 2>&1 || true; }
before=$(state)
check "the previous release made a store and a device key, the configuration names the counter and its authorised keys" \
    sh -c "test -s '$chroot/var/lib/jampasir/jampasir.sqlite' && test -s '$chroot/var/lib/jampasir/device.key' &&
        grep -q '^id = \"loket-upgrade\"' '$chroot/etc/jampasir/jampasir.toml' && grep -q '^authorized_keys = \[\"' '$chroot/etc/jampasir/jampasir.toml'"
check "upgrades over the previous release" in_chroot apt-get install -y -qq /tmp/jampasir.deb
check "the upgrade keeps the configuration (with its authorised keys), the store and the device key" test "$(state)" = "$before"
check "the upgrade leaves the units in $unitdir, the service enabled" \
    in_chroot sh -c "test -f $unitdir/jampasird.service && test -e /etc/systemd/system/multi-user.target.wants/jampasird.service"
check "the upgraded jampasir reads the counter's store" in_chroot jampasir sessions --format csv

# The supervisor's update stick (issue 27): made with the office's update key on a Debian machine
# (here the chroot, with gpg and apt-utils), taken by the counter from a copy of the stick alone.
version=$(dpkg-deb -f "$deb" Version)
newer=$root/.build-deb/newer-$release-$arch
rm -rf "$newer" && dpkg-deb -R "$deb" "$newer"
sed -i "s/^Version: .*/Version: $version.1/" "$newer/DEBIAN/control"
dpkg-deb --root-owner-group -Zxz --build "$newer" "$chroot/tmp/newer.deb" >/dev/null
in_chroot apt-get install -y -qq --no-install-recommends gpg gpg-agent apt-utils >/dev/null
rm -rf "$chroot/tmp/keys" "$chroot/tmp/stick" "$chroot/tmp/old-stick" "$chroot/var/lib/jampasir-update"
in_chroot sh -c 'mkdir /tmp/keys /tmp/stick /tmp/old-stick && jampasir update-key new --to /tmp/keys >/dev/null && cp /tmp/keys/jampasir-update.gpg /etc/jampasir/update-key.gpg &&
    jampasir update-stick --to /tmp/stick --key /tmp/keys/jampasir-update.secret.asc --deb /tmp/newer.deb >/dev/null &&
    jampasir update-stick --to /tmp/old-stick --key /tmp/keys/jampasir-update.secret.asc --deb /tmp/jampasir.deb >/dev/null'
installed_version() { in_chroot dpkg-query -W -f '${Version}' jampasir; }
install_says() { # jampasir update-install's option (and its value), what it says
    local said=${*: -1}
    in_chroot jampasir update-install "${@:1:$#-1}" > "$chroot/tmp/update.out" 2>&1 || true
    grep -qF -- "$said" "$chroot/tmp/update.out" || { sed 's/^/  /' "$chroot/tmp/update.out"; return 1; }
}
update_says() { install_says --from "$1" "$2"; } # stick, what update-install says
receipts() {
    grep -qx 'result: installed' "$chroot/tmp/stick/JAMPASIR/update/receipts/loket-upgrade" &&
        grep -qx "from: $version" "$chroot/var/lib/jampasir-update/receipts/latest" && [ -z "$(in_chroot dpkg --audit)" ]
}
before=$(state)
check "a counter takes the supervisor's update stick: $version → $version.1 installed" \
    update_says /tmp/stick "update: jampasir $version → $version.1 installed"
check "  … that version is installed" test "$(installed_version)" = "$version.1"
check "  … its receipt is on the stick and on the counter, dpkg --audit is clean" receipts
check "  … the update is kept on the counter, and the configuration, store and device key are as they were" \
    test -f "$chroot/var/lib/jampasir-update/installed/jampasir_$version.1_$arch.deb" -a "$(state)" = "$before"
check "  … the same stick again: nothing to do" update_says /tmp/stick "already installed; nothing to do"
check "  … a stick with an older version: refused (UPd5)" \
    update_says /tmp/old-stick "(UPd5): the stick carries jampasir $version, older than the installed $version.1"
check "  … and nothing installed" test "$(installed_version)" = "$version.1"

# The next build on a stick, its package swapped after signing (the index still names it).
sed -i "s/^Version: .*/Version: $version.2/" "$newer/DEBIAN/control"
dpkg-deb --root-owner-group -Zxz --build "$newer" "$chroot/tmp/newest.deb" >/dev/null
rm -rf "$chroot/tmp/swapped-stick" && mkdir "$chroot/tmp/swapped-stick"
in_chroot jampasir update-stick --to /tmp/swapped-stick --key /tmp/keys/jampasir-update.secret.asc --deb /tmp/newest.deb >/dev/null
cp "$chroot/tmp/newer.deb" "$chroot/tmp/swapped-stick/JAMPASIR/update/jampasir_$version.2_$arch.deb"
check "a stick whose package was swapped after signing: refused (UPd3)" \
    update_says /tmp/swapped-stick "(UPd3): /tmp/swapped-stick/JAMPASIR/update/jampasir_$version.2_$arch.deb is not the package the signed index names"
check "  … nothing installed, nothing kept" test "$(installed_version)" = "$version.1" -a ! -e "$chroot/var/lib/jampasir-update/incoming"

# A power cut during the next update: dpkg had unpacked it but not configured it, the counter's
# copy of the stick and the installer's mark are on disk (what update-install leaves behind).
# This build of it cuts the power once more, as the boot's recovery configures it: its postinst
# kills every process of the recovery's session (made with setsid), as a cut would.
rm -rf "$newer-cut" && cp -a "$newer" "$newer-cut"
sed -i '2i [ "$1" != configure ] || [ -e /tmp/cut-configure ] || { touch /tmp/cut-configure; sid=$(sed "s/.*) //" /proc/$$/stat | cut -d" " -f4); for p in /proc/[0-9]*; do [ "${p#/proc/}" != $$ ] && [ "$(sed "s/.*) //" $p/stat 2>/dev/null | cut -d" " -f4)" = "$sid" ] && kill -9 ${p#/proc/}; done; kill -9 $$; }' \
    "$newer-cut/DEBIAN/postinst"
dpkg-deb --root-owner-group -Zxz --build "$newer-cut" "$chroot/tmp/newest-cut.deb" >/dev/null
rm -rf "$newer-cut" "$chroot/tmp/cut-configure"
mkdir -p "$chroot/var/lib/jampasir-update/incoming"
cp "$chroot/tmp/newest-cut.deb" "$chroot/var/lib/jampasir-update/incoming/jampasir_$version.2_$arch.deb"
printf 'from: %s\nto: %s\nfile: jampasir_%s_%s.deb\nsha256: %s\n' "$version.1" "$version.2" "$version.2" "$arch" \
    "$(sha256sum < "$chroot/tmp/newest-cut.deb" | cut -d' ' -f1)" > "$chroot/var/lib/jampasir-update/installing"
in_chroot dpkg --unpack /tmp/newest-cut.deb >/dev/null 2>&1
check "a power cut mid-update left jampasir unpacked, not configured" test "$(in_chroot dpkg-query -W -f '${db:Status-Abbrev}' jampasir)" = "iU "
check "  … the boot's recovery is cut off in turn, as dpkg configures it: half-configured, the mark kept" \
    sh -c "! setsid -w chroot '$chroot' /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin jampasir update-install --recover >/dev/null 2>&1;
        [ -e '$chroot/tmp/cut-configure' ] && [ \"\$(chroot '$chroot' dpkg-query -W -f '\${db:Status-Abbrev}' jampasir)\" = 'iF ' ] &&
        [ -e '$chroot/var/lib/jampasir-update/installing' ]"
recover_says() { install_says --recover "$1"; }
check "  … the next boot's recovery (jampasir update-install --recover) finishes it" \
    recover_says "update: jampasir $version.1 → $version.2 installed"
check "  … $version.2 installed, dpkg --audit clean, the mark gone, the update kept" \
    sh -c "[ \"\$(chroot '$chroot' dpkg-query -W -f '\${Version}' jampasir)\" = '$version.2' ] && [ -z \"\$(chroot '$chroot' dpkg --audit)\" ] &&
        [ ! -e '$chroot/var/lib/jampasir-update/installing' ] && [ -f '$chroot/var/lib/jampasir-update/installed/jampasir_$version.2_$arch.deb' ] &&
        [ -f '$chroot/var/lib/jampasir-update/previous/jampasir_$version.1_$arch.deb' ]"
check "  … at the next boot there is nothing to recover" recover_says "no update was interrupted; nothing to do"
# A technician goes back by hand to the version kept before (what the trial does by itself when
# the new daemon does not report ready).
rollback_says() { install_says --rollback "$1"; }
check "jampasir update-install --rollback installs the kept previous version again" \
    rollback_says "update: jampasir $version.2 → $version.1: rolled back"
check "  … $version.1 installed, dpkg --audit clean, kept as installed, $version.2 not kept, the receipt says why" \
    sh -c "[ \"\$(chroot '$chroot' dpkg-query -W -f '\${Version}' jampasir)\" = '$version.1' ] && [ -z \"\$(chroot '$chroot' dpkg --audit)\" ] &&
        [ -f '$chroot/var/lib/jampasir-update/installed/jampasir_$version.1_$arch.deb' ] && [ ! -e '$chroot/var/lib/jampasir-update/previous' ] &&
        grep -qx 'result: rolled back: asked by hand (jampasir update-install --rollback)' '$chroot/var/lib/jampasir-update/receipts/latest'"
check "  … once: no version is kept before it now" rollback_says "(UPd6): no previous version is kept on this counter"
rm -rf "$chroot/tmp/newest-stick" && mkdir "$chroot/tmp/newest-stick"
in_chroot jampasir update-stick --to /tmp/newest-stick --key /tmp/keys/jampasir-update.secret.asc --deb /tmp/newest.deb >/dev/null
check "  … and the version given up is not taken again from a stick (UPd9)" \
    update_says /tmp/newest-stick "(UPd9): jampasir $version.2 was rolled back on this counter (/var/lib/jampasir-update/rolled-back)"
# A next build whose postinst fails: dpkg stops halfway; the mark and the checked package stay
# for the recovery, which cannot finish it either and says a technician is needed.
sed -i "s/^Version: .*/Version: $version.3/" "$newer/DEBIAN/control"
sed -i '2i echo "postinst of the broken build fails" >&2; exit 1' "$newer/DEBIAN/postinst"
dpkg-deb --root-owner-group -Zxz --build "$newer" "$chroot/tmp/broken.deb" >/dev/null
rm -rf "$chroot/tmp/broken-stick" && mkdir "$chroot/tmp/broken-stick"
in_chroot jampasir update-stick --to /tmp/broken-stick --key /tmp/keys/jampasir-update.secret.asc --deb /tmp/broken.deb >/dev/null
check "an update whose package fails in dpkg: refused (UPd6), and said to be left half-installed" \
    update_says /tmp/broken-stick "jampasir is left half-installed: it is finished at the next start"
check "  … the mark and the checked package stay for the recovery" \
    test -e "$chroot/var/lib/jampasir-update/installing" -a -f "$chroot/var/lib/jampasir-update/incoming/jampasir_$version.3_$arch.deb"
check "  … which cannot finish it either, and says a technician is needed" recover_says "the counter needs a technician"
in_chroot dpkg --install /tmp/newest.deb >/dev/null 2>&1   # the technician puts the last good build back
# A power cut just after dpkg finished an update, before the updater kept its package and
# removed its mark: the recovery finds it installed, keeps the package once and says so.
cp "$chroot/tmp/newest.deb" "$chroot/var/lib/jampasir-update/incoming/jampasir_$version.2_$arch.deb"
printf 'from: %s\nto: %s\nfile: jampasir_%s_%s.deb\nsha256: %s\n' "$version.1" "$version.2" "$version.2" "$arch" \
    "$(sha256sum < "$chroot/tmp/newest.deb" | cut -d' ' -f1)" > "$chroot/var/lib/jampasir-update/installing"
check "a power cut just after dpkg finished: the recovery finds the update installed" \
    recover_says "update: jampasir $version.1 → $version.2 installed"
check "  … keeps it, the one before it as previous, the mark gone, dpkg --audit clean" \
    sh -c "[ -f '$chroot/var/lib/jampasir-update/installed/jampasir_$version.2_$arch.deb' ] && [ -f '$chroot/var/lib/jampasir-update/previous/jampasir_$version.1_$arch.deb' ] &&
        [ ! -e '$chroot/var/lib/jampasir-update/installing' ] && [ -z \"\$(chroot '$chroot' dpkg --audit)\" ]"
check "the recovery unit is enabled (it runs only after an interrupted update)" \
    test -L "$chroot/etc/systemd/system/multi-user.target.wants/jampasir-update-recover.service"
check "the trial unit is enabled (it runs only while an update is on trial)" \
    test -L "$chroot/etc/systemd/system/multi-user.target.wants/jampasir-update-trial.service"
for file in /usr/bin/jampasird /usr/bin/jampasir /usr/lib/jampasir/jampasir-mountd $unitdir/jampasird.service \
    $unitdir/jampasir-mountd.service $unitdir/jampasir-mountd.socket $unitdir/jampasir-usb-policy.service $unitdir/jampasir-push.timer $unitdir/jampasir-hub.service /usr/lib/udev/rules.d/60-jampasir.rules /usr/lib/udev/rules.d/70-jampasir-usb-policy.rules \
    $unitdir/jampasir-update-recover.service $unitdir/jampasir-update-trial.service $unitdir/jampasir-update.socket $unitdir/jampasir-update@.service /usr/lib/sysusers.d/jampasir.conf /usr/lib/tmpfiles.d/jampasir.conf /etc/jampasir/jampasir.toml \
    /usr/share/man/man1/jampasir.1.gz /usr/share/man/man8/jampasird.8.gz /usr/share/man/man8/jampasir-mountd.8.gz /usr/share/man/man5/jampasir.toml.5.gz \
    /usr/share/bash-completion/completions/jampasir /usr/share/doc/jampasir/examples/prometheus/jampasir-rules.yml \
    /usr/share/doc/jampasir/examples/prometheus/jampasir-wallboard.html /usr/share/doc/jampasir/docs/office.md \
    /usr/share/doc/jampasir/docs/configuration.md /usr/share/doc/jampasir/Hardware/README.md; do
    check "installed $file" test -e "$chroot$file"
done
check "node-exporter's textfile directory links to the daemon's metrics file" \
    test "$(readlink "$chroot/var/lib/prometheus/node-exporter/jampasir.prom")" = /run/jampasir/metrics/jampasir.prom
check "jampasird --version runs" in_chroot jampasird --version
check "jampasird is jampasir by another name (one Swift runtime installed)" test "$(readlink "$chroot/usr/bin/jampasird")" = jampasir
check "jampasird by that name is the daemon" in_chroot sh -c 'jampasird --help | grep -q -- --simulate'
check "jampasir --version runs" in_chroot jampasir --version
check "jampasir export-key new --to DIR runs (the stick workflow's first step)" \
    in_chroot sh -c 'stick=$(mktemp -d) && jampasir export-key new --to $stick | grep -q "authorized_keys = "'
check "binaries are built for $arch" sh -c "readelf -h '$chroot/usr/bin/jampasird' | grep -q 'Machine: *$([ "$arch" = arm64 ] && echo AArch64 || echo 'Advanced Micro Devices X86-64')'"
check "user jampasir created" in_chroot getent passwd jampasir
check "user jampasir-hub created (the office hub)" in_chroot getent passwd jampasir-hub
check "service enabled" test -L "$chroot/etc/systemd/system/multi-user.target.wants/jampasird.service"
check "USB policy unit enabled" test -L "$chroot/etc/systemd/system/sysinit.target.wants/jampasir-usb-policy.service"
check "the push timer and the hub are shipped disabled" test ! -e "$chroot/etc/systemd/system/timers.target.wants/jampasir-push.timer" -a ! -e "$chroot/etc/systemd/system/multi-user.target.wants/jampasir-hub.service"
check "mount helper socket enabled" test -L "$chroot/etc/systemd/system/sockets.target.wants/jampasir-mountd.socket"
check "update socket enabled" test -L "$chroot/etc/systemd/system/sockets.target.wants/jampasir-update.socket"
check "jampasir-mountd --help runs" in_chroot /usr/lib/jampasir/jampasir-mountd --help
check "the root helper links neither libgpiod nor SQLite" \
    sh -c "readelf -d '$chroot/usr/lib/jampasir/jampasir-mountd' | grep NEEDED | grep -q libudev && ! readelf -d '$chroot/usr/lib/jampasir/jampasir-mountd' | grep NEEDED | grep -Eq 'libgpiod|libsqlite3'"
check "the root helper carries no Foundation or ICU (under 16 MiB; 59 MiB with them)" \
    test "$(stat -c %s "$chroot/usr/lib/jampasir/jampasir-mountd")" -lt 16777216
check "state directory created" test -d "$chroot/var/lib/jampasir"
echo "evidence" > "$chroot/var/lib/jampasir/keep-me"
check "purges" in_chroot dpkg --purge jampasir
check "binaries removed" test ! -e "$chroot/usr/bin/jampasird"
check "configuration removed" test ! -e "$chroot/etc/jampasir"
check "service no longer enabled" test ! -e "$chroot/etc/systemd/system/multi-user.target.wants/jampasird.service"
check "socket no longer enabled" test ! -e "$chroot/etc/systemd/system/sockets.target.wants/jampasir-mountd.socket"
check "USB policy unit no longer enabled" test ! -e "$chroot/etc/systemd/system/sysinit.target.wants/jampasir-usb-policy.service"
check "state directory kept" test -e "$chroot/var/lib/jampasir/keep-me"
check "the updates kept for going back removed" test ! -e "$chroot/var/lib/jampasir-update"
echo "deb: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
