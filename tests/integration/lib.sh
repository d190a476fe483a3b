#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared helpers for the integration tests: a real cgmd on a private socket, a unique test
# base below the runner's own cgroup in every hierarchy, TAP output, and cleanup that removes
# only what this run created, also on failure.
#
# Environment: CGMD, CGM, FORKER (binaries; set by `make check`), CGM_TEST_VALGRIND=1 runs
# cgmd under valgrind and fails the test on a leak or error, KEEP=1 keeps the test tree,
# CGMD_WRAPPER (see start_daemon) runs cgmd through a wrapper.
set -uo pipefail

: "${CGMD:?set CGMD to the cgmd binary}"
: "${CGM:?set CGM to the cgm binary}"

TEST_NAME=$(basename "$0" .sh)
TEST_ID="cgm-test-$$-$RANDOM"
TEST_TMP=$(mktemp -d "/tmp/$TEST_ID.XXXXXX")
chmod 0755 "$TEST_TMP" # the test uids must reach the socket inside
touch "$TEST_TMP/.cgm-test-tmp"
SOCK="$TEST_TMP/cgm.sock"
BASE_NAME="$TEST_ID"
export CGM_SOCKET="$SOCK"
# Test principals: uids that no account on a build machine uses.
UID_A=61001
UID_B=61002
# Timeouts for bounded waits, in tenths of a second.
WAIT_TENTHS=50

n_test=0
n_failed=0
DAEMON_PID=""
BG_PIDS=()

ok() { n_test=$((n_test + 1)); echo "ok $n_test - $*"; }
not_ok() { n_test=$((n_test + 1)); n_failed=$((n_failed + 1)); echo "not ok $n_test - $*"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }

