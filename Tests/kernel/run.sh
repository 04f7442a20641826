#!/usr/bin/env bash
# The real-kernel GPIO suite (`make test-kernel`).
#
# Boots Debian's own kernel under QEMU (TCG: no KVM needed) with the kernel's gpio-sim module
# built out of tree, and runs the real jampasird (static Swift runtime, real libgpiod) against
# simulated GPIO lines: button presses are made by switching a line's simulated pull, and the
# buzzer/LED lines are read back. The store the daemon wrote is copied out and read with the
# host's jampasir CLI. Runs once per libgpiod flavour: v1 (Debian 12) and v2 (Debian 13's 2.x);
# KERNEL_FLAVOURS=v1 runs only the first (CI: v2 is the counter's own, run by make test-counter).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work=$root/.build-kernel
mkdir -p "$work"
export DEBIAN_FRONTEND=noninteractive
say() { echo "kernel-test: $*" >&2; }

# --- host tools -------------------------------------------------------------------------
scripts/install-deps.sh build kernel
apt-get update -qq   # the kernel below is whatever the mirror points at today

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

# --- USB: the kernel's USB storage and FAT modules (with their dependencies, in load order),
# and udevd from Debian's udev package (matching the installed systemd), for the hot-plug test --
usb=$kdir/usb
if [ ! -f "$usb/order" ] || ! grep -q dm-flakey "$usb/order"; then
    say "collecting USB storage modules and udevd"
    rm -rf "$usb" && mkdir -p "$usb/debs" "$usb/modules"
    (cd "$usb/debs" && apt-get download -qq "$kpkg" udev 2>/dev/null)
    dpkg-deb -x "$usb"/debs/linux-image-*.deb "$usb/image"
    depmod -b "$usb/image" "$kver"
    # + device-mapper's flakey target, loop and ext4 for the power-cut test.
    for module in xhci_pci usb_storage sd_mod vfat nls_cp437 nls_ascii dm_flakey loop ext4; do
        modprobe -d "$usb/image" -S "$kver" --show-depends "$module" | awk '{ print $2 }'
    done | awk '!seen[$0]++' | while read -r ko; do
        cp "$ko" "$usb/modules/" && basename "$ko"
    done > "$usb/order.tmp"
    dpkg-deb -x "$usb"/debs/udev_*.deb "$usb/udev"
    rm -rf "$usb/image" "$usb/debs"
    mv "$usb/order.tmp" "$usb/order"
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
swift build --product jampasird >/dev/null
cli=$root/.build/debug/jampasir

# --- USB stick images and the store the USB test exports ---------------------------------
# Two partitioned FAT sticks: "auth" carries a key the counter is configured with, "other" a
# foreign one. A store of 50,000 sessions makes the export long enough to pull the stick mid-way.
images=$work/usb-images
rm -rf "$images" && mkdir -p "$images"
make_stick() { # name, key
    local img=$images/$1.img
    truncate -s 64M "$img"
    echo 'start=2048, type=c' | sfdisk -q "$img"
    mkfs.fat -F 32 --offset 2048 -n "${1^^}" "$img" $((62 * 1024)) >/dev/null
    printf '%s\n' "$2" > "$images/$1.key"
    mmd -i "$img@@1M" ::JAMPASIR
    mcopy -i "$img@@1M" "$images/$1.key" ::JAMPASIR/export.key
}
auth_key=$(head -c 32 /dev/urandom | base64 | tr -d '=+/')
make_stick auth "$auth_key"
make_stick other "$(head -c 32 /dev/urandom | base64 | tr -d '=+/')"
echo "sha256:$(printf '%s' "$auth_key" | sha256sum | cut -d' ' -f1)" > "$images/authorized"
# A crafted ext4 stick from the waiting room (issue 13, finding 2): its superblock asks the
# kernel to panic on any error, and the JAMPASIR folder's inode is corrupt (no extent magic), so
# the first lookup of JAMPASIR/ meets an ext4 error. It carries the authorised key's text too.
crafted_fs=$images/crafted.fs
truncate -s 16M "$crafted_fs"
mkfs.ext4 -q -F -L CRAFTED "$crafted_fs"
debugfs -w -R "mkdir JAMPASIR" "$crafted_fs" >/dev/null 2>&1
debugfs -w -R "write $images/auth.key JAMPASIR/export.key" "$crafted_fs" >/dev/null 2>&1
debugfs -w -R "set_inode_field JAMPASIR block[0] 0" "$crafted_fs" >/dev/null 2>&1
tune2fs -e panic "$crafted_fs" >/dev/null
[ "$(dumpe2fs -h "$crafted_fs" 2>/dev/null | sed -n 's/^Errors behavior: *//p')" = Panic ]
truncate -s 17M "$images/crafted.img"
echo 'start=2048, type=83' | sfdisk -q "$images/crafted.img"
dd if="$crafted_fs" of="$images/crafted.img" bs=1M seek=1 conv=notrunc status=none
rm "$crafted_fs"
printf '[counter]\nid = "vm"\n[store]\npath = "%s/usb-store.sqlite"\n' "$images" > "$images/seed.toml"
"$root/.build/debug/jampasird" --simulate --config "$images/seed.toml" < /dev/null > /dev/null 2>&1
python3 "$root/scripts/demo-store.py" "$images/usb-store.sqlite" --sessions 50000 --counter vm --chain >&2
sqlite3_checkpoint() { python3 -c 'import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA wal_checkpoint(TRUNCATE)")' "$1"; }
sqlite3_checkpoint "$images/usb-store.sqlite"

