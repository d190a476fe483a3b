#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run.sh: run bench-cgm against a private cgmd and print one line per operation
#
# Starts cgmd in the foreground on a private socket with a unique base below this script's own
# cgroup (self:cgm-bench-PID-RANDOM), finds that base's directory in every hierarchy cgmd
# uses, runs bench-cgm (which also times a raw AF_UNIX round trip, and Ping and Set with cgmd
# pinned by its pid to the same CPU and to another one), and on exit (also on failure or ^C)
# stops cgmd by pid, removes only that base (deepest first) and the temporary directory. It
# builds nothing.
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

ME=run.sh
. "$(dirname "$0")/lib.sh"

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

start_cgmd || die "cgmd did not start"

layout=$("$CGM" version 2>/dev/null | sed -n 's/.*\(layout=[^ ]*\).*/\1/p')
echo "# cgm bench $(date -u +%Y-%m-%dT%H:%M:%SZ) kernel=$(uname -r) ${layout:-layout=unknown} cpus=$(nproc)"

dir_args=()
for d in $(base_dirs); do
	[ -d "$d" ] && dir_args+=(-d "$d")
done
[ "${#dir_args[@]}" -gt 0 ] || die "cgmd created no base directory for $BASE_NAME"
pids_dir=$(pids_base)
[ -n "$pids_dir" ] && [ -d "$pids_dir" ] || die "no hierarchy holds pids for the base"

# --daemon-pid: bench-cgm pins cgmd's threads (a process this script started) for the
# placement lines, and gives them their affinity back.
"$BENCH" -s "$SOCK" -n "$N" --pids-dir "$pids_dir" --daemon-pid "$DAEMON_PID" "${dir_args[@]}" &
BENCH_PID=$!
wait "$BENCH_PID"
rc=$?
BENCH_PID=""
[ "$rc" = 0 ] || { echo "run.sh: bench-cgm failed (exit $rc); cgmd's log:" >&2; tail -n 20 "$TMP/cgmd.log" >&2; }
exit "$rc"
