# SPDX-License-Identifier: LGPL-2.1-or-later
# pam_cgm tests that need no daemon and no root: return codes and bounds (test-pam-retval) and
# the loadability and exports of the module (dlopen-check), both TAP. pam-session is the PAM
# application for the integration tests against a real cgmd.
if HAVE_PAM
PAM_CGM_SO = $(abs_top_builddir)/pam_cgm/.libs/pam_cgm.so
PAM_TEST_CPPFLAGS = $(AM_CPPFLAGS) -DPAM_CGM_MODULE='"$(PAM_CGM_SO)"'

PAM_TESTS = \
	tests/pam/test-pam-retval \
	tests/pam/dlopen-check
check_PROGRAMS += $(PAM_TESTS) tests/pam/pam-session
TESTS += $(PAM_TESTS)

tests_pam_test_pam_retval_SOURCES = tests/pam/test-pam-retval.c
tests_pam_test_pam_retval_CPPFLAGS = $(PAM_TEST_CPPFLAGS)
tests_pam_test_pam_retval_CFLAGS = $(AM_CFLAGS) $(PAM_CFLAGS) -pthread
tests_pam_test_pam_retval_LDADD = $(PAM_LIBS) -lpthread
# The tests load the module from the build tree, so it must be built first.
EXTRA_tests_pam_test_pam_retval_DEPENDENCIES = pam_cgm/pam_cgm.la

tests_pam_dlopen_check_SOURCES = tests/pam/dlopen-check.c
tests_pam_dlopen_check_CPPFLAGS = $(PAM_TEST_CPPFLAGS)
tests_pam_dlopen_check_LDADD = -ldl
EXTRA_tests_pam_dlopen_check_DEPENDENCIES = pam_cgm/pam_cgm.la

tests_pam_pam_session_SOURCES = tests/pam/pam-session.c
tests_pam_pam_session_CFLAGS = $(AM_CFLAGS) $(PAM_CFLAGS)
tests_pam_pam_session_LDADD = $(PAM_LIBS)
endif
