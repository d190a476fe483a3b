#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build the fuzz targets as libFuzzer binaries (clang, ASan+UBSan) and run each one for a
# set time; `make fuzz` calls this from a configured build directory.
#
#   run-fuzz.sh [--seconds N] [--jobs N] [--merge] [--build-only] [TARGET...]
#
#   --seconds N   run each target for N seconds (FUZZ_SECONDS, default 60)
#   --jobs N      targets run side by side (FUZZ_JOBS, default: the cores, at most 2)
#   --merge       instead of fuzzing: minimize the committed corpus together with what the
#                 runs grew (-merge=1) and write it back to tests/fuzz/corpus/TARGET
#   --build-only  build, do not run
#   TARGET        name, keys, units, mountinfo, policy, dbus, wire (default: all)
#
# Everything goes to $FUZZ_OUT (default ./fuzz-libfuzzer): bin/, obj/, the grown corpus
# corpus/TARGET/ (the committed tests/fuzz/corpus/TARGET is read, never written, except by
# --merge), logs/TARGET.log, and crash-TARGET-* reproducers. config.h comes from
# $FUZZ_BUILDDIR (default: the current directory, a configured build tree).
#
# A target passes when libFuzzer ends its run without a finding. The last line is
# "fuzz: N passed, N failed"; the exit status is 1 when a target failed. A failure prints
# the reproducer's path and how to replay it.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
builddir=${FUZZ_BUILDDIR:-$PWD}
out=${FUZZ_OUT:-$PWD/fuzz-libfuzzer}
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$jobs" -gt 2 ] && jobs=2
cc=${FUZZ_CC:-clang}
merge=0
build_only=0
all_targets="name keys units mountinfo policy dbus wire"
targets=""

while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--merge) merge=1; shift ;;
	--build-only) build_only=1; shift ;;
	-h|--help) sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run-fuzz.sh: unknown option $1" >&2; exit 2 ;;
	*) targets="$targets $1"; shift ;;
	esac
done
targets=${targets:-$all_targets}
for t in $targets; do
	case " $all_targets " in *" $t "*) ;; *) echo "run-fuzz.sh: no target $t" >&2; exit 2 ;; esac
done

if ! command -v "$cc" >/dev/null; then
	echo "run-fuzz.sh: $cc not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
	exit 1
fi
if [ ! -f "$builddir/config.h" ]; then
	echo "run-fuzz.sh: no config.h in $builddir; run it from a configured build directory" >&2
	exit 1
fi

mkdir -p "$out/obj" "$out/bin" "$out/logs"
# The flags the project's own build uses, plus libFuzzer's coverage instrumentation.
# shellcheck disable=SC2207
cflags=(-std=gnu11 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
	-fno-sanitize-recover=undefined -Wall -Wextra -Wno-unused-parameter -Werror
	-include "$builddir/config.h" '-DSYSCONFDIR="/etc"' -DFUZZ_LIBFUZZER
	-I"$top/common" -I"$top/daemon" -I"$top/client" $(pkg-config --cflags dbus-1 libcap))
# shellcheck disable=SC2207
libs=($(pkg-config --libs dbus-1 libcap) -lpthread)

