#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# favordynmods.sh: what the cgroup2 mount option favordynmods changes for logins, measured in a
# throw-away guest (it remounts the host's cgroup2 hierarchy, which no shared machine may do):
#
#   tests/guest/run-guest.sh -q -x bench/favordynmods.sh openrc-v2
#
# Two figures, each without ("plain") and with the option:
#   move_us  the first write of a pid into a cgroup.procs after 250 ms of quiet, as a spaced
#            login's move is: the kernel waits in rcu_sync_enter for a grace period there unless
#            favordynmods keeps the lock in its slow mode (median and max of N);
#   spawn_us fork+exec+exit+wait of /bin/true, the hot path favordynmods makes dearer (median
#            of 200).
# Prints TAP (one ok per figure, the numbers as diagnostics) and restores the option as found.
set -u
N=${N:-20}
CG=/sys/fs/cgroup
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
us() { local a=${1/./} b=${2/./}; echo $(((10#$b - 10#$a))); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[NR] }'; }
# A cgroup2 remount sets exactly the flags it is given: keep the others as found.
was=$(awk '$2 == "/sys/fs/cgroup" && $3 == "cgroup2" { print $4 }' /proc/mounts)
keep=$(tr , '\n' <<<"$was" | grep -E '^(nsdelegate|memory_localevents|memory_recursiveprot|memory_hugetlb_accounting)$' | paste -sd, -)
flags() { local f=$keep; [ "$1" = favordynmods ] && f=${f:+$f,}favordynmods; echo "remount${f:+,$f}"; }
case ",$was," in *,favordynmods,*) restore=favordynmods ;; *) restore=plain ;; esac
d=$CG/fdm-bench-$$
mkdir "$d" || { echo "1..0 # SKIP cannot create $d"; exit 0; }
trap 'for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -KILL "$p"; done; rmdir "$d" 2>/dev/null; mount -o "$(flags $restore)" "$CG"' EXIT
for opt in plain favordynmods; do
	mount -o "$(flags $opt)" "$CG" || { n=$((n + 1)); echo "not ok $n - remount ($opt)"; continue; }
	moves=()
	for ((i = 0; i < N; i++)); do
		sleep 100 </dev/null >/dev/null 2>&1 &
		pid=$!
		sleep 0.25
		exec 3>"$d/cgroup.procs"
		t0=$EPOCHREALTIME; echo "$pid" >&3; t1=$EPOCHREALTIME
		exec 3>&-
		moves+=("$(us "$t0" "$t1")")
		kill -KILL "$pid"; wait "$pid" 2>/dev/null
	done
	read -r mmed mmax < <(printf '%s\n' "${moves[@]}" | median)
	spawns=()
	for ((i = 0; i < 200; i++)); do
		t0=$EPOCHREALTIME; /bin/true; t1=$EPOCHREALTIME
		spawns+=("$(us "$t0" "$t1")")
	done
	read -r smed smax < <(printf '%s\n' "${spawns[@]}" | median)
	ok "$opt: move_us median=$mmed max=$mmax (N=$N, 250 ms apart); spawn_us median=$smed (N=200)"
	echo "# $opt move_us_median=$mmed move_us_max=$mmax spawn_us_median=$smed"
done
echo "1..$n"
