# SPDX-License-Identifier: LGPL-2.1-or-later
# pam_cgm, the PAM session module. It is loaded into every login process, so it links libc and
# libpam only: its two calls go through client/wire.c, a minimal peer-to-peer D-Bus client of
# its own (libcgm and libdbus would bring libsystemd, libgcrypt, lz4, zstd, lzma and
# libgpg-error into each login, 0.5 ms of dlopen), with common/error.c for the error names.
# Compiled with -fvisibility=hidden: the module exports only its two hooks (pam_cgm.map).
# The client is built without PAM too: tests/unit/test-wire and fuzz-wire test it.
noinst_LTLIBRARIES += client/libcgm-wire.la
client_libcgm_wire_la_SOURCES = client/wire.h client/wire.c common/error.h common/error.c \
	common/connect.h common/connect.c common/utf8.h common/utf8.c
client_libcgm_wire_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden

if HAVE_PAM
pammod_LTLIBRARIES = pam_cgm/pam_cgm.la
pam_cgm_pam_cgm_la_SOURCES = pam_cgm/pam_cgm.c
pam_cgm_pam_cgm_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(PAM_CFLAGS)
# -module -avoid-version: installed as pam_cgm.so, no lib prefix, no version suffix.
# -shared: no static archive, which PAM could not load anyway.
# No -z nodelete: the module keeps no state outside a hook, so libpam may unload it at
# pam_end() like any module (it was needed only while the module carried libdbus, whose
# process-wide allocations each unload lost). --as-needed: NEEDED lists what is used, which
# tests/pam/dlopen-check holds to libc and libpam.
pam_cgm_pam_cgm_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared -no-undefined \
	-Wl,--as-needed -Wl,--version-script=$(top_srcdir)/pam_cgm/pam_cgm.map
pam_cgm_pam_cgm_la_LIBADD = client/libcgm-wire.la $(PAM_LIBS)
EXTRA_pam_cgm_pam_cgm_la_DEPENDENCIES = pam_cgm/pam_cgm.map

# libtool installs a .la next to the module; PAM has no use for it (Linux-PAM removes its own).
install-data-hook: pam-cgm-install-data-hook
pam-cgm-install-data-hook:
	rm -f $(DESTDIR)$(pammoddir)/pam_cgm.la
uninstall-hook: pam-cgm-uninstall-hook
pam-cgm-uninstall-hook:
	rm -f $(DESTDIR)$(pammoddir)/pam_cgm.so

man_MANS += docs/man/pam_cgm.8

# The module goes to $(pammoddir), where the host's libpam looks (configure asks pam.pc).
# Enabling it stays the administrator's decision; two ways are installed:
# - the pam-auth-update(8) profile, $(datadir)/pam-configs/cgm: Debian's pam-auth-update
#   reads /usr/share/pam-configs, so with --prefix=/usr (as the Debian package) it is found,
#   and `pam-auth-update --enable cgm` adds pam_cgm to the interactive common-session;
# - the pam.d snippet, $(pkgdatadir)/pam.d/cgm-session, to copy to /etc/pam.d/ and
#   `@include cgm-session` from single services (any distribution).
pamconfigsdir = $(datadir)/pam-configs
dist_pamconfigs_DATA = etc/pam-configs/cgm
cgmpamddir = $(pkgdatadir)/pam.d
dist_cgmpamd_DATA = etc/pam.d/cgm-session
else
EXTRA_DIST += etc/pam.d/cgm-session etc/pam-configs/cgm
endif

EXTRA_DIST += pam_cgm/pam_cgm.map