# ---- build: every common/ and daemon/ source (but main.c) and pam_cgm's client/wire.c into
# one archive, then the targets
build() {
	local headers_changed="" src obj objs=() running=0 t
	if [ ! -f "$out/obj/.stamp" ] ||
		[ -n "$(find "$top/common" "$top/daemon" "$top/client" "$top/tests/fuzz" "$builddir/config.h" \
			-name '*.h' -newer "$out/obj/.stamp" 2>/dev/null | head -n1)" ]; then
		headers_changed=1
	fi
	for src in "$top"/common/*.c "$top"/daemon/*.c "$top"/client/wire.c; do
		[ "$(basename "$src")" = main.c ] && continue
		obj=$out/obj/$(basename "$(dirname "$src")")-$(basename "$src" .c).o
		objs+=("$obj")
		[ -z "$headers_changed" ] && [ -f "$obj" ] && [ ! "$src" -nt "$obj" ] && continue
		rm -f "$out/obj/libcgm-fuzz.a"
		"$cc" "${cflags[@]}" -c "$src" -o "$obj" &
		running=$((running + 1))
		if [ $running -ge "$jobs" ]; then
			wait -n || return 1
			running=$((running - 1))
		fi
	done
	while [ $running -gt 0 ]; do
		wait -n || return 1
		running=$((running - 1))
	done
	if [ ! -f "$out/obj/libcgm-fuzz.a" ]; then
		ar rcs "$out/obj/libcgm-fuzz.a" "${objs[@]}" || return 1
	fi
	touch "$out/obj/.stamp"
	for t in $targets; do
		if [ -n "$headers_changed" ] || [ ! -x "$out/bin/fuzz-$t" ] ||
			[ "$top/tests/fuzz/fuzz-$t.c" -nt "$out/bin/fuzz-$t" ] ||
			[ "$out/obj/libcgm-fuzz.a" -nt "$out/bin/fuzz-$t" ]; then
			"$cc" "${cflags[@]/-fsanitize=fuzzer-no-link,/-fsanitize=fuzzer,}" \
				"$top/tests/fuzz/fuzz-$t.c" "$out/obj/libcgm-fuzz.a" "${libs[@]}" \
				-o "$out/bin/fuzz-$t" || return 1
		fi
	done
}

if ! build; then
	echo "run-fuzz.sh: the build failed"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi
[ $build_only = 1 ] && exit 0

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# A dictionary helps libFuzzer form the keywords of a grammar.
dict_for() {
	case $1 in
	keys|policy) echo "-dict=$top/tests/fuzz/keys.dict" ;;
	esac
}

# ---- merge: the committed corpus keeps its named seeds (each says what it covers; some are
# reproducers of fixed bugs) and gets, as files named by their SHA-1 the way libFuzzer names
# them, the minimal set of inputs (-merge=1) that adds the edges the runs reached.
if [ $merge = 1 ]; then
	for t in $targets; do
		src=$top/tests/fuzz/corpus/$t
		new=$out/merged-$t
		named=$out/named-$t
		rm -rf "$new" "$named" && mkdir -p "$new" "$named" "$src" "$out/corpus/$t"
		for f in "$src"/*; do
			[ -f "$f" ] || continue
			case $(basename "$f") in
			[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*) ;;
			*) cp "$f" "$named/" ;;
			esac
		done
		# The named seeds first: what they cover is not added again. -use_counters=0 keeps
		# every edge reached, not every hit count of it: a corpus a third of the size.
		"$out/bin/fuzz-$t" -merge=1 -use_counters=0 "$named" "$src" "$out/corpus/$t" \
			>"$out/logs/merge-$t.log" 2>&1 || { tail -n 20 "$out/logs/merge-$t.log"; exit 1; }
		for f in "$named"/*; do
			[ -f "$f" ] || continue
			case $(basename "$f") in
			[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*) mv "$f" "$new/" ;;
			esac
		done
		find "$src" -maxdepth 1 -type f -name '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*' -delete
		mv "$new"/* "$src"/ 2>/dev/null
		rm -rf "$new" "$named"
		echo "fuzz-$t: $(ls "$src" | wc -l) corpus files"
	done
	exit 0
fi

# ---- fuzz
run_one() { # run_one TARGET: exit status 0 = no finding
	local t=$1 log=$out/logs/$1.log
	mkdir -p "$out/corpus/$t"
	rm -f "$out"/crash-"$t"-* "$out"/leak-"$t"-* "$out"/timeout-"$t"-* "$out"/oom-"$t"-*
	"$out/bin/fuzz-$t" "$out/corpus/$t" "$top/tests/fuzz/corpus/$t" $(dict_for "$t") \
		-max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=8192 \
		-print_final_stats=1 -artifact_prefix="$out/crash-$t-" >"$log" 2>&1
}

passed=0
failed=0
echo "fuzzing $seconds s per target, $jobs at a time: $targets"
set -- $targets
while [ $# -gt 0 ]; do
	pids=()
	names=()
	for _ in $(seq 1 "$jobs"); do
		[ $# -gt 0 ] || break
		run_one "$1" &
		pids+=($!)
		names+=("$1")
		shift
	done
	for i in "${!pids[@]}"; do
		t=${names[$i]}
		wait "${pids[$i]}"
		rc=$?
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/logs/$t.log" | tail -n1)
		cov=$(grep -oE 'cov: [0-9]+' "$out/logs/$t.log" | tail -n1)
		repro=$(ls "$out"/crash-"$t"-* "$out"/leak-"$t"-* "$out"/timeout-"$t"-* "$out"/oom-"$t"-* 2>/dev/null | head -n1)
		if [ $rc = 0 ] && [ -z "$repro" ]; then
			echo "PASS: fuzz-$t: ${execs:-?} executions, ${cov:-cov: ?}, no finding"
			passed=$((passed + 1))
		else
			echo "FAIL: fuzz-$t (exit $rc) after ${execs:-?} executions; log $out/logs/$t.log"
			grep -E '^(==[0-9]+==ERROR|SUMMARY|.*check failed|process [0-9]+: )' "$out/logs/$t.log" | head -n 5
			if [ -n "$repro" ]; then
				echo "  reproducer: $repro"
				echo "  replay:     $out/bin/fuzz-$t $repro"
			fi
			failed=$((failed + 1))
		fi
	done
done
echo "fuzz: $passed passed, $failed failed"
[ $failed = 0 ]
