#!/usr/bin/env bash
# build-guest.sh OUTDIR: builds the tiny Linux test guest that QEMU boots (under TCG) for the vhost-user-blk
# integration tests: Debian's cloud kernel and an initramfs with busybox, the virtio modules and fio.
#
# Outputs, in OUTDIR:
#   vmlinuz      the kernel of the package that linux-image-cloud-amd64 depends on
#   initrd.img   a gzip-compressed newc cpio: busybox-static, the virtio(-blk, -pci) modules, fio with its
#                shared libraries, and /init (below)
#   guest.key    what the outputs were built from (kernel package and version, busybox, fio, this script's
#                hash); a later run with the same inputs does nothing
#   kernel-release  the kernel's release string (e.g. 6.1.0-50-cloud-amd64)
#
# The guest's /init mounts proc, sys and dev, loads the modules, then runs the script named by the kernel
# parameter isthmus.run= (default /isthmus/run.sh). A test passes its script in by appending a second cpio
# archive to initrd.img (Linux unpacks concatenated archives into one rootfs). When the script ends, /init
# prints "ISTHMUS-GUEST-EXIT=<status>" on the console and powers the machine off.
#
# Needs: apt-get (network access to Debian's mirror, or the .deb already in OUTDIR/cache), dpkg, busybox-static,
# fio, cpio, gzip, and xz/zstd only when the kernel's modules are compressed. Concurrent runs on one OUTDIR
# wait for each other (flock).
set -euo pipefail

