#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What an installed cgm gives an administrator before any policy is written (issue 8):
# - the policy as installed (etc/cgm.conf) passes `cgm policy check` and limits nothing: with
#   cgmd reading it, `cgm policy explain` of root and of an ordinary user shows only built-in
#   defaults and no resource limit, and root is excluded;
# - the binaries' --help, the man pages and `cgm policy check` all name the policy file this
#   build really reads ($CGM_SYSCONFDIR/cgm/cgm.conf);
# - the pam-auth-update profile, run through Debian's own pam-auth-update, adds pam_cgm to the
#   interactive common-session after pam_systemd and not to the non-interactive one, and
#   `--remove` takes it out again.
#
# The host's /etc stays untouched: the test re-runs itself in a private mount namespace and
# bind-mounts copies of /etc/pam.d, /usr/share/pam-configs, /var/lib/pam and the debconf
# database over the real ones there.
set -uo pipefail
if [ -z "${CGM_TEST_IN_MOUNTNS:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
		echo "1..0 # SKIP needs root and unshare"; exit 0
	fi
	CGM_TEST_IN_MOUNTNS=1 exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi
. "$(dirname "$0")/../integration/lib.sh"
require_root
: "${CGM_SYSCONFDIR:?set CGM_SYSCONFDIR (make check does)}"
: "${CGM_TOP_SRCDIR:?set CGM_TOP_SRCDIR (make check does)}"
conf_src="$CGM_TOP_SRCDIR/etc/cgm.conf"
policy_path="$CGM_SYSCONFDIR/cgm/cgm.conf"
man_dir=${MAN_DIR:-docs/man}

# --- the installed policy limits nothing ---------------------------------------------------
check "cgm policy check of the installed cgm.conf: OK" \
	bash -c "'$CGM' policy check '$conf_src' | grep -q ': OK'"
check "cgm.conf as installed has no active line but [global]" \
	bash -c "! grep -vE '^[[:space:]]*([#;].*)?$' '$conf_src' | grep -vx '\[global\]' | grep -q ."

start_daemon -c "$conf_src" || { not_ok "cgmd starts with the installed cgm.conf"; finish; exit 1; }
ok "cgmd starts with the installed cgm.conf"
resource_keys='^(memory|cpu|cpuset|pids|io|hugetlb|rdma|misc)\.'
for u in root nobody; do
	out=$("$CGM" policy explain "$u" 2>&1)
	if [ -n "$out" ] && ! printf '%s\n' "$out" | grep -qE "$resource_keys"; then
		ok "policy explain $u: no resource limit"
	else
		not_ok "policy explain $u: no resource limit"; diag "$out"
	fi
	if printf '%s\n' "$out" | grep -E ' = ' | grep -vq '# default$'; then
		not_ok "policy explain $u: every value is a built-in default"; diag "$out"
	else
		ok "policy explain $u: every value is a built-in default"
	fi
done
check "root is excluded by default (no session cgroup for root)" \
	bash -c "'$CGM' policy explain root | grep -qE '^excluded = yes'"
check "an ordinary user is not excluded" \
	bash -c "'$CGM' policy explain nobody | grep -qE '^excluded = no'"

# --- every place names the policy file this build reads ------------------------------------
# The whole path, not a tail of a longer one (/usr/local/etc/cgm/cgm.conf ends in /etc/...).
path_re="(^|[^A-Za-z0-9_./-])$(printf '%s' "$policy_path" | sed 's/[.]/[.]/g')"
check "cgmd --help names $policy_path" bash -c "'$CGMD' --help | grep -qE '$path_re'"
check "cgm policy check --help names $policy_path" \
	bash -c "'$CGM' policy check --help | grep -qE '$path_re'"
check "cgm policy check without FILE reads $policy_path" \
	bash -c "'$CGM' policy check 2>&1 | grep -qE '$path_re'"
for p in cgmd.8 cgm.1 cgm.conf.5 pam_cgm.8; do
	check "$p names $policy_path" grep -qE "$path_re" "$man_dir/$p"
done

# --- the pam-auth-update profile ---------------------------------------------------------------
if command -v pam-auth-update >/dev/null && [ -d /usr/share/pam-configs ] && [ -d /etc/pam.d ]; then
	w="$TEST_TMP/pau"
	mkdir -p "$w/pam.d" "$w/pam-configs" "$w/varlibpam" "$w/debconf"
	cp -a /etc/pam.d/. "$w/pam.d/"
	cp -a /usr/share/pam-configs/. "$w/pam-configs/"
	rm -f "$w/pam-configs/cgm"
	[ -d /var/lib/pam ] && cp -a /var/lib/pam/. "$w/varlibpam/"
	cp -a /var/cache/debconf/. "$w/debconf/" 2>/dev/null
	mkdir -p /var/lib/pam
	mount --bind "$w/pam.d" /etc/pam.d && mount --bind "$w/pam-configs" /usr/share/pam-configs &&
		mount --bind "$w/varlibpam" /var/lib/pam && mount --bind "$w/debconf" /var/cache/debconf ||
		{ not_ok "private copies of /etc/pam.d and the pam-auth-update state"; finish; exit 1; }
	install -m 644 "$CGM_TOP_SRCDIR/etc/pam-configs/cgm" /usr/share/pam-configs/cgm
	pau() { DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true pam-auth-update "$@" </dev/null >>"$TEST_TMP/pau.log" 2>&1; }
	check "pam-auth-update --package (what libpam-cgm's postinst runs) succeeds" pau --package
	check "pam_cgm is in common-session" grep -qE '^session[[:space:]]+optional[[:space:]]+pam_cgm\.so' /etc/pam.d/common-session
	check "pam_cgm is not in common-session-noninteractive (cron, sudo, systemd --user)" \
		bash -c "! grep -q pam_cgm /etc/pam.d/common-session-noninteractive"
	if grep -q pam_systemd /etc/pam.d/common-session; then
		check "pam_cgm comes after pam_systemd" bash -c \
			"[ \$(grep -n pam_systemd /etc/pam.d/common-session | cut -d: -f1) -lt \$(grep -n pam_cgm /etc/pam.d/common-session | cut -d: -f1) ]"
	fi
	check "pam-auth-update --package --remove cgm (libpam-cgm's prerm) succeeds" pau --package --remove cgm
	check "pam_cgm is gone from common-session" bash -c "! grep -q pam_cgm /etc/pam.d/common-session"
	[ "$n_failed" = 0 ] || diag "$(tail -n 20 "$TEST_TMP/pau.log")"
else
	diag "pam-auth-update not installed: profile not exercised"
fi

finish
