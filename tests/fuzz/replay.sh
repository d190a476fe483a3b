#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Replay the committed fuzz corpus through the fuzzers' replay mains; TAP output (make check).
set -eu

srcdir=${srcdir:-.}
bindir=${FUZZ_BINDIR:-tests/fuzz}
targets="name keys units mountinfo policy dbus wire"

total=0
for target in $targets; do
        if [ ! -x "$bindir/fuzz-$target" ]; then
                echo "Bail out! $bindir/fuzz-$target is not built"
                exit 1
        fi
        for f in "$srcdir/tests/fuzz/corpus/$target"/*; do
                [ -f "$f" ] && total=$((total + 1))
        done
done
if [ "$total" -eq 0 ]; then
        echo "Bail out! no corpus files below $srcdir/tests/fuzz/corpus"
        exit 1
fi

echo "1..$((total + $(echo $targets | wc -w)))"
i=0
status=0
for target in $targets; do
        # First the whole corpus in one process, as libFuzzer runs it (an input must not
        # leave state behind that breaks a later one); each file on its own only when that
        # fails, to name the file.
        set -- "$srcdir/tests/fuzz/corpus/$target"/*
        i=$((i + 1))
        if "$bindir/fuzz-$target" "$@"; then
                echo "ok $i - fuzz-$target: the whole corpus in one process"
                for f in "$@"; do
                        [ -f "$f" ] || continue
                        i=$((i + 1))
                        echo "ok $i - fuzz-$target $(basename "$f")"
                done
                continue
        fi
        echo "not ok $i - fuzz-$target: the whole corpus in one process"
        status=1
        for f in "$@"; do
                [ -f "$f" ] || continue
                i=$((i + 1))
                if "$bindir/fuzz-$target" "$f"; then
                        echo "ok $i - fuzz-$target $(basename "$f")"
                else
                        echo "not ok $i - fuzz-$target $(basename "$f")"
                fi
        done
done
exit $status
