#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build (or find in the cache) the Debian 12 disk image of one guest init system for the booted-
# guest tier (tests/guest/README.md): a real Debian root filesystem made by mmdebstrap from
# Debian's packages, its own kernel and initramfs, as an ext4 image qemu boots with root=/dev/vda.
#
# Usage: tests/guest/mkrootfs.sh IMAGE     (IMAGE: openrc, openrc-suite or systemd)
# Prints the image's cache directory, which holds root.img (raw ext4, sparse), vmlinuz,
# vmlinux (the same kernel unpacked, for qemu's PVH entry, when it could be) and initrd.img.
#
# The images are cached in $CGM_VM_CACHE/guest/IMAGE-KEY, where KEY is a hash of this script
# (the package lists and every file baked in are written below): any change to it builds anew,
# and the older image of that init is removed. The downloaded .debs are kept in
# $CGM_VM_CACHE/guest/debs and shared by the images, so a second image or a rebuild downloads
# only what changed. Building needs root, mmdebstrap and e2fsprogs (installed with apt-get when
# missing) and deb.debian.org through apt; it takes about a minute per image.
#
# Both images: minbase (Essential + apt), no recommends, plus the kernel, openssh (server and
# client, for a real ssh login), adduser, procps, iproute2, the libraries cgm's packages need
# (so that installing them needs no network) and what the integration tests use (pamtester,
# socat, libnss-extrausers). Then:
#   openrc   sysvinit-core + openrc (Debian's OpenRC runs from inittab as /etc/init.d/rc), and
#            ifupdown, which brings up the loopback interface as on any Debian host; crun and
#            uidmap (newuidmap) for the rootless containers of check-containers.sh;
#   openrc-suite  the same, plus the package systemd for the integration suite's busctl
#            (test-sessions.sh); PID 1 stays sysvinit's init (no systemd-sysv, no
#            libpam-systemd), OpenRC the rc. The pure-v1 guest, which runs the suite, boots it;
#            openrc-v2 keeps a host with no systemd at all;
#   systemd  systemd, systemd-sysv, libpam-systemd, dbus (Debian's default).
# What the tier adds, nothing of cgm: an fstab for /dev/vda, a hostname, an initramfs limited to
# the virtio disk (MODULES=list: a third of the size of MODULES=most, which the guest unpacks on
# every boot under emulation), and the boot hook: /usr/local/sbin/cgm-guest-hook, run once the
# boot is done (from inittab after `rc 2`; by cgm-guest.service after multi-user.target). The
# hook mounts the harness's data disk (/dev/vdb), runs its entry.sh, reports on the second serial
# port (GUEST-EXIT=N and a tar.gz of the results) and then reboots or powers off as the data disk
# says.
set -euo pipefail

CACHE=${CGM_VM_CACHE:-/var/cache/cgm-vm}
GCACHE=$CACHE/guest
SUITE=bookworm
MIRRORS=("deb http://deb.debian.org/debian $SUITE main"
	"deb http://deb.debian.org/debian $SUITE-updates main"
	"deb http://deb.debian.org/debian-security $SUITE-security main")
die() { echo "cgm-guest: $*" >&2; exit 2; }
note() { echo "cgm-guest: $*" >&2; }

[ $# = 1 ] || die "usage: $0 openrc|openrc-suite|systemd"
IMAGE=$1
BASE_PKGS="linux-image-amd64 openssh-server openssh-client adduser passwd procps iproute2 kmod
libpam-modules libpam-runtime libdbus-1-3 libcap2 pamtester socat libnss-extrausers"
case $IMAGE in
# python3: check-events.sh reads `cgm top --json` with its json module
openrc) PKGS="$BASE_PKGS sysvinit-core openrc ifupdown crun uidmap python3" ;;
openrc-suite) PKGS="$BASE_PKGS sysvinit-core openrc ifupdown systemd" ;;
systemd) PKGS="$BASE_PKGS systemd systemd-sysv libpam-systemd dbus" ;;
*) die "unknown image $IMAGE (openrc, openrc-suite or systemd)" ;;
esac
[ "$(id -u)" = 0 ] || die "building a guest image needs root"

