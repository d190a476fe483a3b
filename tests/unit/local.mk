# SPDX-License-Identifier: LGPL-2.1-or-later
# cmocka unit tests of the pure parts: names, units, errors, keys, auth, namespaces, mountinfo.
if HAVE_CMOCKA
UNIT_TESTS = \
	tests/unit/test-name \
	tests/unit/test-units \
	tests/unit/test-errors \
	tests/unit/test-keys \
	tests/unit/test-auth \
	tests/unit/test-nsview \
	tests/unit/test-mountinfo \
	tests/unit/test-cgread \
	tests/unit/test-policy \
	tests/unit/test-reply \
	tests/unit/test-systemd \
	tests/unit/test-log \
	tests/unit/test-wire \
	tests/unit/test-libcgm-events \
	tests/unit/test-notify-tty \
	tests/unit/test-table
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
UNIT_LDADD = daemon/libcgmd.la common/libcgmcommon.la $(CMOCKA_LIBS)

# pam_cgm's own D-Bus client, against libdbus as the reference (client/wire.c).
tests_unit_test_wire_SOURCES = tests/unit/test-wire.c
tests_unit_test_wire_CFLAGS = $(UNIT_CFLAGS) -pthread
tests_unit_test_wire_LDADD = client/libcgm-wire.la $(DBUS_LIBS) $(CMOCKA_LIBS) -lpthread

# libcgm's events against a scripted daemon (client/events.c), through the public API only.
tests_unit_test_libcgm_events_SOURCES = tests/unit/test-libcgm-events.c
tests_unit_test_libcgm_events_CFLAGS = $(UNIT_CFLAGS) -pthread
tests_unit_test_libcgm_events_LDADD = client/libcgm.la $(DBUS_LIBS) $(CMOCKA_LIBS) -lpthread

# The OOM notice's parsing of PAM_TTY and of the kernel's oom-kill line (daemon/notify-tty.c).
tests_unit_test_notify_tty_SOURCES = tests/unit/test-notify-tty.c
tests_unit_test_notify_tty_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_notify_tty_LDADD = $(UNIT_LDADD)

tests_unit_test_name_SOURCES = tests/unit/test-name.c
tests_unit_test_name_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_name_LDADD = $(UNIT_LDADD)

tests_unit_test_units_SOURCES = tests/unit/test-units.c
tests_unit_test_units_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_units_LDADD = $(UNIT_LDADD)

tests_unit_test_errors_SOURCES = tests/unit/test-errors.c
tests_unit_test_errors_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_errors_LDADD = $(UNIT_LDADD)

tests_unit_test_keys_SOURCES = tests/unit/test-keys.c
tests_unit_test_keys_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_keys_LDADD = $(UNIT_LDADD)

tests_unit_test_auth_SOURCES = tests/unit/test-auth.c
tests_unit_test_auth_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_auth_LDADD = $(UNIT_LDADD)

tests_unit_test_nsview_SOURCES = tests/unit/test-nsview.c
tests_unit_test_nsview_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_nsview_LDADD = $(UNIT_LDADD)

tests_unit_test_mountinfo_SOURCES = tests/unit/test-mountinfo.c
tests_unit_test_mountinfo_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_mountinfo_LDADD = $(UNIT_LDADD)
tests_unit_test_cgread_SOURCES = tests/unit/test-cgread.c
tests_unit_test_cgread_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cgread_LDADD = $(UNIT_LDADD)
tests_unit_test_policy_SOURCES = tests/unit/test-policy.c
tests_unit_test_policy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policy_LDADD = $(UNIT_LDADD)

tests_unit_test_reply_SOURCES = tests/unit/test-reply.c
tests_unit_test_reply_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_reply_LDADD = $(UNIT_LDADD)

tests_unit_test_systemd_SOURCES = tests/unit/test-systemd.c
tests_unit_test_systemd_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_systemd_LDADD = $(UNIT_LDADD)
endif

# Not a program: a check over the daemon's sources (every reply string goes through reply.c).
TESTS += tests/unit/test-reply-discipline.sh
EXTRA_DIST += tests/unit/test-reply-discipline.sh

tests_unit_test_table_SOURCES = tests/unit/test-table.c
tests_unit_test_table_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_table_LDADD = $(UNIT_LDADD)

tests_unit_test_log_SOURCES = tests/unit/test-log.c
tests_unit_test_log_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_log_LDADD = $(UNIT_LDADD)
