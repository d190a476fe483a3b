# SPDX-License-Identifier: LGPL-2.1-or-later
# Everything but main.c goes into a convenience library so unit tests can link the pure parts.
noinst_LTLIBRARIES += daemon/libcgmd.la
daemon_libcgmd_la_SOURCES = \
	daemon/context.h \
	daemon/log.h daemon/log.c \
	daemon/worker.h daemon/worker.c \
	daemon/nss.h daemon/nss.c \
	daemon/session.h daemon/session.c \
	daemon/systemd.h daemon/systemd.c daemon/systemd-internal.h \
	daemon/systemd-bus.c daemon/systemd-state.c \
	daemon/systemd-props.h daemon/systemd-props.c \
	daemon/api-session.h daemon/api-session.c \
	daemon/caps.h daemon/caps.c \
	daemon/audit.h daemon/audit.c \
	daemon/auth.h daemon/auth.c \
	daemon/cgfs.h daemon/cgfs.c \
	daemon/own-cgroup.h daemon/own-cgroup.c \
	daemon/service.h daemon/service.c \
	daemon/cgroup.h daemon/cgroup-internal.h daemon/cgroup.c \
	daemon/cg-proc.c daemon/cg-remove.c \
	daemon/home.h daemon/home.c \
	daemon/table.h daemon/table.c \
	daemon/proc.h daemon/proc.c \
	daemon/loop.h daemon/loop.c \
	daemon/peer.h daemon/peer.c \
	daemon/nsview.h daemon/nsview.c \
	daemon/uidmap.h daemon/uidmap.c \
	daemon/server.h daemon/server.c \
	daemon/reply.h daemon/reply.c \
	daemon/methods.h daemon/methods.c \
	daemon/api-layout.c daemon/api-path.c \
	daemon/api-cgroup.c \
	daemon/events.h daemon/events.c daemon/events-v1.c \
	daemon/notify-tty.h daemon/notify-tty.c
daemon_libcgmd_la_LIBADD = common/libcgmcommon.la $(DBUS_LIBS) $(LIBCAP_LIBS) -lpthread
daemon_libcgmd_la_CFLAGS = $(AM_CFLAGS) $(LIBCAP_CFLAGS)

sbin_PROGRAMS += cgmd
cgmd_SOURCES = daemon/main.c
cgmd_LDADD = daemon/libcgmd.la
