# SPDX-License-Identifier: LGPL-2.1-or-later
# pam_cgm tests that need no daemon and no root: return codes and bounds (test-pam-retval) and
# the loadability and exports of the module (dlopen-check), both TAP. pam-session is the PAM
# application for the integration tests against a real cgmd. test-pam-retval runs its
# stalled-directory cases with libnss_stall.so.2 in a mount namespace of its own (as root, or
# in a user namespace where those are allowed; skipped otherwise).
if HAVE_PAM
PAM_CGM_SO = $(abs_top_builddir)/pam_cgm/.libs/pam_cgm.so
PAM_TEST_CPPFLAGS = $(AM_CPPFLAGS) -DPAM_CGM_MODULE='"$(PAM_CGM_SO)"' \
	-DNSS_STALL_DIR='"$(abs_top_builddir)/tests/pam"'

# An NSS module is loaded by its soname, libnss_NAME.so.2, from the library path: a plain
# shared object with that name, never installed, built without the sanitizers so that it loads
# into any program.
NSS_STALL_SO = tests/pam/libnss_stall.so.2
$(NSS_STALL_SO): $(srcdir)/tests/pam/nss-stall.c
	$(AM_V_CCLD)$(MKDIR_P) tests/pam && \
	$(CC) -std=gnu11 $(WARN_CFLAGS) $(CPPFLAGS) $(CFLAGS) -fPIC -shared -fvisibility=hidden \
		-Wl,-soname,libnss_stall.so.2 -o $@ $(srcdir)/tests/pam/nss-stall.c
CLEANFILES += $(NSS_STALL_SO)

PAM_TESTS = \
	tests/pam/test-pam-retval \
	tests/pam/dlopen-check
check_PROGRAMS += $(PAM_TESTS) tests/pam/pam-session
TESTS += $(PAM_TESTS)

tests_pam_test_pam_retval_SOURCES = tests/pam/test-pam-retval.c
tests_pam_test_pam_retval_CPPFLAGS = $(PAM_TEST_CPPFLAGS)
tests_pam_test_pam_retval_CFLAGS = $(AM_CFLAGS) $(PAM_CFLAGS) -pthread
# libdbus: the scripted fake daemon speaks the wire protocol.
tests_pam_test_pam_retval_LDADD = $(PAM_LIBS) $(DBUS_LIBS) -lpthread
# The tests load the module from the build tree, so it must be built first.
EXTRA_tests_pam_test_pam_retval_DEPENDENCIES = pam_cgm/pam_cgm.la $(NSS_STALL_SO)

tests_pam_dlopen_check_SOURCES = tests/pam/dlopen-check.c
tests_pam_dlopen_check_CPPFLAGS = $(PAM_TEST_CPPFLAGS)
tests_pam_dlopen_check_LDADD = -ldl
EXTRA_tests_pam_dlopen_check_DEPENDENCIES = pam_cgm/pam_cgm.la

tests_pam_pam_session_SOURCES = tests/pam/pam-session.c
tests_pam_pam_session_CFLAGS = $(AM_CFLAGS) $(PAM_CFLAGS)
tests_pam_pam_session_LDADD = $(PAM_LIBS)
endif
EXTRA_DIST += tests/pam/nss-stall.c
