#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The openrc-v2 guest, after check-openrc.sh (tests/guest/README.md, "Containers"): a real
# container runtime from Debian's packages, crun, run rootless by the test user inside a pam_cgm
# login (a real sshd login), on the tree cgm delegated to that user, with the cgroupfs manager
# and a cgroupsPath below the user's home. Three containers, one after the other, in one login:
#   lim   memory 32M, pids 16: a memory hog in it is OOM-killed at the container's own limit,
#         a fork loop in it stops at the container's pids.max;
#   home  memory 512M, pids 1000, both above the home's 96M and 64 from the guest's policy: the
#         hog is still killed and the fork loop still stops below 64, because the home bounds
#         everything in it;
#   nest  memory 256M, pids 200, 65537 uids mapped through newuidmap and /etc/subuid, cgmd's
#         socket directory /run/cgm bind-mounted in, cgm from the guest's /usr: the container's
#         root makes /nested with a memory limit and delegates it to the container's uid 1000
#         (`cgm chown /nested 1000`), which then creates and limits /nested/x with cgm, and a
#         hog in x is OOM-killed; the container's root cannot raise its own limits, act beside
#         the container or delegate to an unmapped uid; a cgmd restart is seen inside.
# From the guest it checks where each container's init runs (/proc/PID/cgroup: below the
# user's home, its parent crun in the login's session), what the kernel holds (limits, owners,
# counters) and that crun removes each cgroup at the end.
# The containers' root filesystem is an empty directory with the guest's /usr bind-mounted
# read-only (merged /usr: bin, sbin, lib, lib64 are links into it): the test helpers memhog and
# forker (/usr/local/bin), setpriv and cgm come from there. Prints TAP.
lib=$(dirname "$0")/lib.sh # run-guest.sh -x runs a copy from the data disk's extra/
[ -f "$lib" ] || lib=${CGM_GUEST_DATA:-/run/cgm-guest/data}/tests/guest/lib.sh
# shellcheck source=lib.sh
. "$lib"

uid=$(t_uid)
home=$BASE/user-$uid
W=/home/$T_USER/cgm-ctr          # the bundles, owned by the user; io/ is each one's /io
STATE=$W/state                   # crun --root
CG=$(cg2_mount)
login_pid=''

cleanup() {
	local d
	[ -n "$login_pid" ] && kill "$login_pid" 2>/dev/null
	# whatever a failed run left: the containers' cgroups (killing what runs in them), as root
	for d in "$CG$home"/ctr-*; do
		[ -d "$d" ] && timeout 30 cgm rm -r -k "$home/${d##*/}" >/dev/null 2>&1
	done
	[ -d "$CG$BASE/escape" ] && rmdir "$CG$BASE/escape"
	[ -d "$CG$home/beside" ] && rmdir "$CG$home/beside"
	rm -rf "$W"
}
trap cleanup EXIT

# ---- the host's part: crun, subordinate ids, the helpers -----------------------------------------
# (crun refuses a hybrid layout: "cgroups in hybrid mode not supported")
check "pure cgroup v2 on /sys/fs/cgroup" sh -c "[ \"\$(stat -f -c %T /sys/fs/cgroup)\" = cgroup2fs ]"
check "crun from Debian's packages is installed" sh -c "dpkg-query -W -f='\${Status}' crun | grep -qx 'install ok installed' && crun --version | grep -q '^crun version'"
crun --version >"$OUT/crun-version.txt" 2>&1
check "uidmap's newuidmap and newgidmap are installed" sh -c "command -v newuidmap && command -v newgidmap"
# Debian 12's adduser gave the user subordinate ids (65536 from 100000); an admin adds them so
# where it did not.
if ! grep -q "^$T_USER:" /etc/subuid 2>/dev/null || ! grep -q "^$T_USER:" /etc/subgid 2>/dev/null; then
	diag "$T_USER has no subordinate ids: usermod --add-subuids/--add-subgids"
	usermod --add-subuids 100000-165535 --add-subgids 100000-165535 "$T_USER" >>"$OUT/subid.log" 2>&1