die() { echo "build-guest: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: build-guest.sh OUTDIR"
OUT=$1
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SELF=$(readlink -f "${BASH_SOURCE[0]}")

# The modules virtio-blk over virtio-pci needs, in load order; their dependencies (from each module's
# depends= field) are added, and the guest retries in a loop until all are in, so the order is a hint only.
MODULES=(virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk)

for tool in apt-cache apt-get dpkg dpkg-query cpio gzip flock sha256sum ldd; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' \
    || die "busybox-static is not installed (bin/check installs it: apt-get install busybox-static)"
[ -x /usr/bin/fio ] || die "fio is not installed (bin/check installs it: apt-get install fio)"

exec 9>"$OUT/.lock"
flock 9

# kernel_package -> "NAME VERSION" of the linux-image-* package that linux-image-cloud-amd64 depends on. One
# apt-cache call (each costs ~1 s where apt keeps no package cache, as in Debian's container images): Debian's
# metapackage pins the exact version; when it does not, a second call asks for the candidate's version.
kernel_package() {
    apt-cache show --no-all-versions linux-image-cloud-amd64 2>/dev/null | sed -n 's/^Depends: //p' | head -n 1 \
        | tr ',' '\n' | sed -n 's/^ *\(linux-image-[0-9][^ ]*\)\( (= \([^)]*\))\)\{0,1\}.*$/\1 \3/p' | head -n 1
}
# resolve -> sets KPKG, KVER and KEY (what the outputs are built from); fails when apt knows no kernel.
resolve() {
    read -r KPKG KVER <<<"$(kernel_package)" || true
    [ -n "$KPKG" ] || return 1
    if [ -z "$KVER" ]; then
        KVER=$(apt-cache show --no-all-versions "$KPKG" | sed -n 's/^Version: //p' | head -n 1)
    fi
    [ -n "$KVER" ] || return 1
    KEY="kernel=$KPKG=$KVER busybox=$(dpkg-query -W -f='${Version}' busybox-static)"
    KEY="$KEY fio=$(dpkg-query -W -f='${Version}' fio) script=$(sha256sum "$SELF" | cut -c1-16)"
}
up_to_date() {
    [ -f "$OUT/guest.key" ] && [ "$(cat "$OUT/guest.key")" = "$KEY" ] && [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.img" ]
}
apt_update() {
    echo "build-guest: $1; running apt-get update" >&2
    apt-get update -q >&2 || true
}
if ! resolve; then
    [ "$(id -u)" -eq 0 ] && apt_update "apt knows no linux-image-cloud-amd64"
    resolve || die "apt knows no linux-image-cloud-amd64 (run apt-get update)"
fi
up_to_date && exit 0

# The kernel package, kept in OUT/cache so that a rebuild for another reason does not download it again.
# download -> sets DEB, or fails.
download() {
    DEB=$(find "$OUT/cache" -maxdepth 1 -name "${KPKG}_${KVER//:/%3a}_*.deb" -print -quit)
    [ -n "$DEB" ] && return 0
    find "$OUT/cache" -maxdepth 1 -name '*.deb' -delete
    # apt-get download writes into the current directory; as root its sandbox user (_apt) cannot write
    # there, which it only warns about.
    (cd "$OUT/cache" && apt-get download -q "$KPKG=$KVER" >&2) || return 1
    DEB=$(find "$OUT/cache" -maxdepth 1 -name "${KPKG}_*.deb" -print -quit)
    [ -n "$DEB" ]
}
mkdir -p "$OUT/cache"
if ! download; then
    # Stale apt lists name a version the mirror no longer has: refresh them and look again.
    if [ "$(id -u)" -eq 0 ]; then
        apt_update "apt-get download $KPKG=$KVER failed"
        resolve || die "apt knows no linux-image-cloud-amd64 after apt-get update"
        up_to_date && exit 0
    fi
    if ! download; then
        # Offline, with a guest that differs only in its kernel's version: use it rather than fail every
        # guest test.
        if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.img" ] && [ -f "$OUT/guest.key" ] \
                && [ "$(cut -d' ' -f2- "$OUT/guest.key")" = "${KEY#* }" ]; then
            echo "build-guest: apt-get download $KPKG=$KVER failed; keeping the guest built from: $(cat "$OUT/guest.key")" >&2
            exit 0
        fi
        die "apt-get download $KPKG=$KVER failed"
    fi
fi
echo "build-guest: building the test guest in $OUT ($KEY)" >&2

WORK=$(mktemp -d "$OUT/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

dpkg -x "$DEB" "$WORK/kernel"
VMLINUZ=$(find "$WORK/kernel/boot" -name 'vmlinuz-*' -print -quit)
[ -n "$VMLINUZ" ] || die "$DEB holds no /boot/vmlinuz-*"
KREL=${VMLINUZ##*/vmlinuz-}
MODDIR=$(find "$WORK/kernel" -maxdepth 3 -type d -path "*/modules/$KREL" -print -quit)
[ -n "$MODDIR" ] || die "$DEB holds no modules directory for $KREL"

ROOT=$WORK/root
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,mnt,isthmus,etc,lib/modules,lib64}
mkdir -p "$ROOT/lib/x86_64-linux-gnu"

# busybox and its applets.
BUSYBOX=$(dpkg -L busybox-static | grep -E '/s?bin/busybox$' | head -n 1)
[ -x "$BUSYBOX" ] || die "busybox-static's binary not found"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for applet in $("$ROOT/bin/busybox" --list); do
    [ "$applet" = busybox ] || [ -e "$ROOT/bin/$applet" ] || ln -s busybox "$ROOT/bin/$applet"
done

# The modules: find each (uncompressed, .xz or .zst), add what it depends on, decompress into /lib/modules.
# Modules built into this kernel (modules.builtin) need nothing.
module_file() {
    find "$MODDIR/kernel" \( -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" -o -name "$1.ko.gz" \
        -o -name "${1//_/-}.ko" -o -name "${1//_/-}.ko.xz" -o -name "${1//_/-}.ko.zst" \) -print -quit
}
decompressed() { # FILE -> the module's bytes on stdout
    case $1 in
        *.xz) command -v xz >/dev/null || die "xz is not installed (apt-get install xz-utils)"; xz -dc "$1" ;;
        *.zst) command -v zstd >/dev/null || die "zstd is not installed (apt-get install zstd)"; zstd -qdc "$1" ;;
        *.gz) gzip -dc "$1" ;;
        *) cat "$1" ;;
    esac
}
builtin_module() {
    [ -f "$MODDIR/modules.builtin" ] && grep -qE "/(${1}|${1//_/-})\.ko\$" "$MODDIR/modules.builtin"
}
queue=("${MODULES[@]}")
loaded=()
while [ ${#queue[@]} -gt 0 ]; do
    m=${queue[0]}
    queue=("${queue[@]:1}")
    case " ${loaded[*]} " in *" $m "*) continue ;; esac
    f=$(module_file "$m")
    if [ -z "$f" ]; then
        builtin_module "$m" && continue
        die "module $m not found for kernel $KREL"
    fi
    decompressed "$f" >"$ROOT/lib/modules/$m.ko"
    loaded+=("$m")
    deps=$(tr '\0' '\n' <"$ROOT/lib/modules/$m.ko" | sed -n 's/^depends=//p' | head -n 1)
    for d in ${deps//,/ }; do
        queue+=("${d//-/_}")
    done
done
# Load order: the list's own (right for this kernel), then any further dependencies found; the guest
# retries whatever fails until a round makes no progress, so the order need not be exact.
printf '%s\n' "${loaded[@]}" >"$ROOT/etc/isthmus-modules"

# fio and its shared libraries (flattened into /lib/x86_64-linux-gnu; /init sets LD_LIBRARY_PATH to it).
cp /usr/bin/fio "$ROOT/usr/bin/fio"
ldd /usr/bin/fio | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | while read -r lib; do
    case $lib in
        */ld-linux*) cp -L "$lib" "$ROOT/lib64/${lib##*/}" ;;
        *) cp -L "$lib" "$ROOT/lib/x86_64-linux-gnu/${lib##*/}" ;;
    esac
done
[ -n "$(ls "$ROOT/lib64")" ] || die "ldd showed no dynamic loader for fio"

cat >"$ROOT/init" <<'EOF'
#!/bin/sh
# The test guest's init (PID 1): mount, load the virtio modules, run the test's script, report, power off.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu
export HOME=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
exec </dev/console >/dev/console 2>&1

# No modules.dep here: insmod in rounds until every module is in or a round makes no progress.
pending=$(cat /etc/isthmus-modules)
while [ -n "$pending" ]; do
    left=
    for m in $pending; do
        insmod /lib/modules/$m.ko 2>/dev/null || left="$left $m"
    done
    if [ "$(echo $left)" = "$(echo $pending)" ]; then
        for m in $left; do insmod /lib/modules/$m.ko; done
        echo "isthmus-guest: could not load:$left"
        break
    fi
    pending=$left
done

run=/isthmus/run.sh
for arg in $(cat /proc/cmdline); do
    case $arg in isthmus.run=*) run=${arg#isthmus.run=} ;; esac
done
echo "isthmus-guest: up after $(cut -d' ' -f1 /proc/uptime) s; block devices: $(ls /sys/block | tr '\n' ' ')"
if [ -f "$run" ]; then
    sh "$run"
    rc=$?
else
    echo "isthmus-guest: no script at $run"
    rc=127
fi
sync
printf '\nISTHMUS-GUEST-EXIT=%d\n' "$rc"
poweroff -f
EOF
chmod 755 "$ROOT/init"

(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc -R 0:0 --quiet) | gzip -6 -n >"$WORK/initrd.img"
cp "$VMLINUZ" "$WORK/vmlinuz"
echo "$KREL" >"$WORK/kernel-release"
rm -f "$OUT/guest.key"
mv -f "$WORK/vmlinuz" "$OUT/vmlinuz"
mv -f "$WORK/initrd.img" "$OUT/initrd.img"
mv -f "$WORK/kernel-release" "$OUT/kernel-release"
echo "$KEY" >"$OUT/guest.key"
echo "build-guest: done: $OUT/vmlinuz ($KREL), $OUT/initrd.img ($(du -h "$OUT/initrd.img" | cut -f1))" >&2
