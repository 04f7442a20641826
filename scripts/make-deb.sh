#!/usr/bin/env bash
# Builds the package (`make deb`): release binaries with the Swift runtime linked statically
# (the counter needs no Swift toolchain), the systemd units, udev rules, sysusers/tmpfiles
# entries and the commented default configuration as a conffile. Depends are computed from the
# libraries the binaries really load, on the release the package is for.
#
#   make deb                          this machine's architecture and release, swift.org toolchain
#   make deb ARCH=arm64 [RELEASE=trixie]   cross-built with Debian's swiftlang (scripts/cross.sh)
#
# Prints the path of the package on its last line: dist/jampasir_<version>+deb<N>_<arch>.deb
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
host_arch=$(dpkg --print-architecture)
arch=${ARCH:-$host_arch}
if [ "$arch" = "$host_arch" ] && [ -z "${RELEASE:-}" ]; then
    release=$(. /etc/os-release && echo "$VERSION_CODENAME")
    scratch=$root/.build-static-v1   # shared with the kernel suite's v1 build
    build() { swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product "$1" >/dev/null; }
    sysroot=""
else
    release=${RELEASE:-trixie}
    source scripts/cross.sh
    scratch=$root/.build-$release-$arch   # shared with make test-arm64
    build() { cross_swift "$release" "$arch" build -c release --static-swift-stdlib --scratch-path "$scratch" --product "$1" >/dev/null; }
    cross_host_tools   # the target's strip among them
    cross_sdk "$release" "$arch" >/dev/null
    sysroot=$(cross_sysroot "$release" "$arch")
fi
# Units where the release's own packages put them: trixie's are under /usr (its dpkg warns at
# purge about /lib), bookworm's lintian still wants them under /lib.
case $release in
    bookworm) debian=12 unitdir=/lib/systemd/system ;;
    trixie) debian=13 unitdir=/usr/lib/systemd/system ;;
    *) echo "make-deb: release $release is not one JamPasir is built for (bookworm, trixie)" >&2; exit 1 ;;
esac
case $arch in
    arm64) strip=aarch64-linux-gnu-strip ;;
    amd64) strip=x86_64-linux-gnu-strip ;;
    *) echo "make-deb: architecture $arch is not one JamPasir is built for (amd64, arm64)" >&2; exit 1 ;;
esac
version=$(sed -n 's/.*public static let string = "\(.*\)".*/\1/p' Sources/JamPasirCore/Version.swift)-1+deb$debian
stage=$root/.build-deb/jampasir-$release-$arch
out=$root/dist/jampasir_${version}_${arch}.deb

# jampasir is also jampasird (by the name it is started as): one copy of the Swift runtime.
for product in jampasir jampasir-mountd; do build "$product"; done

rm -rf "$stage" && mkdir -p "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/lib/jampasir" "$stage$unitdir" "$stage/usr/lib/udev/rules.d" \
    "$stage/usr/lib/sysusers.d" "$stage/usr/lib/tmpfiles.d" "$stage/etc/jampasir" "$stage/usr/share/doc/jampasir"
"$strip" --strip-unneeded -o "$stage/usr/bin/jampasir" "$scratch/release/jampasir"
ln -s jampasir "$stage/usr/bin/jampasird"
"$strip" --strip-unneeded -o "$stage/usr/lib/jampasir/jampasir-mountd" "$scratch/release/jampasir-mountd"
for unit in jampasird.service jampasir-mountd.service jampasir-mountd.socket jampasir-usb-policy.service \
    jampasir-push.service jampasir-push.timer jampasir-hub.service jampasir-update-recover.service jampasir-update-trial.service \
    jampasir-update.socket jampasir-update@.service; do
    install -m 0644 "systemd/$unit" "$stage$unitdir/"
