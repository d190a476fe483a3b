# SPDX-License-Identifier: LGPL-2.1-or-later
# The booted-guest tier (tests/guest/README.md): `make check-guest` builds cgm's .debs
# (scripts/build-debs.sh, without lintian: CI runs that in its own step) unless CGM_GUEST_DEBS
# names a directory that has them, then boots three Debian 12 guests with their own init under
# qemu (openrc-v2, systemd-v2, pure-v1), installs the .debs in them as README.md says and checks
# from inside. Not part of `make check` (it builds root filesystems and takes minutes);
# run-guest.sh ends with "N passed, N failed". CHECK_GUEST_FLAVORS picks flavors.
EXTRA_DIST += tests/guest/README.md tests/guest/run-guest.sh tests/guest/mkrootfs.sh \
	tests/guest/guest-run.sh tests/guest/lib.sh tests/guest/install.sh tests/guest/suite.sh \
	tests/guest/check-openrc.sh tests/guest/check-v1.sh tests/guest/check-systemd.sh \
	tests/guest/observe-systemd.sh tests/guest/check-containers.sh tests/guest/check-events.sh

# -q: each console goes to tests/guest/results/FLAVOR/bootN/console.log; failures are shown.
CHECK_GUEST_FLAGS = -q
CHECK_GUEST_FLAVORS =
check-guest: tests/integration/forker$(EXEEXT) tests/integration/memhog$(EXEEXT) \
		tests/integration/hostile$(EXEEXT) tests/integration/subscriber$(EXEEXT) $(CHECK_VM_PAM_DEPS)
	rm -rf tests/guest/results
	@debs="$${CGM_GUEST_DEBS:-}"; \
	if test -z "$$debs"; then \
		debs='$(abs_top_builddir)/tests/guest/debs'; \
		echo "check-guest: building the .debs into $$debs"; \
		CGM_NO_LINTIAN=1 bash '$(abs_top_srcdir)/scripts/build-debs.sh' "$$debs" || exit 2; \
	fi; \
	echo "bash $(srcdir)/tests/guest/run-guest.sh -b $(abs_top_builddir) -d $$debs -o tests/guest/results $(CHECK_GUEST_FLAGS) $(CHECK_GUEST_FLAVORS)"; \
	bash '$(srcdir)/tests/guest/run-guest.sh' -b '$(abs_top_builddir)' -d "$$debs" \
		-o tests/guest/results $(CHECK_GUEST_FLAGS) $(CHECK_GUEST_FLAVORS)
.PHONY: check-guest

clean-local: clean-guest
clean-guest:
	rm -rf tests/guest/results tests/guest/debs
.PHONY: clean-guest
