#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The home's grace (home_grace_ms): a home a login made outlives its last session for the
# grace, a login within it reuses the home as it is (same directories, nothing rebuilt), and
# after it the home goes; also across a daemon restart, with processes still in the home, and
# after a reload that changes the grace (0: the home goes at once, as before the option).
#
# Logins go through pamtester with pam_cgm, as in test-sessions.sh: users from
# libnss-extrausers, our own PAM services, all in a private mount namespace (the host's /etc
# stays untouched). Every wait is bounded and polls what a user would look at (the home's
# directory, cgmd's log), never a fixed sleep.
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

U_GINA=61031 U_HUGO=61032
mkdir -p "$TEST_TMP/extrausers" "$TEST_TMP/pam.d"
{
	echo "gina:x:$U_GINA:$U_GINA:Gina:/nonexistent:/bin/sh"
	echo "hugo:x:$U_HUGO:$U_HUGO:Hugo:/nonexistent:/bin/sh"
} >"$TEST_TMP/extrausers/passwd"
printf 'gina:x:%s:\nhugo:x:%s:\n' "$U_GINA" "$U_HUGO" >"$TEST_TMP/extrausers/group"
: >"$TEST_TMP/extrausers/shadow"
chmod 644 "$TEST_TMP/extrausers/passwd" "$TEST_TMP/extrausers/group"
mount --bind "$TEST_TMP/extrausers" /var/lib/extrausers
sed -E 's/^(passwd|group):.*/\1: files extrausers/' /etc/nsswitch.conf >"$TEST_TMP/nsswitch.conf"
mount --bind "$TEST_TMP/nsswitch.conf" /etc/nsswitch.conf
printf 'auth required pam_permit.so\naccount required pam_permit.so\nsession required %s socket=%s timeout=5000 fail=closed\n' \
	"$PAM_CGM" "$SOCK" >"$TEST_TMP/pam.d/cgm-test"
mount --bind "$TEST_TMP/pam.d" /etc/pam.d

GRACE_MS=3000
CONF=$TEST_TMP/cgm.conf
write_conf() { # write_conf GRACE_MS
	printf 'home_grace_ms = %s\n[default]\npids.max = 300\n' "$1" >"$CONF"
}
write_conf "$GRACE_MS"
start_daemon -c "$CONF" || { not_ok "cgmd starts with home_grace_ms = $GRACE_MS"; finish; exit 1; }
ok "cgmd starts with home_grace_ms = $GRACE_MS"
PIDS=$(ctl_base pids)
V2=$(v2_base)
HOME_G=$PIDS/user-$U_GINA

now_ms() { echo $(($(date +%s%N) / 1000000)); }
no_leaf() { ! ls -d "$1"/session-* >/dev/null 2>&1; }
# inodes HOME: the inode of the home's directory in every hierarchy, one line.
inodes() { local d; for d in $(base_dirs); do stat -c %i "$d/$1" 2>/dev/null || echo gone; done | paste -sd' ' -; }
# login USER: one login, open and close; then wait (bounded) until its leaf is gone, which is
# when the grace begins. Sets GONE_MS to that moment.
login() {
	pamtester cgm-test "$1" open_session close_session || return 1
	wait_until no_leaf "$PIDS/user-$2" || return 1
	GONE_MS=$(now_ms)
}
# gone_within HOME MIN_MS MAX_MS: wait until HOME is gone, and check that it went between
# MIN_MS and MAX_MS after GONE_MS.
gone_within() {
	local i t
	for ((i = 0; i < ($3 + 5000) / 100; i++)); do
		[ -d "$1" ] || break
		sleep 0.1
	done
	t=$(($(now_ms) - GONE_MS))
	[ ! -d "$1" ] || { echo "still there after $t ms"; return 1; }
	echo "gone after $t ms"
	[ "$t" -ge "$2" ] && [ "$t" -le "$3" ]
}

# --- the home stays for the grace, a login within it reuses it --------------------------------------
check "gina logs in and out" login gina "$U_GINA"
check "her leaf is gone, her home stays (its grace has begun)" test -d "$HOME_G"
check "... and keeps the policy's pids.max" test "$(cat "$HOME_G/pids.max")" = 300
check "cgm users still lists her home" bash -c "'$CGM' users | grep -q 'user-$U_GINA'"
before=$(inodes "user-$U_GINA")
check "gina logs in again within the grace" login gina "$U_GINA"
check "... into the same home: not rebuilt in any hierarchy (inodes $before)" test "$(inodes "user-$U_GINA")" = "$before"
check "the home goes once the grace after her last logout is over ($GRACE_MS ms)" \
	gone_within "$HOME_G" $((GRACE_MS - 300)) $((GRACE_MS + 3000))
