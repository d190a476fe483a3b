# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmarks: built by `make`, never run by `make check`. `make bench` runs bench/run.sh
# (needs root) against the binaries of this build, and bench/run-pam.sh when PAM is there.
noinst_PROGRAMS += bench/bench-cgm
bench_bench_cgm_SOURCES = bench/bench-cgm.c
bench_bench_cgm_LDADD = client/libcgm.la
EXTRA_DIST += bench/lib.sh bench/run.sh bench/run-pam.sh bench/README.md bench/favordynmods.sh

BENCH_DEPS = cgmd$(EXEEXT) cgm$(EXEEXT) bench/bench-cgm$(EXEEXT)
if HAVE_PAM
# bench-pam: a PAM login's open+close with pam_cgm against the same stack without it.
noinst_PROGRAMS += bench/bench-pam
bench_bench_pam_SOURCES = bench/bench-pam.c
bench_bench_pam_CFLAGS = $(AM_CFLAGS) $(PAM_CFLAGS)
bench_bench_pam_LDADD = $(PAM_LIBS)
# bench-dlopen: what loading a PAM module costs a login process (pam_cgm against pam_permit).
noinst_PROGRAMS += bench/bench-dlopen
bench_bench_dlopen_SOURCES = bench/bench-dlopen.c
bench_bench_dlopen_CFLAGS = $(AM_CFLAGS) $(PAM_CFLAGS)
bench_bench_dlopen_LDADD = $(PAM_LIBS) -ldl
BENCH_DEPS += bench/bench-pam$(EXEEXT) pam_cgm/pam_cgm.la
BENCH_PAM_RUN = CGMD='$(abs_top_builddir)/cgmd' CGM='$(abs_top_builddir)/cgm' \
	BENCH_PAM='$(abs_top_builddir)/bench/bench-pam' \
	PAM_CGM='$(abs_top_builddir)/pam_cgm/.libs/pam_cgm.so' $(SHELL) $(top_srcdir)/bench/run-pam.sh
else
BENCH_PAM_RUN = @echo 'bench: PAM not found by configure: no PAM benchmark'
endif

bench: $(BENCH_DEPS)
	CGMD='$(abs_top_builddir)/cgmd' CGM='$(abs_top_builddir)/cgm' \
	BENCH='$(abs_top_builddir)/bench/bench-cgm' $(SHELL) $(top_srcdir)/bench/run.sh
	$(BENCH_PAM_RUN)
.PHONY: bench
