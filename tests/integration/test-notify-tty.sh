#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The OOM notice on a login's terminal (daemon/notify-tty.c): logins through pam_cgm held open
# on ptys the test allocates (ptyrun), a real OOM kill in the session (memhog above the
# home's memory.max of the policy) -> exactly one line on that pty, naming the process, its
# cgroup and the limit; nothing on a pty owned by another uid, for a tty that is no terminal
# name (":0", "ssh", "../"), for oom_notice = no by user or by group, for a symlink, a plain
# file or a FIFO where the terminal should be; one line per 10 s per session, the kills in
# between counted into the next; a daemon restart (SIGKILL) keeps the terminal.
#
# Runs on the hybrid host (memory on v1: oom_control through cgroup.event_control) and in the
# pure v2 guest (memory.events). The host's /etc stays untouched: a private mount namespace
# with our own nsswitch.conf, pam.d and extrausers database, as in test-sessions.sh.
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
: "${FORKER:?set FORKER to the forker helper}"
PTYRUN=${PTYRUN:-$(dirname "$FORKER")/ptyrun}
MEMHOG=${MEMHOG:-$(dirname "$FORKER")/memhog}
[ -x "$PTYRUN" ] || skip_all "tests/integration/ptyrun not built"
[ -x "$MEMHOG" ] || skip_all "tests/integration/memhog not built"
[ -w /dev/kmsg ] || diag "no /dev/kmsg: the notices will not name the process"
chmod o+x "$(dirname "$MEMHOG")" 2>/dev/null

U_ALICE=61021 U_BOB=61022 U_CAROL=61023
mkdir -p "$TEST_TMP/extrausers" "$TEST_TMP/pam.d"
{
	echo "alice:x:$U_ALICE:$U_ALICE:Alice:/nonexistent:/bin/sh"
	echo "bob:x:$U_BOB:$U_BOB:Bob:/nonexistent:/bin/sh"
	echo "carol:x:$U_CAROL:$U_CAROL:Carol:/nonexistent:/bin/sh"
} >"$TEST_TMP/extrausers/passwd"
{
	echo "alice:x:$U_ALICE:"; echo "bob:x:$U_BOB:"; echo "carol:x:$U_CAROL:"
	echo "quietlab:x:61121:bob"
} >"$TEST_TMP/extrausers/group"
: >"$TEST_TMP/extrausers/shadow"
chmod 644 "$TEST_TMP/extrausers/passwd" "$TEST_TMP/extrausers/group"
mount --bind "$TEST_TMP/extrausers" /var/lib/extrausers
sed -E 's/^(passwd|group):.*/\1: files extrausers/' /etc/nsswitch.conf >"$TEST_TMP/nsswitch.conf"
mount --bind "$TEST_TMP/nsswitch.conf" /etc/nsswitch.conf
printf 'auth required pam_permit.so\naccount required pam_permit.so\nsession required %s socket=%s timeout=5000\n' \
	"$PAM_CGM" "$SOCK" >"$TEST_TMP/pam.d/cgm-tty"
mount --bind "$TEST_TMP/pam.d" /etc/pam.d

CONF=$TEST_TMP/cgm.conf
cat >"$CONF" <<-CONF
	home_grace_ms = 0
	[default]
	memory.max = 32M
	[group:quietlab]
	oom_notice = no
	[user:carol]
	oom_notice = no
CONF
start_daemon -d -c "$CONF" || { not_ok "cgmd starts"; finish; exit 1; }
ok "cgmd starts with a policy of memory.max = 32M"
API_BASE=$("$CGM" whoami | sed -n 's/^home: //p')
check "ExplainPolicy shows oom_notice = no for bob, from his group's section" \
	bash -c "'$CGM' policy explain bob 2>&1 | grep -E 'oom_notice.*no.*cgm.conf:5'"
check "... and yes for alice, by default" bash -c "'$CGM' policy explain alice 2>&1 | grep -E 'oom_notice.*yes'"

