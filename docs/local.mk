# SPDX-License-Identifier: LGPL-2.1-or-later
# Documentation. The man pages are generated from docs/man/*.in at build time: configure's
# version and release date (configure.ac, next to each other) and the installation paths are
# substituted, so a page names the files this build really reads (@sysconfdir@/cgm/cgm.conf is
# /etc/cgm/cgm.conf with --sysconfdir=/etc, /usr/local/etc/cgm/cgm.conf without). The design,
# API and security notes are shipped in the tarball only. tests/man-lint.sh checks every page
# with mandoc -T lint.
cgm_man_pages = \
	docs/man/cgmd.8 \
	docs/man/cgm.1 \
	docs/man/libcgm.3 \
	docs/man/cgm.conf.5
man_MANS += $(cgm_man_pages)
# pam_cgm.8 is generated always (the lint test reads it) and installed with the module.
cgm_all_man_pages = $(cgm_man_pages) docs/man/pam_cgm.8
noinst_DATA += $(cgm_all_man_pages)
CLEANFILES += $(cgm_all_man_pages)

EXTRA_DIST += \
	docs/man/cgmd.8.in \
	docs/man/cgm.1.in \
	docs/man/libcgm.3.in \
	docs/man/cgm.conf.5.in \
	docs/man/pam_cgm.8.in \
	docs/design.md \
	docs/api.md \
	docs/security.md \
	docs/fuzzing.md

# Make expands the directory variables fully (${prefix} and all), which configure cannot.
edit_man = $(SED) \
	-e 's|@VERSION[@]|$(VERSION)|g' \
	-e 's|@CGM_DATE[@]|$(CGM_DATE)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@libdir[@]|$(libdir)|g' \
	-e 's|@includedir[@]|$(includedir)|g' \
	-e 's|@datadir[@]|$(datadir)|g' \
	-e 's|@pkgdatadir[@]|$(pkgdatadir)|g' \
	-e 's|@pammoddir[@]|$(pammoddir)|g' \
	-e 's|@runstatedir[@]|$(runstatedir)|g'

$(cgm_all_man_pages): Makefile
	$(AM_V_GEN)$(MKDIR_P) docs/man && \
	rm -f $@ $@.tmp && \
	$(edit_man) $(srcdir)/$@.in >$@.tmp && \
	if grep -n '@[a-zA-Z_]*@' $@.tmp | grep -v '@include'; then \
		echo "$@: a placeholder is left (edit_man in docs/local.mk)" >&2; rm -f $@.tmp; exit 1; \
	fi && \
	mv $@.tmp $@
docs/man/cgmd.8: $(srcdir)/docs/man/cgmd.8.in
docs/man/cgm.1: $(srcdir)/docs/man/cgm.1.in
docs/man/libcgm.3: $(srcdir)/docs/man/libcgm.3.in
docs/man/cgm.conf.5: $(srcdir)/docs/man/cgm.conf.5.in
docs/man/pam_cgm.8: $(srcdir)/docs/man/pam_cgm.8.in

# mandoc -T lint over every page: no error, no warning (style hints are not counted).
TESTS += tests/man-lint.sh
EXTRA_DIST += tests/man-lint.sh
