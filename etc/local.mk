# SPDX-License-Identifier: LGPL-2.1-or-later
# etc/: the policy and the service files.
#
# Installed (with --prefix=/usr --sysconfdir=/etc, as README's "Installing on Debian" says):
#   $(sysconfdir)/cgm/cgm.conf           the policy: a commented example that limits nothing
#                                        (only installed when none exists yet, so `make install`
#                                        never overwrites an administrator's policy)
#   $(sysconfdir)/cgm/cgm.conf.d/        drop-ins
#   $(systemdsystemunitdir)/cgmd.service the systemd unit, where systemd.pc says
#                                        (--with-systemdsystemunitdir; `no` installs none)
#   $(pkgdatadir)/init.d/cgmd            the LSB/sysvinit script (Debian's /etc/init.d/cgmd;
#                                        also what OpenRC on Debian runs)
#   $(pkgdatadir)/openrc/cgmd            the openrc-run script (Alpine, Gentoo: /etc/init.d/cgmd)
#   $(pkgdatadir)/runit/cgmd/            the runit service directory (/etc/sv/cgmd): run,
#                                        check (readiness), log/run
#   $(pkgdatadir)/systemd/cgmd.service   a copy of the unit, for hosts configured without it
# Where each goes is the init system's and the distribution's convention, so the scripts are
# put under $(pkgdatadir) for the admin or packager to copy (the Debian package installs
# /etc/init.d/cgmd itself). The services name the programs as /usr/sbin/cgmd and
# /usr/bin/cgm; the installed copies name $(sbindir)/cgmd and $(bindir)/cgm. The PAM files
# belong to pam_cgm/local.mk.
#
# The policy path is compiled in (SYSCONFDIR, Makefile.am): cgmd, `cgm policy check`, the
# --help texts and the man pages all say $(sysconfdir)/cgm/cgm.conf.
cgm_service_files = \
	etc/init.d/cgmd \
	etc/openrc/cgmd \
	etc/runit/cgmd/run \
	etc/runit/cgmd/check \
	etc/runit/cgmd/log/run \
	etc/systemd/cgmd.service
EXTRA_DIST += etc/cgm.conf $(cgm_service_files)

cgmconfdir = $(sysconfdir)/cgm

# Prerequisite-only lines, so that other fragments may hook install-data-local too.
install-data-local: install-cgm-conf install-cgm-services
uninstall-local: uninstall-cgm-conf uninstall-cgm-services

install-cgm-conf:
	$(MKDIR_P) '$(DESTDIR)$(cgmconfdir)' '$(DESTDIR)$(cgmconfdir)/cgm.conf.d'
	@if test -e '$(DESTDIR)$(cgmconfdir)/cgm.conf'; then \
		echo "keeping the existing $(DESTDIR)$(cgmconfdir)/cgm.conf"; \
	else \
		echo " $(INSTALL_DATA) $(srcdir)/etc/cgm.conf '$(DESTDIR)$(cgmconfdir)/cgm.conf'"; \
		$(INSTALL_DATA) '$(srcdir)/etc/cgm.conf' '$(DESTDIR)$(cgmconfdir)/cgm.conf'; \
	fi

# Remove the policy only when it is still the example: an edited one is the admin's.
uninstall-cgm-conf:
	@if cmp -s '$(srcdir)/etc/cgm.conf' '$(DESTDIR)$(cgmconfdir)/cgm.conf'; then \
		echo " rm -f '$(DESTDIR)$(cgmconfdir)/cgm.conf'"; \
		rm -f '$(DESTDIR)$(cgmconfdir)/cgm.conf'; \
	fi
	-rmdir '$(DESTDIR)$(cgmconfdir)/cgm.conf.d' '$(DESTDIR)$(cgmconfdir)' 2>/dev/null

# install_service SRC DEST MODE: a copy with the daemon's path as installed.
install_service = sh -c 'set -e; $(MKDIR_P) "$$(dirname "$$2")"; \
	sed -e "s|/usr/sbin/cgmd|$(sbindir)/cgmd|g" \
		-e "s|/usr/bin/cgm\\([^A-Za-z0-9_.-]\\)|$(bindir)/cgm\\1|g" \
		-e "s|/usr/bin/cgm\$$|$(bindir)/cgm|" "$$1" >"$$2.tmp"; \
	chmod "$$3" "$$2.tmp"; mv "$$2.tmp" "$$2"; echo " installed $$2"' install_service

install-cgm-services:
	$(install_service) '$(srcdir)/etc/init.d/cgmd' '$(DESTDIR)$(pkgdatadir)/init.d/cgmd' 755
	$(install_service) '$(srcdir)/etc/openrc/cgmd' '$(DESTDIR)$(pkgdatadir)/openrc/cgmd' 755
	$(install_service) '$(srcdir)/etc/runit/cgmd/run' '$(DESTDIR)$(pkgdatadir)/runit/cgmd/run' 755
	$(install_service) '$(srcdir)/etc/runit/cgmd/check' '$(DESTDIR)$(pkgdatadir)/runit/cgmd/check' 755
	$(install_service) '$(srcdir)/etc/runit/cgmd/log/run' '$(DESTDIR)$(pkgdatadir)/runit/cgmd/log/run' 755
	$(install_service) '$(srcdir)/etc/systemd/cgmd.service' '$(DESTDIR)$(pkgdatadir)/systemd/cgmd.service' 644
if HAVE_SYSTEMD_UNITDIR
	$(install_service) '$(srcdir)/etc/systemd/cgmd.service' '$(DESTDIR)$(systemdsystemunitdir)/cgmd.service' 644
endif

uninstall-cgm-services:
	rm -f '$(DESTDIR)$(pkgdatadir)/init.d/cgmd' '$(DESTDIR)$(pkgdatadir)/openrc/cgmd' \
		'$(DESTDIR)$(pkgdatadir)/runit/cgmd/run' '$(DESTDIR)$(pkgdatadir)/runit/cgmd/check' \
		'$(DESTDIR)$(pkgdatadir)/runit/cgmd/log/run' \
		'$(DESTDIR)$(pkgdatadir)/systemd/cgmd.service'
	-rmdir '$(DESTDIR)$(pkgdatadir)/init.d' '$(DESTDIR)$(pkgdatadir)/openrc' \
		'$(DESTDIR)$(pkgdatadir)/runit/cgmd/log' '$(DESTDIR)$(pkgdatadir)/runit/cgmd' \
		'$(DESTDIR)$(pkgdatadir)/runit' '$(DESTDIR)$(pkgdatadir)/systemd' 2>/dev/null
if HAVE_SYSTEMD_UNITDIR
	rm -f '$(DESTDIR)$(systemdsystemunitdir)/cgmd.service'
endif

.PHONY: install-cgm-conf uninstall-cgm-conf install-cgm-services uninstall-cgm-services

# tests/install/test-install.sh: the installed policy limits nothing, every text names the
# policy file this build reads, and the pam-auth-update profile does what the README says.
TESTS += tests/install/test-install.sh
EXTRA_DIST += tests/install/test-install.sh
AM_TESTS_ENVIRONMENT += \
	CGM_SYSCONFDIR='$(sysconfdir)'; export CGM_SYSCONFDIR; \
	CGM_TOP_SRCDIR='$(abs_top_srcdir)'; export CGM_TOP_SRCDIR;

# Shell completion for cgm(1): where bash-completion and Debian's zsh look for them.
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = etc/completion/bash/cgm
zshcompletiondir = $(datadir)/zsh/vendor-completions
dist_zshcompletion_DATA = etc/completion/zsh/_cgm
