#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The booted-guest tier: Debian 12 guests booted under qemu with their own init, cgm installed
# in them from its .debs the way README.md's "Installing on Debian" tells an admin, then checked
# from inside (tests/guest/README.md).
#
# Each flavor is two boots of one throw-away disk (a qcow2 overlay on the cached image that
# tests/guest/mkrootfs.sh builds): boot 1 sets the host up and installs cgm (install.sh), then
# reboots; boot 2 checks what the boot brought up and what logins get (check-*.sh, the
# integration suite). In each boot the image's hook runs the data disk's plan (guest-run.sh)
# and reports its exit status as the line GUEST-EXIT=N on the second serial port, followed by
# a tar.gz of the TAP files. Nothing else writes to that port, so a guest that crashes, hangs or
# panics after printing "ok" cannot fake a pass; the host counts the TAP files itself and ends
# with "N passed, N failed".
#
# Usage: tests/guest/run-guest.sh [-b BUILDDIR] [-d DEBDIR] [-o OUTDIR] [-t SECONDS] [-q]
#                                 [-x SCRIPT]... [-1] [FLAVOR...]
#   FLAVOR       openrc-v2, systemd-v2, pure-v1 (default: all three, in that order)
#   -b BUILDDIR  a built tree: the test helpers forker, memhog, hostile and tests/pam/pam-session
#                come from it (`make check-guest` builds them; the tests that need one fail
#                without it); default: the current directory if it has cgmd, else the source
#   -d DEBDIR    the directory holding cgm's .debs (default: $CGM_GUEST_DEBS, else
#                BUILDDIR/tests/guest/debs, where make check-guest builds them)
#   -o OUTDIR    keep each boot's TAP files, stderr and console log in OUTDIR/FLAVOR/bootN
#   -t SECONDS   wall-clock limit of each flavor, both boots (default $CGM_GUEST_TIMEOUT, else
#                600 s for openrc-v2 and systemd-v2 and 900 s for pure-v1: about four times what
#                they take on a loaded 2-core machine, tests/guest/README.md)
#   -q           do not stream the guest consoles (they are kept, and shown on a failure)
#   -x SCRIPT    run SCRIPT (as root, its stdout read as TAP, $CGM_GUEST_OUT for extra files)
#                in boot 2 instead of the flavor's checks; may be given more than once
#   -1           one boot only: the checks (or -x scripts) run in boot 1 right after the install
# Environment: CGM_VM_CACHE (default /var/cache/cgm-vm: the images and the .debs they are made
#   of), CGM_GUEST_MEM (MiB, default 1024), CGM_VM_QEMU_ARGS (extra qemu arguments),
#   CGM_GUEST_EXTRA_DEBS (a directory of other .debs put on the data disk for -x scripts).
# Exit status: 0 when every test point passed; 1 when one failed or a guest crashed, hung or
#   timed out; 2 when the harness itself could not run (usage, no .debs, image build).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$SRC/tests/guest
TIMEOUT=${CGM_GUEST_TIMEOUT:-}
MEM=${CGM_GUEST_MEM:-1024}
BUILD='' DEBS=${CGM_GUEST_DEBS:-} OUTDIR='' QUIET=0 ONEBOOT=0 EXTRA=()
die() { echo "cgm-guest: $*" >&2; exit 2; }
note() { echo "cgm-guest: $*" >&2; }

while getopts ':b:d:o:t:qx:1h' opt; do
	case $opt in
	b) BUILD=$OPTARG ;;
	d) DEBS=$OPTARG ;;
	o) OUTDIR=$OPTARG ;;
	t) TIMEOUT=$OPTARG ;;
	q) QUIET=1 ;;
	x) [ -f "$OPTARG" ] || die "no script $OPTARG"; EXTRA+=("$(cd "$(dirname "$OPTARG")" && pwd)/$(basename "$OPTARG")") ;;
	1) ONEBOOT=1 ;;
	h) sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "bad option -$OPTARG (see -h)" ;;
	esac