# login NAME USER OWNER [TTY]: a login of USER held open on a new pty owned by OWNER ("" for
# root, as the pty stays when nobody chowns it), with PAM_TTY = the pty (or TTY). Sets
# SID_<NAME> (the session id), TTY_<NAME> (the pty, /dev/pts/N); the pty's output goes to
# $TEST_TMP/NAME.pty, pam-session's own to NAME.log.
declare -A SID PTY FD PID
login() {
	local n=$1 user=$2 owner=$3 tty=${4:-} fd
	# A name used again (the loop over PAM_TTY values) must not find the last login's files:
	# its "ready" would end the wait below, before this login truncates them, and the checks
	# would read the last session's id.
	rm -f "$TEST_TMP/$n".{in,log,name,pty}
	mkfifo "$TEST_TMP/$n.in"
	"$PTYRUN" ${owner:+--owner "$owner"} "$TEST_TMP/$n.pty" -- bash -c \
		'echo "$PTYRUN_TTY" >"$6"; printf "\$ "; exec "$1" -t "${2:-$PTYRUN_TTY}" /etc/pam.d cgm-tty "$3" <"$4" >"$5" 2>&1' \
		_ "$PAM_SESSION" "$tty" "$user" "$TEST_TMP/$n.in" "$TEST_TMP/$n.log" "$TEST_TMP/$n.name" \
		>/dev/null 2>>"$TEST_TMP/ptyrun.err" &
	PID[$n]=$!
	BG_PIDS+=("$!")
	exec {fd}>"$TEST_TMP/$n.in"
	FD[$n]=$fd
	wait_until grep -qx ready "$TEST_TMP/$n.log"
	SID[$n]=$(sed -n 's/^CGM_SESSION=//p' "$TEST_TMP/$n.log")
	PTY[$n]=$(cat "$TEST_TMP/$n.name")
}
logout() {
	local n=$1
	echo >&"${FD[$n]}"
	exec {FD[$n]}>&-
	timeout 10 tail --pid="${PID[$n]}" -f /dev/null
	wait "${PID[$n]}" 2>/dev/null
}
leaf() { echo "user-$2/session-${SID[$1]}"; } # leaf NAME UID: the session's cgroup below the base
# leaf_tty NAME UID: the trusted.cgm.tty of the session's leaf, in whichever hierarchy has it.
leaf_tty() {
	local d
	for d in $(base_dirs); do
		python3 -c 'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], "trusted.cgm.tty").decode())' \
			"$d/$(leaf "$1" "$2")" 2>/dev/null && return 0
	done
}
# oom NAME UID: memhog as UID in the session's leaf, OOM-killed (exit 137); OOM_PID its pid.
oom() {
	local rc
	( "$CGM" move "$(leaf "$1" "$2")" "$BASHPID" >/dev/null || exit 97
	  exec setpriv --reuid="$2" --regid="$2" --clear-groups --inh-caps=-all -- "$MEMHOG" 64 ) \
		>"$TEST_TMP/memhog.out" 2>&1 &
	OOM_PID=$!
	wait "$OOM_PID"; rc=$?
	[ "$rc" = 137 ] || diag "memhog exited $rc: $(cat "$TEST_TMP/memhog.out")"
	[ "$rc" = 137 ]
}
# handled NAME PATTERN: cgmd logged (debug) PATTERN for the session: it has seen the kill and
# decided, so a pty that is still empty then stays empty.
handled() {
	wait_until grep -Eq "session ${SID[$1]}[: ].*$2" "$TEST_TMP/cgmd.log" && return 0
	grep -E "session ${SID[$1]}" "$TEST_TMP/cgmd.log" | tail -n 5 >&2
	return 1
}
notices() { grep -ac "cgm: the kernel killed" "$TEST_TMP/$1.pty" 2>/dev/null; }
has_notices() { test "$(notices "$1")" = "$2"; } # has_notices NAME N: N lines on NAME's pty

# --- alice on her own pty: the line ----------------------------------------------------------
login a1 alice "$U_ALICE"
check "alice logs in on her pty (PAM_TTY = ${PTY[a1]})" test -n "${SID[a1]}"
check "cgmd listens for OOM kills of the session, for ${PTY[a1]#/dev/}" handled a1 "OOM notices go to .${PTY[a1]#/dev/}."
if command -v python3 >/dev/null; then
	check "the leaf keeps the terminal as trusted.cgm.tty" test "$(leaf_tty a1 "$U_ALICE")" = "${PTY[a1]#/dev/}"
