#!/usr/bin/env bash
# The virtual counter (`make test-counter`): the real arm64 package on a real Debian 13 boot.
#
# Boots Debian 13 "trixie" arm64 under qemu-system-aarch64 (machine virt, TCG, Cortex-A72) from
# a root filesystem made here with mmdebstrap (arm64 packages run under qemu-user), Debian's own
# linux-image-arm64 kernel and initramfs, and gpio-sim built out of tree for that kernel inside
# the image with trixie's compiler and headers. systemd is PID 1; udev, journald and the
# package's units run as `apt install` sets them up. Tests/counter/journeys.sh, started by a
# unit of its own, walks the people's journeys and prints TAP lines on the serial console;
# Tests/kernel/hotplug.py on the host cuts the power (QEMU system_reset) when asked.
# Ends with `counter: N passed, N failed`.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
source scripts/cross.sh
export DEBIAN_FRONTEND=noninteractive
say() { echo "counter-test: $*" >&2; }
started=$SECONDS

scripts/install-deps.sh build cross deb counter
export JAMPASIR_CROSS_CHECKED=1

# --- the package under test, and a newer build of it for the upgrade journey ---------------
deb=$(ARCH=arm64 RELEASE=trixie scripts/make-deb.sh | tail -n1)
lintian_ok=1
lintian --fail-on error,warning "$deb" >&2 || lintian_ok=0
work=$root/.build-counter
rm -rf "$work/run" && mkdir -p "$work/run/debs"
cp "$deb" "$work/run/debs/jampasir.deb"
version=$(dpkg-deb -f "$deb" Version)
dpkg-deb -R "$deb" "$work/run/upgrade"
sed -i "s/^Version: .*/Version: ${version}+upgrade1/" "$work/run/upgrade/DEBIAN/control"
dpkg-deb --root-owner-group -Zxz -z1 --build "$work/run/upgrade" "$work/run/debs/jampasir-upgrade.deb" >/dev/null
sed -i "s/^Version: .*/Version: ${version}+upgrade2/" "$work/run/upgrade/DEBIAN/control"
dpkg-deb --root-owner-group -Zxz -z1 --build "$work/run/upgrade" "$work/run/jampasir-update.deb" >/dev/null
# …the same build with a version of its own, uncompressed, for a stick pulled out mid-copy;
sed -i "s/^Version: .*/Version: ${version}+upgrade2+big/" "$work/run/upgrade/DEBIAN/control"
dpkg-deb --root-owner-group -Znone --build "$work/run/upgrade" "$work/run/jampasir-big.deb" >/dev/null
# …the build after it, whose daemon cannot start (it exits at once): the rollback journey;
broken=$work/run/upgrade-broken
cp -a "$work/run/upgrade" "$broken"
sed -i "s/^Version: .*/Version: ${version}+upgrade3/" "$broken/DEBIAN/control"
rm "$broken/usr/bin/jampasird"
printf '#!/bin/sh\necho "jampasird: this test build cannot start" >&2\nexit 1\n' > "$broken/usr/bin/jampasird"
chmod 0755 "$broken/usr/bin/jampasird"
dpkg-deb --root-owner-group -Zxz -z1 --build "$broken" "$work/run/jampasir-broken.deb" >/dev/null
# …and one during whose install the power is cut as dpkg unpacks it (its preinst), once (the
# journeys' mark).
sed -i "s/^Version: .*/Version: ${version}+upgrade4/" "$work/run/upgrade/DEBIAN/control"
printf '#!/bin/sh\n%s\nexit 0\n' \
    "[ -e /var/lib/journeys/cut-unpack ] || { touch /var/lib/journeys/cut-unpack; sync; echo '=== POWER-CUT' > /dev/ttyAMA0; sleep 600; }" \
    > "$work/run/upgrade/DEBIAN/preinst"
chmod 0755 "$work/run/upgrade/DEBIAN/preinst"
dpkg-deb --root-owner-group -Zxz -z1 --build "$work/run/upgrade" "$work/run/jampasir-cut.deb" >/dev/null
rm -rf "$work/run/upgrade" "$broken"

# --- the supervisor's sticks: the key written with `jampasir export-key new --to` on the
# supervisor's own computer (this host), a foreign stick from the waiting room ---------------
swift build --product jampasir >/dev/null
cli=$root/.build/debug/jampasir
make_stick() { # name, folder holding JAMPASIR/, size in MiB (64)
    local img=$work/run/$1.img size=${3:-64}
    truncate -s "${size}M" "$img"
    echo 'start=2048, type=c' | sfdisk -q "$img"
    mkfs.fat -F 32 --offset 2048 -n "${1^^}" "$img" $(((size - 2) * 1024)) >/dev/null
    mcopy -s -i "$img@@1M" "$2/JAMPASIR" ::
}
mkdir -p "$work/run/auth" "$work/run/foreign"
"$cli" export-key new --to "$work/run/auth" | grep '^authorized_keys' > "$work/run/debs/authorized.toml"
"$cli" export-key new --to "$work/run/foreign" >/dev/null
make_stick auth "$work/run/auth"
make_stick foreign "$work/run/foreign"
# The supervisor's update sticks (authorised too): a build signed with the office's update key,
# whose public half the technician gives the counter once; one signed with another office's key,
# which apt on the counter must refuse.
for office in update-key other-key; do
    mkdir -p "$work/run/$office" && "$cli" update-key new --to "$work/run/$office" >/dev/null
