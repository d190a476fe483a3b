#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run-pam.sh: time a PAM login with pam_cgm against the same stack without it, in three modes
# (fork per login, loop in one process, spaced by GAP_MS) beside the raw floor and the kernel's
# first-write wait, and with LIVE sessions present; one line per figure
#
# Starts cgmd in the foreground on a private socket with a unique base below this script's own
# cgroup (self:cgm-bench-PID-RANDOM) and a policy file of its own (a [default] with
# memory.max, cpu.max and pids.max, so every login applies limits to the user's home, as on a
# login node). Writes two PAM services into a temporary directory, one without and one with
# pam_cgm (by absolute path, socket= the private socket), and runs bench-pam through
# pam_start_confdir() (the host's /etc/pam.d is never read and nothing in /etc changes): in
# fork, loop and spaced mode, each with the base's directories (-d) for the raw floor and the
# kernel-wait probe, whose cgroups bench-pam makes and removes below the base, then in fork
# mode with LIVE sessions. The user must exist in NSS: `nobody` by default. On exit (also on
# failure or ^C) stops bench-pam and whatever of it sits in the tree by pid, stops cgmd by
# pid, removes only that base (deepest first) and the temporary directory. It builds nothing.
#
# Environment: CGMD, CGM, BENCH_PAM, PAM_CGM (binaries and module; defaults ./build/cgmd,
# ./build/cgm, ./build/bench/bench-pam, ./build/pam_cgm/.libs/pam_cgm.so), USER_NAME (the
# login, default nobody), N (timed logins per service in fork and loop mode, default 1000),
# N_SPACED (the same in spaced mode, default 40: about 4 x 0.25 s each), GAP_MS (the sleep
# before each spaced login, default 250), LIVE (sessions held open for the last figure,
# default 1000; 0 skips it), KEEP=1 keeps the tree and the daemon's log, PEERS (other
# session modules to time in the same run, one per line: `NAME MODULE [ARGUMENT...]`, e.g.
# `pam_cgfs /lib/x86_64-linux-gnu/security/pam_cgfs.so -c freezer,pids`; each gets a stack of
# its own and fork, loop and spaced lines named Peer/NAME/...). A peer makes its cgroups where
# it makes them, outside the base and outside this script's cleanup: only on a machine of your
# own (bench/guest-bench.sh runs them in a throw-away guest).
set -uo pipefail

CGMD=${CGMD:-./build/cgmd}
CGM=${CGM:-./build/cgm}
BENCH_PAM=${BENCH_PAM:-./build/bench/bench-pam}
PAM_CGM=${PAM_CGM:-./build/pam_cgm/.libs/pam_cgm.so}
USER_NAME=${USER_NAME:-nobody}
N=${N:-1000}
N_SPACED=${N_SPACED:-40}
GAP_MS=${GAP_MS:-250}
LIVE=${LIVE:-1000}
# The v1 controllers whose hierarchies cgmd mirrors its tree into (daemon/cgfs.c).
CGMD_V1_CONTROLLERS="memory cpu cpuacct cpuset pids blkio hugetlb freezer"

