#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boot 2 of the systemd-v2 guest (tests/guest/README.md): Debian 12, systemd 252 as PID 1 on
# pure cgroup v2, cgm installed from its .debs in boot 1 (install.sh) with the policy of
# README.md plus the tier's drop-in (alice, in group cgm-limited: memory.max 96M, pids.max 64,
# cpu.max 100%). cgmd runs in systemd mode (session_manager = auto; daemon/systemd.c), so:
#   - a real sshd login (pam_systemd, then pam_cgm) stays in logind's session-N.scope, and
#     logind, the scope, user@UID.service and `systemctl --user` work as without cgm;
#   - user-UID.slice carries the group's limits (systemd's properties and the cgroupfs files),
#     and they hold (a memory hog is OOM-killed, a fork loop stops at pids.max);
#   - `cgm whoami` in the login names user@UID.service, `cgm policy explain` agrees with the
#     slice, and cgm refuses to write in systemd --user's tree, pointing to systemd-run --user;
#   - cgmd.service's sandbox lets openat2 through (the unit leaves out RestrictSUIDSGID=), and
#     cgmd's setns into a caller's cgroup namespace (RestrictNamespaces=cgroup);
#   - a reload changes the slice's limits, and a limit the policy drops goes back to systemd's;
#   - `systemctl restart cgmd` with the login open: the new cgmd finds the session again (its
#     record in /run/cgm/cgm-systemd), moves and kills nothing, and a reload after it applies
#     to the slice, also putting back a value systemd had before the restart;
#   - logout leaves nothing of cgm, and logind's KillUserProcesses=yes works (it does not when
#     pam_cgm moves the login out of its scope: docs/design.md, "systemd hosts").
# Prints TAP.
. "$(dirname "$0")/lib.sh"

uid=$(t_uid)
slice=user-$uid.slice
SLICE=/sys/fs/cgroup/user.slice/$slice
HOME_SD=/user.slice/$slice/user@$uid.service
d=/run/cgm-guest-systemd
rm -rf "$d"; mkdir -p "$d"; chmod 755 "$d"
since=$(date '+%Y-%m-%d %H:%M:%S')

check "PID 1 is systemd, on pure cgroup v2" \
	sh -c "[ -d /run/systemd/system ] && [ \"\$(stat -f -c %T /sys/fs/cgroup)\" = cgroup2fs ] && ! grep -q ' - cgroup ' /proc/self/mountinfo"
check "systemd started cgmd.service at boot" systemctl is-active cgmd
check "cgm ping" cgm ping
check "cgmd runs in systemd mode (session_manager = auto)" \
	sh -c "journalctl -b -u cgmd --no-pager | grep -q 'session manager: systemd (session_manager = auto'"
check "cgm policy explain says so" sh -c "cgm policy explain $T_USER | grep -Eq '^session_manager = systemd '"
check "the test programs are installed (forker, memhog)" install_helpers

# --- cgmd's sandbox lets openat2 through --------------------------------------------------------------
# cgfs.c confines every path below the base with openat2(RESOLVE_BENEATH). systemd's
# RestrictSUIDSGID=yes answers every openat2 with ENOSYS (its seccomp filter cannot look into
# struct open_how), and cgfs.c would fall back to plain openat: so the unit does not set it.
# The probe (perl-base is essential on Debian; 437 is openat2 on x86_64) runs with the
# [Service] hardening of the installed unit, once as shipped and once with RestrictSUIDSGID=yes.
openat2_probe='my $p = "/sys/fs/cgroup"; my $how = pack("QQQ", 0x10000, 0, 0);
my $fd = syscall(437, -100, $p, $how, 24); print $fd >= 0 ? "ok\n" : "errno=" . ($! + 0) . "\n";'
unit_file=$(systemctl show -p FragmentPath --value cgmd)
sandbox=()
while IFS= read -r l; do sandbox+=(-p "$l"); done < <(sed -n '/^\[Service\]/,/^\[/p' "$unit_file" |
	grep -E '^[A-Za-z]+=' | grep -Ev '^(Type|NotifyAccess|Exec[A-Za-z]*|Delegate[A-Za-z]*|KillMode|Restart[A-Za-z]*|RuntimeDirectory[A-Za-z]*)=')
