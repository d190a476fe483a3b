#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Direct reads (client/direct.c): libcgm answers Get, Stat, List, Procs and WhoAmI from
# cgroupfs itself. Every read here runs twice, with CGM_DIRECT=0 (through cgmd) and
# CGM_DIRECT=1, and the two answers must be the same byte for byte: values, paths, pids, and
# for refusals the errno, the D-Bus error name and the message. A trace then shows that the
# direct reads really skipped the daemon, and that a caller in a cgroup namespace of its own
# still goes through it.
. "$(dirname "$0")/lib.sh"
require_root
[ -n "${DIRECT_PROBE:-}" ] && [ -x "$DIRECT_PROBE" ] || skip_all "direct-probe is not built (set DIRECT_PROBE)"

start_daemon || { not_ok "cgmd starts"; finish; exit 1; }

# The tree: a/b/c with limits as root; a home for uid A with a child of its own; a process in
# the leaf a/b/c (on cgroup v2 only leaves may hold processes once controllers are enabled)
# and one in the home's child, for Procs.
check "root creates a with limits" "$CGM" create a pids.max=50 memory.max=64M
check "root creates a/b" "$CGM" create a/b pids.max=20
check "root creates a/b/c" "$CGM" create a/b/c
check "root creates home-a" "$CGM" create home-a pids.max=100 memory.max=128M
check "root delegates home-a to uid A" "$CGM" chown home-a "$UID_A"
check "uid A creates work below its home" as_uid "$UID_A" "$CGM" create work pids.max=10
spawn_as_in SLEEPER 0 a/b/c sleep 600
spawn_as_in SLEEPER_A "$UID_A" home-a/work sleep 600
wait_until bash -c "grep -qx '$SLEEPER' '$(v2_base)/a/b/c/cgroup.procs' 2>/dev/null || grep -qx '$SLEEPER' '$(base_dirs | head -n1)/a/b/c/cgroup.procs'"
API=$(api_base)

# same DESCRIPTION [as UID] PROBE-ARGS...: the probe's output and exit status with direct reads
# off and on are identical (and not empty).
same() {
	local desc=$1; shift
	local pre=()
	if [ "$1" = as ]; then pre=(as_uid "$2"); shift 2; fi
	CGM_DIRECT=0 "${pre[@]}" "$DIRECT_PROBE" "$@" >"$TEST_TMP/d0" 2>&1; local rc0=$?
	CGM_DIRECT=1 "${pre[@]}" "$DIRECT_PROBE" "$@" >"$TEST_TMP/d1" 2>&1; local rc1=$?
	if [ "$rc0" = "$rc1" ] && [ -s "$TEST_TMP/d0" ] && cmp -s "$TEST_TMP/d0" "$TEST_TMP/d1"; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "probe: $*" "daemon (exit $rc0):" "$(cat "$TEST_TMP/d0")" "direct (exit $rc1):" "$(cat "$TEST_TMP/d1")"
	fi
}

# Root: values on v2 and (on a hybrid host) v1 keys, every key, counters, listings, pids.
same "root: Get of v2 and v1 keys by name" get a pids.max memory.max
same "root: Get of every key" get a/b
same "root: Get by absolute path" get "$API/a/b" pids.max
same "root: Get of the base itself" get "" pids.max
same "root: Stat" stat a/b
same "root: List" list a
same "root: List -r" list a -r
same "root: List of the base" list "$API" -r
same "root: Procs" procs a/b/c
same "root: Procs -r" procs a -r
same "root: WhoAmI" whoami
# Refusals and errors: whatever direct reads cannot answer, the daemon words.
same "root: Get of a missing cgroup" get nope pids.max
same "root: Get of every key of a missing cgroup" get nope
same "root: Get of an unknown key" get a no.such.key
same "root: Get of a key cgm never reads" get a cgroup.procs
same "root: Stat of a missing cgroup" stat a/nope
same "root: List of a missing cgroup" list a/nope
same "root: Procs of a missing cgroup" procs nope
same "root: a path with .." get a/../a pids.max
same "root: a path with a trailing slash" get a/ pids.max
same "root: a path outside the base" get /definitely-not-the-base pids.max