done
install -m 0644 systemd/60-jampasir.rules systemd/70-jampasir-usb-policy.rules "$stage/usr/lib/udev/rules.d/"
install -m 0644 systemd/jampasir.sysusers "$stage/usr/lib/sysusers.d/jampasir.conf"
install -m 0644 systemd/jampasir.tmpfiles "$stage/usr/lib/tmpfiles.d/jampasir.conf"
install -m 0644 systemd/jampasir.toml "$stage/etc/jampasir/jampasir.toml"
install -m 0644 packaging/debian/copyright "$stage/usr/share/doc/jampasir/copyright"
install -m 0644 README.md "$stage/usr/share/doc/jampasir/README.md"
# The README's links into docs/ and Hardware/ hold in the installed copy too.
mkdir -p "$stage/usr/share/doc/jampasir/docs" "$stage/usr/share/doc/jampasir/Hardware"
install -m 0644 docs/*.md "$stage/usr/share/doc/jampasir/docs/"
install -m 0644 Hardware/README.md "$stage/usr/share/doc/jampasir/Hardware/README.md"
# The office: node-exporter's textfile collector reads the daemon's metrics file (on tmpfs)
# through a link in its own directory; the hub's Prometheus files travel as examples.
mkdir -p "$stage/var/lib/prometheus/node-exporter" "$stage/usr/share/doc/jampasir/examples/prometheus"
ln -s /run/jampasir/metrics/jampasir.prom "$stage/var/lib/prometheus/node-exporter/jampasir.prom"
install -m 0644 packaging/prometheus/jampasir-rules.yml packaging/prometheus/jampasir-rules.test.yml packaging/prometheus/jampasir-rules.week.test.yml \
    packaging/prometheus/prometheus-hub.yml packaging/prometheus/jampasir-wallboard.html \
    "$stage/usr/share/doc/jampasir/examples/prometheus/"
scripts/make-docs.sh "$root/.build/share" >/dev/null   # manual pages and shell completions
cp -r "$root/.build/share/." "$stage/usr/share/"
printf 'jampasir (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- JamPasir developers <dev@jampasir.invalid>  %s\n' \
    "$version" "$version" "$(date -R -d @"$(git log -1 --format=%ct 2>/dev/null || date +%s)")" \
    | gzip -9n > "$stage/usr/share/doc/jampasir/changelog.Debian.gz"
for script in postinst prerm postrm; do install -m 0755 "packaging/debian/$script" "$stage/DEBIAN/"; done
echo /etc/jampasir/jampasir.toml > "$stage/DEBIAN/conffiles"

# Depends: the package shipping each library the binaries load (on this machine, or in the
# release's sysroot for a cross build), libc6 at least at the newest symbol version they need.
owner() { # soname
    if [ -n "$sysroot" ]; then
        grep -l "/$1\$" "$sysroot"/.packages/*.list | head -n1 | xargs -r basename | sed 's/\.list$//'
    else
        dpkg -S "*/$1" 2>/dev/null | head -n1 | cut -d: -f1
    fi
}
binaries=("$stage"/usr/bin/* "$stage"/usr/lib/jampasir/*)
depends=$(for binary in "${binaries[@]}"; do readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; done | sort -u \
    | while read -r soname; do
        package=$(owner "$soname")
        [ -n "$package" ] || { echo "make-deb: no $release package ships $soname" >&2; exit 1; }
        echo "$package"
    done | sort -u)
glibc=$(for binary in "${binaries[@]}"; do readelf -V "$binary"; done | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n1)
if [ -n "$sysroot" ]; then # a package that could not start on its own release is not made
    provided=$(readelf -V "$(find "$sysroot/usr/lib" -maxdepth 2 -name libc.so.6 | head -n1)" \
        | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n1)
    if [ "$(printf '%s\n%s\n' "$glibc" "$provided" | sort -V | tail -n1)" != "$provided" ]; then
        echo "make-deb: the binaries need glibc $glibc but $release has $provided: they would not start there." >&2
        for binary in "${binaries[@]}"; do
            readelf --dyn-syms -W "$binary" | awk -v v="$glibc" 'index($8, "@GLIBC_" v) { print "  " $8 }'
        done | sort -u >&2
        exit 1
    fi
fi
depends=$(sed "s/^libc6\$/libc6 (>= $glibc)/" <<<"$depends" | paste -sd, - | sed 's/,/, /g')
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CONTROL
Package: jampasir
Version: $version
Architecture: $arch
Maintainer: JamPasir developers <dev@jampasir.invalid>
Installed-Size: $size
Depends: $depends, systemd, init-system-helpers (>= 1.54~)
Suggests: prometheus-node-exporter, nut-client
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
echo "deb: $release $arch: $(du -h "$out" | cut -f1), installed size ${size} KiB; Depends: $depends" >&2
echo "$out"
