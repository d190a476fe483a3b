#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run-load.sh: run bench-load against a private cgmd: 1 client against 8, and Ping beside
# kernel writes that block
#
# Starts cgmd in the foreground on a private socket with a unique base below this script's own
# cgroup (bench/lib.sh), runs bench-load (which works below `load` in that base, and writes
# its dirty file into the temporary directory), and on exit (also on failure or ^C) ends the
# bench and what it forked, stops cgmd by pid, removes only that base and the temporary
# directory. Thaws the base's v1 freezer cgroups first, should the bench have died with some
# frozen. It builds nothing.
#
# Environment: CGMD, CGM, BENCH_LOAD (binaries; defaults ./build/cgmd, ./build/cgm,
# ./build/bench/bench-load), DURATION_MS (per throughput line, default 2000), CLIENTS
# (default 8), HOG_MB (dirty page cache reclaimed by the memory.max line, default 256), KEEP=1
# keeps the tree and the daemon's log.
set -uo pipefail

CGMD=${CGMD:-./build/cgmd}
CGM=${CGM:-./build/cgm}
BENCH_LOAD=${BENCH_LOAD:-./build/bench/bench-load}
# The v1 controllers whose hierarchies cgmd mirrors its tree into (daemon/cgfs.c).
CGMD_V1_CONTROLLERS="memory cpu cpuacct cpuset pids blkio hugetlb freezer"

die() { echo "run-load.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (cgmd manages real cgroups)"
for b in "$CGMD" "$CGM" "$BENCH_LOAD"; do
	[ -x "$b" ] || die "\`$b\` is not an executable; build first (make), or set CGMD, CGM, BENCH_LOAD"
done
grep -q ' - cgroup' /proc/self/mountinfo || die "no cgroup filesystem mounted"

ME=run-load.sh
. "$(dirname "$0")/lib.sh"

# End the bench and every process in the tree: the tree is new, and only the bench and its
# children move into it. Frozen ones are thawed so that SIGKILL ends them.
stop_bench() {
	local d pid f
	if [ -n "$BENCH_PID" ]; then
		kill -KILL "$BENCH_PID" 2>/dev/null
		wait "$BENCH_PID" 2>/dev/null
		BENCH_PID=""
	fi
	for d in $(base_dirs); do
		[ -d "$d" ] || continue
		for f in $(find "$d" -name freezer.state 2>/dev/null); do echo THAWED >"$f" 2>/dev/null; done
		for pid in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
	done
}

start_cgmd || die "cgmd did not start"

layout=$("$CGM" version 2>/dev/null | sed -n 's/.*\(layout=[^ ]*\).*/\1/p')
echo "# cgm load bench $(date -u +%Y-%m-%dT%H:%M:%SZ) kernel=$(uname -r) ${layout:-layout=unknown} cpus=$(nproc)"

freezer_args=()
fd=$(v1_base freezer)
[ -n "$fd" ] && [ -d "$fd" ] && freezer_args=(--freezer-dir "$fd")

"$BENCH_LOAD" -s "$SOCK" --tmpdir "$TMP" --duration-ms "${DURATION_MS:-2000}" --daemon-pid "$DAEMON_PID" \
	--clients "${CLIENTS:-8}" --hog-mb "${HOG_MB:-256}" "${freezer_args[@]}" &
BENCH_PID=$!
wait "$BENCH_PID"
rc=$?
BENCH_PID=""
[ "$rc" = 0 ] || { echo "run-load.sh: bench-load failed (exit $rc); cgmd's log:" >&2; tail -n 20 "$TMP/cgmd.log" >&2; }
exit "$rc"
