# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmarks: built by `make`, never run by `make check`. `make bench` runs bench/run.sh
# (needs root) against the binaries of this build.
noinst_PROGRAMS += bench/bench-cgm
bench_bench_cgm_SOURCES = bench/bench-cgm.c
bench_bench_cgm_LDADD = client/libcgm.la
EXTRA_DIST += bench/run.sh bench/README.md

bench: cgmd$(EXEEXT) cgm$(EXEEXT) bench/bench-cgm$(EXEEXT)
	CGMD='$(abs_top_builddir)/cgmd' CGM='$(abs_top_builddir)/cgm' \
	BENCH='$(abs_top_builddir)/bench/bench-cgm' $(SHELL) $(top_srcdir)/bench/run.sh
.PHONY: bench
