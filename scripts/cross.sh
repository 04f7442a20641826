# Cross-building JamPasir for the counter (sourced by make-deb.sh, test-deb.sh and test-arm64.sh).
#
# One Swift toolchain for the foreign builds: Debian's own `swiftlang` (pinned below), in a
# throw-away amd64 chroot (its compiler needs a newer glibc than Debian 12's), compiling against
# a sysroot of the target release's own packages (`dpkg-deb -x`, nothing executed) plus the
# target-architecture Swift runtime from the same swiftlang version, described by a Swift SDK
# bundle. Everything downloaded or unpacked is cached in $JAMPASIR_CACHE and reused when the
# pinned versions have not changed; a cold run needs ~1.5 GB of downloads and ~6 GB of disk.
#
#   cross_toolchain                  the chroot (amd64, sid, swiftlang $SWIFTLANG_VERSION)
#   cross_sdk RELEASE ARCH           the sysroot and SDK bundle; prints the bundle folder
#   cross_swift RELEASE ARCH ARGS…   `swift ARGS…` in the chroot against that SDK, in this checkout
#   cross_sysroot RELEASE ARCH       the sysroot folder (for qemu-user's -L)

SWIFTLANG_VERSION=${SWIFTLANG_VERSION:-6.2.3-1+b1}
JAMPASIR_CACHE=${JAMPASIR_CACHE:-/var/cache/jampasir-build}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cross_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

cross_say() { echo "cross: $*" >&2; }

# The host's tools, and qemu-user registered with binfmt_misc (scripts/deps.table, "cross"):
# installed and checked once per run (JAMPASIR_CROSS_CHECKED, passed on to the scripts it starts).
cross_host_tools() {
    [ -n "${JAMPASIR_CROSS_CHECKED:-}" ] && return 0
    "$cross_root/scripts/install-deps.sh" cross
    export JAMPASIR_CROSS_CHECKED=1
}

# The chroot holding the compiler. Recreated when the pinned version changes.
cross_toolchain() {
    local chroot=$JAMPASIR_CACHE/toolchain
    if [ "$(cat "$chroot/.jampasir-swiftlang" 2>/dev/null)" = "$SWIFTLANG_VERSION" ]; then return 0; fi
    cross_host_tools
    cross_unmount "$chroot"
    rm -rf "$chroot" "$chroot.tmp"
    mkdir -p "$JAMPASIR_CACHE"
    cross_say "making the toolchain chroot (Debian sid, swiftlang $SWIFTLANG_VERSION; ~1 GB download)"
    mmdebstrap --quiet --variant=minbase --aptopt='Acquire::Check-Valid-Until "false"' \
        --include="swiftlang=$SWIFTLANG_VERSION,libc6-dev,g++,git,ca-certificates" \
        sid "$chroot.tmp" "$DEBIAN_MIRROR" \
        || { cross_say "cannot install swiftlang $SWIFTLANG_VERSION from sid: if sid has moved on, set SWIFTLANG_VERSION to the version it has (apt-cache policy swiftlang in a sid chroot) and check that the build still passes"; return 1; }
    # SwiftPM fetches https://github.com/… from the machine's package mirrors when the host has them.
    if [ -d /opt/swift-packages ]; then
        printf '[url "/opt/swift-packages/"]\n\tinsteadOf = https://github.com/\n' > "$chroot.tmp/etc/gitconfig"
    fi
    echo "$SWIFTLANG_VERSION" > "$chroot.tmp/.jampasir-swiftlang"
    mv "$chroot.tmp" "$chroot"
}

# The target packages a build links against. libgpiod's soname differs between releases.
cross_target_packages() { # release
    local gcc=14 gpiod=libgpiod3
    [ "$1" = bookworm ] && { gcc=12; gpiod=libgpiod2; }
    echo "libc6 libc6-dev linux-libc-dev libcrypt1 libcrypt-dev libgcc-s1 libgcc-$gcc-dev libstdc++6 libstdc++-$gcc-dev \
libgpiod-dev $gpiod libudev-dev libudev1 libcap2 libsqlite3-dev libsqlite3-0 zlib1g zlib1g-dev"
}

cross_sysroot() { echo "$JAMPASIR_CACHE/sdks/jampasir-$1-$2.artifactbundle/sysroot"; }

# Downloads packages of a release and architecture (and sid's, named pkg=version) into DEST,
# with apt's own verification, without touching this machine's apt state.
cross_download() { # release arch dest packages…
    local release=$1 arch=$2 dest=$3; shift 3
    local state; state=$(mktemp -d)
    mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
    printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\ndeb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s sid main\n' \
        "$DEBIAN_MIRROR" "$release" "$DEBIAN_MIRROR" > "$state/sources.list"
    local apt=(-o Dir::Etc::SourceList="$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache" -o Dir::State::Status=/dev/null
        -o APT::Architecture="$arch" -o APT::Architectures::="$arch" -o Acquire::Check-Valid-Until=false
        -o APT::Default-Release="$release" -o APT::Sandbox::User=root)
    local status=0
    apt-get "${apt[@]}" update -qq && (cd "$dest" && apt-get "${apt[@]}" download -qq "$@") || status=$?
    rm -rf "$state"
    return $status
}

