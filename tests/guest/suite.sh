#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Inside a booted guest: run one integration test (tests/integration/TEST.sh) against cgm as
# installed from its .debs: /usr/sbin/cgmd, /usr/bin/cgm and Debian's pam_cgm.so, with the
# build's test helpers from the data disk (forker, memhog, hostile, pam-session). The test
# starts a cgmd of its own on a private socket and base (tests/integration/lib.sh), next to the
# installed service, and removes what it made. Prints the test's TAP.
#
# Usage: suite.sh TEST   (e.g. test-daemon)
set -u
[ -n "${CGM_GUEST_FLAVOR:-}" ] || { echo "1..0 # SKIP only inside a booted guest (tests/guest)"; exit 0; }
test=$1
data=${CGM_GUEST_DATA:?}
t=$data/tests/integration/$test.sh
[ -f "$t" ] || { echo "not ok 1 - no test $test"; echo "1..1"; exit 1; }
# The suites make their own users (test-sessions.sh: alice, bob, ... through libnss-extrausers,
# after "files"); the tier's own test user is alice too (README.md's example), and "files"
# would win. So the suite runs in a mount namespace of its own where /etc/passwd, group, shadow
# and gshadow are the guest's without the tier's user and group, as before install.sh ran.
if [ -z "${CGM_GUEST_SUITE_NS:-}" ]; then
	export CGM_GUEST_SUITE_NS=1
	exec unshare --mount --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
etc=$(mktemp -d /tmp/cgm-guest-etc.XXXXXX)
for f in passwd group shadow gshadow; do
	[ -f /etc/$f ] || continue
	# drop the user's and the group's lines, and the user from every group's member list
	awk -F: -v OFS=: -v u="$T_USER" -v g="$T_GROUP" '$1 == u || $1 == g { next }
		(FILENAME ~ /group$/) { n = split($NF, m, ","); l = ""
			for (i = 1; i <= n; i++) if (m[i] != u) l = l (l == "" ? "" : ",") m[i]
			$NF = l } { print }' /etc/$f >"$etc/$f"
	chmod --reference=/etc/$f "$etc/$f"; chown --reference=/etc/$f "$etc/$f"
	mount --bind "$etc/$f" /etc/$f
done
getent passwd "$T_USER" >/dev/null && { echo "not ok 1 - $T_USER is still in NSS"; echo "1..1"; exit 1; }
export CGMD=/usr/sbin/cgmd CGM=/usr/bin/cgm FORKER=$data/bin/forker MEMHOG=$data/bin/memhog
export PAM_CGM=/lib/x86_64-linux-gnu/security/pam_cgm.so PAM_SESSION=$data/bin/pam-session
exec bash "$t"