done
shift $((OPTIND - 1))
FLAVORS=("$@")
[ ${#FLAVORS[@]} = 0 ] && FLAVORS=(openrc-v2 systemd-v2 pure-v1)
for f in "${FLAVORS[@]}"; do
	case $f in openrc-v2 | systemd-v2 | pure-v1) ;; *) die "unknown flavor $f (openrc-v2, systemd-v2, pure-v1)" ;; esac
done
if [ -z "$BUILD" ]; then if [ -x ./cgmd ]; then BUILD=$PWD; else BUILD=$SRC; fi; fi
BUILD=$(cd "$BUILD" && pwd)
case $TIMEOUT in *[!0-9]*) die "-t needs seconds" ;; esac
[ "$(id -u)" = 0 ] || die "needs root (image builds, apt)"
[ "$(uname -m)" = x86_64 ] || die "needs an x86_64 host"
[ -n "$DEBS" ] || DEBS=$BUILD/tests/guest/debs # where make check-guest builds them
ls "$DEBS"/*.deb >/dev/null 2>&1 || die "no .debs in $DEBS (-d DEBDIR; README.md's \"Installing on Debian\" says how to build them)"
DEBS=$(cd "$DEBS" && pwd)

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
if [ ${#need[@]} != 0 ]; then
	note "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 ||
		{ apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "${need[@]}" >&2; } ||
		die "cannot install ${need[*]}"
fi

WORK=$(mktemp -d /tmp/cgm-guest.XXXXXX)
QEMU_PID=''
cleanup() {
	# the results so far, also when the harness stops early
	if [ -n "$OUTDIR" ] && [ -d "$WORK/out" ]; then mkdir -p "$OUTDIR" && cp -r "$WORK/out/." "$OUTDIR/"; fi
	if [ -n "$QEMU_PID" ]; then
		[ -s "$WORK/qemu.pid" ] && kill "$(cat "$WORK/qemu.pid")" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- the images (built once per content of mkrootfs.sh, cached) -------------------------------
declare -A IMG
for f in "${FLAVORS[@]}"; do
	case $f in systemd-v2) i=systemd ;; pure-v1) i=openrc-suite ;; *) i=openrc ;; esac
	if [ -z "${IMG[$i]:-}" ]; then
		t0=$(date +%s)
		IMG[$i]=$(bash "$HERE/mkrootfs.sh" "$i") || die "cannot build the $i image"
		note "image $i: ${IMG[$i]} ($(($(date +%s) - t0)) s)"
	fi
done

# ---- the data disk of one boot ------------------------------------------------------------------
# data.img (ext4, read-only in the guest as /dev/vdb, mounted on /run/cgm-guest/data):
#   entry.sh   what the hook runs: tests/guest/guest-run.sh with this boot's plan
#   action     reboot or poweroff, after the report
#   README.md  the one the install follows (install.sh checks its steps are in it)
#   plan       one line per test: NAME SECONDS COMMAND... (run in that order, from the data disk)
#   debs/      cgm's .debs as the admin downloaded them
#   bin/       test helpers from the build: forker, memhog, hostile, subscriber, ptyrun,
#              pam-session, and the bench
#              programs bench-cgm, -pam, -dlopen, -load, -scale (bench/guest-bench.sh runs them)
#   tests/     tests/guest and tests/integration from the source tree
#   bench/     bench/ from the source tree (its runners)
#   extra/     the -x scripts
#   extra-debs/ other .debs for the -x scripts (CGM_GUEST_EXTRA_DEBS; bench/guest-bench.sh's peers)
make_data() { # make_data FLAVOR BOOT ACTION (plan on stdin)
	local d=$WORK/data
	rm -rf "$d" "$WORK/data.img"
	mkdir -p "$d/debs" "$d/bin" "$d/tests" "$d/extra"
	cp "$DEBS"/*.deb "$d/debs/"
	cp -r "$SRC/tests/guest" "$SRC/tests/integration" "$d/tests/"
	cp "$SRC/README.md" "$d/README.md"
	rm -rf "$d/tests/guest/results" "$d"/tests/integration/*.[cho] "$d"/tests/integration/{forker,memhog,hostile,subscriber,ptyrun}
	local h
	cp -r "$SRC/bench" "$d/"
	for h in tests/integration/forker tests/integration/memhog tests/integration/hostile tests/integration/subscriber \
		tests/integration/ptyrun tests/pam/pam-session \
		bench/bench-cgm bench/bench-pam bench/bench-dlopen bench/bench-load bench/bench-scale; do
		# libtool wrappers are scripts; the real program is in .libs
		if [ -f "$BUILD/$(dirname $h)/.libs/$(basename $h)" ]; then cp "$BUILD/$(dirname $h)/.libs/$(basename $h)" "$d/bin/"
		elif [ -x "$BUILD/$h" ]; then cp "$BUILD/$h" "$d/bin/"; fi
	done
	[ ${#EXTRA[@]} = 0 ] || cp "${EXTRA[@]}" "$d/extra/"
	if [ -n "${CGM_GUEST_EXTRA_DEBS:-}" ] && ls "$CGM_GUEST_EXTRA_DEBS"/*.deb >/dev/null 2>&1; then mkdir -p "$d/extra-debs"; cp "$CGM_GUEST_EXTRA_DEBS"/*.deb "$d/extra-debs/"; fi
	cat >"$d/plan"
	echo "$3" >"$d/action"
	cat >"$d/entry.sh" <<-EOF
	# generated by tests/guest/run-guest.sh
	export CGM_GUEST_FLAVOR=$1 CGM_GUEST_BOOT=$2 CGM_GUEST_DATA=/run/cgm-guest/data
	exec bash /run/cgm-guest/data/tests/guest/guest-run.sh "\$1"
	EOF
	mkfs.ext4 -q -F -L cgm-data -d "$d" "$WORK/data.img" $(($(du -sm "$d" | cut -f1) + 64))M >/dev/null
}

# The plan of each boot. Boot 1 always installs; -1 puts boot 2's plan into it.
plan_for() { # plan_for FLAVOR BOOT
	local f=$1 boot=$2 x
	if [ "$boot" = 1 ]; then
		case $f in
		openrc-v2) echo "install 240 bash tests/guest/install.sh openrc-unified" ;;
		pure-v1) echo "install 240 bash tests/guest/install.sh openrc-legacy" ;;
		systemd-v2) echo "install 240 bash tests/guest/install.sh systemd" ;;
		esac
		[ $ONEBOOT = 1 ] || return 0
	fi
	if [ ${#EXTRA[@]} != 0 ]; then
		for x in "${EXTRA[@]}"; do echo "$(basename "$x" .sh) 600 bash extra/$(basename "$x")"; done
		return 0
	fi
	case $f in
	openrc-v2)
		echo "check-openrc 300 bash tests/guest/check-openrc.sh"
		echo "check-containers 300 bash tests/guest/check-containers.sh"
		echo "check-events 300 bash tests/guest/check-events.sh" ;;
	systemd-v2) echo "check-systemd 360 bash tests/guest/check-systemd.sh" ;;
	pure-v1)
		echo "check-v1 300 bash tests/guest/check-v1.sh"
		for x in test-daemon test-delegation; do echo "$x 120 bash tests/guest/suite.sh $x"; done
		echo "test-sessions 420 bash tests/guest/suite.sh test-sessions" ;;
	esac
}

# ---- one boot -----------------------------------------------------------------------------------
# The guest kernel under TCG sometimes wedges a vCPU right after boot (soft lockups, an RCU stall
# in the idle task; tests/vm/README.md). Such a boot is stopped as soon as the console shows it,
# and booted once more from a copy of the disk as it was before that boot. Only that stall is
# retried; a failing, hanging or crashing guest fails the flavor.
stall_pattern='soft lockup - CPU|rcu_preempt self-detected stall|rcu_sched self-detected stall'
boot_once() { # boot_once IMAGEDIR CMDLINE LIMIT
	local img=$1 cmdline=$2 limit=$3 kernel
	kernel=$img/vmlinuz; [ -f "$img/vmlinux" ] && kernel=$img/vmlinux
	rm -f "$WORK/ttyS1" "$WORK/qemu.rc" "$WORK/stalled"
	{
		# shellcheck disable=SC2086
		timeout -k 5 "$limit" qemu-system-x86_64 -nodefaults -no-user-config -display none -monitor none \
			-machine pc -accel tcg -m "$MEM" -smp 2 -no-reboot \
			-kernel "$kernel" -initrd "$img/initrd.img" \
			-append "console=ttyS0 root=/dev/vda rw norandmaps panic=-1 oops=panic $cmdline" \
			-drive file="$WORK/disk.qcow2",if=virtio,format=qcow2,cache=unsafe \
			-drive file="$WORK/data.img",if=virtio,format=raw,readonly=on \
			-device virtio-rng-pci \
			-serial stdio -serial "file:$WORK/ttyS1" ${CGM_VM_QEMU_ARGS:-} </dev/null 2>&1 &
		echo $! >"$WORK/qemu.pid"
		wait $! && echo 0 >"$WORK/qemu.rc" || echo $? >"$WORK/qemu.rc"
	} | stdbuf -oL tr -d '\r' | if [ $QUIET = 1 ]; then cat >"$WORK/console.log"; else tee "$WORK/console.log"; fi &
	QEMU_PID=$!
	while kill -0 "$QEMU_PID" 2>/dev/null; do
		if [ ! -s "$WORK/ttyS1" ] && grep -Eq "$stall_pattern" "$WORK/console.log" 2>/dev/null; then
			touch "$WORK/stalled"
			kill "$(cat "$WORK/qemu.pid")" 2>/dev/null || true
			break
		fi
		sleep 2
	done
	wait "$QEMU_PID" || true
	QEMU_PID=''
	qrc=$(cat "$WORK/qemu.rc" 2>/dev/null || echo 1)
}

# ---- counting -----------------------------------------------------------------------------------
# As automake's tap-driver: "ok" passes (a "# SKIP" one is neither), "not ok" fails unless
# "# TODO"; a missing or wrong plan or a non-zero exit is one failure more.
passed=0 failed=0
count_dir() { # count_dir DIR LABEL
	local tap name p f
	for tap in "$1"/*.tap; do
		[ -e "$tap" ] || continue
		name=$(basename "$tap" .tap)
		read -r p f < <(awk -v rc="$(cat "$1/$name.rc" 2>/dev/null || echo 1)" '
			/^ok / { if ($0 ~ /# *[Ss][Kk][Ii][Pp]/) s++; else p++; n++ }
			/^not ok / { if ($0 ~ /# *TODO/) s++; else f++; n++ }
			/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; seen = 1 }
			END { if (!seen || plan != n || rc != 0) f++; print p + 0, f + 0 }' "$tap")
		passed=$((passed + p)) failed=$((failed + f))
		echo "$2 $name: $p passed, $f failed"
		if [ "$f" != 0 ]; then
			grep -B1 -A8 '^not ok' "$tap" | head -n 80 || true
			if [ -s "$1/$name.err" ]; then echo "--- $2 $name stderr (last lines)"; tail -n 20 "$1/$name.err"; fi
		fi
	done
	return 0
}

# ---- the flavors --------------------------------------------------------------------------------
run_flavor() { # run_flavor FLAVOR
	local f=$1 img cmdline boots=2 boot start left res grc status
	case $f in
	openrc-v2) img=${IMG[openrc]} cmdline="cgroup_no_v1=all" ;;
	pure-v1) img=${IMG[openrc-suite]} cmdline="" ;;
	systemd-v2) img=${IMG[systemd]} cmdline="cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1" ;;
	esac
	[ $ONEBOOT = 1 ] && boots=1
	local limit=$TIMEOUT
	[ -n "$limit" ] || case $f in pure-v1) limit=900 ;; *) limit=600 ;; esac
	rm -f "$WORK/disk.qcow2"
	qemu-img create -q -f qcow2 -b "$img/root.img" -F raw "$WORK/disk.qcow2" || die "qemu-img create failed"
	start=$(date +%s)
	for ((boot = 1; boot <= boots; boot++)); do
		res=$WORK/out/$f/boot$boot
		mkdir -p "$res"
		left=$((limit - ($(date +%s) - start)))
		if [ $left -le 30 ]; then
			note "$f: TIMEOUT: no time left for boot $boot (the flavor's limit is ${limit}s)"
			failed=$((failed + 1)); return
		fi
		local action=reboot; [ $boot = $boots ] && action=poweroff
		plan_for "$f" "$boot" | make_data "$f" "$boot" "$action"
		cp "$WORK/disk.qcow2" "$WORK/disk.before.qcow2"
		note "$f boot $boot: $(awk '{ print $1 }' "$WORK/data/plan" | paste -sd ' ') (limit ${left}s)"
		local t0; t0=$(date +%s)
		boot_once "$img" "$cmdline" "$left"
		if [ -e "$WORK/stalled" ]; then
			note "$f boot $boot: the guest kernel stalled under emulation before reporting; booting once more"
			tail -n 5 "$WORK/console.log" >&2 || true
			cp "$WORK/console.log" "$res/console-stalled.log"
			cp "$WORK/disk.before.qcow2" "$WORK/disk.qcow2"
			left=$((limit - ($(date +%s) - start)))
			[ $left -gt 30 ] && boot_once "$img" "$cmdline" "$left"
		fi
		note "$f boot $boot: qemu ran $(($(date +%s) - t0)) s (exit $qrc)"
		cp "$WORK/console.log" "$res/console.log"
		status=$(head -n1 "$WORK/ttyS1" 2>/dev/null | tr -d '\0' || true)
		grc=''
		case $status in GUEST-EXIT=[0-9]*) grc=${status#GUEST-EXIT=} ;; esac
		if [ -n "$grc" ]; then
			tail -c +$((${#status} + 2)) "$WORK/ttyS1" | tar -C "$res" -xzf - 2>/dev/null ||
				{ note "$f boot $boot: the guest's results archive is corrupt"; grc=''; }
		fi
		local fb=$failed
		count_dir "$res" "$f boot $boot:"
		if [ -z "$grc" ]; then
			[ $QUIET = 1 ] && tail -n 40 "$WORK/console.log"
			if [ -e "$WORK/stalled" ]; then note "$f boot $boot: the guest kernel stalled again under emulation"
			elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then note "$f boot $boot: TIMEOUT: no report within the flavor's ${limit}s"
			else note "$f boot $boot: the guest crashed or powered off before reporting (qemu exit $qrc)"; fi
			failed=$((failed + 1)); return
		fi
		# -no-reboot makes a panic (oops=panic, panic=-1) end qemu with status 0, as a reboot
		# does: the console tells them apart.
		if grep -q 'Kernel panic - not syncing' "$WORK/console.log"; then
			note "$f boot $boot: the guest kernel panicked after reporting"
			grep -B5 -A15 'Kernel panic - not syncing' "$WORK/console.log" | head -n 40 || true
			failed=$((failed + 1)); return
		fi
		if [ "$qrc" != 0 ]; then
			# The report came, but the guest did not shut down: boot 2 would start from a
			# disk that was never cleanly unmounted.
			note "$f boot $boot: the guest reported but did not $action within the limit (qemu exit $qrc)"
			[ $QUIET = 1 ] && tail -n 20 "$WORK/console.log"
			failed=$((failed + 1)); return
		fi
		if [ "$grc" != 0 ] && [ "$failed" = "$fb" ]; then
			note "$f boot $boot: the guest's plan exited $grc"; failed=$((failed + 1))
		fi
	done
	note "$f: $(($(date +%s) - start)) s for $boots boot(s)"
}

for f in "${FLAVORS[@]}"; do run_flavor "$f"; done
[ "$passed" = 0 ] && [ "$failed" = 0 ] && { note "no test ran"; failed=1; }
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
