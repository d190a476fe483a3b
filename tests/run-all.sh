#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The whole test suite, as CI runs it:
#   1. a -Werror build and `make check` (unit, fuzz corpus replay, integration);
#   2. the same with ASan+UBSan;
#   3. the integration tests again with cgmd under valgrind (no leak, no error);
#   4. make distcheck, the Debian packages (build-deb/) and lintian (CGM_SKIP_DEB=1 skips
#      the packages);
#   5. the pure cgroup v2 tier: the integration suite in a qemu VM (tests/vm/, CGM_SKIP_VM=1
#      skips it);
#   6. the booted-guest tier: cgm installed from its .debs in Debian 12 guests booted with
#      OpenRC and systemd (tests/guest/; CGM_SKIP_GUEST=1 or CGM_SKIP_VM=1 skips it).
# Ends with one line "N passed, N failed" and exits non-zero on any failure.
# Needs root for the integration tests (real cgroupfs; they skip otherwise).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
log() { printf '\n=== %s\n' "$*"; }

count() { # count BUILD_DIR: add the automake summary of its test-suite.log to the totals
	local p f
	p=$(sed -n 's/^# PASS: *//p' "$1/test-suite.log" | head -n1)
	f=$(sed -n 's/^# \(FAIL\|ERROR\|XPASS\): *//p' "$1/test-suite.log" | awk '{ s += $1 } END { print s + 0 }')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
}

build() { # build DIR CONFIGURE-ARGS...
	local dir=$1; shift
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" --enable-werror "$@" >configure.out 2>&1) ||
		{ cat "$dir/configure.out"; return 1; }
	make -C "$dir" -j"$jobs" >"$dir/make.out" 2>&1 || { tail -n 50 "$dir/make.out"; return 1; }
}

