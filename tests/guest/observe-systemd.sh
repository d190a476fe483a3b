#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# An observation, not a test (docs/design.md §16.1): in the systemd-v2 guest, what logind,
# the session scope, user@UID.service and KillUserProcesses= do when pam_cgm in cgm mode
# (session_manager = cgm) moves a login out of logind's session-N.scope; with an sshd login
# and an `su -l`, then KillUserProcesses=yes, then the same without pam_cgm for reference.
# Every command and its output go to $CGM_GUEST_OUT/observe.txt. It changes the guest's /etc
# (a cgm.conf.d and a logind.conf.d drop-in, common-session), so it runs in a throw-away
# guest only, and not in the tier's plan:
#     tests/guest/run-guest.sh -1 -x tests/guest/observe-systemd.sh systemd-v2
# Prints one TAP line.
. "${CGM_GUEST_DATA:-$(dirname "$0")/../..}/tests/guest/lib.sh"
O=$OUT/observe.txt
: >"$O"
say() { printf '\n### %s\n' "$*" >>"$O"; }
run() { printf '$ %s\n' "$*" >>"$O"; timeout 30 "$@" >>"$O" 2>&1; printf '[exit %s]\n' "$?" >>"$O"; }
U=$(t_uid)
S=/run/obs; rm -rf $S; mkdir -p $S; chmod 777 $S

say "host"
run uname -r
run systemctl --version
run systemctl status cgmd --no-pager
if ! systemctl is-active -q cgmd; then
	say "cgmd.service does not run; a drop-in adds CAP_SETPCAP to its bounding set"
	mkdir -p /etc/systemd/system/cgmd.service.d
	printf '[Service]\nCapabilityBoundingSet=CAP_SETPCAP\n' >/etc/systemd/system/cgmd.service.d/obs.conf
	systemctl daemon-reload
fi
mkdir -p /etc/cgm/cgm.conf.d
printf 'session_manager = cgm\n' >/etc/cgm/cgm.conf.d/10-observe.conf
run systemctl restart cgmd
run systemctl status cgmd --no-pager
run cgm ping
run cgm policy explain alice
run grep -n 'pam_' /etc/pam.d/common-session
run sh -c "grep -v '^#' /etc/systemd/logind.conf | grep ."
run cat /proc/self/cgroup

# held_login KIND: ssh or su login that records itself and waits on $S/go-N
N=0
held_login() {
	N=$((N + 1))
	local kind=$1 d=$S/$N
	mkdir -p $d; chmod 777 $d; mkfifo -m 666 $d/go
	local cmd="cat /proc/self/cgroup >$d/cg; echo \$XDG_SESSION_ID >$d/id.tmp; env | sort >$d/env;
systemctl --user is-system-running >$d/user-state 2>&1; systemctl --user list-units --no-pager --type=service >$d/user-units 2>&1;
loginctl show-session \$XDG_SESSION_ID -p State -p Active -p Scope -p Class -p Type >$d/show-inside 2>&1;
setsid -f sleep 10000 </dev/null >/dev/null 2>&1; mv $d/id.tmp $d/id; read x <$d/go"
	case $kind in
	ssh) ssh_login "$cmd" >$d/out 2>&1 & ;;
	su) su -l "$T_USER" -c "$cmd" >$d/out 2>&1 & ;;
	esac
	echo $! >$d/pid
	wait_until 60 test -s $d/id
}
observe_open() {
	local d=$S/$N id; id=$(cat $d/id)
	say "login $N ($1) open: session $id"
	run cat $d/cg $d/show-inside $d/user-state $d/user-units
	run loginctl list-sessions --no-pager
	run loginctl show-session "$id"
	run loginctl session-status "$id" --no-pager
	run systemctl show "session-$id.scope" -p ActiveState -p SubState -p Result -p ControlGroup
	run sh -c "ls -d /sys/fs/cgroup/user.slice/user-$U.slice/*; cat /sys/fs/cgroup/user.slice/user-$U.slice/session-$id.scope/cgroup.procs"
	run systemctl show "user@$U.service" -p ActiveState -p SubState
	run systemctl show "user-$U.slice" -p ActiveState -p MemoryMax -p TasksMax
	run loginctl user-status "$U" --no-pager
	run cgm sessions
	run systemd-cgls --no-pager -u user.slice
	run systemd-cgls --no-pager -u system.slice/cgmd.service
	run sh -c "ps -eo pid,user,cgroup:80,args | grep -E 'sleep 10000|sshd|su ' | grep -v grep"
}
observe_close() {
	local d=$S/$1 id; id=$(cat $d/id)
	timeout 10 sh -c "echo x >$d/go"
	wait_until 30 sh -c "! kill -0 $(cat $d/pid)"
	say "login $1 logged out (session $id); right after"
	run loginctl list-sessions --no-pager
	run loginctl show-session "$id" -p State -p Active -p Scope
	run systemctl show "session-$id.scope" -p ActiveState -p SubState
	run systemctl show "user@$U.service" -p ActiveState -p SubState
	run cgm sessions
	run sh -c "ps -eo pid,user,cgroup:80,args | grep 'sleep 10000' | grep -v grep"
	sleep 15
	say "15 s after logout $1 (UserStopDelaySec=10)"
	run loginctl list-sessions --no-pager
	run loginctl user-status "$U" --no-pager
	run systemctl show "user@$U.service" -p ActiveState -p SubState
	run systemctl show "user-$U.slice" -p ActiveState
	run cgm sessions
	run sh -c "ps -eo pid,user,cgroup:80,args | grep 'sleep 10000' | grep -v grep"
	run sh -c "journalctl -b --no-pager -o short-monotonic -u systemd-logind -u 'session-$id.scope' -u 'user@$U.service' -u 'user-$U.slice' -u cgmd | tail -n 40"
}
kill_strays() { for p in $(pgrep -u "$U" -x sleep); do kill "$p"; done; }

say "A. KillUserProcesses=no (Debian default), cgm mode"
held_login ssh; observe_open ssh
held_login su; observe_open su
observe_close 1
observe_close 2
kill_strays

say "B. KillUserProcesses=yes, cgm mode"
mkdir -p /etc/systemd/logind.conf.d
printf '[Login]\nKillUserProcesses=yes\n' >/etc/systemd/logind.conf.d/obs.conf
run systemctl restart systemd-logind
held_login ssh; observe_open ssh
observe_close 3
kill_strays

say "C. KillUserProcesses=yes, without pam_cgm (reference)"
cp /etc/pam.d/common-session $S/common-session.saved
sed -i '/pam_cgm/d' /etc/pam.d/common-session
held_login ssh; observe_open ssh
observe_close 4
kill_strays
cp $S/common-session.saved /etc/pam.d/common-session
rm -f /etc/systemd/logind.conf.d/obs.conf /etc/cgm/cgm.conf.d/10-observe.conf
run systemctl restart systemd-logind
echo "ok 1 - observed (see observe.txt)"
echo "1..1"
