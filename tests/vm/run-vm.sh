#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The pure cgroup v2 tier: boot a Debian kernel with only cgroup v2 under qemu and run the
# integration suite (tests/integration/test-*.sh) against a real cgmd inside it.
#
# The development machines are hybrid (v1 controllers, a cgroup2 hierarchy with none), so the
# v2 controllers can only be tested in a VM. There is no /dev/kvm, so qemu emulates (TCG);
# everything below is shaped by what that costs (tests/vm/README.md has the numbers):
#   - the kernel is a Debian linux-image .deb, fetched with `apt-get download` and unpacked,
#     never installed; its xz-compressed bzImage is unpacked once into a plain ELF vmlinux and
#     booted through qemu's PVH entry point, which saves ~3 s of decompression per boot;
#   - the root filesystem is an initramfs: Debian's dynamic busybox, the GNU tools and
#     util-linux/socat binaries the tests use, the cgm build, and the shared libraries of every
#     ELF in it (ldd), copied from the host to the same paths (both are Debian 12, usrmerged);
#   - `norandmaps`: under TCG every exec at fresh random addresses re-translates ld.so and libc
#     (30 ms instead of 6 ms per exec, and the tests exec a lot).
# The guest's PID 1 (/init, written below) runs tests/vm/guest-suite.sh as a child and reports
# its exit status as the line GUEST-EXIT=N on a second serial port, followed by a tar.gz of the
# guest's /out (the TAP files). Nothing else writes to that port, so a test that prints
# GUEST-EXIT=0 and then crashes the kernel cannot fake a pass; a guest that dies or hangs never
# writes it. The host counts the TAP files itself and ends with "N passed, N failed".
#
# Usage: tests/vm/run-vm.sh [-b BUILDDIR] [-o OUTDIR] [-t SECONDS] [-q] [TEST...]
#   -b BUILDDIR  the configured build tree holding cgmd, cgm, tests/integration/forker
#                (default: the current directory if it has cgmd, else the source tree)
#   -o OUTDIR    keep the guest's TAP files, per-test stderr and the console log there
#   -t SECONDS   wall-clock limit for the whole VM (default 300, $CGM_VM_TIMEOUT)
#   -q           do not stream the guest console (it is still kept and shown on failure)
#   TEST         names of tests/integration scripts to run (default: every test-*.sh)
# Environment: CGM_VM_CACHE (default /var/cache/cgm-vm: kernel, busybox, packages),
#   CGM_VM_KERNEL (kernel package; default what linux-image-amd64 depends on, resolved once and
#   pinned in the cache; CGM_VM_REFRESH=1 resolves again), CGM_VM_MEM (MiB, default 1024),
#   CGM_VM_QEMU_ARGS (extra qemu arguments, e.g. "-cpu max" for -march=native builds).
# Exit status: 0 when every test point passed; 1 when one failed or the guest crashed, hung
#   or timed out; 2 when the harness itself could not run (usage, missing build, apt).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${CGM_VM_CACHE:-/var/cache/cgm-vm}
TIMEOUT=${CGM_VM_TIMEOUT:-300}
MEM=${CGM_VM_MEM:-1024}
BUILD='' OUTDIR='' QUIET=0
die() { echo "cgm-vm: $*" >&2; exit 2; }
note() { echo "cgm-vm: $*" >&2; }

while getopts ':b:o:t:qh' opt; do
	case $opt in
	b) BUILD=$OPTARG ;;
	o) OUTDIR=$OPTARG ;;
	t) TIMEOUT=$OPTARG ;;
	q) QUIET=1 ;;
	h) sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "bad option -$OPTARG (see -h)" ;;
	esac
done
shift $((OPTIND - 1))
TESTS=("$@")
if [ -z "$BUILD" ]; then if [ -x ./cgmd ]; then BUILD=$PWD; else BUILD=$SRC; fi; fi
BUILD=$(cd "$BUILD" && pwd)
[ -x "$BUILD/cgmd" ] && [ -x "$BUILD/tests/integration/forker" ] ||
	die "no cgmd and tests/integration/forker in $BUILD: build first (make && make check-vm does both)"
