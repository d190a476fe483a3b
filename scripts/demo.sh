#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The quick start: install the build dependencies, build, start cgmd on a private socket with
# a test base below this shell's own cgroup, delegate a home to a test uid, and show that uid
# creating and limiting a child. Everything it creates is removed at the end.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it starts cgmd, which manages cgroups)" >&2; exit 1; }
TEST_UID=${TEST_UID:-61001}

echo "== installing build dependencies"
scripts/install-deps.sh
echo "== building"
[ -x configure ] || ./autogen.sh >/dev/null
mkdir -p build
(cd build && { [ -f Makefile ] || ../configure >/dev/null; } && make -j"$(nproc)" >/dev/null)
CGMD=$top/build/cgmd
CGM=$top/build/cgm

tmp=$(mktemp -d /tmp/cgm-demo.XXXXXX)
chmod 755 "$tmp"
export CGM_SOCKET=$tmp/cgm.sock
base=cgm-demo-$$
pid=""
sleeper=""
cleanup() {
	[ -n "$sleeper" ] && { kill "$sleeper"; wait "$sleeper"; } 2>/dev/null
	"$CGM" rm -r -k user-$TEST_UID >/dev/null 2>&1 || true
	[ -n "$pid" ] && { kill "$pid"; wait "$pid"; } 2>/dev/null
	# The base itself (empty now) in every hierarchy cgmd used.
	find /sys/fs/cgroup -maxdepth 6 -type d -name "$base" -empty -delete 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "== starting cgmd on $CGM_SOCKET with base self:$base"
"$CGMD" -f -s "$CGM_SOCKET" -b "self:$base" 2>"$tmp/cgmd.log" &
pid=$!
for _ in $(seq 100); do "$CGM" ping >/dev/null 2>&1 && break; sleep 0.1; done
"$CGM" version

as_user() { setpriv --reuid="$TEST_UID" --regid="$TEST_UID" --clear-groups -- "$@"; }
echo
echo "== root delegates user-$TEST_UID to uid $TEST_UID, with a session leaf for its login"
"$CGM" create user-$TEST_UID pids.max=200
"$CGM" chown user-$TEST_UID "$TEST_UID"
"$CGM" create user-$TEST_UID/session-1
( "$CGM" move user-$TEST_UID/session-1 "$BASHPID" >/dev/null && exec setpriv --reuid="$TEST_UID" --regid="$TEST_UID" --clear-groups -- sleep 300 ) &
sleeper=$!
echo
echo "== uid $TEST_UID: who am I?"
as_user "$CGM" whoami
echo
echo "== uid $TEST_UID creates a child 'build' limited to 4 GiB and 64 tasks, and moves its login into it"
as_user "$CGM" create build memory.max=4G pids.max=64 cpu.max=150%
for _ in $(seq 50); do "$CGM" procs user-$TEST_UID/session-1 | grep -qx "$sleeper" && break; sleep 0.1; done
as_user "$CGM" move build "$sleeper"
as_user "$CGM" get build memory.max pids.max cpu.max
echo
echo "== uid $TEST_UID may not raise its own home's limit:"
as_user "$CGM" set "" pids.max=100000 || true
echo
echo "== the tree, as root sees it"
"$CGM" tree
echo
echo "== the audit trail (syslog lines cgmd wrote)"
grep 'audit:' "$tmp/cgmd.log" || true
