# SPDX-License-Identifier: LGPL-2.1-or-later
# The pure cgroup v2 tier (tests/vm/README.md): `make check-vm` boots a Debian kernel with only
# cgroup v2 under qemu and runs the integration suite and cgmd inside. Not part of `make check`
# (it downloads a kernel and takes a minute); run-vm.sh ends with "N passed, N failed".
check_PROGRAMS += tests/integration/memhog
tests_integration_memhog_SOURCES = tests/integration/memhog.c
EXTRA_DIST += tests/vm/run-vm.sh tests/vm/guest-suite.sh tests/vm/README.md \
	tests/integration/test-v2.sh

# -q: the console goes to tests/vm/results/console.log; failures and their TAP are shown.
CHECK_VM_FLAGS = -q
if HAVE_PAM
CHECK_VM_PAM_DEPS = pam_cgm/pam_cgm.la tests/pam/pam-session$(EXEEXT)
endif
check-vm: $(bin_PROGRAMS) $(sbin_PROGRAMS) tests/integration/forker$(EXEEXT) \
		tests/integration/memhog$(EXEEXT) tests/integration/hostile$(EXEEXT) \
		tests/integration/nsexec$(EXEEXT) tests/integration/nsclient$(EXEEXT) \
		tests/integration/pipeline$(EXEEXT) tests/integration/direct-probe$(EXEEXT) \
		tests/integration/subscriber$(EXEEXT) tests/integration/ptyrun$(EXEEXT) $(CHECK_VM_PAM_DEPS)
	rm -rf tests/vm/results
	$(SHELL) $(srcdir)/tests/vm/run-vm.sh -b '$(abs_top_builddir)' -o tests/vm/results $(CHECK_VM_FLAGS)
.PHONY: check-vm