done
cp "$work/run/update-key/jampasir-update.gpg" "$work/run/debs/update-key.gpg"
update_stick() { # name, package, signing key's folder, size in MiB (64)
    mkdir -p "$work/run/$1/JAMPASIR" && cp "$work/run/auth/JAMPASIR/export.key" "$work/run/$1/JAMPASIR/"
    "$cli" update-stick --to "$work/run/$1" --key "$work/run/$3/jampasir-update.secret.asc" --deb "$work/run/$2" >/dev/null
    make_stick "$1" "$work/run/$1" "${4:-64}"
}
update_stick update jampasir-update.deb update-key
update_stick broken jampasir-broken.deb update-key
update_stick other jampasir-broken.deb other-key
update_stick pulled jampasir-big.deb update-key 128
update_stick cut jampasir-cut.deb update-key

# --- the counter's root filesystem, kernel and gpio-sim (cached) ---------------------------
image=$JAMPASIR_CACHE/counter-trixie-arm64
packages="systemd-sysv udev kmod linux-image-arm64 initramfs-tools libgpiod3 gpiod libsqlite3-0 libudev1 \
libstdc++6 libgcc-s1 sqlite3 procps e2fsprogs dosfstools util-linux gcc make linux-headers-arm64 libc6-dev \
nut-server nut-client"
stamp="1 $packages"
if [ "$(cat "$image/.stamp" 2>/dev/null)" != "$stamp" ]; then
    say "making the counter's Debian 13 arm64 root filesystem (once; ~10 min under emulation)"
    cross_unmount "$image/rootfs"
    rm -rf "$image" && mkdir -p "$image/src"
    mmdebstrap --quiet --variant=minbase --architectures=arm64 --include="${packages// /,}" \
        --aptopt='APT::Install-Recommends "false"' trixie "$image/rootfs" "$DEBIAN_MIRROR"
    kver=$(ls "$image/rootfs/lib/modules")
    series=$(cut -d. -f1,2 <<<"$kver")
    say "gpio-sim for $kver"
    cross_download trixie arm64 "$image/src" "linux-source-$series"
    dpkg-deb --fsys-tarfile "$image"/src/linux-source-*.deb | tar -xO "./usr/src/linux-source-$series.tar.xz" | xz -dc \
        | tar -x -C "$image/src" "linux-source-$series/drivers/gpio/gpio-sim.c" "linux-source-$series/drivers/gpio/gpiolib.h" \
            "linux-source-$series/kernel/irq/irq_sim.c"
    build=$image/rootfs/root/gpio-sim
    mkdir -p "$build"
    cp "$image/src/linux-source-$series/drivers/gpio/gpio-sim.c" "$build/gpio-sim-core.c"
    cp "$image/src/linux-source-$series/drivers/gpio/gpiolib.h" "$build/"
    # irq_to_desc is not exported to modules: hand the interrupt over by number instead.
    sed 's/handle_simple_irq(irq_to_desc(irqnum))/generic_handle_irq(irqnum)/' \
        "$image/src/linux-source-$series/kernel/irq/irq_sim.c" > "$build/irq_sim.c"
    cp "$root/Tests/kernel/gpio-sim/Kbuild" "$build/"
    chroot "$image/rootfs" make -s -C "/usr/src/linux-headers-$kver" M=/root/gpio-sim modules 2>&1 | grep -v "Skipping BTF" || true
    mkdir -p "$image/rootfs/lib/modules/$kver/extra"
    cp "$build/gpio-sim.ko" "$image/rootfs/lib/modules/$kver/extra/"
    chroot "$image/rootfs" depmod "$kver"
    rm -rf "$build" "$image/src"
    cp "$image/rootfs/boot/vmlinuz-$kver" "$image/vmlinuz"
    cp "$image/rootfs/boot/initrd.img-$kver" "$image/initrd.img"
    # The machine: root on the virtio disk, serial console for the test's output only.
    echo "/dev/vda / ext4 errors=remount-ro 0 1" > "$image/rootfs/etc/fstab"
    echo counter > "$image/rootfs/etc/hostname"
    chroot "$image/rootfs" systemctl mask serial-getty@ttyAMA0.service getty@tty1.service >/dev/null 2>&1
    cat > "$image/rootfs/etc/systemd/system/jampasir-journeys.service" <<'UNIT'
[Unit]
Description=JamPasir virtual counter: the people's journeys
After=multi-user.target
[Service]
Type=simple
ExecStart=/root/run/journeys.sh
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyAMA0
[Install]
WantedBy=multi-user.target
UNIT
    chroot "$image/rootfs" systemctl enable jampasir-journeys.service >/dev/null 2>&1
    echo "$stamp" > "$image/.stamp"