# An unprivileged user with a home: its home and below, and nothing else.
same "uid A: WhoAmI (home, cgroup, limits)" as "$UID_A" whoami
same "uid A: Get of its home" as "$UID_A" get "" pids.max memory.max
same "uid A: Get of every key below its home" as "$UID_A" get work
same "uid A: Stat of its home" as "$UID_A" stat ""
same "uid A: List -r of its home" as "$UID_A" list "" -r
same "uid A: Procs -r of its home" as "$UID_A" procs "" -r
same "uid A: Get of a cgroup outside its home" as "$UID_A" get "$API/a" pids.max
same "uid A: List outside its home" as "$UID_A" list "$API" -r
same "uid A: Procs outside its home" as "$UID_A" procs "$API/a/b"
same "uid A: Get of a missing cgroup in its home" as "$UID_A" get nope pids.max

# A cgroup name is any bytes (a user's mkdir in its delegated v2 subtree). Listings leave out
# names cgm would refuse, but /proc/PID/cgroup names them all: the daemon sends what is not
# UTF-8 as \xNN (daemon/reply.c), and a direct WhoAmI must read the same.
bad=$(base_dirs | head -n1)/home-a/$'bad\xff\xfe'
check "a cgroup whose name is not UTF-8 is made in home-a (primary hierarchy)" mkdir "$bad"
printf '#!/bin/bash\necho $$ >"$1/cgroup.procs" || exit 1\nshift\nexec "$@"\n' >"$TEST_TMP/in-cgroup"
chmod +x "$TEST_TMP/in-cgroup"
REAL_PROBE=$DIRECT_PROBE
DIRECT_PROBE="$TEST_TMP/in-cgroup" same "root: WhoAmI from a cgroup whose name is not UTF-8" "$bad" "$REAL_PROBE" whoami
check "... which names it escaped" grep -q 'bad\\xff\\xfe' "$TEST_TMP/d1"
rmdir "$bad"
same "uid B (no home): Get" as "$UID_B" get "" pids.max
same "uid B (no home): WhoAmI" as "$UID_B" whoami
# WhoAmI from a process placed in the home's child, as a login would be.
CGM_DIRECT=0 run_in "$UID_A" home-a/work "$DIRECT_PROBE" whoami >"$TEST_TMP/w0" 2>&1
CGM_DIRECT=1 run_in "$UID_A" home-a/work "$DIRECT_PROBE" whoami >"$TEST_TMP/w1" 2>&1
check "uid A's WhoAmI from within work is the same both ways" cmp "$TEST_TMP/w0" "$TEST_TMP/w1"
check "uid A's WhoAmI from within work shows work" grep -q '^cgroup=.*/home-a/work$' "$TEST_TMP/w1"

# The values are the kernel's: a value changed behind libcgm's back is read anew.
echo 42 >"$(ctl_base pids)/a/pids.max" 2>/dev/null
check "a direct Get sees a value changed in cgroupfs" bash -c "CGM_DIRECT=1 '$DIRECT_PROBE' get a pids.max | grep -qx 'pids.max=42'"
same "root: Get after the change" get a pids.max