else ok "the leaf keeps the terminal as trusted.cgm.tty # SKIP no python3 to read the attribute"; fi
check "memhog 64M is OOM-killed in alice's session (exit 137)" oom a1 "$U_ALICE"
A1_PID=$OOM_PID
check "one line appears on alice's pty" wait_until grep -q "cgm: the kernel killed" "$TEST_TMP/a1.pty"
T_FIRST=$(date +%s)
LINE=$(grep -a "cgm: the kernel killed" "$TEST_TMP/a1.pty")
diag "the line: $LINE"
check "exactly one line" test "$(notices a1)" = 1
check "it names the process and its pid" grep -q "killed memhog (pid $A1_PID) in " <<<"$LINE"
check "it names the session's cgroup" grep -qF " in $API_BASE/$(leaf a1 $U_ALICE): " <<<"$LINE"
check "it names the limit and where it is set" grep -qF "memory.max 32M of $API_BASE/user-$U_ALICE reached" <<<"$LINE"
check "it says how to see more" grep -qF "; see: cgm stat $API_BASE/user-$U_ALICE" <<<"$LINE"
# The pty shows "$ " (login() leaves it as a shell's prompt would), then the notice.
check "it starts with CR LF, on a line of its own after a prompt, as wall writes" \
	test "$(head -c 9 "$TEST_TMP/a1.pty" | od -An -tx1 | tr -d ' \n')" = 24200d0a63676d3a20
check "it ends in CR LF, as wall writes" bash -c "tail -c 2 '$TEST_TMP/a1.pty' | od -An -c | grep -q '\\\\r  *\\\\n'"

# --- the rate limit: one line per 10 s per session -------------------------------------------
check "a second OOM kill at once ..." oom a1 "$U_ALICE"
check "... is held back by the rate limit" handled a1 "held back"
check "... and no second line appears" test "$(notices a1)" = 1

# --- no line where the terminal is not the user's, or the policy says no ---------------------
login a2 alice ""
check "alice's second login is on a pty root owns (not chowned to her)" test "$(stat -c %u "${PTY[a2]}")" = 0
check "an OOM kill there ..." oom a2 "$U_ALICE"
check "... is refused for the pty's owner" handled a2 "Operation not permitted"
check "... and nothing is written on it" test "$(notices a2)" = 0

login b1 bob "$U_BOB"
check "bob (group quietlab: oom_notice = no) gets an OOM kill ..." oom b1 "$U_BOB"
check "... cgmd decides on no notice" handled b1 "oom_notice = no"
check "... and his pty stays empty" test "$(notices b1)" = 0
login c1 carol "$U_CAROL"
check "carol ([user:carol] oom_notice = no) gets an OOM kill ..." oom c1 "$U_CAROL"
check "... cgmd decides on no notice" handled c1 "oom_notice = no"
check "... and her pty stays empty" test "$(notices c1)" = 0

# --- names that are no terminal are not kept --------------------------------------------------
for t in ":0" "/dev/pts/../tty" "tty" "pts/1/../2" "/dev/console"; do
	login x alice "$U_ALICE" "$t"
	check "PAM_TTY '$t': a session ..." test -n "${SID[x]}"
	check "... but no terminal for its notices" handled x "is no terminal name"
	logout x
done

# --- PAM_TTY "ssh" (OpenSSH): the terminal is the pty a process of the session has -----------
# pam-session runs on the pty ptyrun made its controlling terminal, and stays in the leaf.
login r1 alice "$U_ALICE" ssh
check "PAM_TTY 'ssh': the session listens for OOM kills" handled r1 "OOM notices go to .ssh."
check "an OOM kill in it ..." oom r1 "$U_ALICE"
check "... gives one line on the pty of the session's process" wait_until has_notices r1 1
check "... naming the session's cgroup" grep -qaF " in $API_BASE/$(leaf r1 $U_ALICE): " "$TEST_TMP/r1.pty"
login r2 alice "" ssh
check "PAM_TTY 'ssh' with the process's pty owned by root: an OOM kill ..." oom r2 "$U_ALICE"
check "... is refused for the pty's owner" handled r2 "Operation not permitted"
check "... and nothing is written on it" test "$(notices r2)" = 0
logout r2

# --- the interval over: the next kill gives a line that counts the one held back ------------
while [ $(($(date +%s) - T_FIRST)) -lt 11 ]; do sleep 0.5; done # the rule's 10 s, not a sync
check "an OOM kill 10 s after the first line ..." oom a1 "$U_ALICE"
check "... gives a second line" wait_until has_notices a1 2
check "... which counts the one held back" bash -c "grep -a 'cgm: the kernel killed' '$TEST_TMP/a1.pty' | tail -n 1 | grep -q '(and 1 more OOM kill since the last notice)'"