fi

# --- this run's disk: the cached tree plus the package and the journeys ---------------------
cp -r "$work/run/debs" "$image/rootfs/root/run.new" 2>/dev/null || true
rm -rf "$image/rootfs/root/run" && mv "$image/rootfs/root/run.new" "$image/rootfs/root/run"
install -m 0755 "$root/Tests/counter/journeys.sh" "$image/rootfs/root/run/journeys.sh"
rm -f "$work/disk.img"
truncate -s 4G "$work/disk.img"
mkfs.ext4 -q -F -L counter -d "$image/rootfs" "$work/disk.img"

# --- boot ---------------------------------------------------------------------------------
console=$work/console.log
monitor=$work/monitor.sock
rm -f "$console" "$monitor"
touch "$console"
python3 "$root/Tests/kernel/hotplug.py" "$console" "$monitor" "$work/run" &
driver=$!
say "booting the counter (Debian 13 arm64, systemd) under TCG"
vm_started=$SECONDS
timeout "${COUNTER_TIMEOUT:-2400}" qemu-system-aarch64 -machine virt -cpu cortex-a72 -smp 2 -m 1536 -nographic \
    -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
    -append "root=/dev/vda rw console=ttyAMA0 quiet loglevel=3 systemd.show_status=0" \
    -drive if=none,file="$work/disk.img",format=raw,id=disk -device virtio-blk-pci,drive=disk,romfile= \
    -nic none -device qemu-xhci,id=xhci -monitor "unix:$monitor,server,nowait" > "$console" 2>&1 || true
kill "$driver" 2>/dev/null || true
say "VM ran $((SECONDS - vm_started)) s (whole run $((SECONDS - started)) s)"
tr -d '\r' < "$console" > "$console.txt"

grep -E "^(not )?ok [0-9]+ - " "$console.txt" || true
passed=$(grep -cE "^ok [0-9]+ - " "$console.txt" || true)
failed=$(grep -cE "^not ok [0-9]+ - " "$console.txt" || true)
if ! grep -q "COUNTER-JOURNEYS-DONE" "$console.txt"; then
    say "the journeys did not finish: see $console"
    tail -n 40 "$console.txt" >&2
    failed=$((failed + 1))
fi
# The sticks, read on the host: the supervisor's holds one export that verifies against the
# counter's public key; the foreign one holds only its own key file.
tap() { if eval "$2"; then echo "ok - host: $1"; passed=$((passed + 1)); else echo "not ok - host: $1"; failed=$((failed + 1)); fi; }
out=$work/sticks
rm -rf "$out" && mkdir -p "$out/auth" "$out/foreign"
mcopy -s -n -i "$work/run/auth.img@@1M" ::JAMPASIR "$out/auth/" 2>/dev/null || true
mcopy -s -n -i "$work/run/foreign.img@@1M" ::JAMPASIR "$out/foreign/" 2>/dev/null || true
public_key=$(sed -n 's/.*public key \([A-Za-z0-9+\/=]*\) (fingerprint.*/\1/p' "$console.txt" | tail -n1)
export_dir=$(find "$out/auth/JAMPASIR" -name manifest.json -printf '%h\n' 2>/dev/null)
tap "one complete export on the supervisor's stick" '[ -n "$export_dir" ] && [ "$(wc -l <<<"$export_dir")" = 1 ]'
tap "jampasir verify --public-key <the counter's key> accepts it" '[ -n "$public_key" ] && "$cli" verify --public-key "$public_key" "$export_dir"'
tap "lintian: no errors or warnings in $(basename "$deb")" '[ $lintian_ok = 1 ]'
tap "the foreign stick holds only its own key file" '[ "$(cd "$out/foreign/JAMPASIR" && find . -type f)" = "./export.key" ]'
mcopy -n -i "$work/run/update.img@@1M" ::JAMPASIR/update/receipts/loket-3 "$out/receipt" 2>/dev/null || true
tap "the update stick carries the counter's receipt: installed, to ${version}+upgrade2" \
    'grep -qx "result: installed" "$out/receipt" && grep -qx "to: ${version}+upgrade2" "$out/receipt"'
mcopy -n -i "$work/run/broken.img@@1M" ::JAMPASIR/update/receipts/loket-3 "$out/broken-receipt" 2>/dev/null || true
tap "the stick whose build was rolled back carries the counter's refusal: UPd9, to ${version}+upgrade3" \
    'grep -q "^result: refused UPd9: jampasir ${version}+upgrade3 was rolled back on this counter" "$out/broken-receipt"'

mcopy -n -i "$work/run/other.img@@1M" ::JAMPASIR/update/receipts/loket-3 "$out/other-receipt" 2>/dev/null || true
tap "the stick signed with another key carries the counter's refusal: UPd3" \
    'grep -q "^result: refused UPd3: the stick.s update is not signed by this counter.s update key" "$out/other-receipt"'

echo "counter: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