check "the unit's hardening is read from $unit_file" test ${#sandbox[@]} -gt 20
is "openat2 works in cgmd.service's sandbox (RESOLVE_BENEATH is in force)" \
	"$(timeout 60 systemd-run --quiet --wait --pipe "${sandbox[@]}" perl -e "$openat2_probe" 2>&1)" ok
is "... and would not with RestrictSUIDSGID=yes (ENOSYS)" \
	"$(timeout 60 systemd-run --quiet --wait --pipe "${sandbox[@]}" -p RestrictSUIDSGID=yes perl -e "$openat2_probe" 2>&1)" errno=38

# cgmd enters a caller's cgroup namespace for one read of /proc/PID/cgroup (daemon/nsview.c), so
# that a container sees paths in its own terms: the unit's RestrictNamespaces=cgroup must let
# that setns through. Root in a new cgroup namespace sees its own cgroup as "/"; were the setns
# refused, cgmd would answer the host path.
is "cgmd.service's sandbox lets cgmd read in a caller's cgroup namespace (whoami there: cgroup /)" \
	"$(unshare --cgroup cgm whoami 2>&1 | sed -n 's/^cgroup: //p')" /

# held_login NAME COMMAND: an ssh login of the test user that runs COMMAND, records what it
# sees, then waits for a line on $d/NAME.go; its pid is in $d/NAME.pid.
held_login() {
	local n=$1 cmd=$2
	mkfifo -m 666 "$d/$n.go"
	ssh_login "cat /proc/self/cgroup >$d/$n.cg; echo \$XDG_SESSION_ID >$d/$n.id.tmp; $cmd; mv $d/$n.id.tmp $d/$n.id; read x <$d/$n.go" \
		>"$d/$n.out" 2>&1 &
	echo $! >"$d/$n.pid"
	wait_until 120 test -s "$d/$n.id"
}
logout() { # logout NAME: let the login end, and wait for its ssh to exit
	timeout 10 sh -c "echo x >$d/$1.go"
	wait_until 60 sh -c "! kill -0 $(cat "$d/$1.pid")"
}
chmod 777 "$d"

# --- a login: where it is, and what logind and systemd --user make of it ---------------------------
inside="systemctl --user is-system-running >$d/a.user 2>&1; cgm whoami >$d/a.whoami 2>&1;
cgm create build memory.max=10M >$d/a.create 2>&1; echo \$? >$d/a.create.rc;
memhog 200 >$d/a.memhog 2>&1; echo \$? >$d/a.memhog.rc; forker 200 >$d/a.forker 2>&1"
if ! held_login a "$inside"; then
	not_ok "an ssh login of $T_USER starts"; diag "$(cat "$d/a.out")"; finish; exit 1
fi
ok "an ssh login of $T_USER starts"
id=$(cat "$d/a.id")
is "the login is in logind's scope, session-$id.scope" "$(cg_path <"$d/a.cg")" "/user.slice/$slice/session-$id.scope"
is "loginctl: the session is active" "$(loginctl show-session "$id" -p State --value)" active
is "... its scope is session-$id.scope" "$(loginctl show-session "$id" -p Scope --value)" "session-$id.scope"
is "systemd: session-$id.scope is active (running)" "$(systemctl show "session-$id.scope" -p ActiveState -p SubState --value | paste -sd/)" active/running
check "... and holds the login's processes" grep -q . "/sys/fs/cgroup/user.slice/$slice/session-$id.scope/cgroup.procs"
is "user@$uid.service is active" "$(systemctl is-active "user@$uid.service")" active
is "systemctl --user in the login works" "$(cat "$d/a.user")" running
check "cgm sessions lists the session with its scope" \
	sh -c "cgm sessions | grep -qE '^$id +$T_USER +$uid +/user.slice/$slice/session-$id.scope +yes' || { cgm sessions; false; }"
check "nothing was created below cgmd's base for it" \
	sh -c "base=\$(cgm whoami | sed -n 's/^home: //p'); [ -n \"\$base\" ] && [ -z \"\$(find /sys/fs/cgroup\$base -mindepth 1 -type d)\" ]"

# --- the slice carries the group's limits --------------------------------------------------------
is "systemctl show $slice: MemoryMax, TasksMax, CPUQuotaPerSecUSec" \
	"$(systemctl show -p MemoryMax -p TasksMax -p CPUQuotaPerSecUSec "$slice" | sort | paste -sd' ')" \
	"CPUQuotaPerSecUSec=1s MemoryMax=$T_MEM_BYTES TasksMax=$T_PIDS"
is "cgroupfs: $slice/memory.max" "$(cat "$SLICE/memory.max")" "$T_MEM_BYTES"
is "cgroupfs: $slice/pids.max" "$(cat "$SLICE/pids.max")" "$T_PIDS"
is "cgroupfs: $slice/cpu.max" "$(cat "$SLICE/cpu.max")" "100000 100000"
check "the audit log names each property with its policy line" \
	sh -c "journalctl -b -u cgmd --no-pager | grep -q 'action=policy path=\"/user.slice/$slice\" value=\"TasksMax=$T_PIDS from pids.max=$T_PIDS (/etc/cgm/cgm.conf.d/60-guest-tier.conf:4)\" result=ok'"
check "cgm policy explain $T_USER agrees with the slice" \
	sh -c "cgm policy explain $T_USER | grep -Eq '^memory\.max = $T_MEM_BYTES ' && cgm policy explain $T_USER | grep -Eq '^pids\.max = $T_PIDS ' && cgm policy explain $T_USER | grep -Eq '^cpu\.max = 100000 100000 '"

# --- what the user sees -----------------------------------------------------------------------------
wait_until 60 test -s "$d/a.forker"
check "cgm whoami in the login: home is user@$uid.service" sh -c "grep -qx 'home: $HOME_SD' $d/a.whoami || { cat $d/a.whoami; false; }"
check "... its cgroup is the session scope" grep -qx "cgroup: /user.slice/$slice/session-$id.scope" "$d/a.whoami"
check "... its limits are the slice's" sh -c "grep -qx '  memory.max=$T_MEM_BYTES' $d/a.whoami && grep -qx '  pids.max=$T_PIDS' $d/a.whoami"
is "cgm create in the login is refused (not supported)" "$(cat "$d/a.create.rc")" 8
check "... with the way to do it: systemd-run --user" grep -q 'systemd --user manages, and cgm does not write there; use `systemd-run --user' "$d/a.create"
is "a memory hog (200 MiB) in the login is killed (exit 137)" "$(cat "$d/a.memhog.rc")" 137
check "... by the slice's limit (its oom_kill counter rose)" sh -c "[ \$(awk '\$1 == \"oom_kill\" { print \$2 }' $SLICE/memory.events) -gt 0 ]"
v=$(cat "$d/a.forker")
if [[ $v =~ ^forked=([0-9]+)\ failed=([0-9]+)\ error=Resource\ temporarily\ unavailable ]] &&
	[ "${BASH_REMATCH[1]}" -lt "$T_PIDS" ] && [ "${BASH_REMATCH[2]}" -gt 0 ]; then
	ok "a fork loop in the login stops at the slice's pids.max ($v)"
else not_ok "a fork loop in the login stops at the slice's pids.max"; diag "forker 200: $v"; fi

# --- a reload changes the slice's limits; a dropped limit goes back ----------------------------------
before_high=$(systemctl show -p MemoryHigh --value "$slice")
printf '[group:%s]\npids.max = 80\nmemory.high = 64M\n' "$T_GROUP" >/etc/cgm/cgm.conf.d/70-check.conf
check "cgm reload with a new drop-in" cgm reload
check "... TasksMax of $slice becomes 80" wait_until 30 sh -c "[ \$(systemctl show -p TasksMax --value $slice) = 80 ] && [ \$(cat $SLICE/pids.max) = 80 ]"
check "... and MemoryHigh 64M" wait_until 30 sh -c "[ \$(cat $SLICE/memory.high) = 67108864 ]"
rm -f /etc/cgm/cgm.conf.d/70-check.conf
check "cgm reload without it" cgm reload
check "... TasksMax goes back to $T_PIDS" wait_until 30 sh -c "[ \$(cat $SLICE/pids.max) = $T_PIDS ]"
check "... and MemoryHigh to what systemd had ($before_high)" \
	wait_until 30 sh -c "[ \"\$(systemctl show -p MemoryHigh --value $slice)\" = '$before_high' ] && [ \$(cat $SLICE/memory.high) = max ]"

# --- cgmd restarts while the login is open ------------------------------------------------------------
# In systemd mode nothing of the login is below cgmd's base, so systemd 252 can start the next
# cgmd in cgmd.service (etc/systemd/cgmd.service) and the restart works. The new cgmd finds
# the session in logind's scope again, looks its user up and applies the policy once more.
SCOPE=$SLICE/session-$id.scope
check "the session has a record in /run/cgm/cgm-systemd (mode 700, root's)" \
	sh -c "[ -s /run/cgm/cgm-systemd/session.$id ] && [ \$(stat -c %a:%u /run/cgm/cgm-systemd) = 700:0 ]"
# A limit cgm sets before the restart and the policy drops after it must still go back to
# systemd's value: the undo record has to survive the restart (systemd removes cgmd.service's
# cgroup, and the base in it, when cgmd stops; the records are in /run/cgm/cgm-systemd).
printf '[group:%s]\nmemory.high = 48M\n' "$T_GROUP" >/etc/cgm/cgm.conf.d/70-check.conf
check "before the restart: cgm reload with memory.high = 48M" cgm reload
check "... MemoryHigh of $slice becomes 48M" wait_until 30 sh -c "[ \$(cat $SLICE/memory.high) = 50331648 ]"
procs_before=$(sort -n "$SCOPE/cgroup.procs" | paste -sd' ')
pid_before=$(systemctl show -p MainPID --value cgmd)
check "systemctl restart cgmd, with the login open" timeout 90 systemctl restart cgmd
is "cgmd.service is active again" "$(systemctl is-active cgmd)" active
pid_after=$(systemctl show -p MainPID --value cgmd)
check "... with a new cgmd (MainPID $pid_before, now $pid_after)" \
	test "$pid_after" != "$pid_before" -a "$pid_after" != 0
check "the new cgmd found the login's session again (its record in /run/cgm/cgm-systemd)" \
	sh -c "journalctl --no-pager _PID=$pid_after | grep -q 'systemd mode: 1 session found again in cgm-systemd'"
check "cgm sessions lists it, with its user and scope" \
	wait_until 30 sh -c "cgm sessions | grep -qE '^$id +$T_USER +$uid +/user.slice/$slice/session-$id.scope +yes'"
is "the login's processes are where they were, none moved or killed" \
	"$(sort -n "$SCOPE/cgroup.procs" | paste -sd' ')" "$procs_before"
is "loginctl: the session is still active" "$(loginctl show-session "$id" -p State --value)" active
check "the new cgmd applied the policy to $slice again (audit)" \
	wait_until 30 sh -c "journalctl --no-pager _PID=$pid_after | grep -q 'action=policy path=\"/user.slice/$slice\" value=\"TasksMax=$T_PIDS from pids.max=$T_PIDS '"
is "... $slice keeps TasksMax $T_PIDS and MemoryHigh 48M" \
	"$(cat "$SLICE/pids.max") $(cat "$SLICE/memory.high")" "$T_PIDS 50331648"
printf '[group:%s]\npids.max = 72\n' "$T_GROUP" >/etc/cgm/cgm.conf.d/70-check.conf
check "after the restart: cgm reload, pids.max = 72 and no memory.high" cgm reload
check "... TasksMax of $slice becomes 72" wait_until 30 sh -c "[ \$(systemctl show -p TasksMax --value $slice) = 72 ] && [ \$(cat $SLICE/pids.max) = 72 ]"
check "... and MemoryHigh goes back to what systemd had before cgm set it ($before_high)" \
	wait_until 30 sh -c "[ \"\$(systemctl show -p MemoryHigh --value $slice)\" = '$before_high' ] && [ \$(cat $SLICE/memory.high) = max ]"
rm -f /etc/cgm/cgm.conf.d/70-check.conf
check "cgm reload without the drop-in" cgm reload
check "... TasksMax goes back to $T_PIDS" wait_until 30 sh -c "[ \$(cat $SLICE/pids.max) = $T_PIDS ]"

# --- logout -------------------------------------------------------------------------------------------
logout a
check "after logout logind forgets the session" wait_until 30 sh -c "! loginctl show-session $id >/dev/null 2>&1"
check "... and so does cgm" wait_until 30 sh -c "! cgm sessions | grep -q '^$id '"
check "... and its record in /run/cgm/cgm-systemd is gone" test ! -e "/run/cgm/cgm-systemd/session.$id"
check "pam_cgm closed the session with the restarted cgmd (audit)" \
	sh -c "journalctl --no-pager _PID=$pid_after | grep -q 'action=CloseSession path=\"/user.slice/$slice/session-$id.scope\" value=\"$id\" result=ok'"
check "... and logged no failure" sh -c "! journalctl --since '$since' --no-pager | grep -q 'cannot close cgroup session'"
check "pam_systemd released its session (no 'Failed to release session')" \
	sh -c "! journalctl --since '$since' --no-pager | grep -q 'Failed to release session'"
check "user@$uid.service stops after the last session (UserStopDelaySec=10s)" \
	wait_until 60 sh -c "[ \"\$(systemctl is-active user@$uid.service)\" != active ]"
check "nothing of cgm is left below its base" \
	sh -c "base=\$(cgm whoami | sed -n 's/^home: //p'); [ -z \"\$(find /sys/fs/cgroup\$base -mindepth 1 -type d)\" ]"
check "cgm sessions is empty" sh -c "[ \"\$(cgm --json sessions)\" = '[]' ]"

# --- logind's KillUserProcesses works, since the login stays in its scope ---------------------------
mkdir -p /etc/systemd/logind.conf.d
printf '[Login]\nKillUserProcesses=yes\n' >/etc/systemd/logind.conf.d/50-cgm-check.conf
systemctl restart systemd-logind
if held_login k "setsid -f sleep 10000 </dev/null >/dev/null 2>&1"; then
	check "a process the login left in the background runs" pgrep -u "$T_USER" -x sleep
	logout k
	check "KillUserProcesses=yes: logind ends it at logout" wait_until 30 sh -c "! pgrep -u $T_USER -x sleep"
else
	not_ok "an ssh login with KillUserProcesses=yes starts"; diag "$(cat "$d/k.out")"
fi
rm -f /etc/systemd/logind.conf.d/50-cgm-check.conf
systemctl restart systemd-logind
for p in $(pgrep -u "$T_USER" -x sleep); do kill "$p"; done
rm -rf "$d"
finish