KEY=$(sha256sum "$0" | cut -c1-12)
DIR=$GCACHE/$IMAGE-$KEY
if [ -e "$DIR/.ready" ]; then echo "$DIR"; exit 0; fi

need_pkgs=()
command -v mmdebstrap >/dev/null || need_pkgs+=(mmdebstrap)
command -v mkfs.ext4 >/dev/null || need_pkgs+=(e2fsprogs)
if [ ${#need_pkgs[@]} != 0 ]; then
	note "installing ${need_pkgs[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2 ||
		{ apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2; } ||
		die "cannot install ${need_pkgs[*]}"
fi

mkdir -p "$GCACHE/debs"
exec 8>"$GCACHE/.lock"
flock -w 1200 8 || die "the guest image cache $GCACHE stays locked"
if [ -e "$DIR/.ready" ]; then echo "$DIR"; exit 0; fi # built while we waited
rm -rf "$DIR" "$DIR.tmp"
mkdir -p "$DIR.tmp"
T=$DIR.tmp
t0=$(date +%s)
note "building the $IMAGE image (mmdebstrap $SUITE, minbase); log in $DIR/build.log"

# ---- files the tier bakes in (the hook and the boot configuration) --------------------------
mkdir -p "$T/files"
cat >"$T/files/cgm-guest-hook" <<'EOF'
#!/bin/sh
# cgm's booted-guest tier (tests/guest/README.md): run once the boot is done. Mounts the
# harness's data disk, runs its entry.sh with an output directory, then reports on the second
# serial port: the line GUEST-EXIT=N and a tar.gz of the output directory. Nothing else writes
# to that port. Then does what the data disk's `action` file says (reboot or poweroff).
exec </dev/null >/dev/console 2>&1
d=/run/cgm-guest
mkdir -p $d/data $d/out
if ! mount -o ro /dev/vdb $d/data; then
	echo "cgm-guest-hook: no data disk on /dev/vdb"
	exit 0
fi
# systemd: the boot is done once no job is left (the hook is Type=idle, not one of them)
[ -d /run/systemd/system ] && timeout 300 systemctl is-system-running --wait >/dev/null
echo "cgm-guest-hook: boot done after $(cut -d' ' -f1 /proc/uptime)s, running entry.sh"
bash $d/data/entry.sh $d/out
rc=$?
echo "cgm-guest-hook: entry.sh exit status $rc after $(cut -d' ' -f1 /proc/uptime)s"
# Raw mode keeps the tty 8-bit clean for the archive; closing it waits until all is sent.
exec 3<>/dev/ttyS1
stty raw -echo <&3
echo "GUEST-EXIT=$rc" >&3
tar -C $d/out -cf - . | gzip -1 -f >&3
exec 3>&-
action=$(cat $d/data/action 2>/dev/null || echo poweroff)
umount $d/data
case $action in
reboot) reboot ;;
none) ;;
*) poweroff ;;
esac
EOF
cat >"$T/files/cgm-guest.service" <<'EOF'
[Unit]
Description=cgm booted-guest tier hook (tests/guest)
After=multi-user.target
ConditionPathExists=/dev/vdb

[Service]
# idle, not oneshot: the boot is finished (is-system-running) while the hook runs
Type=idle
ExecStart=/usr/local/sbin/cgm-guest-hook
TimeoutStartSec=infinity
StandardOutput=tty
TTYPath=/dev/console

[Install]
WantedBy=multi-user.target
EOF
printf '%s\n' virtio_pci virtio_blk ext4 crc32c_generic virtio_rng >"$T/files/initramfs-modules"