busybox=$(command -v busybox)
gpioset=$(command -v gpioset)
total_failed=0
total_passed=0

copy_libraries() { # initramfs, binaries...: their shared libraries at their host paths
    local initrd=$1; shift
    for binary in "$@"; do
        LD_LIBRARY_PATH=${LIB_PATH:-} ldd "$binary" | grep -o '/[^ ]*' | while read -r lib; do
            mkdir -p "$initrd$(dirname "$lib")"
            cp -L "$lib" "$initrd$lib"
        done
    done
}

add_usb() { # initramfs: modules, udevd and rules, the mount helper, users, store, stick key
    local initrd=$1
    mkdir -p "$initrd/usb" "$initrd/lib/systemd" "$initrd/lib/udev" "$initrd/etc" "$initrd/run"
    cp "$usb"/modules/*.ko "$usb/order" "$initrd/usb/"
    cp "$usb/udev/bin/udevadm" "$initrd/bin/udevadm"
    ln -sf /bin/udevadm "$initrd/lib/systemd/systemd-udevd"
    cp -r "$usb/udev/lib/udev/rules.d" "$initrd/lib/udev/"
    for helper in ata_id scsi_id; do cp "$usb/udev/lib/udev/$helper" "$initrd/lib/udev/"; done
    strip -o "$initrd/bin/jampasir-mountd" "$scratch/release/jampasir-mountd"
    copy_libraries "$initrd" "$initrd/bin/udevadm" "$initrd/bin/jampasir-mountd"
    printf 'root:x:0:0:root:/:/bin/sh\njampasir:x:999:999:JamPasir:/:/bin/sh\n' > "$initrd/etc/passwd"
    printf 'root:x:0:\njampasir:x:999:\n' > "$initrd/etc/group"
    cp "$images/usb-store.sqlite" "$initrd/usb/store.sqlite"
    cp "$images/device.key" "$initrd/usb/device.key"   # a store with history needs its key
    cp "$images/authorized" "$initrd/usb/authorized"
    touch "$initrd/USB"
    # Power cut below the process: an ext4 image on loop + dm-flakey, dmsetup to switch it.
    mkdir -p "$initrd/powercut"
    truncate -s 32M "$initrd/powercut/disk.img"
    mkfs.ext4 -q -F "$initrd/powercut/disk.img"
    cp "$(command -v dmsetup)" "$initrd/bin/dmsetup"
    copy_libraries "$initrd" "$initrd/bin/dmsetup"
    echo "${POWERCUT_ROUNDS:-4}" > "$initrd/POWERCUT"
}

run_flavour() { # name, extra swift build flags...
    local flavour=$1; shift
    local scratch=$root/.build-static-$flavour
    say "building jampasird ($flavour, static Swift runtime)"
    swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product jampasird "$@" >/dev/null
    [ "${USB:-0}" = 0 ] || swift build -c release --static-swift-stdlib --scratch-path "$scratch" \
        --product jampasir-mountd "$@" >/dev/null
    local daemon=$scratch/release/jampasird
    local initrd=$work/initramfs-$flavour
    rm -rf "$initrd" && mkdir -p "$initrd"/{bin,dev,proc,sys,tmp,lib/modules}
    cp "$busybox" "$initrd/bin/busybox"
    cp "$root/Tests/kernel/guest-init.sh" "$initrd/init"
    cp "$kdir/configfs.ko" "$kdir/gpio-sim.ko" "$initrd/lib/modules/"
    strip -o "$initrd/bin/jampasird" "$daemon"
    cp "$gpioset" "$initrd/bin/gpioset"
    # The few shared libraries (glibc, libgpiod, libudev, sqlite…) at their host paths.
    copy_libraries "$initrd" "$initrd/bin/jampasird" "$initrd/bin/gpioset"
    [ -z "${LIB_PATH:-}" ] || { mkdir -p "$initrd/usr/local/lib"; cp -L "$LIB_PATH"/libgpiod.so.3 "$initrd/usr/local/lib/"; echo "LD_LIBRARY_PATH=/usr/local/lib" > "$initrd/ENV"; }
    if [ "${USB:-0}" = 1 ]; then add_usb "$initrd"; fi
    echo "$flavour" > "$initrd/VERSION"
    (cd "$initrd" && find . | cpio -o -H newc --quiet) > "$work/initramfs-$flavour.cpio"

    say "booting $kver ($flavour)"
    local console=$work/console-$flavour.log
    local started=$SECONDS
    local monitor=$work/monitor-$flavour.sock usb_args=() hotplug=
    rm -f "$monitor" "$console"
    touch "$console"
    if [ "${USB:-0}" = 1 ]; then
        usb_args=(-device qemu-xhci,id=xhci -monitor "unix:$monitor,server,nowait")
        python3 "$root/Tests/kernel/hotplug.py" "$console" "$monitor" "$images" &
        hotplug=$!
    fi
    timeout 900 qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -nographic -no-reboot "${usb_args[@]}" \
        -kernel "$kdir/vmlinuz" -initrd "$work/initramfs-$flavour.cpio" \
        -append "console=ttyS0 panic=-1 quiet rdinit=/init usb_storage.delay_use=0" > "$console" 2>&1 || true
    [ -z "$hotplug" ] || kill "$hotplug" 2>/dev/null || true
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
    if [ "${USB:-0}" = 1 ]; then
        local result
        result=$(check_sticks "$flavour"; check_powercut "$flavour" "$console.txt")
        echo "$result"
        passed=$((passed + $(grep -c "^\[$flavour\] ok" <<<"$result" || true)))
        failed=$((failed + $(grep -c "^\[$flavour\] not ok" <<<"$result" || true)))
    fi
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
}

# After the VM: what is on the stick images, read from the host (mtools), checked with the CLI.
check_sticks() { # flavour
    local out=$work/sticks-$1
    rm -rf "$out" && mkdir -p "$out/auth" "$out/other"
    mcopy -s -n -i "$images/auth.img@@1M" ::JAMPASIR "$out/auth/" 2>/dev/null || true
    mcopy -s -n -i "$images/other.img@@1M" ::JAMPASIR "$out/other/" 2>/dev/null || true
    tap() { if eval "$2"; then echo "[$1] ok - $3"; else echo "[$1] not ok - $3"; fi; }
    tap "$1" '[ "$(cd "$out/other/JAMPASIR" && find . -type f)" = "./export.key" ]' \
        "host: the unauthorised stick holds only its key file"
    local complete
    complete=$(find "$out/auth/JAMPASIR" -name manifest.json -printf '%h\n')
    tap "$1" '[ "$(wc -l <<<"$complete")" = 1 ] && [ -n "$complete" ]' \
        "host: exactly one complete export on the authorised stick"
    # Exit status 2: intact, but signed by a key the host was not told to trust (the VM's own).
    tap "$1" '"$cli" verify "$complete" >/dev/null; [ $? = 2 ]' "host: jampasir verify finds it intact"
    tap "$1" 'python3 -c "import json,sys; sys.exit(json.load(open(sys.argv[1]))[\"sessions\"][\"count\"] < 50000)" "$complete/manifest.json"' \
        "host: it holds the whole store (50,000 sessions and more)"
    # The export pulled out mid-way: nothing that looks complete (only hidden temporary names).
    tap "$1" '[ -z "$(find "$out/auth/JAMPASIR/vm" -mindepth 2 -type f -not -path "*/.*" ! -path "$complete/*")" ]' \
        "host: the pulled-out export left no complete-looking file"
}

# After the VM: the store that lived through the power cuts, read on the host.
check_powercut() { # flavour, console
    local out=$work/powercut-$1
    rm -rf "$out" && mkdir -p "$out"
    sed -n '/^=== POWERCUT BEGIN/,/^=== POWERCUT END/p' "$2" | sed '1d;$d' | base64 -d | tar -x -C "$out" 2>/dev/null \
        || { echo "[$1] not ok - host: no power-cut store came out of the VM"; return; }
    python3 "$root/Tests/kernel/check_powercut.py" "$cli" "$out" | sed "s/^/[$1] /"
}

flavours=${KERNEL_FLAVOURS:-v1 v2}
[[ " $flavours " != *" v1 "* ]] || USB=1 run_flavour v1
[[ " $flavours " != *" v2 "* ]] || LIB_PATH=$v2/root/usr/lib/x86_64-linux-gnu run_flavour v2 \
    -Xcc -I"$v2/root/usr/include" -Xlinker -L"$v2/root/usr/lib/x86_64-linux-gnu"

echo "kernel: $total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
