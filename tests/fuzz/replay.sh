#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Replay the fuzz seed corpus through the fuzzers' replay mains; TAP output (make check).
set -eu

srcdir=${srcdir:-.}
bindir=${FUZZ_BINDIR:-tests/fuzz}
targets="name keys"

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

echo "1..$total"
i=0
status=0
for target in $targets; do
        for f in "$srcdir/tests/fuzz/corpus/$target"/*; do
                [ -f "$f" ] || continue
                i=$((i + 1))
                if "$bindir/fuzz-$target" "$f"; then
                        echo "ok $i - fuzz-$target $(basename "$f")"
                else
                        echo "not ok $i - fuzz-$target $(basename "$f")"
                        status=1
                fi
        done
done
exit $status
