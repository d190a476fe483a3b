#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# guest-bench.sh: `make bench`'s figures in a booted guest, against the cgm installed there from
# the .debs (the v2 layout the hybrid host cannot show):
#
#   tests/guest/run-guest.sh -q -1 -t 1500 -o OUT -x bench/guest-bench.sh openrc-v2
#
# run-guest.sh puts the bench scripts on the data disk ($CGM_GUEST_DATA/bench) and the bench
# programs of the build into $CGM_GUEST_DATA/bin. Each runner starts a private cgmd (the
# installed /usr/sbin/cgmd) below this script's own cgroup, as on the host; the installed
# service is left alone. The runners run from the guest's root cgroup (below). Prints TAP: one ok per runner that finished, every figure line as a
# diagnostic, and the whole output in $CGM_GUEST_OUT/bench.txt. qemu emulates the guest (TCG:
# KVM is not used, bench/README.md), which inflates every figure many times and not evenly:
# compare lines of one run only.
#
# The peers. When run-guest.sh was given their .debs (CGM_GUEST_EXTRA_DEBS: `make bench-guest`
# fetches LXC's libpam-cgfs and libcgroup's libpam-cgroup with apt-get download), they are
# installed here, their pam-auth-update profiles are taken out again (the guest's own logins
# stay as they were), and run-pam.sh times them beside pam_cgm (PEERS): pam_cgfs as the issue
# measured it (-c freezer,pids) and pam_cgroup with a cgrules.conf that puts the user into a
# cgroup of its own with the memory, cpu and pids controllers.
#
# The load runner uses a 128 MiB page-cache hog, and the scale runner stops at 1,000 sessions
# over 100 homes: the guest has 1 GiB of memory and runs emulated.
#
# Environment: N (calls per figure, default 300), N_PAM (logins per mode, default 100).
set -u
DATA=${CGM_GUEST_DATA:-/run/cgm-guest/data}
OUT=${CGM_GUEST_OUT:-/tmp}
N=${N:-300}
N_PAM=${N_PAM:-100}
BIN=$DATA/bin
mod() { ls /lib/*/security/"$1" /usr/lib/*/security/"$1" 2>/dev/null | head -n1; }
export CGMD=/usr/sbin/cgmd CGM=/usr/bin/cgm
n=0
run() { # run NAME COMMAND...: the command's lines as diagnostics, ok when it exits 0
	local name=$1 rc
	shift
	n=$((n + 1))
	"$@" >"$OUT/$name.txt" 2>&1
	rc=$?
	sed 's/^/# /' "$OUT/$name.txt"
	cat "$OUT/$name.txt" >>"$OUT/bench.txt"
	if [ "$rc" = 0 ]; then echo "ok $n - $name"; else echo "not ok $n - $name (exit $rc)"; fi
}
# A cgroup2 cgroup that holds processes cannot enable controllers for its children, so the base
# the runners make below their own cgroup would have no pids, memory or cpu: run from the root
# cgroup, which may, with the controllers enabled there (the guest is thrown away afterwards).
# cgroup2 is where the init mounted it (OpenRC: /sys/fs/cgroup/unified beside its name=openrc).
CG2=$(awk '{ for (t = 7; t < NF && $t != "-"; t++); if ($(t + 1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo)
echo $$ >"$CG2/cgroup.procs"
for c in $(cat "$CG2/cgroup.controllers"); do echo "+$c" >"$CG2/cgroup.subtree_control"; done 2>/dev/null
echo "# cgroup2 at $CG2: subtree_control=$(cat "$CG2/cgroup.subtree_control"); this shell in $(grep '^0::' /proc/self/cgroup)"
# The peers. libpam-cgfs declares a conflict with libpam-cgm, so its module is unpacked, not
# installed; libpam-cgroup installs beside it.
peers=""
if ls "$DATA"/extra-debs/*.deb >/dev/null 2>&1; then
	mkdir -p /tmp/peers
	for d in "$DATA"/extra-debs/*.deb; do
		case $d in
		*libpam-cgfs*) dpkg -x "$d" /tmp/peers ;;
		*) DEBIAN_FRONTEND=noninteractive dpkg -i "$d" >>"$OUT/peers-install.txt" 2>&1 ;;
		esac
	done
	pam-auth-update --package --remove cgroup >/dev/null 2>&1
	m=$(ls /tmp/peers/lib/*/security/pam_cgfs.so 2>/dev/null | head -n1)
	[ -n "$m" ] && peers+="pam_cgfs $m -c freezer,pids"$'\n'
	m=$(mod pam_cgroup.so)
	if [ -n "$m" ]; then
		mkdir -p "$CG2/cgm-peer"
		echo "nobody memory,cpu,pids cgm-peer/" >/etc/cgrules.conf
		peers+="pam_cgroup $m"$'\n'
	fi
fi
echo "# peers: $(echo "$peers" | awk 'NF { printf "%s ", $1 }')"
echo "1..5"
# The data disk is read-only: the runners write only below /tmp and the cgroup tree.
run bench-cgm env BENCH="$BIN/bench-cgm" N="$N" bash "$DATA/bench/run.sh"
run bench-pam env BENCH_PAM="$BIN/bench-pam" PAM_CGM="$(mod pam_cgm.so)" \
	N="$N_PAM" N_SPACED=20 LIVE=200 PEERS="$peers" bash "$DATA/bench/run-pam.sh"
run bench-dlopen "$BIN/bench-dlopen" 200 "$(mod pam_permit.so)" "$(mod pam_cgm.so)" "$(mod pam_unix.so)"
run bench-load env BENCH_LOAD="$BIN/bench-load" HOG_MB=128 bash "$DATA/bench/run-load.sh"
# 1,000 sessions over 100 homes: the guest has 1 GiB and runs emulated.
run bench-scale env BENCH_SCALE="$BIN/bench-scale" MAX=1000 HOMES=100 N=100 bash "$DATA/bench/run-scale.sh"