# --- a restart keeps the terminal --------------------------------------------------------------
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=""
start_daemon -d -c "$CONF" || { not_ok "cgmd starts again after SIGKILL"; finish; exit 1; }
ok "cgmd starts again after SIGKILL, finding the sessions in cgroupfs"
check "an OOM kill in alice's first session after the restart ..." oom a1 "$U_ALICE"
check "... gives a third line on her pty" wait_until has_notices a1 3

# --- where the terminal should be: a symlink, a file, a FIFO ---------------------------------
# CGMD_TEST_DEV points cgmd at a directory of the test's in place of /dev (test only).
mkdir -p "$TEST_TMP/dev/pts"
ln -s "${PTY[a1]}" "$TEST_TMP/dev/pts/${PTY[a1]#/dev/pts/}"
# The first cgmd's exit status carries valgrind's verdict on it (CGM_TEST_VALGRIND).
if stop_daemon; then ok "cgmd exits cleanly on SIGTERM${CGM_TEST_VALGRIND:+ (valgrind: no leak, no error)}"
else not_ok "cgmd exits cleanly on SIGTERM"; diag "$(tail -n 20 "$TEST_TMP/cgmd.log")"
	[ -f "$TEST_TMP/valgrind.log" ] && diag "$(cat "$TEST_TMP/valgrind.log")"; fi
export CGMD_TEST_DEV=$TEST_TMP/dev
start_daemon -d -c "$CONF" || { not_ok "cgmd starts with CGMD_TEST_DEV"; finish; exit 1; }
unset CGMD_TEST_DEV
ok "cgmd starts with a test /dev"
check "alice's terminal is now a symlink to her pty: an OOM kill ..." oom a1 "$U_ALICE"
check "... is not written through the symlink" handled a1 "symbolic links"
check "... and her pty has no new line" test "$(notices a1)" = 3
touch "$TEST_TMP/dev/ttyS77"; chown "$U_ALICE" "$TEST_TMP/dev/ttyS77"
login f1 alice "$U_ALICE" "ttyS77"
check "a login naming ttyS77, a plain file alice owns: an OOM kill ..." oom f1 "$U_ALICE"
check "... is refused (not a character device)" handled f1 "Inappropriate ioctl"
check "... and the file stays empty" test ! -s "$TEST_TMP/dev/ttyS77"
mkfifo "$TEST_TMP/dev/ttyS78"; chown "$U_ALICE" "$TEST_TMP/dev/ttyS78"
login f2 alice "$U_ALICE" "ttyS78"
check "a login naming ttyS78, a FIFO alice owns: an OOM kill ..." oom f2 "$U_ALICE"
check "... is refused without blocking" handled f2 "Inappropriate ioctl"
check "cgmd still answers" "$CGM" ping

# --- past fs.inotify.max_user_watches ----------------------------------------------------------
# CGMD_TEST_NO_WATCHES (test only) makes every inotify watch of cgmd fail with ENOSPC.
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=""
CGMD_TEST_NO_WATCHES=1 start_daemon -d -c "$CONF" || { not_ok "cgmd starts with no inotify watches"; finish; exit 1; }
ok "cgmd starts as if fs.inotify.max_user_watches were reached"
login w1 alice "$U_ALICE"
login w2 alice "$U_ALICE"
check "logins past the limit still succeed" test -n "${SID[w1]}" -a -n "${SID[w2]}"
n_warn=$(grep -c 'no OOM notices for sessions past fs.inotify.max_user_watches' "$TEST_TMP/cgmd.log")
check "cgmd says once, not per session, that they get no OOM notices and what to raise ($n_warn)" test "$n_warn" = 1
as_uid "$U_ALICE" timeout 10 "$CGM" watch >"$TEST_TMP/w.out" 2>"$TEST_TMP/w.err"
rc=$?
check "a subscription past the limit is refused, naming it (exit $rc: $(cat "$TEST_TMP/w.err"))" \
	bash -c "[ $rc != 0 ] && [ $rc != 124 ] && grep -q 'fs.inotify.max_user_watches is reached' '$TEST_TMP/w.err'"
logout w1; logout w2
check "those logins end cleanly too" bash -c "grep -l '^close=0' $TEST_TMP/{w1,w2}.log | wc -l | grep -qx 2"

for n in a1 a2 b1 c1 f1 f2; do logout "$n"; done
check "every login ended cleanly" bash -c "grep -l '^close=0' $TEST_TMP/{a1,a2,b1,c1,f1,f2}.log | wc -l | grep -qx 6"
finish
