# SPDX-License-Identifier: LGPL-2.1-or-later
# Integration tests: shell scripts against a real cgmd, TAP output. They need root and skip
# (TAP "1..0 # SKIP") without it.
check_PROGRAMS += tests/integration/forker
tests_integration_forker_SOURCES = tests/integration/forker.c
# hostile: the raw D-Bus client of test-hostile.sh (malformed messages, floods, pidfd kinds)
check_PROGRAMS += tests/integration/hostile
tests_integration_hostile_SOURCES = tests/integration/hostile.c
tests_integration_hostile_LDADD = $(DBUS_LIBS) -lpthread
# fake-systemd: org.freedesktop.systemd1 on a private bus, for test-systemd-mode.sh
check_PROGRAMS += tests/integration/fake-systemd
tests_integration_fake_systemd_SOURCES = tests/integration/fake-systemd.c
tests_integration_fake_systemd_LDADD = $(DBUS_LIBS)
# nsexec: run a command in new user (pid, mount, cgroup) namespaces with maps written by the
# parent; nsclient: a libcgm client that leaves its namespaces between requests. Both for
# test-namespaces.sh.
check_PROGRAMS += tests/integration/nsexec tests/integration/nsclient
tests_integration_nsexec_SOURCES = tests/integration/nsexec.c
tests_integration_nsclient_SOURCES = tests/integration/nsclient.c
tests_integration_nsclient_LDADD = client/libcgm.la
# direct-probe: one libcgm read printed for a byte-for-byte comparison, for test-direct.sh
check_PROGRAMS += tests/integration/direct-probe
tests_integration_direct_probe_SOURCES = tests/integration/direct-probe.c
tests_integration_direct_probe_LDADD = client/libcgm.la
# pipeline: several requests on one connection without waiting, for test-blocking.sh
check_PROGRAMS += tests/integration/pipeline
tests_integration_pipeline_SOURCES = tests/integration/pipeline.c

# subscriber: a raw D-Bus subscriber (prints events, or subscribes and never reads), for
# test-events.sh and the guest's check-events.sh
check_PROGRAMS += tests/integration/subscriber
tests_integration_subscriber_SOURCES = tests/integration/subscriber.c
tests_integration_subscriber_LDADD = $(DBUS_LIBS)

# ptyrun: runs a command on a new pty it owns and copies what the pty shows, for the OOM
# notice tests
check_PROGRAMS += tests/integration/ptyrun
tests_integration_ptyrun_SOURCES = tests/integration/ptyrun.c
tests_integration_pipeline_LDADD = $(DBUS_LIBS)

INTEGRATION_TESTS = \
	tests/integration/test-daemon.sh \
	tests/integration/test-interop.sh \
	tests/integration/test-delegation.sh \
	tests/integration/test-v2.sh \
	tests/integration/test-hostile.sh \
	tests/integration/test-sessions.sh \
	tests/integration/test-linger.sh \
	tests/integration/test-systemd-mode.sh \
	tests/integration/test-service.sh \
	tests/integration/test-namespaces.sh \
	tests/integration/test-direct.sh \
	tests/integration/test-blocking.sh \
	tests/integration/test-scale.sh \
	tests/integration/test-events.sh \
	tests/integration/test-watch.sh \
	tests/integration/test-top.sh \
	tests/integration/test-notify-tty.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += tests/integration/lib.sh $(INTEGRATION_TESTS)

SH_LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
TEST_EXTENSIONS = .sh
AM_TESTS_ENVIRONMENT = \
	CGMD='$(abs_top_builddir)/cgmd'; export CGMD; \
	CGM='$(abs_top_builddir)/cgm'; export CGM; \
	FORKER='$(abs_top_builddir)/tests/integration/forker'; export FORKER; \
	PAM_CGM='$(abs_top_builddir)/pam_cgm/.libs/pam_cgm.so'; export PAM_CGM; \
	PAM_SESSION='$(abs_top_builddir)/tests/pam/pam-session'; export PAM_SESSION; \
	FAKE_SYSTEMD='$(abs_top_builddir)/tests/integration/fake-systemd'; export FAKE_SYSTEMD; \
	NSEXEC='$(abs_top_builddir)/tests/integration/nsexec'; export NSEXEC; \
	NSCLIENT='$(abs_top_builddir)/tests/integration/nsclient'; export NSCLIENT; \
	DIRECT_PROBE='$(abs_top_builddir)/tests/integration/direct-probe'; export DIRECT_PROBE; \
	PIPELINE='$(abs_top_builddir)/tests/integration/pipeline'; export PIPELINE; \
	SUBSCRIBER='$(abs_top_builddir)/tests/integration/subscriber'; export SUBSCRIBER; \
	PTYRUN='$(abs_top_builddir)/tests/integration/ptyrun'; export PTYRUN; \
	CMOCKA_MESSAGE_OUTPUT=TAP; export CMOCKA_MESSAGE_OUTPUT;
# Tests without an extension (the cmocka binaries) speak TAP too (CMOCKA_MESSAGE_OUTPUT=TAP).
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
