# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmarks: built by `make`, never run by `make check`. `make bench` (needs root) runs, against
# the binaries of this build, bench/run.sh, bench/run-load.sh, bench/run-pam.sh and
# bench-dlopen when PAM is there, and bench/run-scale.sh: one line per figure, bench/README.md.
noinst_PROGRAMS += bench/bench-cgm
bench_bench_cgm_SOURCES = bench/bench-cgm.c
bench_bench_cgm_LDADD = client/libcgm.la
# bench-load: 1 client against 8, and Ping beside kernel writes that block.
noinst_PROGRAMS += bench/bench-load
bench_bench_load_SOURCES = bench/bench-load.c
bench_bench_load_LDADD = client/libcgm.la
EXTRA_DIST += bench/lib.sh bench/run.sh bench/run-pam.sh bench/README.md bench/favordynmods.sh
EXTRA_DIST += bench/run-load.sh

BENCH_DEPS = cgmd$(EXEEXT) cgm$(EXEEXT) bench/bench-cgm$(EXEEXT) bench/bench-load$(EXEEXT) \
	bench/bench-scale$(EXEEXT)
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
# Against pam_permit (the floor, a module that loads nothing) and pam_unix (every login has it).
BENCH_DLOPEN_RUN = mods=$$(for m in pam_permit.so pam_unix.so; do ls /lib/*/security/$$m /usr/lib/*/security/$$m 2>/dev/null | head -n1; done); \
	set -- $$mods; '$(abs_top_builddir)/bench/bench-dlopen' 200 "$$1" '$(abs_top_builddir)/pam_cgm/.libs/pam_cgm.so' "$$2"
BENCH_DEPS += bench/bench-dlopen$(EXEEXT)
else
BENCH_PAM_RUN = @echo 'bench: PAM not found by configure: no PAM benchmark'
BENCH_DLOPEN_RUN = @true
endif

bench: $(BENCH_DEPS)
	CGMD='$(abs_top_builddir)/cgmd' CGM='$(abs_top_builddir)/cgm' \
	BENCH='$(abs_top_builddir)/bench/bench-cgm' $(SHELL) $(top_srcdir)/bench/run.sh
	CGMD='$(abs_top_builddir)/cgmd' CGM='$(abs_top_builddir)/cgm' \
	BENCH_LOAD='$(abs_top_builddir)/bench/bench-load' $(SHELL) $(top_srcdir)/bench/run-load.sh
	$(BENCH_PAM_RUN)
	$(BENCH_DLOPEN_RUN)
	CGMD='$(abs_top_builddir)/cgmd' CGM='$(abs_top_builddir)/cgm' \
	BENCH_SCALE='$(abs_top_builddir)/bench/bench-scale' $(SHELL) $(top_srcdir)/bench/run-scale.sh
.PHONY: bench

# bench-scale: cgmd with 10 to 10,000 live sessions (bench/run-scale.sh; the last part of
# `make bench`, or alone: about 80 s and 10,000 processes).
noinst_PROGRAMS += bench/bench-scale
bench_bench_scale_SOURCES = bench/bench-scale.c
bench_bench_scale_LDADD = client/libcgm.la
EXTRA_DIST += bench/run-scale.sh

bench-scale: cgmd$(EXEEXT) cgm$(EXEEXT) bench/bench-scale$(EXEEXT)
	CGMD='$(abs_top_builddir)/cgmd' CGM='$(abs_top_builddir)/cgm' \
	BENCH_SCALE='$(abs_top_builddir)/bench/bench-scale' $(SHELL) $(top_srcdir)/bench/run-scale.sh
.PHONY: bench-scale

# bench-guest: the same figures in a booted pure cgroup2 guest (openrc-v2, tests/guest), with
# the peers pam_cgfs and pam_cgroup beside pam_cgm when apt can fetch them. The .debs as for
# check-guest; the figures end up in bench/guest-results/openrc-v2/boot1/bench.txt.
EXTRA_DIST += bench/guest-bench.sh
bench-guest: tests/integration/forker$(EXEEXT) tests/integration/memhog$(EXEEXT) \
		tests/integration/hostile$(EXEEXT) $(BENCH_DEPS)
	rm -rf bench/guest-results bench/peers
	@debs="$${CGM_GUEST_DEBS:-}"; \
	if test -z "$$debs"; then \
		debs='$(abs_top_builddir)/tests/guest/debs'; \
		CGM_NO_LINTIAN=1 bash '$(abs_top_srcdir)/scripts/build-debs.sh' "$$debs" || exit 2; \
	fi; \
	mkdir -p bench/peers; \
	(cd bench/peers && apt-get download libpam-cgfs libpam-cgroup libcgroup2) >/dev/null 2>&1 || \
		{ echo "bench-guest: apt-get download failed: no peers"; rm -f bench/peers/*.deb; }; \
	CGM_GUEST_EXTRA_DEBS='$(abs_top_builddir)/bench/peers' bash '$(srcdir)/tests/guest/run-guest.sh' \
		-b '$(abs_top_builddir)' -d "$$debs" -o bench/guest-results -q -1 -t 1500 \
		-x '$(srcdir)/bench/guest-bench.sh' openrc-v2; \
	rc=$$?; cat bench/guest-results/openrc-v2/boot1/bench.txt; exit $$rc
.PHONY: bench-guest
