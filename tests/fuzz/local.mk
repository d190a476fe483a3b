# SPDX-License-Identifier: LGPL-2.1-or-later
# Fuzz targets. Built here with their replay main(); make check replays the seed corpus.
# For real fuzzing build them with clang -fsanitize=fuzzer -DFUZZ_LIBFUZZER (see each file).
check_PROGRAMS += tests/fuzz/fuzz-name tests/fuzz/fuzz-keys

tests_fuzz_fuzz_name_SOURCES = tests/fuzz/fuzz-name.c
tests_fuzz_fuzz_name_LDADD = common/libcgmcommon.la

tests_fuzz_fuzz_keys_SOURCES = tests/fuzz/fuzz-keys.c
tests_fuzz_fuzz_keys_LDADD = daemon/libcgmd.la common/libcgmcommon.la

TESTS += tests/fuzz/replay.sh
EXTRA_DIST += tests/fuzz/replay.sh tests/fuzz/corpus
