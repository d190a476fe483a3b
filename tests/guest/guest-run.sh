#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Inside a booted guest (tests/guest/README.md): run this boot's plan, one test at a time.
#
# Usage: guest-run.sh OUTDIR   (run by the image's hook through the data disk's entry.sh)
# The plan ($CGM_GUEST_DATA/plan) has one line per test: NAME SECONDS COMMAND...; each COMMAND
# runs as root from the data disk (read-only), with a time limit, its stdout in OUTDIR/NAME.tap,
# stderr in NAME.err and exit status in NAME.rc. A test that runs past its limit gets a
# "not ok" line and the next one runs. $CGM_GUEST_OUT is OUTDIR, for files a test wants back.
# Prints one line per test on the console and exits non-zero when any failed; the host counts
# the TAP files itself.
set -u
out=$1
data=${CGM_GUEST_DATA:?}
export CGM_GUEST_OUT=$out PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root
mkdir -p "$out"
cd "$data" || exit 1
{
	echo "flavor $CGM_GUEST_FLAVOR, boot $CGM_GUEST_BOOT, up $(cut -d' ' -f1 /proc/uptime) s"
	echo "kernel $(uname -r): $(cat /proc/cmdline)"
	echo "init: $(readlink -f /proc/1/exe)"
	echo "memory: $(grep MemTotal /proc/meminfo)"
	echo "cgroup mounts:"; grep -E ' - cgroup2? ' /proc/self/mountinfo
	echo "my cgroup:"; cat /proc/self/cgroup
} >"$out/guest-info.txt" 2>&1

overall=0
while read -r name limit cmd; do
	case $name in '' | '#'*) continue ;; esac
	start=$(date +%s)
	echo "guest-run: $name (limit ${limit}s)"
	# shellcheck disable=SC2086
	timeout -k 10 "$limit" $cmd >"$out/$name.tap" 2>"$out/$name.err" </dev/null
	rc=$?
	echo "$rc" >"$out/$name.rc"
	[ $rc = 124 ] || [ $rc = 137 ] && echo "not ok - $name timed out after ${limit}s" >>"$out/$name.tap"
	read -r pass fail skip < <(awk '/^ok / { if (/# *SKIP/) s++; else p++ } /^not ok / { if (/# *TODO/) s++; else f++ }
		END { print p + 0, f + 0, s + 0 }' "$out/$name.tap")
	if grep -q '^1\.\.0 # SKIP' "$out/$name.tap"; then verdict=SKIP
	elif [ $rc = 0 ] && [ "$fail" = 0 ] && grep -q '^1\.\.[1-9]' "$out/$name.tap"; then verdict=PASS
	else verdict=FAIL; overall=1; fi
	echo "$verdict: $name ($pass ok, $fail not ok, $skip skipped, exit $rc, $(($(date +%s) - start)) s)"
	[ $verdict = FAIL ] && grep -A4 '^not ok' "$out/$name.tap" | head -n 40
done <"$data/plan"
exit $overall
