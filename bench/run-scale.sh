#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run-scale.sh: cgmd with 10 to 10,000 live sessions across 1,000 homes (bench-scale)
#
# Re-runs itself in a private mount namespace, where it bind-mounts its own extrausers
# database (users scale0 .. scale<H-1> with uids from 70000, and scaleprobe, uid 71000) and an
# nsswitch.conf that consults it: the host's /etc stays untouched. Then, like run.sh, it starts
# cgmd on a private socket with a unique base below this script's own cgroup, runs
# bench-scale (which forks the holders, restarts cgmd once by the pid it is given, and ends
# with every holder killed at once), and on exit stops the bench and whichever cgmd runs (by
# pid), removes only that base and the temporary directory.
#
# Environment: CGMD, CGM, BENCH_SCALE (binaries; defaults ./build/...), MAX (sessions at the
# last level, default 10000), HOMES (default 1000), N (timed calls per line, default 500),
# LEVELS (default 10,100,1000,MAX), KEEP=1.
set -uo pipefail
die() { echo "run-scale.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (cgmd manages real cgroups)"
if [ -z "${CGM_SCALE_IN_MOUNTNS:-}" ]; then
	command -v unshare >/dev/null || die "needs unshare"
	CGM_SCALE_IN_MOUNTNS=1 exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi

CGMD=${CGMD:-./build/cgmd}
CGM=${CGM:-./build/cgm}
BENCH_SCALE=${BENCH_SCALE:-./build/bench/bench-scale}
MAX=${MAX:-10000}
HOMES=${HOMES:-1000}
N=${N:-500}
LEVELS=${LEVELS:-}
if [ -z "$LEVELS" ]; then
	LEVELS=""
	for l in 10 100 1000; do [ "$l" -lt "$MAX" ] && LEVELS="$LEVELS$l,"; done
	LEVELS="$LEVELS$MAX"
fi
CGMD_V1_CONTROLLERS="memory cpu cpuacct cpuset pids blkio hugetlb freezer"
for b in "$CGMD" "$CGM" "$BENCH_SCALE"; do
	[ -x "$b" ] || die "\`$b\` is not an executable; build first (make), or set CGMD, CGM, BENCH_SCALE"
done
extrausers=$(ls /usr/lib/libnss_extrausers.so.2 /usr/lib/*/libnss_extrausers.so.2 2>/dev/null | head -n1)
[ -n "$extrausers" ] && [ -d /var/lib/extrausers ] || die "needs libnss-extrausers"
[ "$(cat /proc/sys/kernel/pid_max)" -gt $((MAX + 2000)) ] || die "kernel.pid_max is too low for $MAX holders"

ME=run-scale.sh
. "$(dirname "$0")/lib.sh"

stop_bench() {
	# The holders die with the bench (PR_SET_PDEATHSIG); a restarted cgmd is the bench's child
	# and its pid is in the pidfile.
	if [ -n "$BENCH_PID" ]; then
		kill -KILL "$BENCH_PID" 2>/dev/null
		wait "$BENCH_PID" 2>/dev/null
		BENCH_PID=""
	fi
	if [ -s "$TMP/cgmd.pid" ]; then
		DAEMON_PID=$(cat "$TMP/cgmd.pid")
	fi
}

# --- the users, in this mount namespace only -----------------------------------------------------
mkdir -p "$TMP/extrausers"
awk -v n="$HOMES" 'BEGIN { for (i = 0; i < n; i++) printf "scale%d:x:%d:%d::/nonexistent:/bin/false\n", i, 70000 + i, 70000 + i;
	print "scaleprobe:x:71000:71000::/nonexistent:/bin/false" }' >"$TMP/extrausers/passwd"
awk -F: '{ printf "%s:x:%s:\n", $1, $3 }' "$TMP/extrausers/passwd" >"$TMP/extrausers/group"
: >"$TMP/extrausers/shadow"
chmod 644 "$TMP/extrausers/passwd" "$TMP/extrausers/group"
mount --bind "$TMP/extrausers" /var/lib/extrausers || die "cannot bind the extrausers database"
sed -E 's/^(passwd|group):.*/\1: files extrausers/' /etc/nsswitch.conf >"$TMP/nsswitch.conf"
mount --bind "$TMP/nsswitch.conf" /etc/nsswitch.conf || die "cannot bind nsswitch.conf"
getent passwd scaleprobe >/dev/null || die "NSS does not see the bench's users"

start_cgmd || die "cgmd did not start"
layout=$("$CGM" version 2>/dev/null | sed -n 's/.*\(layout=[^ ]*\).*/\1/p')
echo "# cgm scale bench $(date -u +%Y-%m-%dT%H:%M:%SZ) kernel=$(uname -r) ${layout:-layout=unknown} cpus=$(nproc) homes=$HOMES levels=$LEVELS max_user_watches=$(cat /proc/sys/fs/inotify/max_user_watches)"
dir_args=()
for d in $(base_dirs); do [ -d "$d" ] && dir_args+=(-d "$d"); done
[ "${#dir_args[@]}" -gt 0 ] || die "cgmd created no base directory for $BASE_NAME"

BENCH_SCALE_LOG="$TMP/cgmd.log" "$BENCH_SCALE" -s "$SOCK" "${dir_args[@]}" -n "$N" --homes "$HOMES" \
	--levels "$LEVELS" --daemon-pid "$DAEMON_PID" --pidfile "$TMP/cgmd.pid" --restart -- \
	"$(readlink -f "$CGMD")" -f -s "$SOCK" -b "self:$BASE_NAME" &
BENCH_PID=$!
wait "$BENCH_PID"
rc=$?
BENCH_PID=""
[ -s "$TMP/cgmd.pid" ] && DAEMON_PID=$(cat "$TMP/cgmd.pid")
[ "$rc" = 0 ] || { echo "run-scale.sh: bench-scale failed (exit $rc); cgmd's log:" >&2; tail -n 20 "$TMP/cgmd.log" >&2; }
exit "$rc"
