#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boot 2 of the openrc-v2 guest (tests/guest/README.md): sysvinit + OpenRC on pure cgroup v2,
# cgm installed from its .debs in boot 1 (install.sh), which then rebooted with a login open.
#   - the boot brought cgmd up (OpenRC's default runlevel) with nothing left of that login;
#   - a real sshd login, a console login (login -f under script) and su -l each land in
#     <base>/user-UID/session-ID with the policy's limits, which are enforced (OOM kill,
#     pids.max), and each session cgroup goes at logout (lib.sh: login_checks).
# Prints TAP.
. "$(dirname "$0")/lib.sh"

# The host is what the tier says it is: pure cgroup v2, OpenRC in unified mode.
check "pure cgroup v2: cgroup2 on /sys/fs/cgroup, no v1 hierarchy" \
	sh -c "[ \"\$(stat -f -c %T /sys/fs/cgroup)\" = cgroup2fs ] && ! grep -q ' - cgroup ' /proc/self/mountinfo"
check "PID 1 is sysvinit's init, OpenRC the rc" sh -c "[ \"\$(readlink -f /proc/1/exe)\" = /usr/sbin/init ] && [ -x /sbin/openrc ] && grep -q openrc /etc/init.d/rc"
no_systemd() { ! dpkg-query -W -f='${Status}' systemd 2>/dev/null | grep -q 'ok installed' && ! ls /lib/*/security/pam_systemd.so >/dev/null 2>&1; }
check "no systemd package, no logind, no pam_systemd on this host" no_systemd

# The service came back with the boot.
check "OpenRC: cgmd is in the default runlevel" sh -c "rc-update show default | grep -qw cgmd"
check "OpenRC started cgmd at boot (rc-service cgmd status)" rc-service cgmd status
check "cgm ping" cgm ping
check "cgmd's base $BASE exists with memory and pids for the homes" \
	sh -c "grep -qw memory $(cg_dir memory $BASE)/cgroup.subtree_control && grep -qw pids $(cg_dir memory $BASE)/cgroup.subtree_control"
left=$(find "$(cg_dir memory "$BASE")" -mindepth 1 -type d 2>&1)
is "nothing left below the base of the login open at the reboot" "$left" ""
check "cgm sessions lists no session of $T_USER" no_session_of_user
cgm sessions >"$OUT/sessions-after-boot.txt" 2>&1

check "the test programs are installed (forker, memhog)" install_helpers
for kind in ssh console su; do login_checks "$kind"; done
check "after the logouts, cgm sessions lists none of $T_USER's" no_session_of_user
finish
