#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# cgmd under a service manager: the sd_notify messages a manager receives (socat listens on
# the socket the test binds), the pidfile, the detaching start that returns only once cgmd
# listens, and cgmd's own cgroup: started the way a service manager starts it, in a cgroup of
# the test's making with a base inside (-b self:NAME), cgmd moves into the leaf cgmd@daemon
# so that on pure cgroup v2 the base gets controllers; restarts with and without sessions
# below the base. The controller checks need pure cgroup v2 with memory and pids for the
# runner's cgroup (the VM of `make check-vm`) and skip elsewhere; the rest runs anywhere.
. "$(dirname "$0")/lib.sh"
require_root
: "${FORKER:?set FORKER to the forker helper}"

skip() { n_test=$((n_test + 1)); echo "ok $n_test # SKIP $*"; }
LOG=$TEST_TMP/cgmd.log
RUN=$TEST_TMP/run
mkdir -p "$RUN"

# vg: the words start_daemon puts in front of cgmd under CGM_TEST_VALGRIND=1.
vg=()
if [ "${CGM_TEST_VALGRIND:-0}" = 1 ]; then
	vg=(valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no
		--log-file="$TEST_TMP/valgrind.%p.log")
fi

# wait_ping: until cgmd answers on $SOCK, while $DAEMON_PID lives (bounded).
wait_ping() {
	local i
	for ((i = 0; i < 300; i++)); do
		"$CGM" ping >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# stop_checked DESC: SIGTERM cgmd, then check it exited 0 (under valgrind, its exit status
# is valgrind's verdict: 99 for a leak or an error).
stop_checked() {
	if stop_daemon; then ok "$1"; else
		not_ok "$1"; diag "$(tail -n 20 "$LOG")" "$(grep -hv 'unhandled amd64-linux syscall\|^--[0-9]*-- \(You may\|Read the\|Nevertheless\|it at\)' "$TEST_TMP"/valgrind.*.log 2>/dev/null | tail -n 40)"; fi
}

# --- sd_notify -----------------------------------------------------------------------------
if command -v socat >/dev/null; then
	NOTIFY=$TEST_TMP/notify.sock
	OUT=$TEST_TMP/notify.out
	: >"$OUT"
	# Every message cgmd sends ends in a newline, so the datagrams come out as lines.
	socat -u UNIX-RECV:"$NOTIFY" OPEN:"$OUT",append </dev/null 2>>"$TEST_TMP/socat.log" &
	BG_PIDS+=("$!")
	wait_until test -S "$NOTIFY" || diag "socat did not bind $NOTIFY"
	printf '# no settings\n' >"$TEST_TMP/cgm.conf"
	NOTIFY_SOCKET=$NOTIFY "${vg[@]}" "$CGMD" -f -s "$SOCK" -b "self:$BASE_NAME" -c "$TEST_TMP/cgm.conf" \
		--pidfile "$RUN/cgmd.pid" 2>>"$LOG" &
	DAEMON_PID=$!
	if wait_until grep -qx READY=1 "$OUT"; then
		# READY=1 is sent once the socket listens: no waiting for cgm ping.
		check "READY=1 arrives once cgmd listens: cgm ping answers at once" "$CGM" ping
	else
		not_ok "READY=1 arrives"; diag "$(cat "$OUT")" "$(tail -n 5 "$LOG")"
	fi
	check "MAINPID names cgmd ($DAEMON_PID)" grep -qx "MAINPID=$DAEMON_PID" "$OUT"
	check "STATUS says which base cgmd serves" grep -q "^STATUS=serving base .*$BASE_NAME" "$OUT"
	check "the pidfile, written before READY=1, names cgmd" test "$(cat "$RUN/cgmd.pid")" = "$DAEMON_PID"
	check "the pidfile is 0644 and no temporary file is left beside it" \
		test "$(stat -c %a "$RUN/cgmd.pid")" = 644 -a "$(ls "$RUN")" = cgmd.pid

	kill -HUP "$DAEMON_PID"
	check "SIGHUP: RELOADING=1, then READY=1 again" wait_until \
		awk '/^RELOADING=1$/ { r = NR } /^READY=1$/ { if (r && NR > r) f = 1 } END { exit !f }' "$OUT"
	check "RELOADING=1 carries MONOTONIC_USEC" grep -q '^MONOTONIC_USEC=[0-9][0-9]*$' "$OUT"
	check "STATUS after the reload says it was taken" grep -qx "STATUS=serving; policy reloaded" "$OUT"
	printf 'bogus_key = 1\n' >"$TEST_TMP/cgm.conf"
	kill -HUP "$DAEMON_PID"
	check "a refused policy: READY=1 again, STATUS names the error" \
		wait_until grep -q '^STATUS=.*bogus_key' "$OUT"
	check "cgmd still answers after the refused policy" "$CGM" ping
	stop_checked "cgmd exits 0 on SIGTERM${vg:+ (valgrind: no leak, no error)}"
	check "SIGTERM: STOPPING=1" grep -qx STOPPING=1 "$OUT"
	check "the pidfile is removed at exit" test ! -e "$RUN/cgmd.pid"

	# An abstract socket: '@' in NOTIFY_SOCKET is the kernel's leading NUL.
	ABSTRACT=$TEST_ID-notify
	: >"$OUT.abstract"
	socat -u ABSTRACT-RECV:"$ABSTRACT" OPEN:"$OUT.abstract",append </dev/null 2>>"$TEST_TMP/socat.log" &
	BG_PIDS+=("$!")
	wait_until grep -q "@$ABSTRACT\$" /proc/net/unix || diag "socat did not bind @$ABSTRACT"
	NOTIFY_SOCKET=@$ABSTRACT "$CGMD" -f -s "$SOCK" -b "self:$BASE_NAME" 2>>"$LOG" &
	DAEMON_PID=$!
	check "an abstract NOTIFY_SOCKET (@name) gets READY=1" wait_until grep -qx READY=1 "$OUT.abstract"
	stop_checked "cgmd exits 0"
	check "... and STOPPING=1" grep -qx STOPPING=1 "$OUT.abstract"
else
	skip "sd_notify checks need socat"
fi

NOTIFY_SOCKET=relative/notify.sock "$CGMD" -f -s "$SOCK" -b "self:$BASE_NAME" 2>>"$LOG" &
DAEMON_PID=$!
check "a NOTIFY_SOCKET cgmd cannot use does not keep it from serving" wait_ping
check "... and is logged" grep -q "NOTIFY_SOCKET .relative/notify.sock. is not an address" "$LOG"
stop_checked "cgmd exits 0"

expect_exit "--pidfile needs an absolute path" 1 "absolute path" \
	"$CGMD" -f -s "$SOCK" -b "self:$BASE_NAME" --pidfile cgmd.pid

# --- the detaching start -------------------------------------------------------------------
PIDFILE=$RUN/detached.pid
"$CGMD" -s "$SOCK" -b "self:$BASE_NAME" --pidfile "$PIDFILE" 2>>"$LOG"
rc=$?
DPID=$(cat "$PIDFILE" 2>/dev/null)
[ -n "$DPID" ] && BG_PIDS+=("$DPID")
check "cgmd detaches and its parent exits 0 (exit $rc)" test "$rc" = 0
check "when the parent has exited, cgmd already answers" "$CGM" ping
check "the pidfile is there and names the serving daemon, not the parent" \
	test -n "$DPID" -a "$(readlink "/proc/$DPID/exe" 2>/dev/null)" = "$(readlink -f "$CGMD")"
"$CGMD" -s "$SOCK" -b "self:$BASE_NAME" --pidfile "$PIDFILE" 2>>"$LOG"
rc=$?
check "a second cgmd on the same socket fails in its child: the parent exits 1 (exit $rc)" test "$rc" = 1
check "... and the pidfile still names the first" test "$(cat "$PIDFILE" 2>/dev/null)" = "$DPID"
check "the first still answers" "$CGM" ping
if [ -n "$DPID" ]; then
	kill -TERM "$DPID"
	check "the detached cgmd stops on SIGTERM" wait_until bash -c "! kill -0 $DPID 2>/dev/null || grep -q '^State:.*Z' /proc/$DPID/status"
fi
check "... and removes its pidfile" test ! -e "$PIDFILE"

# --- a bounding set already cut down by the service manager ---------------------------------
# systemd's CapabilityBoundingSet= (etc/systemd/cgmd.service) leaves cgmd only the
# capabilities it keeps, and no CAP_SETPCAP: cgmd must not try to drop what is already gone.
if command -v setpriv >/dev/null; then
	PIDFILE=$RUN/bounded.pid
	setpriv --bounding-set=-all,+chown,+dac_override,+dac_read_search,+fowner,+kill,+sys_admin,+sys_nice,+sys_ptrace \
		"$CGMD" -s "$SOCK" -b "self:$BASE_NAME" --pidfile "$PIDFILE" 2>>"$LOG"
	rc=$?
	DPID=$(cat "$PIDFILE" 2>/dev/null)
	[ -n "$DPID" ] && BG_PIDS+=("$DPID")
	check "cgmd starts with the unit's bounding set, without CAP_SETPCAP (exit $rc)" test "$rc" = 0
	check "... and answers" "$CGM" ping
	if [ -n "$DPID" ]; then
		kill -TERM "$DPID"
		check "... and stops" wait_until bash -c "! kill -0 $DPID 2>/dev/null || grep -q '^State:.*Z' /proc/$DPID/status"
	fi
fi

# --- cgmd's own cgroup -----------------------------------------------------------------------
# (cgmd's base in the v1 hierarchies of a hybrid host stays below the runner's own cgroups,
# where lib.sh's cleanup finds it: start_in moves the process on cgroup2 only.)
# OWN plays the service's cgroup (systemd's cgmd.service, OpenRC's /sys/fs/cgroup/cgmd): a
# cgroup of the test's own making, below the runner's cgroup; the base is self:$BASE_NAME
# inside it. start_in DIR: start cgmd the way a service manager does, by a process that
# enters DIR and then runs cgmd.
V2MNT=$(awk "$MNT_FSTYPE"' fs == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
if [ -z "$V2MNT" ]; then
	skip "cgmd's own cgroup: no cgroup2 hierarchy"
	finish
	exit
fi
OWN=$(dirname "$(v2_base)")/$TEST_ID-svc
OWN=${OWN//\/\//\/}
LEAF=$OWN/cgmd@daemon
SVC_BASE=$OWN/$BASE_NAME
svc_cleanup() {
	local rc=$? pid tries
	if [ -d "$OWN" ] && [ "${KEEP:-0}" != 1 ]; then
		stop_daemon >/dev/null 2>&1
		for pid in $(find "$OWN" -name cgroup.procs -exec cat {} + 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		for tries in 1 2 3 4 5 6 7 8 9 10; do
			find "$OWN" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$OWN" ] || break
			sleep 0.1
		done
		[ -d "$OWN" ] && diag "could not remove $OWN"
	fi
	(exit "$rc")
	cleanup
}
trap svc_cleanup EXIT
mkdir "$OWN" || { not_ok "the test makes its service cgroup $OWN"; finish; exit 1; }
start_in() {
	local dir=$1; shift
	( echo "$BASHPID" >"$dir/cgroup.procs" || exit 97
	  exec "${vg[@]}" "$CGMD" -f -s "$SOCK" -b "self:$BASE_NAME" "$@" ) 2>>"$LOG" &
	DAEMON_PID=$!
	wait_ping
}
in_cgroup() { grep -qx "0::${2#"$V2MNT"}" "/proc/$1/cgroup"; }
api_home() { "$CGM" whoami | sed -n 's/^home: //p'; }
V2ONLY=""
if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
	V2ONLY="pure cgroup v2 only (run make check-vm)"
elif ! grep -qw memory "$OWN/cgroup.controllers" || ! grep -qw pids "$OWN/cgroup.controllers"; then
	V2ONLY="the runner's cgroup does not enable memory and pids for its children"
fi

if [ -n "$V2ONLY" ]; then
	# A hybrid host (no controllers on its cgroup2 hierarchy): cgmd has nothing to gain and
	# stays where it was started; a cgmd started in its leaf still finds the same base.
	mkdir "$LEAF"
	if start_in "$OWN"; then ok "cgmd starts in $OWN with base self:$BASE_NAME"; else not_ok "cgmd starts in $OWN"; diag "$(tail -n 5 "$LOG")"; fi
	check "with no controller to gain, cgmd stays in $OWN" in_cgroup "$DAEMON_PID" "$OWN"
	check "its base is $OWN/$BASE_NAME" test "$(api_home)" = "${SVC_BASE#"$V2MNT"}"
	stop_checked "cgmd exits 0"
	if start_in "$LEAF"; then ok "cgmd starts in its leaf $LEAF"; else not_ok "cgmd starts in its leaf"; diag "$(tail -n 5 "$LOG")"; fi
	check "started in its leaf, cgmd takes the leaf's parent as its own cgroup: same base" \
		test "$(api_home)" = "${SVC_BASE#"$V2MNT"}"
	stop_checked "cgmd exits 0"
	skip "controllers for a base in cgmd's own cgroup: $V2ONLY"
	finish
	exit
fi

if start_in "$OWN"; then ok "cgmd starts in $OWN with base self:$BASE_NAME"; else
	not_ok "cgmd starts in $OWN"; diag "$(tail -n 5 "$LOG")"; fi
check "cgmd's process moved into its leaf $LEAF" in_cgroup "$DAEMON_PID" "$LEAF"
check "its base is $OWN/$BASE_NAME" test "$(api_home)" = "${SVC_BASE#"$V2MNT"}"
check "cgmd enabled memory and pids in $OWN" bash -c "grep -qw memory '$OWN/cgroup.subtree_control' && grep -qw pids '$OWN/cgroup.subtree_control'"
check "the base has memory.max and pids.max" test -f "$SVC_BASE/memory.max" -a -f "$SVC_BASE/pids.max"
check "a home created below the base gets limits" "$CGM" create user-A memory.max=64M pids.max=5
check "... memory.max is 64M" test "$(cat "$SVC_BASE/user-A/memory.max" 2>/dev/null)" = 67108864
check "... pids.max is 5" test "$(cat "$SVC_BASE/user-A/pids.max" 2>/dev/null)" = 5
check "root creates a session leaf in it" "$CGM" create user-A/s1
FORK_OUT=$(run_in "$UID_A" user-A/s1 "$FORKER" 10 2>&1)
check "the limit bites: 4 forks besides the forker, 6 refused ($FORK_OUT)" test "${FORK_OUT%% error=*}" = "forked=4 failed=6"

# Restart while a session lives below the base.
spawn_as_in SLEEPER "$UID_A" user-A/s1 sleep 600
check "a session process lives in user-A/s1" wait_until in_cgroup "$SLEEPER" "$SVC_BASE/user-A/s1"
stop_checked "cgmd stops with a session below its base${vg:+ (valgrind: no leak, no error)}"
check "the controllers stay: the session's limits need them" grep -qw memory "$OWN/cgroup.subtree_control"
check "the session keeps pids.max=5" test "$(cat "$SVC_BASE/user-A/pids.max")" = 5
check "cgmd logged what a restart now needs" grep -q "stay enabled.*DelegateSubgroup=cgmd@daemon" "$LOG"
expect_exit "the kernel takes no process into $OWN now (EBUSY): a manager that starts cgmd there fails" 1 \
	"Device or resource busy" bash -c "echo \$\$ >'$OWN/cgroup.procs'"
if start_in "$LEAF"; then ok "started in its leaf (DelegateSubgroup=, cgm's init scripts), the next cgmd serves"; else
	not_ok "cgmd starts in its leaf"; diag "$(tail -n 5 "$LOG")"; fi
check "... the same base" test "$(api_home)" = "${SVC_BASE#"$V2MNT"}"
check "... and finds the session's cgroups again" bash -c "'$CGM' ls user-A | grep -Eq '(^|/)s1/?$'"
check "... still in its leaf" in_cgroup "$DAEMON_PID" "$LEAF"

# Restart with an empty base: cgmd gives the controllers back at exit.
kill -KILL "$SLEEPER"
check "the session ends" wait_until bash -c "! grep -qs . '$SVC_BASE/user-A/s1/cgroup.procs'"
check "root removes the session's cgroups" "$CGM" rm -r user-A
stop_checked "cgmd stops with an empty base${vg:+ (valgrind: no leak, no error)}"
check "cgmd disabled the controllers of $OWN again" test -z "$(cat "$OWN/cgroup.subtree_control")"
if start_in "$OWN"; then ok "a service manager starts the next cgmd in $OWN itself"; else
	not_ok "a service manager starts the next cgmd in $OWN"; diag "$(tail -n 5 "$LOG")"; fi
check "... which moves into its leaf again" in_cgroup "$DAEMON_PID" "$LEAF"
check "... and the base has its controllers again" test -f "$SVC_BASE/pids.max"
check "a home gets limits again" "$CGM" create user-B pids.max=7
check "... pids.max is 7" test "$(cat "$SVC_BASE/user-B/pids.max" 2>/dev/null)" = 7

# Another process in the service's cgroup: cgmd moves nobody, not even itself (the kernel would
# refuse the controllers anyway), and says why the base gets none.
"$CGM" rm user-B >/dev/null 2>&1
stop_checked "cgmd exits 0"
( echo "$BASHPID" >"$OWN/cgroup.procs" && exec sleep 600 ) &
OTHER=$!
BG_PIDS+=("$OTHER")
check "another process shares $OWN" wait_until in_cgroup "$OTHER" "$OWN"
if start_in "$OWN"; then ok "cgmd starts beside it"; else not_ok "cgmd starts beside it"; diag "$(tail -n 5 "$LOG")"; fi
check "both stay in $OWN" bash -c "$(declare -f in_cgroup); V2MNT='$V2MNT'; in_cgroup $OTHER '$OWN' && in_cgroup $DAEMON_PID '$OWN'"
check "the base gets no controllers" test ! -e "$SVC_BASE/pids.max"
check "one log line names the other process and what to do" \
	grep -q "holds other processes ($OTHER (.*start cgmd alone in its cgroup" "$LOG"
check "cgmd serves all the same" "$CGM" ping
kill -KILL "$OTHER"

finish