fi
sub=$(awk -F: -v u="$T_USER" '$1 == u && $3 >= 65536 { print $2; exit }' /etc/subuid)
subg=$(awk -F: -v u="$T_USER" '$1 == u && $3 >= 65536 { print $2; exit }' /etc/subgid)
check "$T_USER has 65536 subordinate uids and gids" test -n "$sub" -a -n "$subg"
check "the test programs are installed (forker, memhog)" install_helpers
check "cgm ping" cgm ping

# ---- the bundles -----------------------------------------------------------------------------------
# json_str STRING: a JSON string (the values here have no quote, backslash or control byte)
json_str() { printf '"%s"' "$1"; }
# make_bundle NAME MEMORY PIDS NEST SCRIPT: $W/NAME/{config.json,rootfs,io/}; MEMORY and PIDS
# empty for no limit; NEST=1 for the nested case (uid maps, /run/cgm). SCRIPT is the container's
# /io/run.sh, run by /bin/sh as the container's root.
make_bundle() {
	local n=$1 mem=$2 pids=$3 nest=$4 b=$W/$1 l res='' maps='' cgm_mount=''
	mkdir -p "$b/io" "$b/rootfs"/{usr,proc,dev,sys/fs/cgroup,tmp,etc,io,run/cgm}
	for l in bin sbin lib lib64; do
		if [ -L /$l ]; then ln -s "$(readlink /$l)" "$b/rootfs/$l"; fi
	done
	printf 'root:x:0:0:root:/:/bin/sh\nu1000:x:1000:1000::/:/bin/sh\n' >"$b/rootfs/etc/passwd"
	printf 'root:x:0:\nu1000:x:1000:\n' >"$b/rootfs/etc/group"
	printf '%s\n' "$5" >"$b/io/run.sh"
	mkfifo -m 600 "$b/io/go" "$b/io/end"
	[ -n "$mem" ] && res="\"memory\": { \"limit\": $mem }"
	[ -n "$pids" ] && res="$res${res:+, }\"pids\": { \"limit\": $pids }"
	if [ "$nest" = 1 ]; then
		maps="\"uidMappings\": [ { \"containerID\": 0, \"hostID\": $uid, \"size\": 1 },
			{ \"containerID\": 1, \"hostID\": $sub, \"size\": 65536 } ],
		\"gidMappings\": [ { \"containerID\": 0, \"hostID\": $(id -g "$T_USER"), \"size\": 1 },
			{ \"containerID\": 1, \"hostID\": $subg, \"size\": 65536 } ],"
		cgm_mount=', { "destination": "/run/cgm", "type": "bind", "source": "/run/cgm", "options": ["rbind", "rw"] }'
	fi
	cat >"$b/config.json" <<-EOF
	{
		"ociVersion": "1.0.2",
		"process": {
			"terminal": false,
			"user": { "uid": 0, "gid": 0 },
			"args": [ "/bin/sh", "/io/run.sh" ],
			"env": [ "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/" ],
			"cwd": "/",
			"capabilities": {
				"bounding": [ "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_SETGID", "CAP_SETUID" ],
				"effective": [ "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_SETGID", "CAP_SETUID" ],
				"permitted": [ "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_SETGID", "CAP_SETUID" ]
			},
			"noNewPrivileges": true
		},
		"root": { "path": "rootfs", "readonly": true },
		"hostname": "cgm-$n",
		"mounts": [
			{ "destination": "/proc", "type": "proc", "source": "proc" },
			{ "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
			{ "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"] },
			{ "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] },
			{ "destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"] },
			{ "destination": "/io", "type": "bind", "source": $(json_str "$b/io"), "options": ["rbind", "rw"] }$cgm_mount
		],
		"linux": {
			"cgroupsPath": $(json_str "$home/ctr-$n"),
			$maps
			"resources": { $res },
			"namespaces": [ { "type": "pid" }, { "type": "network" }, { "type": "ipc" }, { "type": "uts" },
				{ "type": "mount" }, { "type": "user" }, { "type": "cgroup" } ]
		}
	}
	EOF
}

# The container script of lim and home: report, wait for the go, hog and fork, wait for the end.
hog_script() { # hog_script MIB FORKS
	cat <<-EOF
	cat /proc/self/cgroup >/io/cg-inside
	echo ready >/io/ready
	read x </io/go
	memhog $1 >/io/memhog.out 2>&1; echo \$? >/io/memhog.rc
	forker $2 >/io/forker 2>&1
	echo done >/io/done
	read x </io/end
	EOF
}

# The nested case. As the container's root (a namespace root: uid 0 of a user namespace that
# maps 0 to the user, 1..65536 to its subordinate uids): leave the container's cgroup for a leaf
# (v2's no-internal-process rule), make /nested with a memory limit, hand it to uid 1000, start
# a shell of uid 1000 in /nested/login; that shell creates and limits /nested/x and runs a hog in
# it. Paths are the container's: its cgroup namespace is rooted at the container's cgroup.
nest_script() {
	cat <<-'EOF'
	exec 2>/io/trace
	set -x
	cat /proc/self/cgroup >/io/cg-inside
	cgm whoami >/io/whoami-root 2>&1; echo $? >/io/whoami-root.rc
	echo ready >/io/ready
	read x </io/go
	cgm create /init >/io/create-init 2>&1 && cgm move /init $$ >/io/move 2>&1; echo $? >/io/move.rc
	cgm procs /init >/io/procs-init 2>&1; echo $? >/io/procs-init.rc
	cgm create /nested memory.max=64M >/io/create-nested 2>&1; echo $? >/io/create-nested.rc
	cgm chown /nested 1000 >/io/chown 2>&1; echo $? >/io/chown.rc
	# refused: a uid its namespace does not map; a cgroup outside the user's home (/cgm)
	cgm create /other >/io/create-other 2>&1 && cgm chown /other 70000 >/io/chown-unmapped 2>&1; echo $? >/io/chown-unmapped.rc
	cgm rm /other >/io/rm-other 2>&1
	cgm create /../../escape >/io/escape 2>&1; echo $? >/io/escape.rc
	# the cgroup namespace bounds it too: not the container's own limits, not beside it
	cgm set / memory.max=max >/io/raise-own 2>&1; echo $? >/io/raise-own.rc
	cgm create /../beside >/io/beside 2>&1; echo $? >/io/beside.rc
	# as a login service does: the process goes into a leaf of the user's home, then becomes
	# the user (an owner moves only processes that are in its home already)
	cgm create /nested/login >/io/create-login 2>&1; echo $? >/io/create-login.rc
	sh -c 'cgm move /nested/login $$ && exec setpriv --reuid=1000 --regid=1000 --clear-groups sh -x /io/as-1000.sh' 2>>/io/trace
	echo done >/io/done
	read x </io/end
	# cgmd was restarted meanwhile: a new socket in the same directory
	cgm ping >/io/ping-again 2>&1; echo $? >/io/ping-again.rc
	setpriv --reuid=1000 --regid=1000 --clear-groups cgm rm /nested/x >/io/rm-x 2>&1; echo $? >/io/rm-x.rc
	cgm rm -r /nested >/io/rm-nested 2>&1; echo $? >/io/rm-nested.rc
	EOF
}
as_1000_script() {
	cat <<-'EOF'
	id -u >/io/id-1000
	cgm whoami >/io/whoami-1000 2>&1; echo $? >/io/whoami-1000.rc
	cgm create /nested/x memory.max=16M >/io/create-x 2>&1; echo $? >/io/create-x.rc
	cgm get /nested/x memory.max >/io/get-x 2>&1; echo $? >/io/get-x.rc
	cat /sys/fs/cgroup/nested/x/memory.max >/io/cat-x 2>&1
	sh -c 'cgm move /nested/x $$ && exec memhog 32' >/io/memhog-x.out 2>&1; echo $? >/io/memhog-x.rc
	cgm set /nested memory.max=max >/io/raise 2>&1; echo $? >/io/raise.rc
	EOF
}

rm -rf "$W"
mkdir -p "$W"
make_bundle lim 33554432 16 0 "$(hog_script 64 40)"
make_bundle home 536870912 1000 0 "$(hog_script 200 200)"
make_bundle nest 268435456 200 1 "$(nest_script)"
as_1000_script >"$W/nest/io/as-1000.sh"
# what the login runs: each container in turn, in the foreground, crun's status in crun.rc
cat >"$W/login.sh" <<-EOF
cat /proc/self/cgroup >$W/login.cg
for n in "\$@"; do
	crun --root $STATE run --bundle $W/\$n --pid-file $W/\$n/pid cgm-\$n </dev/null >$W/\$n/crun.out 2>&1
	echo \$? >$W/\$n/crun.rc
done
EOF
chown -R "$T_USER:" "$W"
# the nested container's uid 1000 (a subordinate uid on the host) writes its results there too
chmod 1777 "$W/nest/io"

# ---- the login -------------------------------------------------------------------------------------
ssh_login "sh $W/login.sh lim home nest" >"$OUT/containers-login.out" 2>&1 &
login_pid=$!
if wait_until 120 test -s "$W/login.cg"; then ok "ssh login of $T_USER started"
else not_ok "ssh login of $T_USER started"; diag "$(cat "$OUT/containers-login.out")"; finish; exit; fi
login_cg=$(cg_path <"$W/login.cg")
if [[ $login_cg =~ ^$home/session-[^/]+$ ]]; then ok "the login is in its pam_cgm session $login_cg"
else not_ok "the login is in its pam_cgm session"; diag "$(cat "$W/login.cg")"; fi

# events FILE KEY: a counter of a cgroup's memory.events, memory.events.local or pids.events
events() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$1" 2>/dev/null || echo 0; }

# ctr_started NAME: the container reported from inside; where its init runs, as the guest sees it.
# Sets pid and cgdir.
ctr_started() {
	local n=$1 b=$W/$1 cg want=$home/ctr-$1 ppid
	pid='' cgdir=$CG$home/ctr-$1
	if ! wait_until 120 sh -c "test -s $b/io/ready -a -s $b/pid || test -e $b/crun.rc"; then
		not_ok "$n: crun started the container"; diag "$(cat "$b/crun.out" 2>&1)"; return 1
	fi
	if [ ! -s "$b/io/ready" ]; then
		not_ok "$n: crun started the container"; diag "crun exit $(cat "$b/crun.rc")" "$(cat "$b/crun.out")"; return 1
	fi
	ok "$n: $T_USER's crun started the container"
	pid=$(cat "$b/pid")
	cg=$(cg_path <"/proc/$pid/cgroup")
	is "$n: the container's init (pid $pid) is in $want, below $T_USER's home" "$cg" "$want"
	is "$n: it is pid 1 of its pid namespace, uid $uid ($T_USER) on the host" \
		"$(awk '$1 == "NSpid:" { print $NF } $1 == "Uid:" { print $2 }' "/proc/$pid/status" | paste -sd ' ')" "$uid 1"
	ppid=$(awk '$1 == "PPid:" { print $2 }' "/proc/$pid/status")
	# (crun runs as a copy of itself in a memfd: its comm is memfd:crun_clon, argv[0] crun)
	is "$n: its parent, crun (pid $ppid), runs as $T_USER in the login's session" \
		"$(tr '\0' '\n' <"/proc/$ppid/cmdline" | head -n1) $(awk '$1 == "Uid:" { print $2 }' "/proc/$ppid/status") $(cg_path <"/proc/$ppid/cgroup" 2>&1)" \
		"crun $uid $login_cg"
	is "$n: inside, its cgroup namespace is rooted at the container's cgroup" "$(cat "$b/io/cg-inside")" "0::/"
}

# ctr_end NAME: let it end; crun exits 0 and removes the container's cgroup.
ctr_end() {
	local n=$1 b=$W/$1
	timeout 10 sh -c "echo end >$b/io/end"
	if wait_until 60 test -s "$b/crun.rc"; then is "$n: the container and crun exit 0" "$(cat "$b/crun.rc")" 0
	else not_ok "$n: the container and crun exit 0"; diag "no exit after 60 s" "$(cat "$b/crun.out")"; fi
	[ -s "$b/crun.out" ] && diag "crun's output:" "$(cat "$b/crun.out")"
	check "$n: crun removed the container's cgroup" wait_until 30 test ! -d "$cgdir"
}

# hog_checks NAME: the memory hog and the fork loop ran in the container.
hog_checks() {
	local n=$1 b=$W/$1
	timeout 10 sh -c "echo go >$b/io/go"
	if ! wait_until 180 test -s "$b/io/done"; then
		not_ok "$n: the memory hog and the fork loop ran"; diag "$(cat "$b/crun.out" 2>&1)"; return 1
	fi
	is "$n: the memory hog in the container dies of SIGKILL (exit 137)" "$(cat "$b/io/memhog.rc")" 137
	v=$(events "$cgdir/memory.events" oom_kill)
	if [ "$v" -gt 0 ]; then ok "$n: memory.events oom_kill of the container's cgroup counts it ($v)"
	else not_ok "$n: memory.events oom_kill of the container's cgroup counts it"; diag "$(cat "$cgdir/memory.events")" "$(cat "$b/io/memhog.out")"; fi
}

# forks_below N NAME DESCRIPTION: forker's line says fewer than N forks succeeded, then EAGAIN.
forks_below() {
	local v; v=$(cat "$W/$2/io/forker")
	if [[ $v =~ ^forked=([0-9]+)\ failed=([0-9]+)\ error=Resource\ temporarily\ unavailable ]] &&
		[ "${BASH_REMATCH[1]}" -lt "$1" ] && [ "${BASH_REMATCH[2]}" -gt 0 ]; then ok "$3 ($v)"
	else not_ok "$3"; diag "forker: $v"; fi
}

# ---- A1: the container's own limits -----------------------------------------------------------------
if ctr_started lim; then
	is "lim: memory.max of the container's cgroup is crun's 32M" "$(cat "$cgdir/memory.max" 2>&1)" 33554432
	is "lim: pids.max of the container's cgroup is crun's 16" "$(cat "$cgdir/pids.max" 2>&1)" 16
	if hog_checks lim; then
		v=$(events "$cgdir/memory.events.local" oom)
		if [ "$v" -gt 0 ]; then ok "lim: the container's own memory.max was hit (memory.events.local oom $v)"
		else not_ok "lim: the container's own memory.max was hit"; diag "$(cat "$cgdir/memory.events.local")"; fi
		forks_below 16 lim "lim: a fork loop in the container stops below its pids.max 16 with EAGAIN"
		v=$(events "$cgdir/pids.events" max)
		if [ "$v" -gt 0 ]; then ok "lim: pids.events max of the container's cgroup rose ($v)"
		else not_ok "lim: pids.events max of the container's cgroup rose"; diag "$(cat "$cgdir/pids.events")"; fi
	fi
	ctr_end lim
fi

# ---- A2: the home's limits bound a container whose own are higher ---------------------------------
if ctr_started home; then
	is "home: memory.max of the container's cgroup is crun's 512M" "$(cat "$cgdir/memory.max" 2>&1)" 536870912
	is "home: pids.max of the container's cgroup is crun's 1000" "$(cat "$cgdir/pids.max" 2>&1)" 1000
	is "home: the home's limits are the policy's ($T_MEM, $T_PIDS)" \
		"$(cat "$CG$home/memory.max" "$CG$home/pids.max" 2>&1 | paste -sd ' ')" "$T_MEM_BYTES $T_PIDS"
	h0=$(events "$CG$home/memory.events.local" oom)
	if hog_checks home; then
		v=$(events "$CG$home/memory.events.local" oom)
		if [ "$v" -gt "$h0" ]; then ok "home: it was the home's memory.max that was hit (home's memory.events.local oom $h0 -> $v)"
		else not_ok "home: it was the home's memory.max that was hit"; diag "home: $(cat "$CG$home/memory.events.local")"; fi
		is "home: the container's own memory.max was never hit (memory.events.local oom)" "$(events "$cgdir/memory.events.local" oom)" 0
		forks_below "$T_PIDS" home "home: a fork loop in the container stops below the home's pids.max $T_PIDS with EAGAIN"
	fi
	ctr_end home
fi

# ---- B: nesting through cgm: the container's root delegates to its uid 1000 ---------------------
if ctr_started nest; then
	b=$W/nest/io f0=$n_failed
	is "nest: crun mapped 0 to $T_USER and 1..65536 to its subordinate uids $sub.. (newuidmap)" \
		"$(awk '{ print $1, $2, $3 }' "/proc/$pid/uid_map" | paste -sd ' ')" "0 $uid 1 1 $sub 65536"
	is "nest: cgmd's socket is 0666 in a 0755 directory (any uid of a container may connect)" \
		"$(stat -c %a /run/cgm /run/cgm/cgm.sock 2>&1 | paste -sd ' ')" "755 666"
	# (the cgroup namespace is a delegation boundary: the container's root acts in its own
	# cgroup, its "home" /, though its host uid's home is the user's)
	is "nest: inside, cgm whoami works through the bind-mounted /run/cgm: uid 0, home / (the container's cgroup)" \
		"$(cat "$b/whoami-root.rc") $(grep -E '^(uid|home):' "$b/whoami-root" | paste -sd ' ')" "0 uid: 0 home: /"
	timeout 10 sh -c "echo go >$b/go"
	if wait_until 180 test -s "$b/done"; then
		u1000=$((sub + 999))
		is "nest: its root moved itself to /init (cgm create, cgm move)" "$(cat "$b/move.rc")" 0
		is "nest: ... which the guest sees as $home/ctr-nest/init" "$(cg_path <"/proc/$pid/cgroup")" "$home/ctr-nest/init"
		is "nest: cgm procs /init answers in the container's pid namespace (pid 1 is in it)" \
			"$(cat "$b/procs-init.rc") $(grep -cx 1 "$b/procs-init")" "0 1"
		is "nest: its root created /nested with memory.max=64M" "$(cat "$b/create-nested.rc") $(cat "$cgdir/nested/memory.max" 2>&1)" "0 67108864"
		is "nest: cgm chown /nested 1000 succeeds" "$(cat "$b/chown.rc")" 0
		is "nest: cgm chown to uid 70000, which its user namespace does not map, is refused (exit 3, \"not mapped\")" \
			"$(cat "$b/chown-unmapped.rc") $(grep -c 'not mapped' "$b/chown-unmapped")" "3 1"
		diag "$(cat "$b/chown-unmapped")"
		is "nest: cgm create /../../escape ($BASE/escape, outside $T_USER's home) is refused (exit 3)" \
			"$(cat "$b/escape.rc") $(test -d "$CG$BASE/escape" && echo made)" "3 "
		diag "$(cat "$b/escape")"
		is "nest: cgm create /../beside ($home/beside: $T_USER's home, outside the container) is refused (exit 3)" \
			"$(cat "$b/beside.rc") $(test -d "$CG$home/beside" && echo made)" "3 "
		diag "$(cat "$b/beside")"
		is "nest: cgm set / memory.max=max (the container's own limit, crun's 256M) is refused (exit 3)" \
			"$(cat "$b/raise-own.rc") $(cat "$cgdir/memory.max" 2>&1)" "3 268435456"
		diag "$(cat "$b/raise-own")"
		is "nest: /nested and its cgroup.procs now belong to the container's uid 1000 (host $u1000)" \
			"$(stat -c %u "$cgdir/nested" "$cgdir/nested/cgroup.procs" 2>&1 | paste -sd ' ')" "$u1000 $u1000"
		is "nest: its memory.max stays $T_USER's (uid $uid), whose container root set it" "$(stat -c %u "$cgdir/nested/memory.max" 2>&1)" "$uid"
		is "nest: its root started a shell of uid 1000 in /nested/login (cgm create, cgm move, setpriv)" \
			"$(cat "$b/create-login.rc") $(cat "$b/id-1000")" "0 1000"
		is "nest: there, cgm whoami names uid 1000, home /nested, cgroup /nested/login" \
			"$(cat "$b/whoami-1000.rc") $(grep -E '^(uid|home|cgroup):' "$b/whoami-1000" | paste -sd ' ')" \
			"0 uid: 1000 home: /nested cgroup: /nested/login"
		is "nest: uid 1000 created /nested/x with memory.max=16M" "$(cat "$b/create-x.rc")" 0
		is "nest: cgm get /nested/x memory.max reads it back" "$(cat "$b/get-x.rc") $(cat "$b/get-x")" "0 memory.max=16777216"
		is "nest: the kernel holds it: the guest's $home/ctr-nest/nested/x/memory.max" "$(cat "$cgdir/nested/x/memory.max" 2>&1)" 16777216
		is "nest: ... and the container's own /sys/fs/cgroup/nested/x/memory.max" "$(cat "$b/cat-x")" 16777216
		is "nest: x belongs to the container's uid 1000" "$(stat -c %u "$cgdir/nested/x" 2>&1)" "$u1000"
		is "nest: a memory hog uid 1000 moves from /nested/login into x dies of SIGKILL (exit 137)" "$(cat "$b/memhog-x.rc")" 137
		v=$(events "$cgdir/nested/x/memory.events" oom_kill)
		if [ "$v" -gt 0 ]; then ok "nest: x's memory.events counts the OOM kill ($v)"
		else not_ok "nest: x's memory.events counts the OOM kill"; diag "$(cat "$cgdir/nested/x/memory.events" 2>&1)" "$(cat "$b/memhog-x.out")"; fi
		is "nest: uid 1000 cannot raise /nested's own memory.max (cgm set exits 3, permission denied)" \
			"$(cat "$b/raise.rc") $(cat "$cgdir/nested/memory.max" 2>&1)" "3 67108864"
	else
		not_ok "nest: the container's cgm steps ran"
	fi
	# The socket's directory is what is bind-mounted: a restarted cgmd's new socket is seen.
	ino0=$(stat -c %i /run/cgm/cgm.sock 2>&1)
	rc-service cgmd restart >"$OUT/cgmd-restart.log" 2>&1
	wait_until 30 cgm ping
	ino1=$(stat -c %i /run/cgm/cgm.sock 2>&1)
	if [ "$ino0" != "$ino1" ] && cgm ping >/dev/null 2>&1; then ok "nest: cgmd restarted (rc-service cgmd restart): a new socket inode ($ino0 -> $ino1)"
	else not_ok "nest: cgmd restarted (rc-service cgmd restart): a new socket inode"; diag "inode $ino0 -> $ino1" "$(cat "$OUT/cgmd-restart.log")"; fi
	ctr_end nest
	is "nest: inside, cgm ping reaches the restarted cgmd through the same bind mount" "$(cat "$b/ping-again.rc" 2>&1)" 0
	is "nest: then uid 1000 removed /nested/x, the container's root /nested (cgm rm -r)" "$(cat "$b/rm-x.rc" "$b/rm-nested.rc" 2>&1 | paste -sd ' ')" "0 0"
	[ "$n_failed" = "$f0" ] || diag "trace of the container's script:" "$(cat "$b/trace" 2>&1)"
	mkdir -p "$OUT/nest-io" && find "$b" -maxdepth 1 -type f -exec cp {} "$OUT/nest-io/" \;
fi

check "the login ended" wait_until 30 sh -c "! kill -0 $login_pid"
wait "$login_pid" 2>/dev/null
login_pid=''
left=$(find "$CG$home" -mindepth 1 -maxdepth 1 -type d -name 'ctr-*' 2>/dev/null)
is "nothing of the containers is left in $T_USER's home" "$left" ""
finish