die() { echo "run-pam.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (cgmd manages real cgroups; pam_cgm opens sessions for other users)"
for b in "$CGMD" "$CGM" "$BENCH_PAM"; do
	[ -x "$b" ] || die "\`$b\` is not an executable; build first (make), or set CGMD, CGM, BENCH_PAM"
done
[ -f "$PAM_CGM" ] || die "\`$PAM_CGM\` not found; build first (make), or set PAM_CGM"
PAM_CGM=$(realpath "$PAM_CGM")
BENCH_PAM=$(realpath "$BENCH_PAM")
grep -q ' - cgroup' /proc/self/mountinfo || die "no cgroup filesystem mounted"
uid=$(getent passwd "$USER_NAME" | cut -d: -f3)
[ -n "$uid" ] || die "user \`$USER_NAME\` is not known to NSS; set USER_NAME"
[ "$uid" != 0 ] || die "USER_NAME must not be root (cgmd excludes root by default)"

ME=run-pam.sh
. "$(dirname "$0")/lib.sh"

# End bench-pam if it is still running, and its children that sit in the tree (logins and
# holders of live sessions). The tree is new and only bench-pam's children move into it, so
# every process there is one of them; each is checked to be bench-pam (a fork of it) before
# it is killed by pid. A holder still outside the tree ends by itself when bench-pam is gone.
stop_bench() {
	local d pid pids=()
	[ -n "$BENCH_PID" ] || return 0
	for d in $(base_dirs); do
		[ -d "$d" ] || continue
		for pid in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do
			[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$BENCH_PAM" ] && pids+=("$pid")
		done
	done
	kill -KILL "$BENCH_PID" 2>/dev/null
	for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	wait "$BENCH_PID" 2>/dev/null
	BENCH_PID=""
}

# The policy: limits on every home, as on a login node. max_cgroups_per_user and pids.max
# leave room for LIVE sessions of one user (one leaf and one process each) plus the login
# being timed.
room=$((LIVE + 100))
cat >"$TMP/cgm.conf" <<EOF
# cgm-bench policy (bench/run-pam.sh)
max_cgroups_per_user = $((room > 1000 ? room : 1000))
[default]
memory.max = 4G
cpu.max = 200%
pids.max = $((room > 512 ? room : 512))
EOF

# Two services that differ only in pam_cgm. fail=closed turns a daemon that does not answer
# into a failed login (bench-pam stops) instead of a fast one that skipped pam_cgm.
mkdir "$TMP/pam.d"
stack='auth required pam_permit.so
account required pam_permit.so
session required pam_permit.so'
printf '%s\n' "$stack" >"$TMP/pam.d/cgm-bench-plain"
printf '%s\nsession required %s socket=%s fail=closed\n' "$stack" "$PAM_CGM" "$SOCK" >"$TMP/pam.d/cgm-bench-cgm"

start_cgmd -c "$TMP/cgm.conf" || die "cgmd did not start"

layout=$("$CGM" version 2>/dev/null | sed -n 's/.*\(layout=[^ ]*\).*/\1/p')
echo "# cgm pam bench $(date -u +%Y-%m-%dT%H:%M:%SZ) kernel=$(uname -r) ${layout:-layout=unknown} cpus=$(nproc)"
echo "# user=$USER_NAME uid=$uid iterations=$N per service, stack: pam_permit (auth, account, session) + pam_cgm"

dir_args=()
for d in $(base_dirs); do
	[ -d "$d" ] && dir_args+=(-d "$d")
done
[ "${#dir_args[@]}" -gt 0 ] || die "cgmd created no base directory for $BASE_NAME"
echo "# modes: fork and loop N=$N, spaced N=$N_SPACED gap=${GAP_MS}ms; raw floor and kernel-wait probe in $((${#dir_args[@]} / 2)) hierarchies"

# wait_idle: the previous run's last leaves and home go asynchronously; start from a clean table.
wait_idle() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -z "$("$CGM" sessions 2>/dev/null | tail -n +2)" ] && break
		sleep 0.1
	done
}

# run_bench LIVE N [bench-pam options...]
run_bench() {
	local live=$1 n=$2
	shift 2
	"$BENCH_PAM" "$@" "$TMP/pam.d" cgm-bench-cgm cgm-bench-plain "$USER_NAME" "$n" "$live" &
	BENCH_PID=$!
	wait "$BENCH_PID"
	rc=$?
	BENCH_PID=""
	[ "$rc" = 0 ] || { echo "run-pam.sh: bench-pam failed (exit $rc); cgmd's log:" >&2; tail -n 20 "$TMP/cgmd.log" >&2; exit "$rc"; }
}

run_bench 0 "$N" -m fork "${dir_args[@]}"
wait_idle
run_bench 0 "$N" -m loop "${dir_args[@]}"
wait_idle
run_bench 0 "$N_SPACED" -m spaced -g "$GAP_MS" "${dir_args[@]}"
# The peers: the same three modes, each module alone on the pam_permit stack.
while read -r peer module args; do
	[ -n "$peer" ] || continue
	[ -f "$module" ] || die "peer $peer: no module \`$module\`"
	printf '%s\nsession required %s %s\n' "$stack" "$module" "$args" >"$TMP/pam.d/cgm-bench-peer-$peer"
	for mode in fork loop spaced; do
		n=$N
		[ "$mode" = spaced ] && n=$N_SPACED
		"$BENCH_PAM" -P "$peer" -m "$mode" -g "$GAP_MS" "${dir_args[@]}" "$TMP/pam.d" "cgm-bench-peer-$peer" cgm-bench-plain "$USER_NAME" "$n" 0 &
		BENCH_PID=$!
		# A peer that does not work here (its configuration, this layout) is reported, not
		# fatal: cgm's own figures are above already.
		wait "$BENCH_PID" || { BENCH_PID=""; echo "# peer $peer: bench-pam failed in $mode mode; skipped"; break; }
		BENCH_PID=""
	done
done <<<"${PEERS:-}"
if [ "$LIVE" -gt 0 ]; then
	wait_idle
	run_bench "$LIVE" "$N"
fi
exit 0
