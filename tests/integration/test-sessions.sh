#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Login sessions end to end: real PAM stacks with pam_cgm (pamtester and a small PAM
# application), users and groups from libnss-extrausers (an NSS module other than files),
# the policy by user and group, the lifecycle across logouts and daemon SIGKILLs, reloads,
# fail=open/closed, and 1,000 logins that leave nothing behind.
#
# The host's /etc stays untouched: the test re-runs itself in a private mount namespace and
# bind-mounts its own nsswitch.conf, pam.d and extrausers database there. (Group names are
# ones Debian does not ship: "files" comes first and would win.)
set -uo pipefail
if [ -z "${CGM_TEST_IN_MOUNTNS:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
		echo "1..0 # SKIP needs root and unshare"; exit 0
	fi
	CGM_TEST_IN_MOUNTNS=1 exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
require_root
require_pam_extrausers
[ -n "${PAM_SESSION:-}" ] && [ -x "$PAM_SESSION" ] || skip_all "tests/pam/pam-session not built (PAM_SESSION)"

# --- a private world: users and groups from extrausers, our own PAM services ------------------
U_ALICE=61011 U_BOB=61012 U_CAROL=61013 U_DAVE=61014 U_ERIN=61015 U_FRANK=61016
mkdir -p "$TEST_TMP/extrausers" "$TEST_TMP/pam.d"
{
	echo "alice:x:$U_ALICE:$U_ALICE:Alice:/nonexistent:/bin/sh"
	echo "bob:x:$U_BOB:$U_BOB:Bob:/nonexistent:/bin/sh"
	echo "carol:x:$U_CAROL:$U_CAROL:Carol:/nonexistent:/bin/sh"
	echo "dave:x:$U_DAVE:$U_DAVE:Dave:/nonexistent:/bin/sh"
	echo "erin:x:$U_ERIN:$U_ERIN:Erin:/nonexistent:/bin/sh"
	echo "frank:x:$U_FRANK:$U_FRANK:Frank:/nonexistent:/bin/sh"
} >"$TEST_TMP/extrausers/passwd"
{
	for u in alice:$U_ALICE bob:$U_BOB carol:$U_CAROL dave:$U_DAVE erin:$U_ERIN frank:$U_FRANK; do echo "${u%%:*}:x:${u##*:}:"; done
	echo "students:x:61101:alice,bob"
	echo "lab:x:61102:bob"
} >"$TEST_TMP/extrausers/group"
: >"$TEST_TMP/extrausers/shadow"
chmod 644 "$TEST_TMP/extrausers/passwd" "$TEST_TMP/extrausers/group"
mount --bind "$TEST_TMP/extrausers" /var/lib/extrausers
sed -E 's/^(passwd|group):.*/\1: files extrausers/' /etc/nsswitch.conf >"$TEST_TMP/nsswitch.conf"
mount --bind "$TEST_TMP/nsswitch.conf" /etc/nsswitch.conf

service() { # service NAME OPTIONS...: a PAM service whose session stack is pam_cgm
	local name=$1; shift
	printf 'auth required pam_permit.so\naccount required pam_permit.so\nsession required %s %s\n' \
		"$PAM_CGM" "$*" >"$TEST_TMP/pam.d/$name"
}
service cgm-test "socket=$SOCK timeout=5000"
service cgm-dead-open "socket=$TEST_TMP/nothing.sock timeout=500 fail=open"
service cgm-dead-closed "socket=$TEST_TMP/nothing.sock timeout=500 fail=closed"
service cgm-hung-open "socket=$TEST_TMP/hung.sock timeout=500 fail=open"
service cgm-hung-closed "socket=$TEST_TMP/hung.sock timeout=500 fail=closed"
service cgm-fast "socket=$SOCK timeout=1000 fail=open"
service cgm-short "socket=$SOCK timeout=300 fail=open"
mount --bind "$TEST_TMP/pam.d" /etc/pam.d

check "NSS sees alice through extrausers" bash -c "getent passwd alice | grep -q ':$U_ALICE:'"
check "NSS puts bob in students and lab" bash -c "id -nG bob | tr ' ' '\n' | grep -qx lab && id -nG bob | tr ' ' '\n' | grep -qx students"

CONF=$TEST_TMP/cgm.conf
# home_grace_ms = 0: a home goes as soon as its last session is gone, which is what the checks
# below wait for (the grace itself is test-linger.sh's). It takes the place of a comment line, so
# the FILE:LINE the checks expect stay as they were.
write_conf() { # write_conf KILL_ON_LOGOUT STUDENTS_PIDS
	cat >"$CONF" <<-CONF
	home_grace_ms = 0
	kill_on_logout = $1
	linger = erin
	exclude = dave
	max_cgroups_per_user = 77
	nss_timeout_ms = 1000
	admin_group = lab
	[default]
	pids.max = 300
	memory.max = 1G
	[group:students]
	pids.max = $2
	memory.max = 512M
	[group:lab]
	pids.max = 200
	[user:carol]
	pids.max = 50
	CONF
}
write_conf no 100
start_daemon -c "$CONF" || { not_ok "cgmd starts with the test policy"; finish; exit 1; }
ok "cgmd starts with the test policy"
API_BASE=$("$CGM" whoami | sed -n 's/^home: //p')
PIDS=$(ctl_base pids)
MEM=$(ctl_base memory)
memmax_file() { if [ -f "$1/memory.max" ]; then echo "$1/memory.max"; else echo "$1/memory.limit_in_bytes"; fi; }

# --- a login through pamtester ---------------------------------------------------------------
check "pamtester opens and closes a session for alice" pamtester cgm-test alice open_session close_session
check "after that login nothing of alice is left" wait_until test ! -d "$PIDS/user-$U_ALICE"

# --- a login held open: where it lands, what it gets ------------------------------------------
# open_held VAR USER [pam-session options...]: a login held open. tests/pam/pam-session opens
# a session, prints what it got and waits for a line on its stdin (a FIFO here) before it
# closes the session; its output goes to a file. Sets SESSION_ID, OPEN_RC and VAR (its pid).
HELD_N=0
open_held() {
	local var=$1 user=$2; shift 2
	HELD_N=$((HELD_N + 1))
	HELD_IN=$TEST_TMP/held-$HELD_N.in HELD_LOG=$TEST_TMP/held-$HELD_N.out
	mkfifo "$HELD_IN"
	"$PAM_SESSION" "$@" /etc/pam.d cgm-test "$user" <"$HELD_IN" >"$HELD_LOG" 2>&1 &
	HELD_PID=$!
	BG_PIDS+=("$HELD_PID")
	exec {HELD_FD}>"$HELD_IN" # keeps the FIFO open: the program waits until we write
	printf -v "$var" '%s' "$HELD_PID"
	wait_until grep -qx ready "$HELD_LOG"
	SESSION_ID=$(sed -n 's/^CGM_SESSION=//p' "$HELD_LOG")
	OPEN_RC=$(sed -n 's/^open=\([0-9]*\).*/\1/p' "$HELD_LOG")
}
close_held() { # let the held login close; HELD_OUT = all it printed
	echo >&"$HELD_FD"
	exec {HELD_FD}>&-
	timeout 10 tail --pid="$HELD_PID" -f /dev/null
	wait "$HELD_PID" 2>/dev/null
	HELD_OUT=$(cat "$HELD_LOG")
}

open_held P alice
check "pam_open_session succeeds for alice" test "$OPEN_RC" = 0
check "alice's session has an id (CGM_SESSION)" test -n "$SESSION_ID"
LEAF=user-$U_ALICE/session-$SESSION_ID
check "the PAM process sits in <base>/user-UID/session-ID" bash -c "grep -qx $P '$PIDS/$LEAF/cgroup.procs'"
# CloseSession is root's, but the id may come from the PAM environment, which some stacks let
# users set: only the process that opened a session (or one inside it) may close it.
expect_exit "another root process may not close alice's session" 1 "PermissionDenied|only the login that opened" \
	busctl --address="unix:path=$SOCK" call org.cgm /org/cgm/Manager org.cgm.Manager1 CloseSession s "$SESSION_ID"
check "... and the session is still there" bash -c "'$CGM' sessions | grep -q -- '$SESSION_ID'"
check "... with its PAM process in its leaf" bash -c "grep -qx $P '$PIDS/$LEAF/cgroup.procs'"
check "alice's home has the students group's pids.max" test "$(cat "$PIDS/user-$U_ALICE/pids.max")" = 100
check "alice's home has the students group's memory limit" test "$(cat "$(memmax_file "$MEM/user-$U_ALICE")")" = 536870912
V2=$(v2_base)
if [ -n "$V2" ]; then
	check "v2: the leaf is delegated to alice" test "$(stat -c %u "$V2/$LEAF/cgroup.procs")" = "$U_ALICE"
	check "v2: the home's cgroup.max.descendants comes from max_cgroups_per_user" test "$(cat "$V2/user-$U_ALICE/cgroup.max.descendants")" = 77
fi
check "cgm sessions lists it" bash -c "'$CGM' sessions | grep -q '$SESSION_ID.*alice'"
check "cgm users lists alice" bash -c "'$CGM' users | grep -q 'alice'"
check "alice sees her home and its limits" bash -c "setpriv --reuid=$U_ALICE --regid=$U_ALICE --clear-groups '$CGM' whoami | grep -q 'pids.max=100'"
close_held
check "closing reports success" bash -c "echo '$HELD_OUT' | grep -q '^close=0'"
check "the leaf is removed once the login ends" wait_until test ! -d "$PIDS/$LEAF"
check "the home is removed after its last session" wait_until test ! -d "$PIDS/user-$U_ALICE"

# --- precedence and explain ----------------------------------------------------------------------
open_held P bob
check "bob (students + lab) gets lab's pids.max: the later section wins" test "$(cat "$PIDS/user-$U_BOB/pids.max")" = 200
check "bob keeps students' memory limit, which lab does not set" test "$(cat "$(memmax_file "$MEM/user-$U_BOB")")" = 536870912
close_held
check "explain names the file:line of each value for bob" bash -c "'$CGM' policy explain bob | grep -E '^pids.max *= *200 .*cgm.conf:15' && '$CGM' policy explain bob | grep -E '^memory.max .*cgm.conf:13'"
check "explain for carol: the user section wins" bash -c "'$CGM' policy explain carol | grep -E '^pids.max *= *50 .*cgm.conf:17'"
check "explain shows the groups NSS gave" bash -c "'$CGM' policy explain bob | grep -E '^groups:.*students' "
check "cgm policy check accepts the file" "$CGM" policy check "$CONF"
check "bob, in the admin group (lab), may list sessions and users" \
	bash -c "setpriv --reuid=$U_BOB --regid=$U_BOB --init-groups '$CGM' sessions && setpriv --reuid=$U_BOB --regid=$U_BOB --init-groups '$CGM' users"
expect_exit "alice, not in the admin group, may not" 3 "admin" \
	setpriv --reuid=$U_ALICE --regid=$U_ALICE --init-groups "$CGM" sessions
expect_exit "nor may she ask for another user's policy" 3 "admin" \
	setpriv --reuid=$U_ALICE --regid=$U_ALICE --init-groups "$CGM" policy explain bob

# --- excluded users, XDG session ids ---------------------------------------------------------------
open_held P dave
check "an excluded user gets no session" test -z "$SESSION_ID"
check "and no home" test ! -d "$PIDS/user-$U_DAVE"
close_held
open_held P carol -e XDG_SESSION_ID=77
check "the leaf is named after XDG_SESSION_ID" test "$SESSION_ID" = 77
close_held
check "carol's leaf goes after logout" wait_until test ! -d "$PIDS/user-$U_CAROL/session-77"

# --- lingering users keep their home ---------------------------------------------------------------
check "erin logs in and out" pamtester cgm-test erin open_session close_session
check "erin's leaf is gone" wait_until bash -c "! ls -d '$PIDS/user-$U_ERIN'/session-* 2>/dev/null"
check "erin lingers: her home stays" test -d "$PIDS/user-$U_ERIN"
check "root removes erin's home" "$CGM" rm -r "user-$U_ERIN"

# --- a home root made by hand is root's: logins use it, policy and cleanup leave it alone ----------
# (frank is in no group: the policy gives him [default], pids.max 300 and memory.max 1G.)
check "root makes homeB with limits of its own" "$CGM" create homeB memory.max=48M pids.max=30
check "root delegates homeB to frank" "$CGM" chown homeB "$U_FRANK"
check "root makes homeB/session-99 by hand" "$CGM" create homeB/session-99
open_held P frank -e XDG_SESSION_ID=99
LEAF=homeB/session-$SESSION_ID
check "frank's login lands in his home homeB" bash -c "grep -qx $P '$PIDS/$LEAF/cgroup.procs'"
check "... in a leaf of its own, not in root's homeB/session-99 (got session-$SESSION_ID)" test "$SESSION_ID" != 99
check "no user-$U_FRANK is made for him" test ! -e "$PIDS/user-$U_FRANK"
check "the login leaves root's pids.max on homeB (30, not the policy's 300)" test "$(cat "$PIDS/homeB/pids.max")" = 30
check "... and root's memory limit (48M, not the policy's 1G)" test "$(cat "$(memmax_file "$MEM/homeB")")" = 50331648
close_held
check "frank's leaf goes after his logout" wait_until test ! -d "$PIDS/$LEAF"
"$CGM" ping >/dev/null # the daemon has finished the cleanup that removed the leaf
check "homeB outlives frank's last session" test -d "$PIDS/homeB"
check "root's homeB/session-99 is left alone" test -d "$PIDS/homeB/session-99"
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=""
start_daemon -c "$CONF" || not_ok "cgmd restarts"
check "homeB outlives a daemon restart" test -d "$PIDS/homeB"
check "... still frank's home" bash -c "'$CGM' users | grep -q '$U_FRANK.*/homeB'"
check "... still with root's pids.max" test "$(cat "$PIDS/homeB/pids.max")" = 30
check "root removes homeB" "$CGM" rm -r homeB
open_held P frank
LEAF=user-$U_FRANK/session-$SESSION_ID
check "frank's next login gets a fresh user-$U_FRANK" bash -c "grep -qx $P '$PIDS/$LEAF/cgroup.procs'"
check "... with the policy's pids.max (300) only" test "$(cat "$PIDS/user-$U_FRANK/pids.max")" = 300
check "... and the policy's memory.max (1G)" test "$(cat "$(memmax_file "$MEM/user-$U_FRANK")")" = 1073741824
close_held
check "the home that login made goes with its last session" wait_until test ! -d "$PIDS/user-$U_FRANK"
open_held P frank
LEAF=user-$U_FRANK/session-$SESSION_ID
check "root delegates frank's login-made home again with chown: it becomes root's" "$CGM" chown "user-$U_FRANK" "$U_FRANK"
close_held
check "the leaf goes after the logout" wait_until test ! -d "$PIDS/$LEAF"
"$CGM" ping >/dev/null
check "the home root delegated stays after the last session" test -d "$PIDS/user-$U_FRANK"
check "root removes it" "$CGM" rm -r "user-$U_FRANK"

# --- SIGKILL mid-session: cleanup still happens ----------------------------------------------------
open_held P alice
LEAF=user-$U_ALICE/session-$SESSION_ID
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=""
close_held
check "with cgmd killed, the logout still succeeds (fail=open)" bash -c "echo '$HELD_OUT' | grep -q '^close=0'"
check "the leaf outlived the dead daemon" test -d "$PIDS/$LEAF"
start_daemon -c "$CONF" || not_ok "cgmd restarts"
check "after the restart the empty leaf is removed" wait_until test ! -d "$PIDS/$LEAF"
check "and alice's home" wait_until test ! -d "$PIDS/user-$U_ALICE"

# A process that outlives its logout, and a daemon killed in between.
open_held P carol
LEAF=user-$U_CAROL/session-$SESSION_ID
sleep 600 </dev/null >/dev/null 2>&1 & STRAY=$!; BG_PIDS+=("$STRAY")
check "a process of the session is still running" "$CGM" move "$LEAF" "$STRAY"
close_held
check "after logout the leaf stays while it has processes" test -d "$PIDS/$LEAF"
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=""
start_daemon -c "$CONF" || not_ok "cgmd restarts"
check "the restarted daemon still knows the session" bash -c "'$CGM' sessions | grep -q '$SESSION_ID'"
kill -KILL "$STRAY"; wait "$STRAY" 2>/dev/null
check "the leaf is removed when its last process exits, long after logout" wait_until test ! -d "$PIDS/$LEAF"
check "and carol's home with it" wait_until test ! -d "$PIDS/user-$U_CAROL"

# --- reload ----------------------------------------------------------------------------------------
open_held P alice
cp "$CONF" "$CONF.good"
printf '[default]\nmemory.max = lots\n' >>"$CONF"
expect_exit "a bad reload is refused with file:line" 5 "cgm.conf:1[0-9]:" "$CGM" reload
check "the old policy stays in force" bash -c "'$CGM' policy explain alice | grep -E '^pids.max *= *100 '"
write_conf yes 150
check "a good reload is accepted" "$CGM" reload
check "a good reload re-applies limits to logged-in users" wait_until bash -c "test \"\$(cat '$PIDS/user-$U_ALICE/pids.max')\" = 150"
sleep 600 </dev/null >/dev/null 2>&1 & STRAY=$!; BG_PIDS+=("$STRAY")
"$CGM" move "user-$U_ALICE/session-$SESSION_ID" "$STRAY" >/dev/null
close_held
check "kill_on_logout kills the session's processes" wait_until bash -c "! kill -0 $STRAY 2>/dev/null"
wait "$STRAY" 2>/dev/null
check "and the leaf goes" wait_until test ! -d "$PIDS/user-$U_ALICE/session-$SESSION_ID"
kill -HUP "$DAEMON_PID"
check "SIGHUP reloads too (the daemon keeps serving)" "$CGM" ping

# --- fail=open / fail=closed, daemon absent or hung ---------------------------------------------------
check "fail=open with no daemon lets alice in" pamtester cgm-dead-open alice open_session
expect_exit "fail=closed with no daemon refuses alice" 1 "" pamtester cgm-dead-closed alice open_session
check "fail=closed never locks root out" pamtester cgm-dead-closed root open_session
socat UNIX-LISTEN:"$TEST_TMP/hung.sock",fork EXEC:"sleep 60" </dev/null >/dev/null 2>&1 & HUNG=$!; BG_PIDS+=("$HUNG")
wait_until test -S "$TEST_TMP/hung.sock"
start=$(date +%s%N)
check "fail=open with a hung daemon lets alice in" pamtester cgm-hung-open alice open_session
took=$((($(date +%s%N) - start) / 1000000))
check "... within the timeout (took ${took} ms, timeout 500)" test "$took" -lt 3000
start=$(date +%s%N)
expect_exit "fail=closed with a hung daemon refuses alice" 1 "" pamtester cgm-hung-closed alice open_session
took=$((($(date +%s%N) - start) / 1000000))
check "... within the timeout (took ${took} ms)" test "$took" -lt 3000
kill "$HUNG"; wait "$HUNG" 2>/dev/null

# --- an NSS lookup that hangs never stalls other clients -------------------------------------------
# The directory "hangs": the extrausers passwd file becomes a FIFO that nobody writes, so any
# getpwnam() that reaches it blocks. OpenSession is called with busctl, which itself does no
# NSS lookup (pam_cgm, like every PAM module, looks the user up in the login process first).
mv "$TEST_TMP/extrausers/passwd" "$TEST_TMP/passwd.saved"
mkfifo "$TEST_TMP/extrausers/passwd"
start=$(date +%s%N)
busctl --address="unix:path=$SOCK" --timeout=20 call org.cgm /org/cgm/Manager org.cgm.Manager1 \
	OpenSession 'sa{ss}' bob 0 >"$TEST_TMP/hang.out" 2>&1 &
HANGER=$!; BG_PIDS+=("$HANGER")
sleep 0.2 # let the request reach a worker; the checks below do not depend on it
check "while that lookup hangs, cgmd answers others" "$CGM" ls
took=$((($(date +%s%N) - start) / 1000000))
check "... at once (took ${took} ms since the hung request)" test "$took" -lt 2000
timeout 20 tail --pid="$HANGER" -f /dev/null
took=$((($(date +%s%N) - start) / 1000000))
check "the hung OpenSession fails with Busy after nss_timeout_ms" grep -q 'org.cgm.Error.Busy\|did not finish' "$TEST_TMP/hang.out"
check "... in time (took ${took} ms, nss_timeout_ms 1000)" test "$took" -lt 5000
# The directory recovers: the blocked worker gets its answer, the database comes back.
timeout 5 cp "$TEST_TMP/passwd.saved" "$TEST_TMP/extrausers/passwd"

# A login that gave up is never moved afterwards: the caller closes its connection while NSS
# hangs, then NSS answers (well before nss_timeout_ms); cgmd must not make a session nobody
# knows of. busctl waits 300 ms for the reply, then exits.
busctl --address="unix:path=$SOCK" --timeout=0.3 call org.cgm /org/cgm/Manager org.cgm.Manager1 \
	OpenSession 'sa{ss}' bob 0 >"$TEST_TMP/gaveup.out" 2>&1
check "a caller that stops waiting gets no answer in time" grep -qi 'timed out\|timeout' "$TEST_TMP/gaveup.out"
timeout 5 cp "$TEST_TMP/passwd.saved" "$TEST_TMP/extrausers/passwd" # NSS answers now
check "cgmd notices that the caller gave up, and does nothing" \
	wait_until grep -q 'action=OpenSession .*caller gave up' "$TEST_TMP/cgmd.log"
check "... no session was made for bob" bash -c "! '$CGM' sessions | grep -qw bob"
check "... and bob has no home" test ! -d "$PIDS/user-$U_BOB"

# The same with pam_cgm, whose timeout_ms lets cgmd stop at the module's own deadline.
start=$(date +%s%N)
check "pam_cgm with fail=open gives up within its timeout" pamtester cgm-short bob open_session
took=$((($(date +%s%N) - start) / 1000000))
check "... in time (took ${took} ms, timeout=300)" test "$took" -lt 1500
check "cgmd stops at the caller's deadline and says so" \
	wait_until grep -q 'within the [0-9]* ms the caller allowed' "$TEST_TMP/cgmd.log"
timeout 5 cp "$TEST_TMP/passwd.saved" "$TEST_TMP/extrausers/passwd" # NSS answers now
check "... and no session was made for bob" bash -c "! '$CGM' sessions | grep -qw bob"
rm -f "$TEST_TMP/extrausers/passwd"; cp "$TEST_TMP/passwd.saved" "$TEST_TMP/extrausers/passwd"
check "after the directory recovers, logins work again" pamtester cgm-test bob open_session close_session

# --- 1,000 logins leave nothing behind ------------------------------------------------------------
write_conf no 100
"$CGM" reload >/dev/null
fails=0
for ((i = 0; i < ${CGM_TEST_LOGINS:-1000}; i++)); do
	pamtester cgm-test alice open_session close_session >/dev/null 2>&1 || fails=$((fails + 1))
done
check "1,000 logins and logouts succeed" test "$fails" = 0
check "they leave no session behind" wait_until bash -c "test -z \"\$('$CGM' sessions | tail -n +2)\""
DIRS=$(base_dirs | tr '\n' ' ')
check "they leave no cgroup behind" wait_until bash -c "test -z \"\$(find $DIRS -mindepth 1 -type d)\""
finish
