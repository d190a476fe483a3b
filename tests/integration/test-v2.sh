#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Pure cgroup v2: delegation as the kernel sees it, limits that bite, and the no-internal-process
# rule. Needs /sys/fs/cgroup to be a cgroup2 mount with cpu, memory, pids, io and cpuset enabled
# for the runner's cgroup, i.e. the VM of `make check-vm` (tests/vm/); skips anywhere else,
# including the hybrid development machines.
. "$(dirname "$0")/lib.sh"
require_root
[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] ||
	skip_all "/sys/fs/cgroup is not a pure cgroup2 mount (run make check-vm)"
V2=$(v2_base)
for c in cpu memory pids io cpuset; do
	grep -qw "$c" "$(dirname "$V2")/cgroup.subtree_control" 2>/dev/null ||
		skip_all "controller $c is not enabled for the runner's cgroup $(dirname "$V2")"
done
: "${FORKER:?set FORKER to the forker helper}"
MEMHOG=${MEMHOG:-$(dirname "$FORKER")/memhog}

start_daemon || { not_ok "cgmd starts"; finish; exit 1; }
ok "cgmd starts with base self:$BASE_NAME on pure cgroup v2"
API_BASE=$("$CGM" whoami | sed -n 's/^home: //p')
check "Version reports the unified layout" bash -c "'$CGM' version | grep -q 'layout=unified'"
A() { as_uid "$UID_A" "$CGM" "$@"; }
# A_write FILE VALUE: as uid A, write VALUE into FILE directly in cgroupfs, as a rootless runtime.
A_write() { as_uid "$UID_A" bash -c 'echo "$1" >"$2"' _ "$2" "$1"; }
# stat_value CGROUP KEY: one counter from `cgm stat`.
stat_value() { "$CGM" stat "$1" | awk -v k="$2" '$1 == k { print $2; f = 1 } END { exit !f }'; }
in_cgroup() { grep -qx "0::$API_BASE/$2" "/proc/$1/cgroup"; }