# Downloads the target's packages and the target-architecture Swift runtime into a sysroot and
# writes the SDK bundle around it.
cross_sdk() { # release arch
    local release=$1 arch=$2 bundle=$JAMPASIR_CACHE/sdks/jampasir-$1-$2.artifactbundle
    local stamp="$SWIFTLANG_VERSION $(cross_target_packages "$release")"
    if [ "$(cat "$bundle/.jampasir-sdk" 2>/dev/null)" = "$stamp" ]; then echo "$bundle"; return 0; fi
    cross_host_tools
    local triple
    case $arch in
        arm64) triple=aarch64-unknown-linux-gnu ;;
        amd64) triple=x86_64-unknown-linux-gnu ;;
        *) cross_say "unknown architecture $arch (arm64 or amd64)"; return 1 ;;
    esac
    cross_say "making the $release $arch sysroot (target packages + the $arch Swift runtime $SWIFTLANG_VERSION)"
    rm -rf "$bundle" && mkdir -p "$bundle/debs" "$bundle/sysroot"
    local packages=() p
    for p in $(cross_target_packages "$release"); do packages+=("$p/$release"); done
    cross_download "$release" "$arch" "$bundle/debs" "${packages[@]}" \
        "libswiftlang=$SWIFTLANG_VERSION" "swiftlang=$SWIFTLANG_VERSION"
    local deb
    mkdir -p "$bundle/sysroot/.packages"
    for deb in "$bundle"/debs/*.deb; do
        case $(basename "$deb") in
            swiftlang_*) # only the target side of the compiler package: runtime modules and clang's resources
                dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$bundle/sysroot" \
                    ./usr/libexec/swift/lib/swift ./usr/libexec/swift/lib/swift_static ./usr/libexec/swift/lib/clang ;;
            *) dpkg-deb -x "$deb" "$bundle/sysroot"
               # which package ships which file: the package's Depends are computed from it
               dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\.||' \
                   > "$bundle/sysroot/.packages/$(dpkg-deb -f "$deb" Package).list" ;;
        esac
    done
    # merged /usr, as on the installed system (linker scripts and the dynamic loader name /lib);
    # the driver looks for swiftrt.o under usr/lib/swift whatever the resource path says.
    for p in lib bin sbin; do [ -e "$bundle/sysroot/$p" ] || ln -s "usr/$p" "$bundle/sysroot/$p"; done
    for p in swift swift_static; do ln -sfn "../libexec/swift/lib/$p" "$bundle/sysroot/usr/lib/$p"; done
    # Debian's swiftlang lacks lib_Testing_Foundation.so; an empty archive lets test bundles link.
    local runtime=$bundle/sysroot/usr/libexec/swift/lib/swift/linux
    [ -e "$runtime/lib_Testing_Foundation.so" ] || printf '!<arch>\n' > "$runtime/lib_Testing_Foundation.a"
    rm -rf "$bundle/debs"
    cat > "$bundle/info.json" <<JSON
{ "schemaVersion": "1.0",
  "artifacts": { "jampasir-$release-$arch": { "type": "swiftSDK", "version": "$SWIFTLANG_VERSION", "variants": [ { "path": "." } ] } } }
JSON
    cat > "$bundle/swift-sdk.json" <<JSON
{ "schemaVersion": "4.0",
  "targetTriples": { "$triple": {
    "sdkRootPath": "sysroot",
    "swiftResourcesPath": "sysroot/usr/libexec/swift/lib/swift",
    "swiftStaticResourcesPath": "sysroot/usr/libexec/swift/lib/swift_static",
    "toolsetPaths": ["toolset.json"] } } }
JSON
    cat > "$bundle/toolset.json" <<JSON
{ "schemaVersion": "1.0",
  "swiftCompiler": { "extraCLIOptions": ["-use-ld=lld"] },
  "cxxCompiler": { "extraCLIOptions": ["-lstdc++"] } }
JSON
    echo "$stamp" > "$bundle/.jampasir-sdk"
    echo "$bundle"
}

cross_unmount() { # chroot: everything mounted below it, deepest first
    local chroot=$1 mp
    [ -d "$chroot" ] || return 0
    for mp in $(awk -v c="$chroot/" 'index($5, c) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
        umount -l "$mp" 2>/dev/null || true
    done
}

# Runs `swift ARGS…` in the chroot, in this checkout (bind-mounted at the same path, so #filePath
# and the build folder's paths mean the same inside and out), against the release's SDK.
cross_swift() { # release arch args…
    local release=$1 arch=$2; shift 2
    cross_toolchain
    local bundle; bundle=$(cross_sdk "$release" "$arch")
    local chroot=$JAMPASIR_CACHE/toolchain dir
    cross_unmount "$chroot"
    mount -t proc proc "$chroot/proc"
    mount --rbind /dev "$chroot/dev" && mount --make-rslave "$chroot/dev"
    for dir in "$cross_root" "$JAMPASIR_CACHE/sdks" /opt/swift-packages; do
        [ -d "$dir" ] || continue
        mkdir -p "$chroot$dir" && mount --bind "$dir" "$chroot$dir"
    done
    local status=0
    chroot "$chroot" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
        sh -c 'cd "$0" && exec swift "$@"' "$cross_root" "$@" \
        --swift-sdks-path "$(dirname "$bundle")" --swift-sdk "jampasir-$release-$arch" || status=$?
    cross_unmount "$chroot"
    return $status
}
