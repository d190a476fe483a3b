#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The quick start: install the build dependencies, build, start cgmd on a private socket with
# a test base below this shell's own cgroup and a small policy, log a test user in through a
# real PAM stack with pam_cgm, and show where the login landed and what it may do.
#
# The host's /etc is not touched: the demo runs in a private mount namespace with its own
# nsswitch.conf, pam.d and an extrausers database holding the test user. Everything it
# creates is removed at the end.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it starts cgmd, which manages cgroups)" >&2; exit 1; }
if [ -z "${CGM_DEMO_IN_MOUNTNS:-}" ]; then
	echo "== installing build dependencies"
	scripts/install-deps.sh
	echo "== building"
	[ -x configure ] || ./autogen.sh >/dev/null
	mkdir -p build
	(cd build && { [ -f Makefile ] || ../configure >/dev/null; } &&
		make -j"$(nproc)" >/dev/null && make tests/pam/pam-session >/dev/null)
	CGM_DEMO_IN_MOUNTNS=1 exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi

B=$top/build
CGMD=$B/cgmd CGM=$B/cgm PAM_CGM=$B/pam_cgm/.libs/pam_cgm.so PAM_SESSION=$B/tests/pam/pam-session
USER_NAME=demo USER_UID=61001
tmp=$(mktemp -d /tmp/cgm-demo.XXXXXX)
chmod 755 "$tmp"
export CGM_SOCKET=$tmp/cgm.sock
base=cgm-demo-$$
pid="" login=""
cleanup() {
	[ -n "$login" ] && { exec 9>&-; wait "$login"; } 2>/dev/null
	[ -n "$pid" ] && { kill "$pid"; wait "$pid"; } 2>/dev/null
	# The base itself (empty by now: the login's leaf and home went with its logout).
	local d
	for d in $(find /sys/fs/cgroup -maxdepth 6 -type d -name "$base" 2>/dev/null); do
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# A user from an NSS module other than files, and a PAM service with pam_cgm.
mkdir -p "$tmp/extrausers" "$tmp/pam.d"
echo "$USER_NAME:x:$USER_UID:$USER_UID:cgm demo:/nonexistent:/bin/sh" >"$tmp/extrausers/passwd"
printf '%s:x:%s:\ncgmdemo:x:61100:%s\n' "$USER_NAME" "$USER_UID" "$USER_NAME" >"$tmp/extrausers/group"
: >"$tmp/extrausers/shadow"
mount --bind "$tmp/extrausers" /var/lib/extrausers
sed -E 's/^(passwd|group):.*/\1: files extrausers/' /etc/nsswitch.conf >"$tmp/nsswitch.conf"
mount --bind "$tmp/nsswitch.conf" /etc/nsswitch.conf
printf 'auth required pam_permit.so\naccount required pam_permit.so\nsession required %s socket=%s\n' \
	"$PAM_CGM" "$CGM_SOCKET" >"$tmp/pam.d/login-demo"
cat >"$tmp/cgm.conf" <<CONF
# Everyone: at most 8 GiB and 1000 tasks. Members of cgmdemo: 2 GiB, 200 tasks, one CPU.
[default]
memory.max = 8G
pids.max = 1000
[group:cgmdemo]
memory.max = 2G
pids.max = 200
cpu.max = 100%
CONF

echo "== starting cgmd on $CGM_SOCKET with base self:$base and the policy $tmp/cgm.conf"
"$CGMD" -f -s "$CGM_SOCKET" -b "self:$base" -c "$tmp/cgm.conf" 2>"$tmp/cgmd.log" &
pid=$!
for _ in $(seq 100); do "$CGM" ping >/dev/null 2>&1 && break; sleep 0.1; done
"$CGM" version
echo
echo "== what the policy gives $USER_NAME (group cgmdemo), and from where"
"$CGM" policy explain "$USER_NAME"

echo
echo "== $USER_NAME logs in through PAM (pam_cgm); the login holds its session open"
mkfifo "$tmp/login.in"
"$PAM_SESSION" "$tmp/pam.d" login-demo "$USER_NAME" <"$tmp/login.in" >"$tmp/login.out" 2>&1 &
login=$!
exec 9>"$tmp/login.in"
for _ in $(seq 100); do grep -qx ready "$tmp/login.out" && break; sleep 0.1; done
cat "$tmp/login.out"
id=$(sed -n 's/^CGM_SESSION=//p' "$tmp/login.out")

as_user() { setpriv --reuid="$USER_UID" --regid="$USER_UID" --init-groups -- "$@"; }
echo
echo "== $USER_NAME: who am I? (the home carries the group's limits)"
as_user "$CGM" whoami
echo
echo "== $USER_NAME runs a build in a child limited to 512 MiB, and may not raise its home"
as_user "$CGM" create build memory.max=512M pids.max=64
as_user "$CGM" set "" pids.max=100000 || true
echo
echo "== the tree and the sessions, as root sees them"
"$CGM" tree
"$CGM" sessions
echo
echo "== $USER_NAME logs out: the leaf and the home go once empty"
exec 9>&-
wait "$login" || true
login=""
for _ in $(seq 50); do "$CGM" sessions | grep -q "$id" || break; sleep 0.1; done
"$CGM" sessions
"$CGM" tree
echo
echo "== the audit trail (what cgmd wrote, and for whom)"
grep 'audit:' "$tmp/cgmd.log" || true
