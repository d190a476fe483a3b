# SPDX-License-Identifier: LGPL-2.1-or-later
# pam_cgm, the PAM session module. It carries a private copy of libcgm (and the common library)
# compiled with -fvisibility=hidden, so PAM processes need no libcgm.so at run time and the
# module exports only its two hooks (pam_cgm.map).
if HAVE_PAM
noinst_LTLIBRARIES += client/libcgm-static.la
client_libcgm_static_la_SOURCES = client/cgm.h client/libcgm.c
client_libcgm_static_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
client_libcgm_static_la_LIBADD = common/libcgmcommon.la

pammod_LTLIBRARIES = pam_cgm/pam_cgm.la
pam_cgm_pam_cgm_la_SOURCES = pam_cgm/pam_cgm.c
pam_cgm_pam_cgm_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(PAM_CFLAGS)
# -module -avoid-version: installed as pam_cgm.so, no lib prefix, no version suffix.
# -shared: no static archive, which PAM could not load anyway.
# -z nodelete: libpam dlclose()s modules at every pam_end(); unloading the module would unload
# libdbus with it in an application that does not use libdbus itself, and each unload loses
# libdbus' process-wide allocations (message cache, locks: about 2 KiB per login under valgrind),
# so the module stays loaded once loaded.
pam_cgm_pam_cgm_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared -no-undefined \
	-Wl,-z,nodelete -Wl,--version-script=$(top_srcdir)/pam_cgm/pam_cgm.map
pam_cgm_pam_cgm_la_LIBADD = client/libcgm-static.la $(DBUS_LIBS) $(PAM_LIBS)
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
