# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault injection (docs/fault-injection.md): cgmd under an LD_PRELOAD shim that makes chosen
# cgroupfs calls fail, a low RLIMIT_NOFILE and a syslog that does not read. The test needs
# root and skips without it. It uses the integration tests' lib.sh, driver and environment.
#
# The shim is a shared object for LD_PRELOAD, never installed: -rpath only makes libtool build
# it shared. It is compiled without the sanitizers (its own CFLAGS and LDFLAGS), so it can be
# preloaded into any cgmd; the test puts an ASan runtime in front of it when cgmd has one.
check_LTLIBRARIES = tests/fault/faultshim.la
tests_fault_faultshim_la_SOURCES = tests/fault/faultshim.c
tests_fault_faultshim_la_CPPFLAGS =
tests_fault_faultshim_la_CFLAGS = -std=gnu11 $(WARN_CFLAGS) -pthread
tests_fault_faultshim_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere -pthread
tests_fault_faultshim_la_LIBADD = -ldl

check_PROGRAMS += tests/fault/faulthelper
tests_fault_faulthelper_SOURCES = tests/fault/faulthelper.c
tests_fault_faulthelper_LDADD = client/libcgm.la

FAULT_TESTS = tests/fault/test-fault.sh
TESTS += $(FAULT_TESTS)
EXTRA_DIST += $(FAULT_TESTS) docs/fault-injection.md
AM_TESTS_ENVIRONMENT += \
	FAULTSHIM='$(abs_top_builddir)/tests/fault/.libs/faultshim.so'; export FAULTSHIM; \
	FAULTHELPER='$(abs_top_builddir)/tests/fault/faulthelper'; export FAULTHELPER;
