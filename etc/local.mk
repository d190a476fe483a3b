# SPDX-License-Identifier: LGPL-2.1-or-later
# etc/: the example policy and the service files. Only the policy is installed, and only when
# $(sysconfdir)/cgm/cgm.conf does not exist yet, so `make install` never overwrites an
# administrator's policy. The service files are shipped for packagers and admins to copy (their
# places differ between init systems and distributions); the PAM snippets belong to pam_cgm/.
# cgmd reads /etc/cgm/cgm.conf whatever the prefix (POLICY_DEFAULT_PATH): configure with
# --sysconfdir=/etc, or start cgmd with -c.
EXTRA_DIST += \
	etc/cgm.conf \
	etc/init.d/cgmd \
	etc/openrc/cgmd \
	etc/runit/cgmd/run \
	etc/runit/cgmd/log/run \
	etc/systemd/cgmd.service

cgmconfdir = $(sysconfdir)/cgm

# Prerequisite-only lines, so that other fragments may hook install-data-local too.
install-data-local: install-cgm-conf
uninstall-local: uninstall-cgm-conf

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

.PHONY: install-cgm-conf uninstall-cgm-conf