run_check() { # run_check DIR [make args]: make check, show failures, count
	local dir=$1; shift
	make -C "$dir" -j1 check "$@" >"$dir/check.out" 2>&1
	local rc=$?
	grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):' "$dir/check.out" | grep -vE '^PASS:' | head -n 50
	sed -n '/^=\+$/,/^=\+$/p' "$dir/check.out" | tail -n 12
	if [ $rc != 0 ]; then
		for l in "$dir"/tests/*/*.log; do
			grep -qE '^(not ok|FAIL|ERROR)' "$l" 2>/dev/null && { echo "--- $l"; grep -B2 -A8 -E '^(not ok|# FAIL|ERROR)' "$l" | head -n 80; }
		done
	fi
	count "$dir"
	return $rc
}

overall=0
built=0
[ -x configure ] || ./autogen.sh >/dev/null 2>&1 || { echo "autogen failed"; exit 1; }

log "build (-Werror)"
if build build-check; then
	built=1
	log "make check"
	run_check build-check || overall=1
else
	failed=$((failed + 1)); overall=1
fi

log "build (ASan+UBSan)"
if build build-asan --enable-sanitizers; then
	log "make check under ASan+UBSan"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_check build-asan || overall=1
else
	failed=$((failed + 1)); overall=1
fi

# ---- fuzzing (libFuzzer, brief): each fuzz target for 10 s with clang, ASan and UBSan
# (tests/fuzz/run-fuzz.sh, docs/fuzzing.md); a finding fails the step and shows its reproducer.
if [ $built = 1 ]; then
	log "fuzzing (libFuzzer, brief): make fuzz FUZZ_SECONDS=10"
	make -C build-check fuzz FUZZ_SECONDS=10 >build-check/fuzz.out 2>&1
	rc=$?
	grep -E '^(PASS|FAIL|fuzz:|  reproducer|  replay|run-fuzz)|check failed|SUMMARY' build-check/fuzz.out | head -n 40
	line=$(grep -E '^fuzz: [0-9]+ passed, [0-9]+ failed' build-check/fuzz.out | tail -n1)
	if [ -n "$line" ]; then
		passed=$((passed + $(echo "$line" | cut -d' ' -f2)))
		failed=$((failed + $(echo "$line" | cut -d' ' -f4)))
	fi
	if [ $rc != 0 ]; then
		overall=1
		case "$line" in *" 0 failed"|"") tail -n 20 build-check/fuzz.out; failed=$((failed + 1)) ;; esac
	fi
fi

if command -v valgrind >/dev/null && [ $built = 1 ]; then
	log "integration tests with cgmd under valgrind"
	rm -f build-check/test-suite.log
	run_check build-check TESTS="tests/integration/test-daemon.sh tests/integration/test-interop.sh tests/integration/test-delegation.sh tests/integration/test-hostile.sh tests/integration/test-sessions.sh tests/integration/test-namespaces.sh tests/integration/test-blocking.sh tests/integration/test-direct.sh tests/integration/test-linger.sh tests/integration/test-scale.sh tests/integration/test-events.sh tests/integration/test-watch.sh tests/integration/test-top.sh tests/integration/test-notify-tty.sh" \
		CGM_TEST_VALGRIND=1 || overall=1
fi

# ---- the release tarball and the Debian packages
# make distcheck: the tarball builds, installs and uninstalls out of tree, and holds what the
# README uses; its inner `make check` runs the unit tests and the man page lint only (the
# suites above already ran from this tree). One check: passed or failed.
if [ $built = 1 ]; then
	log "make distcheck (unit tests and man page lint inside)"
	if make -C build-check distcheck TESTS='$(UNIT_TESTS) tests/man-lint.sh' >build-check/distcheck.out 2>&1; then
		grep -A2 'archives ready for distribution' build-check/distcheck.out
		passed=$((passed + 1))
	else
		grep -E 'Error|error:|FAIL|ERROR|missing|left after' build-check/distcheck.out | head -n 30
		tail -n 20 build-check/distcheck.out
		failed=$((failed + 1)); overall=1
	fi
fi
# The four .debs (scripts/build-debs.sh: a copy of the tree in build-deb/src, the packages in
# build-deb/ for the guest tier) and lintian with no error or warning. Two checks: the build,
# lintian. CGM_SKIP_DEB=1 leaves them out.
if [ "${CGM_SKIP_DEB:-0}" != 1 ]; then
	log "Debian packages and lintian: scripts/build-debs.sh build-deb"
	CGM_NO_LINTIAN=1 scripts/build-debs.sh "$top/build-deb"
	if [ $? = 0 ]; then
		passed=$((passed + 1))
		if lintian --fail-on error,warning "$top"/build-deb/cgm_*.changes >"$top/build-deb/lintian.txt" 2>&1; then
			echo "lintian: no error, no warning"
			passed=$((passed + 1))
		else
			grep -E '^[EW]: ' "$top/build-deb/lintian.txt" | head -n 30
			failed=$((failed + 1)); overall=1
		fi
	else
		failed=$((failed + 1)); overall=1
	fi
fi

if [ $built = 1 ] && [ "${CGM_SKIP_VM:-0}" != 1 ]; then
	log "the pure cgroup v2 tier (qemu): tests/vm/run-vm.sh"
	make -C build-check check-vm >build-check/check-vm.out 2>&1
	rc=$?
	tail -n 25 build-check/check-vm.out
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' build-check/check-vm.out | tail -n1)
	if [ -n "$line" ]; then
		passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
		failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
	fi
	# A crash, hang or harness failure that counted nothing is one failure more.
	if [ $rc != 0 ]; then
		overall=1
		case "$line" in *" 0 failed"|"") failed=$((failed + 1)) ;; esac
	fi
fi

# ---- the booted-guest tier: Debian 12 guests with their own init (OpenRC on pure v2, systemd on
# pure v2, OpenRC on pure v1), cgm installed from the .debs as README.md says (tests/guest/).
# It uses the packages of the step above (build-deb/), or builds its own. CGM_SKIP_GUEST=1
# leaves it out, and so does CGM_SKIP_VM=1.
if [ $built = 1 ] && [ "${CGM_SKIP_VM:-0}" != 1 ] && [ "${CGM_SKIP_GUEST:-0}" != 1 ]; then
	log "the booted-guest tier (qemu, Debian 12 with OpenRC and systemd): tests/guest/run-guest.sh"
	guest_debs=''
	ls "$top"/build-deb/cgmd_*.deb >/dev/null 2>&1 && guest_debs=$top/build-deb
	CGM_GUEST_DEBS=$guest_debs make -C build-check check-guest >build-check/check-guest.out 2>&1
	rc=$?
	grep -E '^cgm-guest: .*(image|qemu ran|TIMEOUT|crashed|stalled|did not|exited)|^[a-z0-9-]+ boot [0-9]: ' build-check/check-guest.out | head -n 40
	grep -A12 '^not ok' build-check/check-guest.out | head -n 60
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' build-check/check-guest.out | tail -n1)
	echo "${line:-(no count)}"
	if [ -n "$line" ]; then
		passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
		failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
	fi
	# A crash, hang or harness failure that counted nothing is one failure more.
	if [ $rc != 0 ]; then
		overall=1
		case "$line" in *" 0 failed"|"") failed=$((failed + 1)); tail -n 20 build-check/check-guest.out ;; esac
	fi
fi

echo
echo "$passed passed, $failed failed"
[ $overall = 0 ] && [ $failed = 0 ]