case $TIMEOUT in '' | *[!0-9]*) die "-t needs seconds" ;; esac
[ "$(uname -m)" = x86_64 ] || die "needs an x86_64 host"

# ---- host packages and the cache -------------------------------------------------------------
apt_updated=0
apt_update() { [ $apt_updated = 1 ] || { note "apt-get update"; apt-get update -qq >&2 || die "apt-get update failed"; apt_updated=1; }; }

if ! command -v qemu-system-x86_64 >/dev/null; then
	[ "$(id -u)" = 0 ] || die "qemu-system-x86_64 is missing: apt-get install --no-install-recommends qemu-system-x86"
	note "installing qemu-system-x86"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-x86 >&2 ||
		{ apt_update; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-x86 >&2; } ||
		die "cannot install qemu-system-x86"
fi

# unpack_deb PKG: the package's files, unpacked once into $CACHE/pkg/PKG (no scripts are run).
unpack_deb() {
	local pkg=$1 dir=$CACHE/pkg/$1
	if [ ! -e "$dir/.ready" ]; then
		rm -rf "$dir" "$dir.dl"; mkdir -p "$dir.dl"
		# APT::Sandbox::User=root: the _apt user could not write into a root-owned cache.
		(cd "$dir.dl" && apt-get -qq -o APT::Sandbox::User=root download "$pkg" >&2) ||
			{ apt_update; (cd "$dir.dl" && apt-get -qq -o APT::Sandbox::User=root download "$pkg" >&2); } ||
			die "apt-get download $pkg failed"
		dpkg-deb -x "$dir.dl"/*.deb "$dir"
		rm -rf "$dir.dl" "$dir/usr/share/doc" "$dir/usr/share/man"
		touch "$dir/.ready"
	fi
	echo "$dir"
}

# The kernel: only boot/ is kept (no modules: everything the tests need is built in).
prepare_kernel() {
	local pkg=${CGM_VM_KERNEL:-} kd tmp off
	if [ -z "$pkg" ]; then
		if [ "${CGM_VM_REFRESH:-0}" != 1 ] && [ -s "$CACHE/kernel.default" ]; then pkg=$(cat "$CACHE/kernel.default")
		else
			pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
			[ -n "$pkg" ] || { apt_update; pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'); }
			[ -n "$pkg" ] || die "cannot resolve linux-image-amd64 (set CGM_VM_KERNEL)"
			echo "$pkg" >"$CACHE/kernel.default"
		fi
	fi
	KPKG=$pkg; kd=$CACHE/kernel/$pkg
	if [ ! -e "$kd/.ready" ]; then
		tmp=$kd.tmp; rm -rf "$kd" "$tmp"; mkdir -p "$tmp"
		(cd "$tmp" && apt-get -qq -o APT::Sandbox::User=root download "$pkg" >&2) ||
			{ apt_update; (cd "$tmp" && apt-get -qq -o APT::Sandbox::User=root download "$pkg" >&2); } ||
			die "apt-get download $pkg failed"
		dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -C "$tmp" -xf - ./boot
		mv "$tmp"/boot/vmlinuz-* "$tmp/vmlinuz"
		mv "$tmp"/boot/config-* "$tmp/config"
		# Debian compresses the bzImage with xz; find the stream like scripts/extract-vmlinux
		# does (bash strings cannot hold NUL, so the magic is matched without its last byte).
		if grep -q '^CONFIG_PVH=y' "$tmp/config"; then
			off=$(LC_ALL=C grep -abo $'\xfd7zXZ' "$tmp/vmlinuz" | head -n1 | cut -d: -f1 || true)
			[ -n "$off" ] && tail -c +$((off + 1)) "$tmp/vmlinuz" |
				{ xz -dc 2>/dev/null || "$BB" unxz -c 2>/dev/null; } >"$tmp/vmlinux" || true
			# trailing bytes after the stream make the decoder complain; an ELF is what counts
			[ "$(head -c4 "$tmp/vmlinux" 2>/dev/null)" = $'\x7fELF' ] || rm -f "$tmp/vmlinux"
		fi
		rm -rf "${tmp:?}/boot" "$tmp"/*.deb
		mv "$tmp" "$kd"; touch "$kd/.ready"
	fi
	KERNEL=$kd/vmlinuz; [ -f "$kd/vmlinux" ] && KERNEL=$kd/vmlinux
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock -w 600 9 || die "the cache $CACHE stays locked"
# Debian's dynamic busybox, not busybox-static: the static one runs its own applet for every
# applet name (setpriv, stat, timeout, ...) even when the real tool is on PATH. It also
# provides cpio and unxz on the host, which Debian's essential set lacks.
BB=$(unpack_deb busybox)/bin/busybox
prepare_kernel
extra_pkgs=()
# socat is for test-daemon.sh; take the host's, or Debian's with its libwrap dependency.
command -v socat >/dev/null || extra_pkgs+=("$(unpack_deb socat)" "$(unpack_deb libwrap0)")
flock -u 9; exec 9>&-

# ---- the initramfs ---------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/cgm-vm.XXXXXX)
QEMU_PID=''
cleanup() {
	if [ -n "$QEMU_PID" ]; then
		[ -s "$WORK/qemu.pid" ] && kill "$(cat "$WORK/qemu.pid")" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ROOT=$WORK/root

# add SRC DST: copy a file, dereferencing links. DST is removed first: cp onto a busybox applet
# link would write through it and replace busybox itself (the guest then hangs without init).
add() { mkdir -p "$ROOT$(dirname "$2")"; rm -f "$ROOT$2"; cp -L "$1" "$ROOT$2"; }

mkdir -p "$ROOT"/{usr/bin,usr/sbin,usr/lib/x86_64-linux-gnu,usr/lib64,etc,proc,sys,dev,tmp,run,root,out,cgm/bin}
ln -s usr/bin "$ROOT/bin"; ln -s usr/sbin "$ROOT/sbin"; ln -s usr/lib "$ROOT/lib"; ln -s usr/lib64 "$ROOT/lib64"
chmod 1777 "$ROOT/tmp"
cp "$BB" "$ROOT/usr/bin/busybox"
for a in $("$BB" --list); do [ "$a" = busybox ] || ln -s busybox "$ROOT/usr/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/:/usr/sbin/nologin\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOT/etc/group"
for p in "${extra_pkgs[@]}"; do tar -C "$p" --exclude=./.ready -cf - . | tar -C "$ROOT" -xf - --keep-directory-symlink; done
# What the tests run besides busybox: bash and util-linux's setpriv (busybox has neither in a
# usable form), socat, and the GNU tools whose options the tests rely on (find -print0,
# sort -z, xargs -0 -r, stat -c, timeout -k), script(1) for test-top.sh's terminal; the D-Bus
# tools for test-interop.sh if present.
for t in bash setpriv socat find xargs sort md5sum stat mktemp timeout seq grep sed awk cut tr \
	head tail wc id cat date unshare mount mkfifo getent script; do
	p=$(command -v "$t" || true)
	[ -n "$p" ] && add "$p" "/usr/bin/$t"
done
for t in bash setpriv socat; do [ -x "$ROOT/usr/bin/$t" ] || die "no $t for the guest (apt-get install $t)"; done
for t in busctl gdbus dbus-send; do p=$(command -v "$t" || true); [ -n "$p" ] && add "$p" "/usr/bin/$t"; done
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$ROOT/etc/nsswitch.conf"

# The build. cgm is a libtool wrapper script in the build tree; the real binary is in .libs and
# needs libcgm.so.0, which goes where the loader looks by default.
elf() { [ "$(head -c4 "$1" 2>/dev/null)" = $'\x7fELF' ]; }
add "$BUILD/cgmd" /cgm/bin/cgmd
if elf "$BUILD/cgm"; then add "$BUILD/cgm" /cgm/bin/cgm; else add "$BUILD/.libs/cgm" /cgm/bin/cgm; fi
for l in "$BUILD"/client/.libs/libcgm.so.*; do [ -e "$l" ] && add "$l" "/usr/lib/x86_64-linux-gnu/$(basename "$l")"; done
add "$BUILD/tests/integration/forker" /cgm/bin/forker
# test-hostile.sh's D-Bus client (it fails, saying so, without it)
[ -x "$BUILD/tests/integration/hostile" ] && add "$BUILD/tests/integration/hostile" /cgm/bin/hostile
# test-blocking.sh's pipelining D-Bus client (it skips without it)
[ -x "$BUILD/tests/integration/pipeline" ] && add "$BUILD/tests/integration/pipeline" /cgm/bin/pipeline
# test-events.sh's raw subscriber and the OOM notice tests' pty runner (they skip without them)
[ -x "$BUILD/tests/integration/subscriber" ] && add "$BUILD/tests/integration/subscriber" /cgm/bin/subscriber
[ -x "$BUILD/tests/integration/ptyrun" ] && add "$BUILD/tests/integration/ptyrun" /cgm/bin/ptyrun
# test-namespaces.sh's helpers (it skips without them): nsexec, and nsclient, which links
# libcgm and so is a libtool wrapper in the build tree like cgm
[ -x "$BUILD/tests/integration/nsexec" ] && add "$BUILD/tests/integration/nsexec" /cgm/bin/nsexec
if elf "$BUILD/tests/integration/nsclient"; then add "$BUILD/tests/integration/nsclient" /cgm/bin/nsclient
elif [ -x "$BUILD/tests/integration/.libs/nsclient" ]; then add "$BUILD/tests/integration/.libs/nsclient" /cgm/bin/nsclient; fi
# test-direct.sh's libcgm client (it skips without it), and strace, with which it checks that
# direct reads skip the daemon (that check is left out without it)
if elf "$BUILD/tests/integration/direct-probe"; then add "$BUILD/tests/integration/direct-probe" /cgm/bin/direct-probe
elif [ -x "$BUILD/tests/integration/.libs/direct-probe" ]; then add "$BUILD/tests/integration/.libs/direct-probe" /cgm/bin/direct-probe; fi
p=$(command -v strace || true); [ -n "$p" ] && add "$p" /usr/bin/strace
if [ -x "$BUILD/tests/integration/memhog" ]; then add "$BUILD/tests/integration/memhog" /cgm/bin/memhog
else cc -O2 -o "$ROOT/cgm/bin/memhog" "$SRC/tests/integration/memhog.c" || die "cannot build memhog"; fi
# test-sessions.sh: the PAM module and tests/pam/pam-session (PAM_CGM and PAM_SESSION, set by
# guest-suite.sh), pamtester with libpam and pam_permit.so, and libnss-extrausers. The test
# bind-mounts its own files over /etc/nsswitch.conf, /etc/pam.d and /var/lib/extrausers, so
# those must exist. Without any of these on the host, that test skips in the guest too.
mkdir -p "$ROOT/etc/pam.d" "$ROOT/var/lib/extrausers"
[ -f "$BUILD/pam_cgm/.libs/pam_cgm.so" ] && add "$BUILD/pam_cgm/.libs/pam_cgm.so" /cgm/lib/pam_cgm.so
[ -x "$BUILD/tests/pam/pam-session" ] && elf "$BUILD/tests/pam/pam-session" &&
	add "$BUILD/tests/pam/pam-session" /cgm/bin/pam-session
p=$(command -v pamtester || true); [ -n "$p" ] && add "$p" /usr/bin/pamtester
for l in /usr/lib/x86_64-linux-gnu/security/pam_permit.so /usr/lib/libnss_extrausers.so.2 \
	/usr/lib/x86_64-linux-gnu/libnss_files.so.2; do
	[ -e "$l" ] && add "$l" "$l"
done
mkdir -p "$ROOT/cgm/tests"
cp -r "$SRC/tests/integration" "$SRC/tests/vm" "$ROOT/cgm/tests/"
# the shell completion, which test-watch.sh loads from the source tree
mkdir -p "$ROOT/cgm/etc" && cp -r "$SRC/etc/completion" "$ROOT/cgm/etc/"
rm -f "$ROOT"/cgm/tests/integration/*.[co] "$ROOT"/cgm/tests/integration/{forker,memhog,hostile,nsexec,nsclient,direct-probe,pipeline,subscriber,ptyrun}
printf '%s\n' "${TESTS[@]}" >"$ROOT/cgm/tests/list"

# Shared libraries of every ELF in the image; those already in it (libcgm, packages) win.
llp=$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/usr/lib
while IFS= read -r -d '' f; do
	elf "$f" || continue
	while read -r line; do # ldd indents with a TAB, which read strips
		case $line in
		*"not found"*) die "$f: $line" ;;
		*"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
		/*) lib=${line%% (*} ;;
		*) continue ;;
		esac
		case $lib in "$ROOT"/*) continue ;; esac
		[ -e "$ROOT$lib" ] || add "$lib" "$lib"
	done < <(LD_LIBRARY_PATH=$llp ldd "$f" 2>/dev/null || true)
done < <(find "$ROOT" -type f \( -perm /111 -o -name '*.so*' \) -print0)

cat >"$ROOT/init" <<'EOF'
#!/bin/sh
# PID 1 of the test VM (busybox sh). It only sets up and reports: busybox sh exits when fork()
# fails, and PID 1 exiting panics the kernel, so the tests run in a child.
export PATH=/cgm/bin:/usr/sbin:/usr/bin HOME=/root LANG=C
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
ln -sf /proc/self/fd /dev/fd; ln -sf fd/0 /dev/stdin; ln -sf fd/1 /dev/stdout; ln -sf fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /tmp; mount -t tmpfs -o mode=1777 tmpfs /dev/shm; mount -t tmpfs tmpfs /run
ip link set lo up 2>/dev/null
# Only cgroup v2: the kernel runs with cgroup_no_v1=all.
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
echo "+cpu +memory +pids +io +cpuset" >/sys/fs/cgroup/cgroup.subtree_control
echo "cgm-vm: kernel $(uname -r) up $(cut -d" " -f1 /proc/uptime)s, cgroup2 subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
/usr/bin/bash /cgm/tests/vm/guest-suite.sh /out $(cat /cgm/tests/list)
rc=$?
kill -KILL -1 2>/dev/null; sleep 0.2
# Raw mode keeps the tty 8-bit clean for the archive; closing it waits until all is sent.
exec 3<>/dev/ttyS1
stty raw -echo <&3
echo "GUEST-EXIT=$rc" >&3
tar -C /out -cf - . | gzip -1 >&3
exec 3>&-
dmesg -n 1
echo "cgm-vm: guest suite exit status $rc"
poweroff -f
EOF
chmod 755 "$ROOT/init"
# Uncompressed: qemu loads it in no time, and the guest saves ~0.4 s of emulated gunzip.
(cd "$ROOT" && find . | "$BB" cpio -o -H newc -R 0:0 2>/dev/null) >"$WORK/initrd.cpio"

# ---- boot ------------------------------------------------------------------------------------
# -nodefaults: no NIC (iPXE ROM), VGA or monitor; ttyS0 is the console, ttyS1 the report.
# panic=-1 with -no-reboot makes qemu exit on a panic; oops=panic turns an oops into one.
note "kernel $KPKG ($(basename "$KERNEL")), initramfs $(($(stat -c %s "$WORK/initrd.cpio") / 1024)) KiB, ${MEM} MiB, timeout ${TIMEOUT}s"
# The guest kernel under TCG sometimes wedges a vCPU right after boot (soft lockups, an RCU
# stall in the idle task); seen once in about ten runs here, right after boot. That is the emulator, not the code under test: such a boot is stopped as soon
# as the console shows it and the VM is booted once more. Only a stall is retried; a test that
# fails, hangs (each has its own time limit in the guest) or crashes the guest is not.
stall_pattern='soft lockup - CPU|rcu_preempt self-detected stall'
boot_once() {
	rm -f "$WORK/ttyS1" "$WORK/qemu.rc" "$WORK/stalled"
	t0=$(date +%s)
	# qemu runs under timeout(1) in a background pipeline, so that the trap can stop it through
	# the timeout process (its pid file) and the console is stripped of CRs on its way to the log.
	{
		# shellcheck disable=SC2086
		timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -nodefaults -no-user-config -display none -monitor none \
			-machine pc -accel tcg -m "$MEM" -smp 2 -no-reboot \
			-kernel "$KERNEL" -initrd "$WORK/initrd.cpio" \
			-append "console=ttyS0 quiet cgroup_no_v1=all panic=-1 oops=panic norandmaps" \
			-serial stdio -serial "file:$WORK/ttyS1" ${CGM_VM_QEMU_ARGS:-} </dev/null 2>&1 &
		echo $! >"$WORK/qemu.pid"
		wait $! && echo 0 >"$WORK/qemu.rc" || echo $? >"$WORK/qemu.rc"
	} | stdbuf -oL tr -d '\r' | if [ $QUIET = 1 ]; then cat >"$WORK/console.log"; else tee "$WORK/console.log"; fi &
	QEMU_PID=$!
	# Watch for the stall while the VM runs (bounded by the VM's own timeout).
	while kill -0 "$QEMU_PID" 2>/dev/null; do
		if grep -Eq "$stall_pattern" "$WORK/console.log" 2>/dev/null && [ ! -s "$WORK/ttyS1" ]; then
			touch "$WORK/stalled"
			kill "$(cat "$WORK/qemu.pid")" 2>/dev/null || true
			break
		fi
		sleep 2
	done
	wait "$QEMU_PID" || true
	QEMU_PID=''
	qrc=$(cat "$WORK/qemu.rc" 2>/dev/null || echo 1)
	elapsed=$(($(date +%s) - t0))
}
boot_once
if [ -e "$WORK/stalled" ]; then
	note "the guest kernel stalled under emulation before reporting (console below); booting once more"
	tail -n 5 "$WORK/console.log" >&2 || true
	cp "$WORK/console.log" "$WORK/console-stalled.log"
	boot_once
fi

# ---- results ---------------------------------------------------------------------------------
status=$(head -n1 "$WORK/ttyS1" 2>/dev/null | tr -d '\0' || true)
grc=''
case $status in GUEST-EXIT=[0-9]*) grc=${status#GUEST-EXIT=} ;; esac
res=$WORK/out
mkdir -p "$res"
if [ -n "$grc" ]; then
	tail -c +$((${#status} + 2)) "$WORK/ttyS1" | tar -C "$res" -xzf - 2>/dev/null || { note "the guest's results archive is corrupt"; grc=''; }
fi
cp "$WORK/console.log" "$res/console.log"
[ -e "$WORK/console-stalled.log" ] && cp "$WORK/console-stalled.log" "$res/"
[ -n "$OUTDIR" ] && { mkdir -p "$OUTDIR"; cp -r "$res/." "$OUTDIR/"; }

# Count test points the way automake's tap-driver does: "ok" passes (a "# SKIP" one is neither),
# "not ok" fails unless "# TODO"; a missing or wrong plan or a non-zero exit is one failure more.
passed=0 failed=0
for tap in "$res"/*.tap; do
	[ -e "$tap" ] || continue
	name=$(basename "$tap" .tap)
	read -r p f < <(awk -v rc="$(cat "$res/$name.rc" 2>/dev/null || echo 1)" '
		/^ok / { if ($0 ~ /# *[Ss][Kk][Ii][Pp]/) s++; else p++; n++ }
		/^not ok / { if ($0 ~ /# *TODO/) s++; else f++; n++ }
		/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; seen = 1 }
		END { if (!seen || plan != n || rc != 0) f++; print p + 0, f + 0 }' "$tap")
	passed=$((passed + p)) failed=$((failed + f))
	if [ "$f" != 0 ]; then
		echo "--- $name: $f failed"
		grep -A6 '^not ok' "$tap" | head -n 60
		[ -s "$res/$name.err" ] && { echo "--- $name stderr (last lines)"; tail -n 15 "$res/$name.err"; }
	fi
done
if [ -z "$grc" ]; then
	[ $QUIET = 1 ] && tail -n 40 "$WORK/console.log"
	if [ -e "$WORK/stalled" ]; then note "the guest kernel stalled again under emulation"
	elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then note "TIMEOUT: the VM did not finish within ${TIMEOUT}s"
	else note "the guest crashed or panicked before reporting (qemu exit $qrc)"; fi
	failed=$((failed + 1))
elif [ "$grc" != 0 ] && [ "$failed" = 0 ]; then
	note "the guest suite exited $grc"; failed=1
fi
[ "$passed" = 0 ] && [ "$failed" = 0 ] && { note "no test ran"; failed=1; }
note "VM wall time ${elapsed}s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