# --- delegation: the directory and exactly the kernel's delegatable files ---------------------
check "root creates user-A" "$CGM" create user-A
check "root delegates user-A to uid $UID_A" "$CGM" chown user-A "$UID_A"
DELEGATE=$(cat /sys/kernel/cgroup/delegate)
diag "/sys/kernel/cgroup/delegate: $(echo $DELEGATE)" "owners in the home:"
wrong=""
for f in "$V2/user-A" "$V2"/user-A/*; do
	owner=$(stat -c %u "$f")
	diag "  $owner $(basename "$f")"
	want=0
	[ "$f" = "$V2/user-A" ] && want=$UID_A
	printf '%s\n' $DELEGATE | grep -qxF "$(basename "$f")" && want=$UID_A
	[ "$owner" = "$want" ] || wrong="$wrong $(basename "$f")(owner $owner, want $want)"
done
check "the home's directory and its delegatable files are A's, every other file root's" test -z "$wrong"
[ -n "$wrong" ] && diag "wrong owners:$wrong"
for f in cgroup.procs cgroup.threads cgroup.subtree_control; do
	check "delegated file $f is A's" test "$(stat -c %u "$V2/user-A/$f")" = "$UID_A"
done
for f in memory.max pids.max cpu.max cgroup.kill cgroup.freeze cgroup.max.descendants; do
	check "limit/control file $f stays root's" test "$(stat -c %u "$V2/user-A/$f")" = 0
done

# A's login, placed by root in a session leaf as a login would be; creating the session made
# cgmd enable the controllers in the home's subtree_control.
check "root creates a session leaf" "$CGM" create user-A/session-1
check "the home enables its controllers for its children" bash -c "grep -qw memory '$V2/user-A/cgroup.subtree_control'"
check "root creates a leaf outside A's home" "$CGM" create outside
spawn_as_in A_SH "$UID_A" user-A/session-1 sleep 600
check "A's shell is in its session" wait_until in_cgroup "$A_SH" user-A/session-1

# --- A, directly in cgroupfs, as rootless runtimes do ------------------------------------------
D=$V2/user-A/direct
check "A makes a cgroup below its home with mkdir" as_uid "$UID_A" mkdir "$D"
check "A makes two leaves below it" as_uid "$UID_A" mkdir "$D/leaf1" "$D/leaf2"
check "A enables +memory +pids for its children" A_write "$D/cgroup.subtree_control" "+memory +pids"
check "A's leaves have memory.max and pids.max now" test -f "$D/leaf1/memory.max" -a -f "$D/leaf2/pids.max"
check "A limits its own leaf directly" A_write "$D/leaf1/pids.max" 50
check "A moves its process from its session into leaf1" A_write "$D/leaf1/cgroup.procs" "$A_SH"
check "the process is in leaf1" in_cgroup "$A_SH" user-A/direct/leaf1
check "A moves its process on to leaf2" A_write "$D/leaf2/cgroup.procs" "$A_SH"
check "the process is in leaf2" in_cgroup "$A_SH" user-A/direct/leaf2
check "A creates a child through cgm" A create viacgm
check "A moves its process directly into the cgroup cgmd made for it" A_write "$V2/user-A/viacgm/cgroup.procs" "$A_SH"
check "the process is in viacgm" in_cgroup "$A_SH" user-A/viacgm

limits_before=$(cat "$V2/user-A/memory.max" "$V2/user-A/pids.max" "$V2/user-A/cpu.max")
expect_exit "A cannot write its home's memory.max" 1 "Permission denied" A_write "$V2/user-A/memory.max" 1T
expect_exit "A cannot write its home's pids.max" 1 "Permission denied" A_write "$V2/user-A/pids.max" 100000
expect_exit "A cannot write its home's cpu.max" 1 "Permission denied" A_write "$V2/user-A/cpu.max" "max 100000"
check "the home's limits are unchanged" test "$(cat "$V2/user-A/memory.max" "$V2/user-A/pids.max" "$V2/user-A/cpu.max")" = "$limits_before"
expect_exit "A cannot move a process into its home (EBUSY: the home has controllers enabled)" 1 \
	"Device or resource busy" A_write "$V2/user-A/cgroup.procs" "$A_SH"
expect_exit "A cannot move a process out of its home (EACCES)" 1 "Permission denied" \
	A_write "$V2/outside/cgroup.procs" "$A_SH"
expect_exit "A cannot move a process into the root cgroup (EACCES)" 1 "Permission denied" \
	A_write /sys/fs/cgroup/cgroup.procs "$A_SH"
check "the process is still in viacgm" in_cgroup "$A_SH" user-A/viacgm

# --- limits set through cgmd are enforced -------------------------------------------------------
check "A creates mem with memory.max=32M through cgm" A create mem memory.max=32M memory.swap.max=0
run_in "$UID_A" user-A/mem "$MEMHOG" 96 >"$TEST_TMP/memhog.out" 2>&1
rc=$?
check "a process past memory.max is OOM-killed (exit $rc, want 137)" test "$rc" = 137
check "Stat reports memory.events.oom_kill >= 1" bash -c "$(declare -f stat_value); CGM='$CGM'; v=\$(stat_value user-A/mem memory.events.oom_kill) && [ \"\$v\" -ge 1 ]"
check "Stat reports memory.events.oom >= 1" bash -c "$(declare -f stat_value); CGM='$CGM'; v=\$(stat_value user-A/mem memory.events.oom) && [ \"\$v\" -ge 1 ]"

check "A creates pids with pids.max=5 through cgm" A create pids pids.max=5
FORK_OUT=$(run_in "$UID_A" user-A/pids "$FORKER" 10 2>&1)
check "a fork past pids.max fails: 4 forks besides the forker, 6 refused ($FORK_OUT)" \
	test "${FORK_OUT%% error=*}" = "forked=4 failed=6"
check "pids.events counts the refusals" bash -c "awk '\$1 == \"max\" && \$2 >= 6 { f = 1 } END { exit !f }' '$V2/user-A/pids/pids.events'"

check "A creates cpu with cpu.max=50% through cgm" A create cpu cpu.max=50%
check "cpu.max reads 50000 100000" test "$(cat "$V2/user-A/cpu/cpu.max")" = "50000 100000"
spawn_as_in SPIN "$UID_A" user-A/cpu bash -c 'while :; do :; done'
wait_until in_cgroup "$SPIN" user-A/cpu
sleep 0.3
u0=$(stat_value user-A/cpu cpu.usage_usec); t0=$(date +%s%N)
sleep 2
u1=$(stat_value user-A/cpu cpu.usage_usec); t1=$(date +%s%N)
share=$(( (u1 - u0) * 100 / ((t1 - t0) / 1000) )) # cpu time over wall time, in percent
check "a busy loop under cpu.max=50% gets 40..60% of a cpu (got $share% over $(( (t1 - t0) / 1000000 )) ms)" \
	test "$share" -ge 40 -a "$share" -le 60
check "cpu.stat shows throttling" bash -c "awk '\$1 == \"nr_throttled\" && \$2 > 0 { f = 1 } END { exit !f }' '$V2/user-A/cpu/cpu.stat'"

# --- Kill uses cgroup.kill; Freeze uses cgroup.freeze ------------------------------------------
check "A kills cpu with SIGKILL" A kill -s KILL cpu
check "the busy loop is gone" wait_until bash -c "! kill -0 $SPIN 2>/dev/null || grep -q '^State:.*Z' /proc/$SPIN/status"
wait "$SPIN" 2>/dev/null
check "A creates k with two leaves" bash -c "$(declare -f as_uid A); UID_A=$UID_A CGM='$CGM'; A create k && A create k/a && A create k/b"
spawn_as_in K1 "$UID_A" user-A/k/a sleep 600
spawn_as_in K2 "$UID_A" user-A/k/b sleep 600
check "both sleeps are in k" wait_until bash -c "grep -q populated.1 '$V2/user-A/k/a/cgroup.events' && grep -q populated.1 '$V2/user-A/k/b/cgroup.events'"
check "A kills k with SIGKILL (cgroup.kill)" A kill -s KILL k
check "cgroup.events of k shows populated 0" wait_until grep -qx "populated 0" "$V2/user-A/k/cgroup.events"
check "k's cgroup.procs and its leaves' are empty" test -z "$(cat "$V2/user-A/k/a/cgroup.procs" "$V2/user-A/k/b/cgroup.procs")"
wait "$K1" "$K2" 2>/dev/null

check "A creates f" A create f
spawn_as_in F1 "$UID_A" user-A/f sleep 600
wait_until in_cgroup "$F1" user-A/f
check "A freezes f" A freeze f
check "Stat reports frozen 1" wait_until bash -c "'$CGM' stat user-A/f | grep -qx 'frozen 1'"
check "cgroup.freeze reads 1" test "$(cat "$V2/user-A/f/cgroup.freeze")" = 1
check "cgroup.events shows frozen 1" grep -qx "frozen 1" "$V2/user-A/f/cgroup.events"
check "A thaws f" A thaw f
check "Stat reports frozen 0" wait_until bash -c "'$CGM' stat user-A/f | grep -qx 'frozen 0'"
check "cgroup.freeze reads 0" test "$(cat "$V2/user-A/f/cgroup.freeze")" = 0
"$CGM" stat user-A/f >"$TEST_TMP/stat" 2>&1
for k in memory.current cpu.usage_usec pids.current memory.events.oom memory.events.oom_kill populated; do
	check "Stat reports $k" grep -Eq "^$k [0-9]+\$" "$TEST_TMP/stat"
done
check "Stat's memory.current is above 0" test "$(stat_value user-A/f memory.current)" -gt 0
check "Stat's pids.current is 1 (the sleep)" test "$(stat_value user-A/f pids.current)" = 1

# --- the no-internal-process rule never breaks a request ---------------------------------------
check "root creates nest/child (cgmd enables controllers in nest)" bash -c "'$CGM' create user-A/nest && '$CGM' create user-A/nest/child"
check "nest enables controllers for its children" bash -c "grep -qw memory '$V2/user-A/nest/cgroup.subtree_control'"
spawn_as_in P "$UID_A" user-A/session-1 sleep 600
wait_until in_cgroup "$P" user-A/session-1
before=$(snapshot)
expect_exit "root's Move into nest is refused: Busy, processes live in leaves" 6 "leaves" "$CGM" move user-A/nest "$P"
expect_exit "A's Move into nest is refused the same way" 6 "leaves" A move nest "$P"
check "the refused Moves changed nothing on disk" test "$(snapshot)" = "$before"
check "the process stayed in its session" in_cgroup "$P" user-A/session-1
check "A moves it into the leaf nest/child" A move nest/child "$P"
check "the process is in nest/child" in_cgroup "$P" user-A/nest/child
# A cgroup that holds processes cannot enable domain controllers (memory, io) for a child: a
# child with a memory limit is refused with the reason and rolled back, one without is made.
spawn_as_in P2 "$UID_A" user-A/session-1 sleep 600
check "A's new shell is in its session" wait_until in_cgroup "$P2" user-A/session-1
sc_before=$(cat "$V2/user-A/session-1/cgroup.subtree_control")
expect_exit "a memory-limited child of a cgroup with processes is refused with the reason" 8 "no-internal-process" \
	"$CGM" create user-A/session-1/sub memory.max=64M
check "the refused child was not left behind" test ! -d "$V2/user-A/session-1/sub"
sc_after=$(cat "$V2/user-A/session-1/cgroup.subtree_control")
# cgmd leaves the controllers of a parent with processes alone (the kernel would take the
# threaded ones and refuse the others), so a refusal changes nothing there.
check "the refused Create left the parent's subtree_control as it was ([$sc_before], now [$sc_after])" test "$sc_after" = "$sc_before"
check "an unlimited child of a cgroup with processes is still created" "$CGM" create user-A/session-1/plain
check "the session's process was not disturbed" in_cgroup "$P2" user-A/session-1
# Whatever was asked, no cgroup below the base holds processes and gives its children memory or io.
bad=$(find "$V2" -name cgroup.procs | while read -r f; do d=$(dirname "$f")
	[ -n "$(cat "$f")" ] && grep -Eqw 'memory|io' "$d/cgroup.subtree_control" && echo "${d#"$V2"}"; done)
check "no populated cgroup in the base enables memory or io for children" test -z "$bad"
[ -n "$bad" ] && diag "populated cgroups with domain controllers enabled: $bad"

# --- Create and Remove are all or nothing ---------------------------------------------------------
# A Create that fails with Exists leaves the parent as it was: controllers are enabled in the
# parent only once the new directory exists.
check "root makes sc through cgm, and sc/taken directly in cgroupfs" bash -c "'$CGM' create sc && mkdir '$V2/sc/taken'"
sc0=$(cat "$V2/sc/cgroup.subtree_control")
expect_exit "Create sc/taken says Exists" 9 "already exists" "$CGM" create sc/taken
check "the refused Create left sc's subtree_control as it was ([$sc0])" test "$(cat "$V2/sc/cgroup.subtree_control")" = "$sc0"
check "root removes sc" "$CGM" rm -r sc
# A directory A made directly, with a name cgm refuses, holding A's process: a recursive Remove
# refuses before it removes anything; with kill it removes all.
check "A creates rmt/sub through cgm" bash -c "$(declare -f as_uid A); UID_A=$UID_A CGM='$CGM'; A create rmt && A create rmt/sub"
check "A makes \`x y\` in rmt directly" as_uid "$UID_A" mkdir "$V2/user-A/rmt/x y"
spawn_as_in XY "$UID_A" user-A/session-1 sleep 600
check "A's new process is in its session" wait_until in_cgroup "$XY" user-A/session-1
check "A moves it into \`x y\` directly" A_write "$V2/user-A/rmt/x y/cgroup.procs" "$XY"
before=$(snapshot)
expect_exit "rm -r rmt is refused (Busy), naming \`x y\` and its process" 6 \
	"/user-A/rmt/x y. \(made outside cgm.*process $XY" A rm -r rmt
check "the refused rm -r removed nothing" test "$(snapshot)" = "$before"
check "rmt/sub is still there" test -d "$V2/user-A/rmt/sub"
check "rm -r -k rmt kills and removes all, \`x y\` included" A rm -r -k rmt
check "the process in \`x y\` is gone" wait_until bash -c "! kill -0 $XY 2>/dev/null || grep -q '^State:.*Z' /proc/$XY/status"
check "rmt is gone" test ! -e "$V2/user-A/rmt"
# A Remove whose last rmdir is refused puts back what it removed: owners, limits, the
# controllers enabled for children, and the home mark (tests/fault's shim refuses the rmdir).
if [ -n "${FAULTSHIM:-}" ] && [ -f "$FAULTSHIM" ] && [ "${CGM_TEST_VALGRIND:-0}" != 1 ] &&
	grep -q CGMD_WRAPPER "$(dirname "$0")/lib.sh"; then
	UID_C=61003
	FAULTS=$TEST_TMP/faults FAULT_LOG=$TEST_TMP/fault.log
	: >"$FAULTS"
	# A sanitizer build of cgmd needs its runtime first in the preload list; the running
	# cgmd's maps name it (ldd may be missing, as in the VM tier).
	ASAN_RT=$(grep -oE '/[^ ]*lib(asan|ubsan)\.so[^ ]*' "/proc/$DAEMON_PID/maps" 2>/dev/null | sort -u | paste -sd: -)
	fault_wrap() { LD_PRELOAD="${ASAN_RT:+$ASAN_RT:}$FAULTSHIM" CGM_FAULT_FILE="$FAULTS" CGM_FAULT_LOG="$FAULT_LOG" exec "$@"; }
	stop_daemon >/dev/null 2>&1 || true
	CGMD_WRAPPER=fault_wrap start_daemon || not_ok "cgmd restarts under the fault shim"
	check "root makes grp/homeC (memory.max=64M pids.max=33), delegated to uid C" \
		bash -c "'$CGM' create grp && '$CGM' create grp/homeC memory.max=64M pids.max=33 && '$CGM' chown grp/homeC $UID_C"
	check "C creates job in its home" as_uid "$UID_C" "$CGM" create job pids.max=9
	sc_before=$(cat "$V2/grp/homeC/cgroup.subtree_control")
	echo "rmdir:$BASE_NAME/grp:EBUSY:nth=1" >"$FAULTS.new" && mv "$FAULTS.new" "$FAULTS"
	expect_exit "rm -r grp fails (Busy) when its last rmdir is refused, and says it put things back" 6 \
		"put back" "$CGM" rm -r grp
	check "the refusal was the injected one" grep -q "/grp EBUSY" "$FAULT_LOG"
	: >"$FAULTS.new" && mv "$FAULTS.new" "$FAULTS"
	check "grp/homeC/job exists again" test -d "$V2/grp/homeC/job"
	check "homeC has its limits again" test "$(cat "$V2/grp/homeC/memory.max" "$V2/grp/homeC/pids.max" | tr '\n' ' ')" = "67108864 33 "
	check "homeC enables the same controllers for its children ([$sc_before])" test "$(cat "$V2/grp/homeC/cgroup.subtree_control")" = "$sc_before"
	check "job has its pids.max=9 again" test "$(cat "$V2/grp/homeC/job/pids.max")" = 9
	check "homeC and its cgroup.procs are C's, its memory.max root's" \
		test "$(stat -c %u "$V2/grp/homeC")-$(stat -c %u "$V2/grp/homeC/cgroup.procs")-$(stat -c %u "$V2/grp/homeC/memory.max")" = "$UID_C-$UID_C-0"
	check "job and its files are C's" test "$(stat -c %u "$V2/grp/homeC/job")-$(stat -c %u "$V2/grp/homeC/job/pids.max")" = "$UID_C-$UID_C"
	stop_daemon >/dev/null 2>&1 || true
	start_daemon || not_ok "cgmd restarts"
	check "after a restart C's home is found again: its mark was put back" \
		bash -c "$(declare -f as_uid); as_uid $UID_C '$CGM' whoami | grep -qx 'home: $API_BASE/grp/homeC'"
	check "rm -r grp succeeds without the fault" "$CGM" rm -r grp
	check "grp is gone" test ! -e "$V2/grp"
else
	ok "a Remove that fails half way is rolled back # SKIP needs tests/fault's shim (FAULTSHIM) and no valgrind"
fi

check "root removes everything below the base" bash -c "'$CGM' rm -r -k user-A && '$CGM' rm outside"
finish
