#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# systemd mode on a host without systemd: cgmd with session_manager = systemd talks to a fake
# org.freedesktop.systemd1 (tests/integration/fake-systemd.c) on a private dbus-daemon, and
# real PAM logins (pam_cgm through tests/pam/pam-session, users and groups from
# libnss-extrausers) go through it. What a login must do in this mode:
#   - the login stays where "logind" put it (here a cgroup the test made, as a stand-in for
#     session-N.scope): nothing is moved, nothing is created below the base;
#   - the user's policy, by user and NSS group, goes to user-UID.slice as SetUnitProperties
#     with runtime=true, before pam_open_session returns;
#   - what systemd has no property for is reported, not applied; a property systemd refuses
#     does not stop the others;
#   - a reload re-applies, and a limit the policy drops is put back to what systemd had;
#   - systemd that does not answer costs a login a bounded wait, never the login.
# The real thing (logind, user@.service, cgroupfs) is tests/guest/check-systemd.sh, in a
# booted Debian guest.
set -uo pipefail
if [ -z "${CGM_TEST_IN_MOUNTNS:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
		echo "1..0 # SKIP needs root and unshare"; exit 0
	fi
	CGM_TEST_IN_MOUNTNS=1 exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
require_root
[ -n "${PAM_CGM:-}" ] && [ -f "$PAM_CGM" ] || skip_all "pam_cgm.so not built (PAM_CGM)"
[ -n "${PAM_SESSION:-}" ] && [ -x "$PAM_SESSION" ] || skip_all "tests/pam/pam-session not built (PAM_SESSION)"
[ -n "${FAKE_SYSTEMD:-}" ] && [ -x "$FAKE_SYSTEMD" ] || skip_all "fake-systemd not built (FAKE_SYSTEMD)"
command -v dbus-daemon >/dev/null || skip_all "needs dbus-daemon"
extrausers=$(ls /usr/lib/libnss_extrausers.so.2 /usr/lib/*/libnss_extrausers.so.2 2>/dev/null | head -n1)
[ -n "$extrausers" ] && [ -d /var/lib/extrausers ] || skip_all "needs libnss-extrausers"
V2=$(v2_base)
[ -n "$V2" ] || skip_all "needs a cgroup2 hierarchy (the stand-in session scope lives there)"

# A sanitizer build of pam_cgm.so needs its runtime preloaded in programs built without it.
ASAN_RT=$(ldd "$PAM_CGM" 2>/dev/null | awk '/libasan|libubsan/ { print $3 }' | paste -sd: -)
run_pam_session() {
	if [ -n "$ASAN_RT" ]; then
		LD_PRELOAD=$ASAN_RT ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 "$PAM_SESSION" "$@"
	else
		"$PAM_SESSION" "$@"
	fi
}

# --- users and groups (extrausers), PAM services ---------------------------------------------------
U_ALICE=61031 U_BOB=61032 U_CAROL=61033 U_DAVE=61034
mkdir -p "$TEST_TMP/extrausers" "$TEST_TMP/pam.d"
{
	echo "alice:x:$U_ALICE:$U_ALICE:Alice:/nonexistent:/bin/sh"
	echo "bob:x:$U_BOB:$U_BOB:Bob:/nonexistent:/bin/sh"
	echo "carol:x:$U_CAROL:$U_CAROL:Carol:/nonexistent:/bin/sh"
	echo "dave:x:$U_DAVE:$U_DAVE:Dave:/nonexistent:/bin/sh"
} >"$TEST_TMP/extrausers/passwd"
{
	for u in alice:$U_ALICE bob:$U_BOB carol:$U_CAROL dave:$U_DAVE; do echo "${u%%:*}:x:${u##*:}:"; done
	echo "sdstudents:x:61131:alice,bob"
	echo "sdlab:x:61132:bob"
} >"$TEST_TMP/extrausers/group"
: >"$TEST_TMP/extrausers/shadow"
chmod 644 "$TEST_TMP/extrausers/passwd" "$TEST_TMP/extrausers/group"
mount --bind "$TEST_TMP/extrausers" /var/lib/extrausers
sed -E 's/^(passwd|group):.*/\1: files extrausers/' /etc/nsswitch.conf >"$TEST_TMP/nsswitch.conf"
mount --bind "$TEST_TMP/nsswitch.conf" /etc/nsswitch.conf
printf 'auth required pam_permit.so\naccount required pam_permit.so\nsession required %s socket=%s timeout=%s\n' \
	"$PAM_CGM" "$SOCK" 5000 >"$TEST_TMP/pam.d/cgm-test"
printf 'auth required pam_permit.so\naccount required pam_permit.so\nsession required %s socket=%s timeout=%s fail=closed\n' \
	"$PAM_CGM" "$SOCK" 2000 >"$TEST_TMP/pam.d/cgm-short"
mount --bind "$TEST_TMP/pam.d" /etc/pam.d

# --- the bus and the fake systemd ------------------------------------------------------------------
BUS=$TEST_TMP/system_bus_socket
cat >"$TEST_TMP/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$BUS</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
dbus-daemon --config-file="$TEST_TMP/bus.conf" --nofork --nopidfile --nosyslog \
	>"$TEST_TMP/bus.log" 2>&1 </dev/null &
BUS_PID=$!; BG_PIDS+=("$BUS_PID")
wait_until test -S "$BUS" || { not_ok "a private bus starts"; finish; exit 1; }
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$BUS"
SDLOG=$TEST_TMP/systemd.log
: >"$SDLOG"
FAKE_PID=""
# start_fake ARGS...: (re)start fake-systemd; alice and bob have slices, carol has none.
start_fake() {
	if [ -n "$FAKE_PID" ]; then kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; fi
	local before
	before=$(grep -c '^READY' "$SDLOG")
	"$FAKE_SYSTEMD" "$DBUS_SYSTEM_BUS_ADDRESS" "$SDLOG" \
		"user-$U_ALICE.slice=TasksMax=4915,MemoryMax=infinity,CPUQuotaPerSecUSec=infinity,CPUQuotaPeriodUSec=infinity" \
		"user-$U_BOB.slice=TasksMax=4915" "user-$U_DAVE.slice" "$@" 2>>"$TEST_TMP/fake.err" &
	FAKE_PID=$!; BG_PIDS+=("$FAKE_PID")
	wait_until bash -c "[ \$(grep -c '^READY' '$SDLOG') -gt $before ]"
}
# lines: how many lines the log has; since N: the lines after line N.
lines() { wc -l <"$SDLOG"; }
since() { tail -n +$(($1 + 1)) "$SDLOG"; }
# cgm's records are files in cgm-systemd/ beside the socket (daemon/systemd.c).
STATE=$TEST_TMP/cgm-systemd
# record UID: cgm's undo record for UID (fails when there is none).
record() { cat "$STATE/undo.$1" 2>/dev/null; }
export SDLOG V2 STATE
export -f lines since record
start_fake || { not_ok "fake-systemd owns org.freedesktop.systemd1"; finish; exit 1; }
ok "fake-systemd owns org.freedesktop.systemd1 on a private bus"

CONF=$TEST_TMP/cgm.conf
write_conf() { # write_conf DEFAULT_LINES STUDENTS_LINES (the students' pids.max on line 7)
	cat >"$CONF" <<-CONF
	session_manager = systemd
	exclude = dave
	nss_timeout_ms = 2000
	[default]
	$1
	[group:sdstudents]
	$2
	[group:sdlab]
	pids.max = 200
	cpu.weight = 50
	memory.oom.group = 1
	CONF
}
write_conf "pids.max = 300" "pids.max = 100
memory.max = 512M
cpu.max = 150%"
start_daemon -c "$CONF" || { not_ok "cgmd starts in systemd mode"; finish; exit 1; }
check "cgmd says it runs in systemd mode" grep -q 'session manager: systemd' "$TEST_TMP/cgmd.log"
# --- the stand-in for logind's session scope -------------------------------------------------------
# pam_systemd would have put the login into user.slice/user-UID.slice/session-N.scope; here a
# cgroup in the test's base plays that part (mkdir directly in cgroupfs, so cgmd sees a
# directory it did not make in its base, and must leave it alone).
SCOPE_DIR=$V2/session-41.scope
mkdir "$SCOPE_DIR"
SCOPE=$(api_base)/session-41.scope


# open_held VAR USER [pam-session options]: a login held open, started inside the stand-in
# scope. Sets SESSION_ID, OPEN_RC, HELD_CGROUP (its cgroup after the open) and VAR (its pid).
HELD_N=0
open_held() {
	local var=$1 user=$2; shift 2
	HELD_N=$((HELD_N + 1))
	HELD_IN=$TEST_TMP/held-$HELD_N.in HELD_LOG=$TEST_TMP/held-$HELD_N.out
	mkfifo "$HELD_IN"
	( echo "$BASHPID" >"$SCOPE_DIR/cgroup.procs" && exec "$PAM_SESSION" "$@" /etc/pam.d cgm-test "$user" ) \
		<"$HELD_IN" >"$HELD_LOG" 2>&1 &
	HELD_PID=$!
	BG_PIDS+=("$HELD_PID")
	exec {HELD_FD}>"$HELD_IN"
	printf -v "$var" '%s' "$HELD_PID"
	wait_until grep -qx ready "$HELD_LOG"
	SESSION_ID=$(sed -n 's/^CGM_SESSION=//p' "$HELD_LOG")
	OPEN_RC=$(sed -n 's/^open=\([0-9]*\).*/\1/p' "$HELD_LOG")
	HELD_CGROUP=$(sed -n 's/^cgroup=0:://p' "$HELD_LOG")
}
# close_held [FD PID LOG]: let a held login close (the last one opened, or the one given);
# HELD_OUT = all it printed.
close_held() {
	local fd=${1:-$HELD_FD} pid=${2:-$HELD_PID} log=${3:-$HELD_LOG}
	echo >&"$fd"
	exec {fd}>&-
	timeout 10 tail --pid="$pid" -f /dev/null
	wait "$pid" 2>/dev/null
	HELD_OUT=$(cat "$log")
}

# --- a login: left in its scope, the policy on its slice ------------------------------------------
n=$(lines)
open_held P alice -e XDG_SESSION_ID=41
ALICE=("$HELD_FD" "$HELD_PID" "$HELD_LOG")
check "pam_open_session succeeds for alice" test "$OPEN_RC" = 0
check "the session is named by logind's id (XDG_SESSION_ID)" test "$SESSION_ID" = 41
check "the login stays in its scope: nothing moved it" test "$HELD_CGROUP" = "$SCOPE"
check "... and it is still there now" bash -c "grep -qx '0::$SCOPE' /proc/$P/cgroup"
check "nothing was created below the base for alice" bash -c "! ls -d '$V2'/user-* 2>/dev/null"
check "before the open returned, cgmd asked for user-$U_ALICE.slice" bash -c "since $n | grep -qx 'GetUnit user-$U_ALICE.slice'"
SET=$(since "$n" | grep "^SET user-$U_ALICE.slice")
check "one SetUnitProperties, runtime=true" bash -c "[ \$(echo '$SET' | wc -l) = 1 ] && echo '$SET' | grep -q ' runtime=1 '"
check "... TasksMax from the group sdstudents (100)" bash -c "echo '$SET' | grep -q ' TasksMax=100\\b'"
check "... MemoryMax from the group (512M)" bash -c "echo '$SET' | grep -q ' MemoryMax=536870912\\b'"
check "... cpu.max 150% as CPUQuotaPerSecUSec=1500000 and the period" \
	bash -c "echo '$SET' | grep -q ' CPUQuotaPerSecUSec=1500000 ' && echo '$SET' | grep -q ' CPUQuotaPeriodUSec=100000\\b'"
check "the values before cgm's first write were read (GetAll)" bash -c "since $n | grep -qx 'GetAll user-$U_ALICE.slice'"
check "cgm sessions lists it, with its scope" bash -c "'$CGM' sessions | grep -- '41' | grep alice | grep -q -- '$SCOPE'"
check "cgm users lists alice with user@$U_ALICE.service" bash -c "'$CGM' users | grep alice | grep -q 'user@$U_ALICE.service'"
check "the audit log has the property and its policy line" \
	grep -qF "action=policy path=\"/user.slice/user-$U_ALICE.slice\" value=\"TasksMax=100 from pids.max=100 ($CONF:7)\" result=ok" "$TEST_TMP/cgmd.log"
# The undo record: what the slice had before cgm wrote (fake-systemd said TasksMax=4915).
check "cgm recorded the values from before its writes" \
	bash -c "record $U_ALICE | grep -qx 'TasksMax=4915' && record $U_ALICE | grep -qx 'MemoryMax=infinity' && record $U_ALICE | grep -qx 'CPUQuotaPerSecUSec=infinity'"
expect_exit "another root process may not close alice's session" 1 "PermissionDenied|only the login that opened" \
	busctl --address="unix:path=$SOCK" call org.cgm /org/cgm/Manager org.cgm.Manager1 CloseSession s 41

# --- whoami, explain, and what cgm refuses in systemd mode -----------------------------------------
check "alice's whoami works (no user@$U_ALICE.service on this host: no home)" \
	bash -c "setpriv --reuid=$U_ALICE --regid=$U_ALICE --clear-groups '$CGM' whoami | grep -qx 'home: (none delegated)'"
expect_exit "alice's cgm create is refused: the tree is systemd --user's" 8 "systemd --user manages.*systemd-run --user" \
	setpriv --reuid=$U_ALICE --regid=$U_ALICE --clear-groups "$CGM" create build memory.max=1G
check "policy explain names the mode" bash -c "'$CGM' policy explain alice | grep -E '^session_manager *= *systemd .*cgm.conf:1'"
check "policy explain resolves by group as in cgm mode" \
	bash -c "'$CGM' policy explain alice | grep -E '^pids.max *= *100 .*cgm.conf:7' && '$CGM' policy explain alice | grep -E '^memory.max *= *536870912 '"

# --- several groups, keys systemd has no property for --------------------------------------------
n=$(lines)
open_held P2 bob -e XDG_SESSION_ID=42
SET=$(since "$n" | grep "^SET user-$U_BOB.slice")
check "bob (sdstudents + sdlab) gets sdlab's TasksMax (the later section wins)" bash -c "echo '$SET' | grep -q ' TasksMax=200\\b'"
check "... and sdlab's CPUWeight" bash -c "echo '$SET' | grep -q ' CPUWeight=50\\b'"
check "memory.oom.group is not sent to systemd" bash -c "! echo '$SET' | grep -qi oom"
check "... and the log says it is not applicable in systemd mode" \
	grep -q 'memory.oom.group=1 .*not applicable in systemd mode' "$TEST_TMP/cgmd.log"
close_held
check "bob's logout closes the session" bash -c "echo '$HELD_OUT' | grep -q '^close=0'"
check "... and cgm forgets it" bash -c "! '$CGM' sessions | grep -qw bob"

# --- no slice, excluded users -----------------------------------------------------------------------
n=$(lines)
open_held P3 carol -e XDG_SESSION_ID=43
check "carol, with no slice in systemd, still logs in" test "$OPEN_RC" = 0
check "... nothing is set for her" bash -c "! since $n | grep -q '^SET user-$U_CAROL'"
check "... and the log says why" grep -q "user-$U_CAROL.slice is not loaded" "$TEST_TMP/cgmd.log"
close_held
n=$(lines)
open_held P3 dave
check "an excluded user logs in with no session" test "$OPEN_RC" = 0 -a -z "$SESSION_ID"
check "... and systemd is not asked" test "$(lines)" = "$n"
close_held

# --- reload: new values, and a dropped limit put back ----------------------------------------------
n=$(lines)
write_conf "pids.max = 300" "pids.max = 150"
check "a reload is accepted" "$CGM" reload
check "the reload sets the new TasksMax (150) on alice's slice" \
	wait_until bash -c "since $n | grep '^SET user-$U_ALICE.slice' | grep -q ' TasksMax=150\\b'"
SET=$(since "$n" | grep "^SET user-$U_ALICE.slice" | tail -n 1)
check "memory.max left the policy: MemoryMax goes back to what systemd had (infinity)" \
	bash -c "echo '$SET' | grep -q ' MemoryMax=infinity\\b'"
check "... and so does the CPU quota" bash -c "echo '$SET' | grep -q ' CPUQuotaPerSecUSec=infinity ' && echo '$SET' | grep -q ' CPUQuotaPeriodUSec=infinity\\b'"
check "... without reading systemd's values again" bash -c "! since $n | grep -q '^GetAll user-$U_ALICE.slice'"
check "the record keeps TasksMax's old value only" bash -c "[ \"\$(record $U_ALICE)\" = 'TasksMax=4915' ]"
n=$(lines)
write_conf "" "memory.max = 512M"
check "a reload that leaves alice no pids.max is accepted" "$CGM" reload
check "TasksMax goes back to systemd's 4915" \
	wait_until bash -c "since $n | grep '^SET user-$U_ALICE.slice' | grep -q ' TasksMax=4915\\b'"
check "... and MemoryMax is set again, its old value read once more" \
	bash -c "since $n | grep '^SET user-$U_ALICE.slice' | grep -q ' MemoryMax=536870912\\b' && since $n | grep -qx 'GetAll user-$U_ALICE.slice'"
check "the record now holds MemoryMax only" bash -c "[ \"\$(record $U_ALICE)\" = 'MemoryMax=infinity' ]"
write_conf "" "pids.max = 100
memory.max = 512M"

# --- a restart: the sessions pam_cgm opened and the undo records are found again -----------------
check "alice's session is recorded beside the socket" \
	bash -c "grep -qx '$U_ALICE [0-9]* [0-9]* $SCOPE' '$STATE/session.41'"
check "... in a directory only root may enter" bash -c "[ \$(stat -c %a:%u '$STATE') = 700:0 ]"
mkdir "$V2/session-77.scope" # empty: a session that ended while cgmd was not running
printf '%s 1 1 %s\n' "$U_BOB" "$(api_base)/session-77.scope" >"$STATE/session.77"
printf '%s 1 1 %s\n' "$U_DAVE" "$SCOPE" >"$STATE/session.79" # dave is excluded
printf 'not a record\n' >"$STATE/session.78"
n=$(lines)
check "cgmd stops with alice logged in${CGM_TEST_VALGRIND:+ (valgrind: no leak, no error)}" stop_daemon
start_daemon -c "$CONF" || { not_ok "cgmd starts again"; finish; exit 1; }
check "the restarted cgmd reads the records: 2 sessions live, 1 ended meanwhile" \
	grep -q 'systemd mode: 2 sessions found again in cgm-systemd; .*(1 ended while cgmd was not running)' "$TEST_TMP/cgmd.log"
check "cgm sessions lists alice's session again, with her name and scope" \
	wait_until bash -c "'$CGM' sessions | grep -qE '^41 +alice +$U_ALICE +$SCOPE '"
check "the excluded user's session is dropped once NSS names him, and its record" \
	wait_until bash -c "[ ! -e '$STATE/session.79' ] && ! '$CGM' sessions | grep -qw dave"
check "the record of the session that ended is gone" test ! -e "$STATE/session.77"
check "... and so is the one cgm did not write" test ! -e "$STATE/session.78"
check "the policy goes to alice's slice again (TasksMax=100)" \
	wait_until bash -c "since $n | grep '^SET user-$U_ALICE.slice' | grep -q ' TasksMax=100\\b'"
check "... and the value MemoryMax had before cgm is still the recorded one, not cgm's own" \
	bash -c "record $U_ALICE | grep -qx 'MemoryMax=infinity' && record $U_ALICE | grep -qx 'TasksMax=4915'"
check "nothing is set for the excluded user" bash -c "! since $n | grep -q 'user-$U_DAVE.slice'"
rmdir "$V2/session-77.scope"

# --- a property systemd refuses does not stop the others -------------------------------------------
start_fake --reject MemoryMax || not_ok "fake-systemd restarts"
n=$(lines)
"$CGM" reload >/dev/null
check "with MemoryMax refused, TasksMax is still set, alone" \
	wait_until bash -c "since $n | grep -q '^SET user-$U_ALICE.slice runtime=1 TasksMax=100\$'"
check "... and the refusal is logged" wait_until grep -q 'systemd did not set MemoryMax=536870912 on user-'"$U_ALICE"'.slice' "$TEST_TMP/cgmd.log"
close_held "${ALICE[@]}"
check "alice's logout closes the session" bash -c "echo '$HELD_OUT' | grep -q '^close=0'"
check "no session is left" bash -c "[ \"\$('$CGM' --json sessions)\" = '[]' ]"
check "the base holds nothing cgm made" bash -c "[ -z \"\$(find '$V2' -mindepth 1 -type d ! -path '$SCOPE_DIR')\" ]"

# --- systemd that does not answer ------------------------------------------------------------------
start_fake --hang || not_ok "fake-systemd restarts"
start=$(date +%s%N)
open_held P alice -e XDG_SESSION_ID=44 -s
took=$((($(date +%s%N) - start) / 1000000))
check "with systemd hung, alice still logs in (fail=closed or not)" test "$OPEN_RC" = 0
check "... after a bounded wait (took ${took} ms; cgmd waits at most 1500)" test "$took" -lt 4000
check "... and cgmd says the limits follow later" grep -q 'systemd has not set the limits of user-'"$U_ALICE"'.slice yet' "$TEST_TMP/cgmd.log"
check "cgmd still serves others meanwhile" "$CGM" ping
start=$(date +%s%N)
out=$(run_pam_session /etc/pam.d cgm-short alice </dev/null 2>&1)
took=$((($(date +%s%N) - start) / 1000000))
check "a fail=closed login with a 2 s timeout is let in too (took ${took} ms)" bash -c "echo '$out' | grep -q '^open=0' && [ $took -lt 2000 ]"
WAIT_TENTHS=100
check "the hung apply fails after cgmd's bound (5 s) and is logged" \
	wait_until grep -q "cannot set the limits of user-$U_ALICE.slice through systemd: systemd did not answer" "$TEST_TMP/cgmd.log"
WAIT_TENTHS=50
start_fake || not_ok "fake-systemd restarts"
n=$(lines)
"$CGM" reload >/dev/null
check "once systemd answers again, a reload sets alice's limits" \
	wait_until bash -c "since $n | grep -q '^SET user-$U_ALICE.slice'"
close_held

finish
