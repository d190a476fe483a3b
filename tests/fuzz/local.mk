# SPDX-License-Identifier: LGPL-2.1-or-later
# Fuzz targets. Built here with their replay main() (tests/fuzz/fuzz-util.h); make check
# replays the committed corpus through them (replay.sh). `make fuzz` builds them again as
# libFuzzer binaries with clang and fuzzes each for FUZZ_SECONDS (tests/fuzz/run-fuzz.sh,
# docs/fuzzing.md).
check_PROGRAMS += \
	tests/fuzz/fuzz-name \
	tests/fuzz/fuzz-keys \
	tests/fuzz/fuzz-units \
	tests/fuzz/fuzz-mountinfo \
	tests/fuzz/fuzz-policy \
	tests/fuzz/fuzz-dbus \
	tests/fuzz/fuzz-wire

tests_fuzz_fuzz_name_SOURCES = tests/fuzz/fuzz-name.c
tests_fuzz_fuzz_name_LDADD = common/libcgmcommon.la

tests_fuzz_fuzz_keys_SOURCES = tests/fuzz/fuzz-keys.c
tests_fuzz_fuzz_keys_LDADD = common/libcgmcommon.la

tests_fuzz_fuzz_units_SOURCES = tests/fuzz/fuzz-units.c tests/fuzz/fuzz-util.h
tests_fuzz_fuzz_units_LDADD = common/libcgmcommon.la

tests_fuzz_fuzz_mountinfo_SOURCES = tests/fuzz/fuzz-mountinfo.c tests/fuzz/fuzz-util.h
tests_fuzz_fuzz_mountinfo_LDADD = daemon/libcgmd.la common/libcgmcommon.la

tests_fuzz_fuzz_policy_SOURCES = tests/fuzz/fuzz-policy.c tests/fuzz/fuzz-util.h
tests_fuzz_fuzz_policy_LDADD = common/libcgmcommon.la

# fuzz-dbus.c includes daemon/main.c (for manager_apply_options), renaming its main().
tests_fuzz_fuzz_dbus_SOURCES = tests/fuzz/fuzz-dbus.c tests/fuzz/fuzz-util.h
tests_fuzz_fuzz_dbus_CFLAGS = $(AM_CFLAGS) $(LIBCAP_CFLAGS)
tests_fuzz_fuzz_dbus_LDADD = daemon/libcgmd.la common/libcgmcommon.la

# pam_cgm's reply parser (client/wire.c).
tests_fuzz_fuzz_wire_SOURCES = tests/fuzz/fuzz-wire.c tests/fuzz/fuzz-util.h
tests_fuzz_fuzz_wire_LDADD = client/libcgm-wire.la

TESTS += tests/fuzz/replay.sh
EXTRA_DIST += \
	tests/fuzz/replay.sh \
	tests/fuzz/run-fuzz.sh \
	tests/fuzz/keys.dict \
	tests/fuzz/corpus

# make fuzz [FUZZ_SECONDS=N]: libFuzzer, clang, ASan+UBSan; output in ./fuzz-libfuzzer.
FUZZ_SECONDS = 60
fuzz: all
	FUZZ_BUILDDIR="$(abs_top_builddir)" FUZZ_OUT="$(abs_top_builddir)/fuzz-libfuzzer" \
		FUZZ_SECONDS="$(FUZZ_SECONDS)" \
		bash $(abs_top_srcdir)/tests/fuzz/run-fuzz.sh
.PHONY: fuzz