# ---- mmdebstrap -------------------------------------------------------------------------------
hooks=(
	# before any package: the initramfs configuration, so that the kernel's postinst builds
	# the small initramfs once
	--setup-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d" "$1/var/cache/apt/archives"'
	--setup-hook="echo MODULES=list >\"\$1/etc/initramfs-tools/conf.d/cgm-guest\""
	--setup-hook="cp '$T/files/initramfs-modules' \"\$1/usr/share/initramfs-tools/modules.d/cgm-guest\""
	--setup-hook="sync-in '$GCACHE/debs' /var/cache/apt/archives/"
	--customize-hook="sync-out /var/cache/apt/archives '$GCACHE/debs'"
	--customize-hook='echo cgm-guest >"$1/etc/hostname"; printf "127.0.0.1\tlocalhost\n127.0.1.1\tcgm-guest\n::1\tlocalhost ip6-localhost ip6-loopback\n" >"$1/etc/hosts"'
	--customize-hook='printf "/dev/vda\t/\text4\tdefaults\t0\t0\n" >"$1/etc/fstab"'
	--customize-hook="install -m 755 '$T/files/cgm-guest-hook' \"\$1/usr/local/sbin/cgm-guest-hook\""
)
case $IMAGE in
openrc*)
	# after `l2:2:wait:/etc/init.d/rc 2`: init starts it once the default runlevel is up
	hooks+=(--customize-hook='printf "\n# cgm booted-guest tier (tests/guest)\ncg:2345:once:/usr/local/sbin/cgm-guest-hook\n" >>"$1/etc/inittab"') ;;
systemd)
	hooks+=(--customize-hook="install -m 644 '$T/files/cgm-guest.service' \"\$1/etc/systemd/system/cgm-guest.service\""
		--customize-hook='chroot "$1" systemctl enable cgm-guest.service') ;;
esac

# shellcheck disable=SC2086
if ! mmdebstrap --variant=minbase --mode=root --format=directory \
	--include="$(echo $PKGS | tr ' ' ,)" \
	--aptopt='APT::Install-Recommends "false"' \
	"${hooks[@]}" "$SUITE" "$T/root" "${MIRRORS[@]}" >"$T/build.log" 2>&1; then
	tail -n 30 "$T/build.log" >&2
	die "mmdebstrap failed for $IMAGE (log: $T/build.log)"
fi
t1=$(date +%s)

# ---- kernel, initramfs, disk image ------------------------------------------------------------
cp "$T"/root/boot/vmlinuz-* "$T/vmlinuz"
cp "$T"/root/boot/initrd.img-* "$T/initrd.img"
# Debian's bzImage holds an xz-compressed kernel: unpacked once, qemu boots the ELF through its
# PVH entry and the guest skips the decompression (as tests/vm/run-vm.sh does).
if grep -q '^CONFIG_PVH=y' "$T"/root/boot/config-*; then
	off=$(LC_ALL=C grep -abo $'\xfd7zXZ' "$T/vmlinuz" | head -n1 | cut -d: -f1 || true)
	[ -n "$off" ] && tail -c +$((off + 1)) "$T/vmlinuz" | xz -dc 2>/dev/null >"$T/vmlinux" || true
	[ "$(head -c4 "$T/vmlinux" 2>/dev/null)" = $'\x7fELF' ] || rm -f "$T/vmlinux"
fi
# 3 GiB, sparse: about 700 MB used, the rest for the guest's logs and the .debs it installs.
mkfs.ext4 -q -F -L cgm-root -d "$T/root" "$T/root.img" 3G >>"$T/build.log" 2>&1 ||
	die "mkfs.ext4 -d failed (log: $T/build.log)"
rm -rf "$T/root" "$T/files"
t2=$(date +%s)
echo "mmdebstrap $((t1 - t0)) s, image $((t2 - t1)) s" >"$T/build-time"
# the older images of this name (openrc-KEY is not openrc-suite-KEY), and unfinished builds
for old in "$GCACHE/$IMAGE"-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]{,.tmp}; do
	[ "$old" = "$T" ] || rm -rf "$old"
done
mv "$T" "$DIR"
touch "$DIR/.ready"
note "the $IMAGE image is ready in $((t2 - t0)) s ($(cat "$DIR/build-time"))"
echo "$DIR"