# Set: a user's change of one cgroup v2 key strictly below its home, in a file it owns, is
# written by libcgm itself; everything else goes to the daemon. Each Set is made both ways from
# the same starting value (put back by root through the daemon), and the answers and the value
# read back afterwards must be the same.
same_set() { # same_set DESCRIPTION UID|0 PATH RESET-KEY=VALUE KEY=VALUE...
	local desc=$1 u=$2 path=$3 reset=$4; shift 4
	local pre=() d abs=$path
	# Root's relative paths start at the base, uid A's at its home.
	if [ "$u" != 0 ]; then pre=(as_uid "$u"); case $path in /*) ;; *) abs="$API/home-a${path:+/$path}" ;; esac; fi
	for d in 0 1; do
		CGM_DIRECT=0 "$DIRECT_PROBE" set "$abs" "$reset" >/dev/null 2>&1
		CGM_DIRECT=$d "${pre[@]}" "$DIRECT_PROBE" set "$path" "$@" >"$TEST_TMP/s$d" 2>&1
		echo "exit $?" >>"$TEST_TMP/s$d"
		CGM_DIRECT=0 "$DIRECT_PROBE" get "$abs" "${reset%%=*}" >>"$TEST_TMP/s$d" 2>&1
	done
	if cmp -s "$TEST_TMP/s0" "$TEST_TMP/s1"; then ok "$desc"; else
		not_ok "$desc"; diag "daemon:" "$(cat "$TEST_TMP/s0")" "direct:" "$(cat "$TEST_TMP/s1")"; fi
}
same_set "uid A: Set of a v2 key below its home" "$UID_A" work cgroup.max.descendants=max cgroup.max.descendants=5
same_set "uid A: Set of another v2 key below its home" "$UID_A" work cgroup.max.depth=max cgroup.max.depth=3
same_set "uid A: Set of pids.max below its home" "$UID_A" work pids.max=10 pids.max=7
same_set "uid A: Set of memory.max below its home" "$UID_A" work memory.max=max memory.max=32M
same_set "uid A: Set of two keys at once" "$UID_A" work cgroup.max.depth=max cgroup.max.depth=4 cgroup.max.descendants=6
same_set "uid A: Set of a bad value" "$UID_A" work cgroup.max.descendants=max cgroup.max.descendants=lots
same_set "uid A: Set of a key cgm never writes" "$UID_A" work cgroup.max.descendants=max cgroup.procs=1
same_set "uid A: Set of its home itself" "$UID_A" "" cgroup.max.descendants=max cgroup.max.descendants=5
same_set "uid A: Set outside its home" "$UID_A" "$API/a" cgroup.max.descendants=max cgroup.max.descendants=5
same_set "uid A: Set of a missing cgroup" "$UID_A" nope cgroup.max.descendants=max cgroup.max.descendants=5
same_set "root: Set of a v2 key" 0 a/b cgroup.max.descendants=max cgroup.max.descendants=5
# A cgroup root made below uid A's home keeps root's files: uid A's Set there is the daemon's.
check "root creates work/rootmade in uid A's home" "$CGM" create home-a/work/rootmade
same_set "uid A: Set where the file is root's" "$UID_A" work/rootmade cgroup.max.descendants=max cgroup.max.descendants=5

# Direct reads skip the daemon: four reads on one handle write to the socket as often as one
# (the Layout call), while through the daemon each read is a message. Only writes to sockets
# are counted (strace -y names them), not those to files or pipes.
if command -v strace >/dev/null; then
	sends() { # sends DIRECT -n N [as] ARGS...: the number of writes to sockets (as uid A)
		local d=$1 n=("$2" "$3") pre=(); shift 3
		if [ "$1" = as ]; then pre=(setpriv --reuid="$UID_A" --regid="$UID_A" --clear-groups --inh-caps=-all --); shift; fi
		CGM_DIRECT=$d strace -f -qq -y -e trace=write,writev,sendmsg,sendto -o "$TEST_TMP/trace" "${pre[@]}" "$DIRECT_PROBE" "${n[@]}" "$@" >/dev/null 2>&1
		grep -Ec '^[0-9]+ +(write|writev|sendmsg|sendto)\([0-9]+<socket:' "$TEST_TMP/trace"
	}
	for op in "get a pids.max memory.max" "stat a/b" "list a -r" "procs a -r" "whoami"; do
		# shellcheck disable=SC2086
		d1=$(sends 1 -n 1 $op) d4=$(sends 1 -n 4 $op) s1=$(sends 0 -n 1 $op) s4=$(sends 0 -n 4 $op)
		if [ "$d1" = "$d4" ] && [ "$s4" -gt "$s1" ]; then ok "direct ${op%% *} does not ask the daemon (sends: direct $d1/$d4, daemon $s1/$s4)"
		else not_ok "direct ${op%% *} does not ask the daemon"; diag "sends for 1 and 4 reads: direct $d1 $d4, daemon $s1 $s4"; fi
	done
	# The same for a user in its home (strace runs as root, the probe as uid A).
	for op in "get work pids.max" "stat work" "procs work" "whoami"; do
		# shellcheck disable=SC2086
		d1=$(sends 1 -n 1 as $op) d4=$(sends 1 -n 4 as $op) s1=$(sends 0 -n 1 as $op) s4=$(sends 0 -n 4 as $op)
		if [ "$d1" = "$d4" ] && [ "$s4" -gt "$s1" ]; then ok "uid A: direct ${op%% *} does not ask the daemon (sends: direct $d1/$d4, daemon $s1/$s4)"
		else not_ok "uid A: direct ${op%% *} does not ask the daemon"; diag "sends for 1 and 4 reads: direct $d1 $d4, daemon $s1 $s4"; fi
	done
	d1=$(sends 1 -n 1 as set work cgroup.max.descendants=5) d4=$(sends 1 -n 4 as set work cgroup.max.descendants=5)
	s1=$(sends 0 -n 1 as set work cgroup.max.descendants=5) s4=$(sends 0 -n 4 as set work cgroup.max.descendants=5)
	if [ "$d1" = "$d4" ] && [ "$s4" -gt "$s1" ]; then ok "uid A: a direct Set in its subtree does not ask the daemon (sends: direct $d1/$d4, daemon $s1/$s4)"
	else not_ok "uid A: a direct Set in its subtree does not ask the daemon"; diag "sends: direct $d1 $d4, daemon $s1 $s4"; fi
	for op in "set a/b cgroup.max.descendants=5" "as set work/rootmade cgroup.max.descendants=5" "as set work cgroup.max.depth=2 cgroup.max.descendants=5"; do
		# shellcheck disable=SC2086
		d1=$(sends 1 -n 1 $op) d4=$(sends 1 -n 4 $op)
		if [ "$d4" -gt "$d1" ]; then ok "Set goes to the daemon: $op"
		else not_ok "Set goes to the daemon: $op"; diag "sends: $d1 $d4"; fi
	done
	d1=$(sends 1 -n 1 get nope pids.max) d4=$(sends 1 -n 4 get nope pids.max)
	if [ "$d4" -gt "$d1" ]; then ok "a read direct reads cannot answer goes to the daemon"
	else not_ok "a read direct reads cannot answer goes to the daemon"; diag "sends: $d1 $d4"; fi
else
	diag "strace is not installed: the check that direct reads skip the daemon is not run"
fi

# A caller in a cgroup namespace of its own (rooted at the leaf a/b/c here) reads through
# the daemon, which shows it paths in its namespace's terms; the answers are the same both ways.
if command -v unshare >/dev/null && unshare --cgroup true 2>/dev/null; then
	in_ns() { ( "$CGM" move a/b/c "$BASHPID" >/dev/null || exit 97; exec unshare --cgroup "$@" ); }
	for op in "whoami" "get / pids.max" "get /" "stat /" "get /nope pids.max"; do
		# shellcheck disable=SC2086
		check "in a cgroup namespace: $op is the same both ways" bash -c "
			$(declare -f in_ns); CGM='$CGM'
			CGM_DIRECT=0 in_ns '$DIRECT_PROBE' $op >'$TEST_TMP/n0' 2>&1
			CGM_DIRECT=1 in_ns '$DIRECT_PROBE' $op >'$TEST_TMP/n1' 2>&1
			test -s '$TEST_TMP/n0' && cmp '$TEST_TMP/n0' '$TEST_TMP/n1'"
	done
	CGM_DIRECT=1 in_ns "$DIRECT_PROBE" whoami >"$TEST_TMP/nw" 2>&1
	check "in a cgroup namespace, WhoAmI shows its cgroup as the namespace's root" grep -qx 'cgroup=/' "$TEST_TMP/nw"
	if command -v strace >/dev/null; then
		n1=$(CGM_DIRECT=1 in_ns strace -f -qq -y -e trace=write,writev,sendmsg,sendto -o "$TEST_TMP/trace" "$DIRECT_PROBE" -n 1 get / pids.max >/dev/null 2>&1; grep -Ec '^[0-9]+ +(write|writev|sendmsg|sendto)\([0-9]+<socket:' "$TEST_TMP/trace")
		n4=$(CGM_DIRECT=1 in_ns strace -f -qq -y -e trace=write,writev,sendmsg,sendto -o "$TEST_TMP/trace" "$DIRECT_PROBE" -n 4 get / pids.max >/dev/null 2>&1; grep -Ec '^[0-9]+ +(write|writev|sendmsg|sendto)\([0-9]+<socket:' "$TEST_TMP/trace")
		if [ "$n4" -gt "$n1" ]; then ok "in a cgroup namespace, reads go to the daemon"
		else not_ok "in a cgroup namespace, reads go to the daemon"; diag "sends: $n1 $n4"; fi
	fi
else
	diag "unshare --cgroup is not available: the cgroup namespace case is not run"
fi

finish
