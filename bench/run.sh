#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run.sh: run bench-cgm against a private cgmd and print one line per operation
#
# Starts cgmd in the foreground on a private socket with a unique base below this script's own
# cgroup (self:cgm-bench-PID-RANDOM), finds that base's directory in every hierarchy cgmd
# uses, runs bench-cgm, and on exit (also on failure or ^C) stops cgmd by pid, removes only
# that base (deepest first) and the temporary directory. It builds nothing.
#
# Environment: CGMD, CGM, BENCH (binaries; defaults ./build/cgmd, ./build/cgm,
# ./build/bench/bench-cgm), N (timed calls per operation, default 2000), KEEP=1 keeps the tree
# and the daemon's log for a look afterwards.
set -uo pipefail

CGMD=${CGMD:-./build/cgmd}
CGM=${CGM:-./build/cgm}
BENCH=${BENCH:-./build/bench/bench-cgm}
N=${N:-2000}
# The v1 controllers whose hierarchies cgmd mirrors its tree into (daemon/cgfs.c).
CGMD_V1_CONTROLLERS="memory cpu cpuacct cpuset pids blkio hugetlb freezer"

die() { echo "run.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (cgmd manages real cgroups; the floor writes cgroupfs)"
for b in "$CGMD" "$CGM" "$BENCH"; do
	[ -x "$b" ] || die "\`$b\` is not an executable; build first (make), or set CGMD, CGM, BENCH"
done
grep -q ' - cgroup' /proc/self/mountinfo || die "no cgroup filesystem mounted"

BASE_NAME="cgm-bench-$$-$RANDOM"
TMP=$(mktemp -d "/tmp/$BASE_NAME.XXXXXX") || die "mktemp failed"
chmod 0755 "$TMP"
touch "$TMP/.cgm-bench-tmp"
SOCK="$TMP/cgm.sock"
export CGM_SOCKET="$SOCK"
DAEMON_PID=""
BENCH_PID=""

# The base's directory on cgroup2 (empty on a pure v1 host).
v2_base() {
	local m p
	m=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	[ -n "$m" ] || return 0
	p=$(sed -n 's/^0:://p' /proc/self/cgroup)
	[ "$p" = / ] && p=""
	echo "$m$p/$BASE_NAME"
}

# The base's directory in the v1 hierarchy that holds controller $1 (nothing if none does).
v1_base() {
	local c=$1 line mp p
	line=$(grep -E "^[0-9]+:([^:]*,)?$c(,[^:]*)?:" /proc/self/cgroup) || return 0
	p=${line#*:*:}
	[ "$p" = / ] && p=""
	mp=$(awk -v c="$c" '$9 == "cgroup" { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $5; exit } }' /proc/self/mountinfo)
	[ -n "$mp" ] && echo "$mp$p/$BASE_NAME"
}

# Every directory of the base, cgroup2 first, each hierarchy once (co-mounted controllers such
# as cpu,cpuacct share one).
base_dirs() {
	local c seen=" " d
	d=$(v2_base)
	[ -n "$d" ] && echo "$d"
	for c in $CGMD_V1_CONTROLLERS; do
		d=$(v1_base "$c")
		[ -n "$d" ] || continue
		case "$seen" in *" $d "*) continue ;; esac
		seen="$seen$d "
		echo "$d"
	done
}

# The base's directory that holds pids.max: cgroup2 when pids is enabled below the base
# there, else the v1 pids hierarchy.
pids_base() {
	local d
	d=$(v2_base)
	if [ -n "$d" ] && grep -qw pids "$d/cgroup.subtree_control" 2>/dev/null; then echo "$d"; else v1_base pids; fi
}

stop_daemon() {
	local i
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$DAEMON_PID" 2>/dev/null && { echo "run.sh: cgmd did not stop on SIGTERM; killing it" >&2; kill -KILL "$DAEMON_PID"; }
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=""
}

# End the bench (and the MoveSelf child it may have forked) if it is still running: those are
# the only processes that can be in the tree, since the tree is new and only they move into it.
stop_bench() {
	local d pid ppid
	[ -n "$BENCH_PID" ] || return 0
	for d in $(base_dirs); do
		[ -d "$d" ] || continue
		for pid in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do
			ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
			[ "$ppid" = "$BENCH_PID" ] && kill -KILL "$pid" 2>/dev/null
		done
	done
	kill -KILL "$BENCH_PID" 2>/dev/null
	wait "$BENCH_PID" 2>/dev/null
	BENCH_PID=""
}

remove_tree() {
	local d tries
	for d in $(base_dirs); do
		[ -d "$d" ] || continue
		for tries in 1 2 3 4 5 6 7 8 9 10; do
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$d" ] || break
			sleep 0.1
		done
		[ -d "$d" ] && echo "run.sh: could not remove $d" >&2
	done
}

cleanup() {
	local rc=$?
	stop_bench
	stop_daemon
	if [ "${KEEP:-0}" = 1 ]; then echo "run.sh: KEEP=1: leaving $TMP and the base $BASE_NAME" >&2; exit $rc; fi
	remove_tree
	[ -f "$TMP/.cgm-bench-tmp" ] && rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$CGMD" -f -s "$SOCK" -b "self:$BASE_NAME" 2>>"$TMP/cgmd.log" &
DAEMON_PID=$!
ready=0
for ((i = 0; i < 300; i++)); do
	"$CGM" ping >/dev/null 2>&1 && { ready=1; break; }
	kill -0 "$DAEMON_PID" 2>/dev/null || { DAEMON_PID=""; die "cgmd exited: $(cat "$TMP/cgmd.log")"; }
	sleep 0.1
done
[ "$ready" = 1 ] || die "cgmd did not answer within 30 s"

layout=$("$CGM" version 2>/dev/null | sed -n 's/.*\(layout=[^ ]*\).*/\1/p')
echo "# cgm bench $(date -u +%Y-%m-%dT%H:%M:%SZ) kernel=$(uname -r) ${layout:-layout=unknown} cpus=$(nproc)"

dir_args=()
for d in $(base_dirs); do
	[ -d "$d" ] && dir_args+=(-d "$d")
done
[ "${#dir_args[@]}" -gt 0 ] || die "cgmd created no base directory for $BASE_NAME"
pids_dir=$(pids_base)
[ -n "$pids_dir" ] && [ -d "$pids_dir" ] || die "no hierarchy holds pids for the base"

"$BENCH" -s "$SOCK" -n "$N" --pids-dir "$pids_dir" "${dir_args[@]}" &
BENCH_PID=$!
wait "$BENCH_PID"
rc=$?
BENCH_PID=""
[ "$rc" = 0 ] || { echo "run.sh: bench-cgm failed (exit $rc); cgmd's log:" >&2; tail -n 20 "$TMP/cgmd.log" >&2; }
exit "$rc"
