# SPDX-License-Identifier: LGPL-2.1-or-later
# libcgm (the only client-side code that speaks the wire protocol) and the cgm CLI over it.
lib_LTLIBRARIES += client/libcgm.la
client_libcgm_la_SOURCES = client/cgm.h client/libcgm.c client/direct.h client/direct.c \
	client/events.h client/events.c
# Only what the version script lists is exported; the common library linked in stays internal.
client_libcgm_la_LDFLAGS = $(AM_LDFLAGS) -version-info 2:0:2 -no-undefined \
	-Wl,--version-script=$(top_srcdir)/client/libcgm.sym
client_libcgm_la_LIBADD = common/libcgmcommon.la $(DBUS_LIBS)
EXTRA_client_libcgm_la_DEPENDENCIES = client/libcgm.sym

include_HEADERS = client/cgm.h

pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = client/libcgm.pc

bin_PROGRAMS += cgm
cgm_SOURCES = \
	client/cli/cli.h \
	client/cli/cli.c \
	client/cli/cgm.c \
	client/cli/json.h \
	client/cli/json.c \
	client/cli/cmd-info.c \
	client/cli/cmd-list.c \
	client/cli/cmd-cgroup.c \
	client/cli/cmd-proc.c \
	client/cli/cmd-run.c \
	client/cli/cmd-admin.c \
	client/cli/cmd-watch.c \
	client/cli/cmd-top.c
# `cgm policy check` runs the daemon's own policy parser (common/policy.c), so that a file it
# accepts is one cgmd accepts; the CLI links no daemon code.
cgm_LDADD = client/libcgm.la common/libcgmcommon.la $(DBUS_LIBS)

EXTRA_DIST += client/libcgm.sym client/libcgm.pc.in
