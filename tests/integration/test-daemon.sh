#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# cgmd's start-up: it refuses clearly when it cannot work, writes nothing outside its base,
# and a client sees clear errors when the daemon is absent.
. "$(dirname "$0")/lib.sh"
require_root

expect_exit "cgm says what to do when no daemon runs" 10 "cgmd running|socket" "$CGM" ping
expect_exit "cgmd refuses to run as a non-root user" 1 "must run as root" as_uid "$UID_A" "$CGMD" -f -s "$SOCK" -b "self:$BASE_NAME"
expect_exit "cgmd refuses a base with .." 1 "bad base" "$CGMD" -f -s "$SOCK" -b "self:../x"
expect_exit "cgmd refuses a base whose parent does not exist" 1 "does not exist" "$CGMD" -f -s "$SOCK" -b "/cgm-no-such-parent-$$/x"
expect_exit "cgmd rejects unknown options" 2 "cgmd --help" "$CGMD" --frobnicate
printf 'bogus line\n' >"$TEST_TMP/bad.conf"
expect_exit "cgmd refuses a bad config with file:line" 1 "bad.conf:1:" "$CGMD" -f -c "$TEST_TMP/bad.conf" -s "$SOCK" -b "self:$BASE_NAME"
check "cgmd --version" bash -c "'$CGMD' --version | grep -q '^cgmd '"

# Nothing outside the base changes at start-up: compare the parent directories' listings.
# (Bases of other cgm test runs, cgm-*, may come and go meanwhile; they are not ours to count.)
parents_before=$(for d in $(base_dirs); do ls "$(dirname "$d")" | grep -v '^cgm-'; done | md5sum)
start_daemon || { not_ok "cgmd starts"; finish; exit 1; }
ok "cgmd starts"
parents_after=$(for d in $(base_dirs); do ls "$(dirname "$d")" | grep -v '^cgm-'; done | md5sum)
check "start-up created nothing beside the base" test "$parents_before" = "$parents_after"
for d in $(base_dirs); do check "the base exists in $(dirname "$d" | cut -d/ -f5)" test -d "$d"; done
expect_exit "a second cgmd on the same socket refuses to start" 1 "already listening" "$CGMD" -f -s "$SOCK" -b "self:$BASE_NAME"
check "the first cgmd still answers" "$CGM" ping
check "Version reports the layout" bash -c "'$CGM' version | grep -Eq 'layout=(unified|hybrid|legacy)'"

# A client that sends garbage is dropped without harming others.
check "a client sending garbage does not hurt the daemon" bash -c "printf 'GARBAGE\\r\\n\\0\\0\\0' | timeout 5 socat - UNIX-CONNECT:'$SOCK' >/dev/null 2>&1 || true; '$CGM' ping"
# Many connections at once from one uid hit the per-uid limit, and the daemon keeps serving.
check "the daemon survives 100 quick connections" bash -c "for i in \$(seq 100); do '$CGM' ping >/dev/null || exit 1; done"

# A stale socket from a killed daemon is replaced.
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=""
check "a stale socket is left behind by SIGKILL" test -S "$SOCK"
start_daemon || not_ok "cgmd restarts over a stale socket"
check "cgmd restarts over the stale socket" "$CGM" ping
finish
