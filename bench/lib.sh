#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by bench/run.sh and bench/run-pam.sh: a unique base below this shell's own cgroup in
# every hierarchy cgmd uses, a private socket, and cleanup on exit that stops the bench (the
# caller's stop_bench), stops cgmd by pid and removes only that base. Set ME and
# CGMD_V1_CONTROLLERS before sourcing; define stop_bench after.
BASE_NAME="cgm-bench-$$-$RANDOM"
TMP=$(mktemp -d "/tmp/$BASE_NAME.XXXXXX") || die "mktemp failed"
chmod 0755 "$TMP"
touch "$TMP/.cgm-bench-tmp"
SOCK="$TMP/cgm.sock"
export CGM_SOCKET="$SOCK"
DAEMON_PID=""
BENCH_PID=""

# mountinfo's filesystem type is the field after the "-" that ends the optional fields; the
# field after it is the mount's source, free text, not the type.
MNT_FSTYPE='{ for (t = 7; t < NF && $t != "-"; t++); fs = $(t + 1) }'

# The base's directory on cgroup2 (empty on a pure v1 host).
v2_base() {
	local m p
	m=$(awk "$MNT_FSTYPE"' fs == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
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
	mp=$(awk -v c="$c" "$MNT_FSTYPE"' fs == "cgroup" { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $5; exit } }' /proc/self/mountinfo)
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
	kill -0 "$DAEMON_PID" 2>/dev/null && { echo "$ME: cgmd did not stop on SIGTERM; killing it" >&2; kill -KILL "$DAEMON_PID"; }
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=""
}


remove_tree() {
	local d tries
	for d in $(base_dirs); do
		[ -d "$d" ] || continue
		for tries in $(seq 1 50); do
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$d" ] || break
			sleep 0.1
		done
		[ -d "$d" ] && echo "$ME: could not remove $d" >&2
	done
}

cleanup() {
	local rc=$?
	stop_bench
	stop_daemon
	if [ "${KEEP:-0}" = 1 ]; then echo "$ME: KEEP=1: leaving $TMP and the base $BASE_NAME" >&2; exit $rc; fi
	remove_tree
	[ -f "$TMP/.cgm-bench-tmp" ] && rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_cgmd [ARGS...]: cgmd in the foreground on the private socket, waited for (bounded).
start_cgmd() {
	local i
	"$CGMD" -f -s "$SOCK" -b "self:$BASE_NAME" "$@" 2>>"$TMP/cgmd.log" &
	DAEMON_PID=$!
	for ((i = 0; i < 300; i++)); do
		"$CGM" ping >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "$ME: cgmd did not come up:" >&2
	cat "$TMP/cgmd.log" >&2
	return 1
}