check "... in every hierarchy" bash -c "for d in $(base_dirs | paste -sd' ' -); do test ! -e \"\$d/user-$U_GINA\" || exit 1; done"
check "the next login makes a fresh home" login gina "$U_GINA"
check "... with new directories" test "$(inodes "user-$U_GINA")" != "$before"

# --- two users: each home has its own grace ------------------------------------------------------------
check "hugo logs in and out, a while after gina" login hugo "$U_HUGO"
HUGO_GONE=$GONE_MS
check "gina's home goes at the end of her own grace" gone_within "$HOME_G" 0 $((GRACE_MS + 3000))
check "... while hugo's is still in its grace" bash -c "test -d '$PIDS/user-$U_HUGO' || [ \$((\$(date +%s%N) / 1000000 - $HUGO_GONE)) -ge $((GRACE_MS - 300)) ]"
GONE_MS=$HUGO_GONE
check "hugo's home goes after his" gone_within "$PIDS/user-$U_HUGO" $((GRACE_MS - 300)) $((GRACE_MS + 3000))

# --- a restart during the grace: the home still goes ------------------------------------------------
check "gina logs in and out once more" login gina "$U_GINA"
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=""
start_daemon -c "$CONF" || not_ok "cgmd restarts during the grace"
GONE_MS=$(now_ms)
check "after the restart the home is still there" test -d "$HOME_G"
check "the restarted daemon removes it after a grace of its own (a full one: the old is not recorded)" \
	gone_within "$HOME_G" $((GRACE_MS - 1000)) $((GRACE_MS + 3000))

# --- processes left in the home: it stays past the grace until they exit ----------------------------
check "gina logs in" pamtester cgm-test gina open_session
check "root makes a job cgroup in her home" "$CGM" create "user-$U_GINA/job"
sleep 600 </dev/null >/dev/null 2>&1 & STRAY=$!; BG_PIDS+=("$STRAY")
check "a process of hers runs in it (nohup)" "$CGM" move "user-$U_GINA/job" "$STRAY"
check "her login's leaf goes" wait_until no_leaf "$HOME_G"
WAIT_TENTHS=$(((GRACE_MS + 5000) / 100)) check "cgmd says the grace is over but the home holds processes" \
	wait_until grep -q "grace of .*user-$U_GINA.* is over, but it still holds processes" "$TEST_TMP/cgmd.log"
check "the home stays while they run" test -d "$HOME_G/job"
kill -KILL "$STRAY"; wait "$STRAY" 2>/dev/null
check "it goes once they have exited" wait_until test ! -d "$HOME_G"

# --- a reload changes the grace of the waits that begin after it ------------------------------------
write_conf 0
check "a reload sets home_grace_ms = 0" "$CGM" reload
check "policy explain is not confused by the option" "$CGM" policy explain gina
check "gina logs in and out" login gina "$U_GINA"
check "with 0 the home goes at once, as before the option" gone_within "$HOME_G" 0 1000
write_conf "$GRACE_MS"
check "a reload sets the grace again" "$CGM" reload
check "gina logs in and out" login gina "$U_GINA"
check "the home stays again after her logout" test -d "$HOME_G"
check "... and goes after the grace" gone_within "$HOME_G" $((GRACE_MS - 300)) $((GRACE_MS + 3000))

# --- the option's checks ---------------------------------------------------------------------------------
printf 'home_grace_ms = 86400001\n' >"$TEST_TMP/bad.conf"
expect_exit "cgm policy check refuses a grace over a day" 5 "bad.conf:1: home_grace_ms" "$CGM" policy check "$TEST_TMP/bad.conf"
printf 'home_grace_ms = 10s\n' >"$TEST_TMP/bad.conf"
expect_exit "... and one with a unit" 5 "bad.conf:1: home_grace_ms" "$CGM" policy check "$TEST_TMP/bad.conf"
printf 'home_grace_ms = 0\n' >"$TEST_TMP/good.conf"
check "... accepts 0" "$CGM" policy check "$TEST_TMP/good.conf"

[ -n "$V2" ] || diag "no cgroup2 hierarchy: the inode checks ran on v1 only"
finish
