#!/usr/bin/env bash
# Builds dist/jampasir_<version>_<arch>.deb (`make deb`): release binaries with the Swift
# runtime linked statically (the counter needs no Swift toolchain), the systemd unit, udev
# rules, sysusers/tmpfiles entries and the commented default configuration as a conffile.
# Runtime dependencies are the packages that own the shared libraries the binaries use.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
version=$(sed -n 's/.*public static let string = "\(.*\)".*/\1/p' Sources/JamPasirDaemon/DaemonCommand.swift)-1
arch=$(dpkg --print-architecture)
scratch=$root/.build-static-v1   # shared with the kernel suite's v1 build
stage=$root/.build-deb/jampasir
out=$root/dist/jampasir_${version}_${arch}.deb

swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product jampasird >/dev/null
swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product jampasir >/dev/null
swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product jampasir-mountd >/dev/null

rm -rf "$stage" && mkdir -p "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/lib/jampasir" "$stage/lib/systemd/system" "$stage/usr/lib/udev/rules.d" \
    "$stage/usr/lib/sysusers.d" "$stage/usr/lib/tmpfiles.d" "$stage/etc/jampasir" "$stage/usr/share/doc/jampasir"
for binary in jampasird jampasir; do
    strip --strip-unneeded -o "$stage/usr/bin/$binary" "$scratch/release/$binary"
done
strip --strip-unneeded -o "$stage/usr/lib/jampasir/jampasir-mountd" "$scratch/release/jampasir-mountd"
for unit in jampasird.service jampasir-mountd.service jampasir-mountd.socket; do
    install -m 0644 "systemd/$unit" "$stage/lib/systemd/system/"
done
install -m 0644 systemd/60-jampasir.rules "$stage/usr/lib/udev/rules.d/"
install -m 0644 systemd/jampasir.sysusers "$stage/usr/lib/sysusers.d/jampasir.conf"
install -m 0644 systemd/jampasir.tmpfiles "$stage/usr/lib/tmpfiles.d/jampasir.conf"
install -m 0644 systemd/jampasir.toml "$stage/etc/jampasir/jampasir.toml"
install -m 0644 packaging/debian/copyright "$stage/usr/share/doc/jampasir/copyright"
install -m 0644 README.md "$stage/usr/share/doc/jampasir/README.md"
printf 'jampasir (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- JamPasir developers <dev@jampasir.invalid>  %s\n' \
    "$version" "$version" "$(date -R -d @"$(git log -1 --format=%ct 2>/dev/null || date +%s)")" \
    | gzip -9n > "$stage/usr/share/doc/jampasir/changelog.Debian.gz"
for script in postinst prerm postrm; do install -m 0755 "packaging/debian/$script" "$stage/DEBIAN/"; done
echo /etc/jampasir/jampasir.toml > "$stage/DEBIAN/conffiles"

# Depends: the packages owning the libraries the binaries load (libc, libgpiod, libudev, sqlite…).
depends=$(for binary in "$stage"/usr/bin/* "$stage"/usr/lib/jampasir/*; do ldd "$binary" | grep -o '/[^ ]*\.so[^ ]*'; done | sort -u \
    | while read -r lib; do dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null; done \
    | cut -d: -f1 | sort -u | paste -sd, - | sed 's/,/, /g')
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CONTROL
Package: jampasir
Version: $version
Architecture: $arch
Maintainer: JamPasir developers <dev@jampasir.invalid>
Installed-Size: $size
Depends: $depends, systemd
Section: misc
Priority: optional
Homepage: https://github.com/jampasir/jampasir
Description: two-minute passport service counter timer
 jampasird runs at an immigration office counter: it reads the start/stop
 button (libgpiod), drives a 4-digit LED countdown, a buzzer and status
 lights, and records every session's outcome (in time, overtime = free
 passport, cancelled, interrupted) in a SQLite store that survives power
 cuts. jampasir lists sessions, prints statistics, exports and verifies
 signed reports, and checks the wiring.
CONTROL
mkdir -p "$(dirname "$out")"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >/dev/null
echo "deb: $out ($(du -h "$out" | cut -f1), installed size ${size} KiB; Depends: $depends)"
