#!/usr/bin/env bash
# The real-kernel GPIO suite (`make test-kernel`).
#
# Boots Debian's own kernel under QEMU (TCG: no KVM needed) with the kernel's gpio-sim module
# built out of tree, and runs the real jampasird (static Swift runtime, real libgpiod) against
# simulated GPIO lines: button presses are made by switching a line's simulated pull, and the
# buzzer/LED lines are read back. The store the daemon wrote is copied out and read with the
# host's jampasir CLI. Runs once per libgpiod flavour: v1 (Debian 12) and v2 (Debian 13's 2.x).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work=$root/.build-kernel
mkdir -p "$work"
export DEBIAN_FRONTEND=noninteractive
say() { echo "kernel-test: $*" >&2; }

# --- host tools -------------------------------------------------------------------------
tools=(qemu-system-x86 busybox-static gpiod cpio xz-utils make gcc kmod python3)
missing=()
for p in "${tools[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
apt-get update -qq
[ ${#missing[@]} -eq 0 ] || { say "installing ${missing[*]}"; apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }

# --- the kernel: whatever linux-image-amd64 points at today (the mirror drops old ABIs) ----
kpkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1)
kver=${kpkg#linux-image-}
series=$(cut -d. -f1,2 <<<"$kver")
say "kernel $kver"
dpkg-query -W -f='${Status}' "linux-headers-$kver" 2>/dev/null | grep -q "ok installed" \
    || apt-get install -y -qq --no-install-recommends "linux-headers-$kver" >/dev/null
kdir=$work/kernel-$kver
if [ ! -f "$kdir/gpio-sim.ko" ]; then
    rm -rf "$kdir" && mkdir -p "$kdir/debs" "$kdir/build"
    (cd "$kdir/debs" && apt-get download -qq "$kpkg" "linux-source-$series" 2>/dev/null)
    dpkg-deb -x "$kdir"/debs/linux-image-*.deb "$kdir/image"
    cp "$kdir/image/boot/vmlinuz-$kver" "$kdir/vmlinuz"
    cp "$(find "$kdir/image" -name configfs.ko | head -n1)" "$kdir/configfs.ko"
    say "extracting gpio-sim sources from linux-source-$series"
    dpkg-deb --fsys-tarfile "$kdir"/debs/linux-source-*.deb | tar -xO "./usr/src/linux-source-$series.tar.xz" | xz -dc \
        | tar -x -C "$kdir" "linux-source-$series/drivers/gpio/gpio-sim.c" "linux-source-$series/drivers/gpio/gpiolib.h" \
            "linux-source-$series/kernel/irq/irq_sim.c"
    src=$kdir/linux-source-$series
    cp "$src/drivers/gpio/gpio-sim.c" "$kdir/build/gpio-sim-core.c"
    cp "$src/drivers/gpio/gpiolib.h" "$kdir/build/"
    # irq_to_desc is not exported on x86: hand the interrupt over by number instead.
    sed 's/handle_simple_irq(irq_to_desc(irqnum))/generic_handle_irq(irqnum)/' "$src/kernel/irq/irq_sim.c" > "$kdir/build/irq_sim.c"
    cp "$root/Tests/kernel/gpio-sim/Kbuild" "$kdir/build/"
    make -s -C "/usr/src/linux-headers-$kver" M="$kdir/build" modules 2>&1 | grep -v "Skipping BTF" || true
    cp "$kdir/build/gpio-sim.ko" "$kdir/gpio-sim.ko"
    rm -rf "$kdir/image" "$kdir/debs" "$src"
fi

# --- libgpiod 2.x from Debian 13, for the v2 build of the shim -----------------------------
v2=$work/libgpiod-v2
if [ ! -f "$v2/root/usr/include/gpiod.h" ]; then
    say "fetching libgpiod 2.x from trixie"
    rm -rf "$v2" && mkdir -p "$v2/lists/partial" "$v2/cache/archives/partial" "$v2/root"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" > "$v2/sources.list"
    apt_v2=(-o Dir::Etc::SourceList="$v2/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists="$v2/lists" -o Dir::Cache="$v2/cache")
    apt-get "${apt_v2[@]}" update -qq
    (cd "$v2" && apt-get "${apt_v2[@]}" download -qq libgpiod-dev libgpiod3 2>/dev/null)
    for deb in "$v2"/*.deb; do dpkg-deb -x "$deb" "$v2/root"; done
fi

# --- the host CLI that reads the store copied out of the VM -------------------------------
swift build --product jampasir >/dev/null
cli=$root/.build/debug/jampasir

busybox=$(command -v busybox)
gpioset=$(command -v gpioset)
total_failed=0
total_passed=0

run_flavour() { # name, extra swift build flags...
    local flavour=$1; shift
    local scratch=$root/.build-static-$flavour
    say "building jampasird ($flavour, static Swift runtime)"
    swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product jampasird "$@" >/dev/null
    local daemon=$scratch/release/jampasird
    local initrd=$work/initramfs-$flavour
    rm -rf "$initrd" && mkdir -p "$initrd"/{bin,dev,proc,sys,tmp,lib/modules}
    cp "$busybox" "$initrd/bin/busybox"
    cp "$root/Tests/kernel/guest-init.sh" "$initrd/init"
    cp "$kdir/configfs.ko" "$kdir/gpio-sim.ko" "$initrd/lib/modules/"
    strip -o "$initrd/bin/jampasird" "$daemon"
    cp "$gpioset" "$initrd/bin/gpioset"
    # The few shared libraries (glibc, libgpiod, libudev, sqlite…) at their host paths.
    for binary in "$initrd/bin/jampasird" "$initrd/bin/gpioset"; do
        LD_LIBRARY_PATH=${LIB_PATH:-} ldd "$binary" | grep -o '/[^ ]*' | while read -r lib; do
            mkdir -p "$initrd$(dirname "$lib")"
            cp -L "$lib" "$initrd$lib"
        done
    done
    [ -z "${LIB_PATH:-}" ] || { mkdir -p "$initrd/usr/local/lib"; cp -L "$LIB_PATH"/libgpiod.so.3 "$initrd/usr/local/lib/"; echo "LD_LIBRARY_PATH=/usr/local/lib" > "$initrd/ENV"; }
    echo "$flavour" > "$initrd/VERSION"
    (cd "$initrd" && find . | cpio -o -H newc --quiet) > "$work/initramfs-$flavour.cpio"

    say "booting $kver ($flavour)"
    local console=$work/console-$flavour.log
    local started=$SECONDS
    timeout 600 qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -nographic -no-reboot \
        -kernel "$kdir/vmlinuz" -initrd "$work/initramfs-$flavour.cpio" \
        -append "console=ttyS0 panic=-1 quiet rdinit=/init" > "$console" 2>&1 || true
    say "VM ran $((SECONDS - started)) s"
    tr -d '\r' < "$console" > "$console.txt"

    grep -E "^(not )?ok [0-9]+ - " "$console.txt" | sed "s/^/[$flavour] /"
    local passed failed
    passed=$(grep -cE "^ok [0-9]+ - " "$console.txt" || true)
    failed=$(grep -cE "^not ok [0-9]+ - " "$console.txt" || true)
    if ! grep -q "KERNEL-SUITE-DONE" "$console.txt"; then
        say "the VM did not finish: see $console"
        tail -n 30 "$console.txt" >&2
        failed=$((failed + 1))
    else
        # The store the daemon wrote in the VM, read with the real CLI.
        local store=$work/store-$flavour
        rm -rf "$store" && mkdir -p "$store"
        sed -n '/^=== STORE BEGIN/,/^=== STORE END/p' "$console.txt" | sed '1d;$d' | base64 -d | tar -x -C "$store"
        sed -n '/^=== DAEMON LOG BEGIN/,/^=== DAEMON LOG END/p' "$console.txt" > "$work/daemon-$flavour.log"
        if python3 "$root/Tests/kernel/check_store.py" "$cli" "$store/s.sqlite" "$work/daemon-$flavour.log" "$flavour"; then
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
        fi
    fi
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
}

run_flavour v1
LIB_PATH=$v2/root/usr/lib/x86_64-linux-gnu run_flavour v2 \
    -Xcc -I"$v2/root/usr/include" -Xlinker -L"$v2/root/usr/lib/x86_64-linux-gnu"

echo "kernel: $total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