# For the tests that log in through pam_cgm with pamtester and users from libnss-extrausers
# (bind-mounted in a private mount namespace): skip unless all three are there.
require_pam_extrausers() {
	[ -n "${PAM_CGM:-}" ] && [ -f "$PAM_CGM" ] || skip_all "pam_cgm.so not built (PAM_CGM)"
	command -v pamtester >/dev/null || skip_all "needs pamtester"
	local f found=
	for f in /usr/lib/libnss_extrausers.so.2 /usr/lib/*/libnss_extrausers.so.2; do [ -e "$f" ] && found=1; done
	[ -n "$found" ] && [ -d /var/lib/extrausers ] || skip_all "needs libnss-extrausers"
	# A sanitizer build of pam_cgm.so needs its runtime loaded first in programs that are not
	# built with it (pamtester): preload it there, and leave leak checking to the valgrind run.
	ASAN_RT=$(ldd "$PAM_CGM" 2>/dev/null | awk '/libasan|libubsan/ { print $3 }' | paste -sd: -)
}
pamtester() {
	if [ -n "${ASAN_RT:-}" ]; then
		LD_PRELOAD=$ASAN_RT ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 command pamtester "$@"
	else
		command pamtester "$@"
	fi
}
diag() { printf '# %s\n' "$@"; }

# check DESCRIPTION COMMAND...: pass when COMMAND succeeds.
check() {
	local desc=$1; shift
	if "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err"; then ok "$desc"; else
		not_ok "$desc"; diag "command: $*" "stdout: $(cat "$TEST_TMP/out")" "stderr: $(cat "$TEST_TMP/err")"; fi
}

# expect_exit DESCRIPTION CODE PATTERN COMMAND...: COMMAND fails with exit CODE and its
# stderr matches the extended regex PATTERN.
expect_exit() {
	local desc=$1 code=$2 pattern=$3; shift 3
	"$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	local rc=$?
	if [ "$rc" = "$code" ] && grep -Eq -- "$pattern" "$TEST_TMP/err"; then ok "$desc"; else
		not_ok "$desc"; diag "command: $*" "exit: $rc (want $code)" "stderr: $(cat "$TEST_TMP/err")" "want stderr matching: $pattern"; fi
}

# as_uid UID COMMAND...: run as an unprivileged uid with no supplementary groups.
as_uid() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --clear-groups --inh-caps=-all -- "$@"; }

# wait_for DESCRIPTION COMMAND...: retry COMMAND every 0.1 s for at most WAIT_TENTHS.
wait_until() {
	local i
	for ((i = 0; i < WAIT_TENTHS; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# The directories of the test base, one per hierarchy the daemon uses: cgroup2, and the v1
# hierarchies of the controllers cgmd mirrors (daemon/cgfs.c), found from mountinfo and
# /proc/self/cgroup the same way cgmd does, so the cleanup cannot miss one.
CGMD_V1_CONTROLLERS="memory cpu cpuacct cpuset pids blkio hugetlb freezer"
base_dirs() {
	local id ctrl path first c
	v2_base
	while IFS=: read -r id ctrl path; do
		[ "$id" = 0 ] && continue
		for c in $CGMD_V1_CONTROLLERS; do
			case ",$ctrl," in *",$c,"*) first=${ctrl%%,*}; v1_base "$first"; break ;; esac
		done
	done </proc/self/cgroup | sort -u
}

# mountinfo's filesystem type is the field after the "-" that ends the optional fields (shared:N
# on a booted host); the field after it is the mount's source, free text ("cgroup" on some hosts,
# "none" or the controller's name where OpenRC mounted it), so it is not the type.
MNT_FSTYPE='{ for (t = 7; t < NF && $t != "-"; t++); fs = $(t + 1) }'
# The cgroup2 directory of the base (empty on pure v1).
v2_base() { local m; m=$(awk "$MNT_FSTYPE"' fs == "cgroup2" { print $5; exit }' /proc/self/mountinfo); [ -n "$m" ] || return 0
	local p; p=$(sed -n 's/^0:://p' /proc/self/cgroup); [ "$p" = / ] && p=""; echo "$m$p/$BASE_NAME"; }
# The v1 directory of the base for one controller.
v1_base() { local c=$1 line mp p
	line=$(grep -E "^[0-9]+:([^:]*,)?$c(,[^:]*)?:" /proc/self/cgroup) || return 1
	p=${line#*:*:}; [ "$p" = / ] && p=""
	mp=$(awk -v c="$c" "$MNT_FSTYPE"' fs == "cgroup" { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $5; exit } }' /proc/self/mountinfo)
	echo "$mp$p/$BASE_NAME"; }
# The directory that holds a controller's files for the base (v2 when enabled there, else v1).
ctl_base() { local c=$1 v2; v2=$(v2_base)
	if [ -n "$v2" ] && grep -qw "$c" "$v2/cgroup.subtree_control" 2>/dev/null; then echo "$v2"; else v1_base "$c"; fi; }

# The base as the API shows it (cgroup2 path where there is one).
api_base() { local v2; v2=$(v2_base); if [ -n "$v2" ]; then local m; m=$(awk "$MNT_FSTYPE"' fs == "cgroup2" { print $5; exit }' /proc/self/mountinfo); echo "${v2#"$m"}"; else
	local d; d=$(base_dirs | head -n1); local mp; mp=$(dirname "$(dirname "$d")"); echo "/${d#*/*/*/*/}"; fi; }

remove_tree() {
	# Kill what is left in our tree (only our own processes can be there: the tree is new),
	# then remove directories deepest first.
	local d pid
	for d in $(base_dirs); do
		[ -d "$d" ] || continue
		for pid in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	done
	for d in $(base_dirs); do
		[ -d "$d" ] || continue
		local tries
		for tries in 1 2 3 4 5 6 7 8 9 10; do
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$d" ] || break
			sleep 0.1
		done
		[ -d "$d" ] && diag "could not remove $d"
	done
}

stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -CONT "$DAEMON_PID" 2>/dev/null # a test may have stopped it (test-events.sh)
	kill -TERM "$DAEMON_PID" 2>/dev/null
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=""
	return $rc
}

