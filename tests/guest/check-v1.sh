#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boot 2 of the pure-v1 guest (tests/guest/README.md): the sysvinit + OpenRC image with OpenRC in
# legacy mode (rc_cgroup_mode="legacy", set in boot 1) and no cgroup_no_v1: cgroup v1 hierarchies
# only, no cgroup2 mounted anywhere. cgm was installed from its .debs in boot 1 (install.sh).
#   - the layout is pure v1 and the boot brought cgmd up on it;
#   - a real sshd login, a console login and su -l each land in <base>/user-UID/session-ID of
#     every hierarchy with the policy's limits (memory.limit_in_bytes, pids.max), enforced, and
#     each session cgroup goes at logout (lib.sh: login_checks).
# The core and session suites run next to this, as their own plan lines (suite.sh).
# Prints TAP.
. "$(dirname "$0")/lib.sh"

check "no cgroup2 mounted anywhere" sh -c "! grep -q ' - cgroup2 ' /proc/self/mountinfo"
check "v1 hierarchies of memory, pids and cpu are mounted" \
	sh -c "[ -n \"$(cg1_mount memory)\" ] && [ -n \"$(cg1_mount pids)\" ] && [ -n \"$(cg1_mount cpu)\" ]"
check "PID 1 is sysvinit's init, OpenRC the rc" sh -c "[ \"\$(readlink -f /proc/1/exe)\" = /usr/sbin/init ] && [ -x /sbin/openrc ] && grep -q openrc /etc/init.d/rc"
check "OpenRC is in legacy mode" grep -qx 'rc_cgroup_mode="legacy"' /etc/rc.conf
check "OpenRC: cgmd is in the default runlevel" sh -c "rc-update show default | grep -qw cgmd"
check "OpenRC started cgmd at boot (rc-service cgmd status)" rc-service cgmd status
check "cgm ping" cgm ping
left=$(find "$(cg_dir memory "$BASE")" -mindepth 1 -type d 2>&1)
is "nothing left below the base (memory hierarchy) of the login open at the reboot" "$left" ""
check "cgm sessions lists no session of $T_USER" no_session_of_user

check "the test programs are installed (forker, memhog)" install_helpers
for kind in ssh console su; do login_checks "$kind"; done
check "after the logouts, cgm sessions lists none of $T_USER's" no_session_of_user
finish
