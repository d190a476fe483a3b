#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Inside the test VM: run the integration suite against the cgm build on pure cgroup v2.
#
# Usage: guest-suite.sh OUTDIR [TEST...]  (TEST: names of tests/integration scripts; default all)
# Each test runs in the root cgroup, like a test runner on a host: its base (self:NAME) is then a
# child of the root, whose subtree_control /init has filled with every v2 controller. A runner
# in a non-root cgroup could not do that (no-internal-process rule), and the base would get no
# controllers. Each test gets a time limit (90 s, test-sessions 210 s), so one hang fails that
# test and not the whole VM.
# Writes NAME.tap (stdout), NAME.err (stderr) and NAME.rc per test into OUTDIR, prints one line
# per test, and exits non-zero when any test failed.
set -u
out=$1; shift
here=$(cd "$(dirname "$0")/.." && pwd)
export CGMD=/cgm/bin/cgmd CGM=/cgm/bin/cgm FORKER=/cgm/bin/forker MEMHOG=/cgm/bin/memhog
# test-namespaces.sh (run-vm.sh copies them when built; the test skips otherwise)
export NSEXEC=/cgm/bin/nsexec NSCLIENT=/cgm/bin/nsclient
# test-blocking.sh (run-vm.sh copies it when built; the test skips otherwise)
export PIPELINE=/cgm/bin/pipeline
export SUBSCRIBER=/cgm/bin/subscriber PTYRUN=/cgm/bin/ptyrun
# test-direct.sh (run-vm.sh copies it when built; the test skips otherwise)
export DIRECT_PROBE=/cgm/bin/direct-probe
# test-sessions.sh (run-vm.sh copies them when the build has them; the test skips otherwise)
export PAM_CGM=/cgm/lib/pam_cgm.so PAM_SESSION=/cgm/bin/pam-session
# This VM's kernel is the tests' own: a test may change a host-wide setting for a while (never
# done on a shared host). test-events.sh: fs.inotify.max_queued_events.
export CGM_TEST_OWN_KERNEL=1
per_test=${CGM_VM_TEST_TIMEOUT:-90}
mkdir -p "$out"

# The tests' premises, checked once so a broken guest says so instead of failing every test.
if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ] || grep -q ' - cgroup ' /proc/self/mountinfo; then
	echo "guest-suite: /sys/fs/cgroup is not a pure cgroup2 mount"; exit 1
fi
for c in cpu memory pids io cpuset; do
	grep -qw "$c" /sys/fs/cgroup/cgroup.subtree_control || { echo "guest-suite: controller $c not enabled"; exit 1; }
done

if [ $# = 0 ]; then set -- "$here"/integration/test-*.sh; fi
overall=0
for t in "$@"; do
	case $t in /*) ;; *) t=$here/integration/$(basename "$t" .sh).sh ;; esac
	name=$(basename "$t" .sh)
	[ -f "$t" ] || { echo "FAIL: $name (no such test)"; echo 1 >"$out/$name.rc"; : >"$out/$name.tap"; overall=1; continue; }
	# test-sessions.sh runs its 1,000 pamtester logins at ~85 ms each under TCG (~100 s in all)
	limit=$per_test
	[ "$name" = test-sessions ] && limit=$((per_test + 120))
	start=$(date +%s)
	timeout -k 5 "$limit" bash "$t" >"$out/$name.tap" 2>"$out/$name.err"
	rc=$?
	echo "$rc" >"$out/$name.rc"
	[ $rc = 124 ] && echo "not ok - $name timed out after ${limit}s" >>"$out/$name.tap"
	read -r pass fail skip < <(awk '/^ok / { if (/# *SKIP/) s++; else p++ } /^not ok / { if (/# *TODO/) s++; else f++ }
		END { print p + 0, f + 0, s + 0 }' "$out/$name.tap")
	if grep -q '^1\.\.0 # SKIP' "$out/$name.tap"; then verdict=SKIP
	elif [ $rc = 0 ] && [ "$fail" = 0 ] && grep -q '^1\.\.[1-9]' "$out/$name.tap"; then verdict=PASS
	else verdict=FAIL; overall=1; fi
	echo "$verdict: $name ($pass ok, $fail not ok, $skip skipped, exit $rc, $(($(date +%s) - start)) s)"
	[ $verdict = FAIL ] && grep -A4 '^not ok' "$out/$name.tap" | head -n 40
done
exit $overall