cleanup() {
	local rc=$?
	local p
	for p in "${BG_PIDS[@]}"; do { kill -KILL "$p"; wait "$p"; } 2>/dev/null; done
	stop_daemon >/dev/null 2>&1
	if [ "${KEEP:-0}" = 1 ]; then diag "KEEP=1: leaving $TEST_TMP and the base $BASE_NAME"; exit $rc; fi
	remove_tree
	[ -f "$TEST_TMP/.cgm-test-tmp" ] && rm -rf "$TEST_TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_root() {
	[ "$(id -u)" = 0 ] || skip_all "needs root (real cgroupfs, setpriv)"
	command -v setpriv >/dev/null || skip_all "needs setpriv (util-linux)"
	grep -q ' - cgroup' /proc/self/mountinfo || skip_all "no cgroup filesystem mounted"
}

# start_daemon [EXTRA ARGS]: start cgmd in the foreground on the private socket; wait until
# it answers (bounded). Under CGM_TEST_VALGRIND=1, run it in valgrind.
start_daemon() {
	local pre=()
	if [ "${CGM_TEST_VALGRIND:-0}" = 1 ]; then
		pre=(valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect
			--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no
			--log-file="$TEST_TMP/valgrind.log")
	fi
	# CGMD_WRAPPER: words put in front of the command line, e.g. a shell function that sets an
	# LD_PRELOAD or a limit and ends in `exec "$@"` (tests/fault); DAEMON_PID stays cgmd's.
	${CGMD_WRAPPER:-} "${pre[@]}" "$CGMD" -f -s "$SOCK" -b "self:$BASE_NAME" "$@" 2>>"$TEST_TMP/cgmd.log" &
	DAEMON_PID=$!
	local i
	for ((i = 0; i < 300; i++)); do
		"$CGM" ping >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || { diag "cgmd exited:" "$(cat "$TEST_TMP/cgmd.log")"; return 1; }
		sleep 0.1
	done
	diag "cgmd did not answer within 30 s"
	return 1
}

# finish: stop the daemon (checking its exit status, which carries valgrind's verdict) and
# print the TAP plan.
finish() {
	if [ -n "$DAEMON_PID" ]; then
		if stop_daemon; then ok "cgmd exits cleanly on SIGTERM${CGM_TEST_VALGRIND:+ (valgrind: no leak, no error)}"
		else not_ok "cgmd exits cleanly on SIGTERM"; diag "$(cat "$TEST_TMP/cgmd.log" | tail -n 20)"
			[ -f "$TEST_TMP/valgrind.log" ] && diag "$(cat "$TEST_TMP/valgrind.log")"; fi
	fi
	echo "1..$n_test"
	[ "$n_failed" = 0 ]
}

# spawn_as_in VAR UID CGROUP COMMAND...: start COMMAND in the background as UID, already
# placed in CGROUP (relative to the base) by root, the way a login would be; its pid goes to
# the variable VAR (no subshell, so the test can wait for it and the trap can end it).
spawn_as_in() {
	local var=$1 u=$2 cg=$3; shift 3
	(
		"$CGM" move "$cg" "$BASHPID" >/dev/null || exit 97
		exec setpriv --reuid="$u" --regid="$u" --clear-groups --inh-caps=-all -- "$@"
	) </dev/null >/dev/null 2>>"$TEST_TMP/spawn.log" &
	BG_PIDS+=("$!")
	printf -v "$var" '%s' "$!"
}

# run_in UID CGROUP COMMAND...: like spawn_as_in, in the foreground.
run_in() {
	local u=$1 cg=$2; shift 2
	( "$CGM" move "$cg" "$BASHPID" >/dev/null || exit 97
	  exec setpriv --reuid="$u" --regid="$u" --clear-groups --inh-caps=-all -- "$@" )
}

# snapshot: a digest of the whole test tree on disk (directories, and the content of every
# file a denied request might have changed), to prove that a refusal changed nothing.
snapshot() {
	local d
	for d in $(base_dirs); do
		find "$d" -type d | sort
		find "$d" -type f \( -name 'pids.max' -o -name 'memory.limit_in_bytes' -o -name 'memory.max' \
			-o -name 'cpu.cfs_quota_us' -o -name 'cpu.max' -o -name 'notify_on_release' -o -name 'cgroup.procs' \
			-o -name 'devices.list' -o -name 'cgroup.max.descendants' -o -name 'freezer.state' \) -print0 2>/dev/null |
			sort -z | xargs -0 -r grep -H '' 2>/dev/null
	done | md5sum
}
