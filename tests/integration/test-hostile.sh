#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The adversarial suite: every method with every kind of hostile input from every kind of
# caller, and after each hostile call the proof that nothing happened: cgmd is alive and
# answers Ping, no directory appeared or vanished in any hierarchy, no limit changed, the
# victims' processes are where they were and running, cgmd's fd count and RSS are bounded.
#
# Callers: N (a uid with no home), A and B (two home owners), root. Inputs: paths (.., other
# homes, outside the base, empty, /, long, deep, escapes, control-file names), keys (unknown,
# control files, traversal, long, non-ASCII), values (huge, negative, newline-injected, units),
# pidfds (not a pidfd, another user's, root's, pid 1, cgmd, a zombie, a thread, a dead one, one
# whose pid was reused), UTF-8 cut at every quoting boundary, invalid UTF-8 and NULs on the
# wire, cgroup names that are not UTF-8 made by a user in its v2 home, pipelined floods, and a
# connection whose opener has exited. Most calls go through tests/integration/hostile.c, which
# says what cgm and libdbus would refuse to send, and checks the invariants itself (`batch`).
#
# Not here: the pid-reuse races inside one Move or Kill (only their deterministic parts: dead,
# zombie and reused pidfds, and Kill sparing processes the caller may not signal); a timed-out
# OpenSession acting later (test-sessions.sh and the PAM helper's business); CloseSession of
# another user's session (root-only, so only malformed ids are tried here).
#
# Environment: HOSTILE (the helper; default next to FORKER). In the test VM (tests/vm, where a
# case costs ~10x what it costs on the host and the test has 90 s) and in a sanitizer build (where
# the helper's fork per case costs ~20 ms) the big case lists are thinned to every Nth case (N per
# list, see `section`; CGM_TEST_HOSTILE_STRIDE=N forces one N everywhere, 1 runs them all); in the
# VM and under CGM_TEST_VALGRIND=1 the flood is shorter.
. "$(dirname "$0")/lib.sh"
require_root
: "${FORKER:?set FORKER to the forker helper}"
HOSTILE=${HOSTILE:-$(dirname "$FORKER")/hostile}
# The helper's children exit with buffers allocated; in a sanitizer build LeakSanitizer's
# report would land in the output parsed here (run-all.sh sets detect_leaks=1 for cgmd's sake).
HOSTILE_CMD=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$HOSTILE")
UID_N=61003 # no home
UID_F=61004 # the flooder, so its request budget is its own
UID_X=61005 # a uid nobody has

VM=0 SLOW=0 THIN=0
grep -qw 'cgroup_no_v1=all' /proc/cmdline 2>/dev/null && VM=1 SLOW=1 THIN=1 # the VM tier boots with it
[ "${CGM_TEST_VALGRIND:-0}" = 1 ] && SLOW=1
STRIDE=1
FLOOD_SECS=3 FLOOD_GRACE=5 PING_SECS=5 RSS_SLACK_KIB=$((56 * 1024))
# Slow (valgrind, the VM): a shorter flood, and more time for cgmd to close the flooders; under
# valgrind on a busy 2-core machine the last one was seen closed up to 5.4 s after the start.
[ $SLOW = 1 ] && FLOOD_SECS=2 FLOOD_GRACE=10 PING_SECS=15
[ "${CGM_TEST_VALGRIND:-0}" = 1 ] && RSS_SLACK_KIB=$((160 * 1024)) # valgrind's shadow memory
# ASan keeps freed memory in a quarantine of up to 256 MiB: the RSS of a sanitized cgmd says
# nothing about its queues (the plain build checks those).
ldd "$CGMD" 2>/dev/null | grep -q libasan && RSS_SLACK_KIB=$((512 * 1024))

[ -x "$HOSTILE" ] || { not_ok "the helper $HOSTILE is built"; finish; exit 1; }
"${HOSTILE_CMD[@]}" sanitized && THIN=1
start_daemon || { not_ok "cgmd starts"; finish; exit 1; }
ok "cgmd starts with base self:$BASE_NAME"
API=$("$CGM" whoami | sed -n 's/^home: //p')
V2=$(v2_base)
A() { as_uid "$UID_A" "$CGM" "$@"; }
B() { as_uid "$UID_B" "$CGM" "$@"; }
N() { as_uid "$UID_N" "$CGM" "$@"; }
# section NAME [N]: a diagnostic line with the time so far (the suite must stay well under a
# minute), and the stride of the case lists that follow: N when thinned (see the top), else 1.
section() {
	STRIDE=1
	[ $THIN = 1 ] && STRIDE=${2:-1}
	STRIDE=${CGM_TEST_HOSTILE_STRIDE:-$STRIDE}
	local how=""
	[ "$STRIDE" = 1 ] || how=", every ${STRIDE}th case"
	diag "--- $1 (at ${SECONDS}s$how)"
}
# rep N STR: STR N times, by doubling (bash loops and pattern substitutions over long strings
# cost seconds in the emulated VM).
rep() { local out="" s=$2 n=$1; while ((n > 0)); do ((n & 1)) && out+=$s; s+=$s; n=$((n >> 1)); done; printf '%s' "$out"; }
# diagl LINE...: diagnostics that may span lines, each line marked.
diagl() { printf '%s\n' "$@" | sed 's/^/# /'; }
pstate() { awk '{ sub(/^.*\) /, ""); print substr($0, 1, 1) }' "/proc/$1/stat" 2>/dev/null; }
# is_uid_in PID UID REL: the process runs as UID (spawn_as_in has exec'd) and is in REL.
is_uid_in() { grep -Eq "^Uid:\s+$2\s" "/proc/$1/status" 2>/dev/null && in_cg "$1" "$3"; }
# in_cg PID REL: the process is in REL below the base in the primary hierarchy.
in_cg() { grep -q "^0::$API/$2\$" "/proc/$1/cgroup" 2>/dev/null || { [ -z "$V2" ] && grep -q ":$API/$2\$" "/proc/$1/cgroup"; }; }

# --- the world: two homes with limits, a root cgroup, a victim process in each ---------------
check "root creates user-A with limits" "$CGM" create user-A pids.max=300 memory.max=512M
check "root creates user-B with limits" "$CGM" create user-B pids.max=300 memory.max=512M
check "root delegates user-A to A" "$CGM" chown user-A "$UID_A"
check "root delegates user-B to B" "$CGM" chown user-B "$UID_B"
check "root creates the session leaves" bash -c "'$CGM' create user-A/s1 && '$CGM' create user-B/s1 && '$CGM' create victims"
check "A creates kw, its own child for the key and value cases" A create kw
spawn_as_in A_SH "$UID_A" user-A/s1 sleep 600
spawn_as_in B_SH "$UID_B" user-B/s1 sleep 600
spawn_as_in R_SH 0 victims sleep 600
check "the victims are in place" wait_until bash -c "$(declare -f in_cg); API='$API' V2='$V2'; in_cg $A_SH user-A/s1 && in_cg $B_SH user-B/s1 && in_cg $R_SH victims"

B_ARGS=()
for d in $(base_dirs); do B_ARGS+=(-B "$d"); done
W_ARGS=(-w "$A_SH" -w "$B_SH" -w "$R_SH")
fd_count() { local f=(/proc/"$DAEMON_PID"/fd/*); echo ${#f[@]}; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status" 2>/dev/null || echo 0; }
state_ref() {
	"${HOSTILE_CMD[@]}" snapshot "${B_ARGS[@]}" "${W_ARGS[@]}" >"$TEST_TMP/state.ref"
	FD0=$(fd_count) RSS0=$(rss_kib)
}
# revive: after cgmd died (a test point has failed already), start it again so the rest of the
# suite still says something.
revive() {
	diagl "cgmd died (log below); starting it again for the rest of the suite" "$(tail -n 8 "$TEST_TMP/cgmd.log")"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=""
	start_daemon || { not_ok "cgmd restarts"; finish; exit 1; }
	state_ref
}
# state_ok DESC: one test point for the invariants after a hostile call.
state_ok() {
	local desc=$1 why=() fds rss
	if ! kill -0 "$DAEMON_PID" 2>/dev/null || [ "$(pstate "$DAEMON_PID")" = Z ]; then
		not_ok "state unchanged after: $desc"; diag "cgmd is gone"; revive; return
	fi
	timeout 10 "$CGM" ping >/dev/null 2>&1 || why+=("cgmd does not answer Ping within 10 s")
	fds=$(fd_count) rss=$(rss_kib)
	[ "$fds" -le $((FD0 + 16)) ] || why+=("cgmd holds $fds fds ($FD0 before)")
	[ "$rss" -le $((RSS0 + RSS_SLACK_KIB)) ] || why+=("cgmd's RSS is $rss KiB ($RSS0 KiB before)")
	"${HOSTILE_CMD[@]}" snapshot "${B_ARGS[@]}" "${W_ARGS[@]}" >"$TEST_TMP/state.now"
	if ! cmp -s "$TEST_TMP/state.ref" "$TEST_TMP/state.now"; then
		why+=("the trees or the victims changed (was, now):" "$(LC_ALL=C comm -3 "$TEST_TMP/state.ref" "$TEST_TMP/state.now" | head -n 8)")
		cp "$TEST_TMP/state.now" "$TEST_TMP/state.ref" # later points compare with the new state
	fi
	if [ ${#why[@]} = 0 ]; then ok "state unchanged after: $desc"; else not_ok "state unchanged after: $desc"; diagl "${why[@]}"; fi
}
# hostile_cli DESC CODES CALLER ARGS...: cgm as CALLER (A, B, N or root) exits with one of the
# codes (a regex such as 3|5), then the invariants.
hostile_cli() {
	local desc=$1 codes=$2 who=$3; shift 3
	local cmd=("$CGM")
	case $who in A) cmd=(as_uid "$UID_A" "$CGM") ;; B) cmd=(as_uid "$UID_B" "$CGM") ;; N) cmd=(as_uid "$UID_N" "$CGM") ;; esac
	"${cmd[@]}" "$@" >"$TEST_TMP/cli.out" 2>"$TEST_TMP/cli.err"
	local rc=$?
	if [[ $rc =~ ^($codes)$ ]] && ! LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$TEST_TMP/cli.err"; then ok "$who: $desc (exit $rc)"
	else not_ok "$who: $desc"; diagl "exit $rc, want $codes" "stderr: $(head -c 600 "$TEST_TMP/cli.err" | cat -v)"; fi
	state_ok "$who: $desc"
}

# --- the case lists, run by `hostile batch` -----------------------------------------------------
# esc VAR STRING: VAR = STRING as a field of a case line: tabs, newlines and backslashes escaped,
# "-" for the empty string (no subshell: this runs thousands of times).
esc() {
	local s=$2
	case $s in *[\\$'\t\n']*) s=${s//\\/\\\\}; s=${s//$'\t'/\\t}; s=${s//$'\n'/\\n} ;; '') s=- ;; -) s='\x2d' ;; esac
	printf -v "$1" '%s' "$s"
}
CASES=$TEST_TMP/cases
: >"$CASES"
n_cases=0
# add UID EXPECT DESC FLAGS METHOD SIG ARGS...; `KEEP=1 add ...` keeps the case in thinned lists.
add() {
	n_cases=$((n_cases + 1))
	[ "${KEEP:-0}" = 1 ] || [ $(( (n_cases - 1) % STRIDE )) = 0 ] || return 0
	local line f e
	esc e "$3"
	line="$1"$'\t'"$2"$'\t'"$e"$'\t'"$4"$'\t'"$5"$'\t'"${6:--}"
	shift 6
	for f in "$@"; do esc e "$f"; line+=$'\t'"$e"; done
	printf '%s\n' "$line" >>"$CASES"
}
# add_raw: like add, but the arguments go to the helper as they are, so that \xNN escapes
# reach it (for bytes bash cannot hold, NUL, and to keep invalid UTF-8 readable here).
add_raw() {
	n_cases=$((n_cases + 1))
	[ $(( (n_cases - 1) % STRIDE )) = 0 ] || return 0
	local IFS=$'\t' u=$1 e=$2 d f=$4
	esc d "$3"
	shift 4
	printf '%s\n' "$u"$'\t'"$e"$'\t'"$d"$'\t'"$f"$'\t'"$*" >>"$CASES"
}
# run_cases: the list through the helper, as TAP points; a cgmd that dies is started again and
# the list goes on after the case that killed it.
run_cases() {
	local start=0 line restarts=0 dead
	while :; do
		dead=""
		while IFS= read -r line; do
			case $line in
			"ok - "*) ok "${line#ok - }" ;;
			"not ok - "*) not_ok "${line#not ok - }" ;;
			"DEAD "*) dead=${line#DEAD } ;;
			*) echo "$line" ;;
			esac
		done < <("${HOSTILE_CMD[@]}" batch -d "$DAEMON_PID" -R "$RSS_SLACK_KIB" -s "$start" "${B_ARGS[@]}" "${W_ARGS[@]}" <"$CASES")
		[ -n "$dead" ] || break
		restarts=$((restarts + 1))
		[ $restarts -le 100 ] || { not_ok "cgmd died more than 100 times; the rest of the list is skipped"; break; }
		revive
		start=$dead
	done
	: >"$CASES"
}

uid_of() { case $1 in A) U=$UID_A ;; B) U=$UID_B ;; N) U=$UID_N ;; root) U=0 ;; esac; } # sets U
REFUSED='PermissionDenied|InvalidName|InvalidArgs'
# Every method that takes a path, with one hostile path: add_path_cases WHO LABEL PATH [reads]
add_path_cases() {
	local who=$1 label=$2 p=$3 reads=${4:-reads} u
	uid_of "$who"; u=$U
	local e=$REFUSED
	add "$u" "$e" "$who: Create [$label]" - Create 'sa{ss}' "$p" 0
	add "$u" "$e" "$who: Create [$label] pids.max=5" - Create 'sa{ss}' "$p" 1 pids.max 5
	add "$u" "$e" "$who: Remove -r -k [$label]" - Remove su "$p" 3
	add "$u" "$e" "$who: Set [$label] pids.max=1" - Set 'sa{ss}' "$p" 1 pids.max 1
	add "$u" "$e" "$who: Move [$label] itself" fd=self Move sah "$p" 1 0
	add "$u" "$e" "$who: MoveSelf [$label]" - MoveSelf s "$p"
	add "$u" "$e" "$who: Kill -STOP [$label]" - Kill si "$p" 19
	add "$u" "$e" "$who: Kill -KILL [$label]" - Kill si "$p" 9
	add "$u" "$e" "$who: Freeze [$label]" - Freeze s "$p"
	add "$u" "$e" "$who: Thaw [$label]" - Thaw s "$p"
	add "$u" "$e" "$who: Chown [$label] to $UID_X" - Chown su "$p" "$UID_X"
	[ "$reads" = reads ] || return 0
	add "$u" "$e" "$who: Get [$label] pids.max" - Get sas "$p" 1 pids.max
	add "$u" "$e" "$who: Get [$label] (every key)" - Get sas "$p" 0
	add "$u" "$e" "$who: List -r [$label]" - List sb "$p" true
	add "$u" "$e" "$who: Procs -r [$label]" - Procs sb "$p" true
	add "$u" "$e" "$who: Stat [$label]" - Stat s "$p"
}

section "paths" 13 # prime to the 16 (11) methods per path: every method gets sampled
FD65=$(rep 65 fd=file:/dev/null,)
FD64B=$(rep 64 "fd=pid:$B_SH,")
V300=$(rep 300 v)
LONGNAME=$(rep 65 a)
LONGPATH=$(rep 1100 a/)a
HUGEPATH=$(rep 60000 x)
DEEP=$(rep 40 d/)d
# Hostile paths for a home owner (A; B mirrors the foreign ones).
for who in A B; do
	me=user-A other=user-B; [ $who = B ] && me=user-B other=user-A
	add_path_cases $who dotdot '..'
	add_path_cases $who "../$other/s1" "../$other/s1"
	add_path_cases $who "x/../../$other" "x/../../$other"
	add_path_cases $who "abs $other/s1" "$API/$other/s1"
	add_path_cases $who "abs $other" "$API/$other"
	add_path_cases $who "abs victims" "$API/victims"
	add_path_cases $who "abs base" "$API"
	add_path_cases $who / /
	[ $who = B ] && continue
	add_path_cases $who "/sys outside the base" /sys
	add_path_cases $who "empty (the home)" '' writes
	add_path_cases $who "abs own home" "$API/$me" writes
	add_path_cases $who "a//b" 'kw//x'
	add_path_cases $who "./kw" './kw'
	add_path_cases $who "kw/." 'kw/.'
	add_path_cases $who "65-byte name" "$LONGNAME"
	add_path_cases $who "2201-byte path" "$LONGPATH"
	add_path_cases $who "60000-byte path" "$HUGEPATH"
	add_path_cases $who "41 levels" "$DEEP"
	add_path_cases $who "newline" $'kw/x\ny'
	add_path_cases $who "escape sequence" $'kw/\e[31mred'
	add_path_cases $who "space" 'kw/x y'
	add_path_cases $who "non-ASCII" 'kw/é'
	add_path_cases $who cgroup.procs 'kw/cgroup.procs'
	add_path_cases $who memory.max 'kw/memory.max'
	add_path_cases $who tasks 'kw/tasks'
	add_path_cases $who release_agent 'kw/release_agent'
done
# No home: everything but Ping, Version, WhoAmI and ProcCgroup of its own processes is refused.
for p in '' s1 kw "$API/user-A/s1" "$API/victims" '..' /; do add_path_cases N "${p:-empty}" "$p"; done
# Root: malformed paths and paths outside the base.
for lp in "dotdot:.." "/:/" "/sys:/sys" "a//b:user-A//s1" "x/..:user-A/.." "65-byte name:$LONGNAME" \
	"2201-byte path:$LONGPATH" "60000-byte path:$HUGEPATH" "41 levels:$DEEP" $'newline:user-A/x\ny' \
	$'escape:user-A/\e[2J' "non-ASCII:user-A/é" "cgroup.procs:user-A/cgroup.procs" "tasks:user-A/tasks"; do
	add_path_cases root "${lp%%:*}" "${lp#*:}"
done
add 0 'Exists' "root: Create [empty] (the base)" - Create 'sa{ss}' '' 0
add 0 'PermissionDenied|InvalidArgs' "root: Remove [empty] (the base)" - Remove su '' 3
add 0 'InvalidArgs|Busy' "root: Chown [empty] (the base)" - Chown su '' "$UID_X"
run_cases

# --- keys and values (A, on its own child kw; a Create of kw/new must create nothing) ------------
section "keys and values" 7
BADKEYS=(memory.foo foo '' memory. .max cgroup.procs cgroup.threads cgroup.subtree_control cgroup.type
	cgroup.kill cgroup.freeze cgroup.clone_children cgroup.events cgroup.pressure release_agent
	notify_on_release tasks devices.allow devices.deny memory.reclaim memory.pressure memory.events
	cpu.stat cpuset.cpus.partition io.pressure ../pids.max "../../user-B/s1/pids.max" /pids.max
	pids.max/../pids.max $'pids.max\n' ' pids.max' 'pids.max ' PIDS.MAX "$(rep 63 x)" "$(rep 64 x)"
	"$(rep 200 x)" "$(rep 1000 x)" 'memory.mäx' 'pids.maxé' $'pids.max\npids.max')
for k in "${BADKEYS[@]}"; do
	add "$UID_A" 'PermissionDenied|NotSupported|InvalidValue|InvalidArgs' "A: Set kw [key ${k:0:40}]=1" - Set 'sa{ss}' kw 1 "$k" 1
	add "$UID_A" 'PermissionDenied|NotSupported|InvalidValue|InvalidArgs' "A: Create kw/new [key ${k:0:40}]=1" - Create 'sa{ss}' kw/new 1 "$k" 1
	add "$UID_A" 'PermissionDenied|NotSupported|InvalidValue|InvalidArgs' "A: Get kw [key ${k:0:40}]" - Get sas kw 1 "$k"
done
# key=value pairs that must be refused, on any layout
BADSETS=("pids.max=-1" "pids.max=-5" "pids.max=99999999999999999999" "pids.max=4194305" $'pids.max=1\nmemory.max=1'
	$'pids.max=1\n2' "pids.max= 1" "pids.max=1 " "pids.max=" "pids.max=0x10" "pids.max=1e3" $'pids.max=max\n'
	"pids.max=１" "pids.max=$(rep 255 9)" "pids.max=$(rep 256 9)" "pids.max=$(rep 1000 9)" "pids.max=1;2"
	'pids.max=$(id)' "pids.max=é" "pids.max=1é" "pids.max=+5"
	"memory.max=-1" "memory.max=1.5.5G" "memory.max=G" "memory.max=1GG" "memory.max=1 G"
	"memory.max=99999999999P" "memory.max=9223372036854775808" "memory.max=1e9" "memory.max=0x100"
	$'memory.max=1G\n' "memory.max=1Gé" "memory.max=1Q"
	"cpu.max=0%" "cpu.max=0" "cpu.max=99999999999999%" "cpu.max=max 0" "cpu.max=1 1" "cpu.max=max 1000001"
	$'cpu.max=50%\n' "cpu.max=50%%" "cpu.max=-50%" "cpu.max=1000 100000 5"
	"cpu.weight=0" "cpu.weight=10001" "cpu.weight=-1" "cpu.weight="
	"io.max=8:0 rbps=1" $'io.max=8:0 rbps=2\n8:0 wbps=2' "io.max=8:0  rbps=2" "io.max=8:0 foo=2" "io.max=x:y rbps=2" "io.max=8:0"
	"io.weight=0" "io.weight=10001"
	"cpuset.cpus=0-" "cpuset.cpus=4294967295" "cpuset.cpus=1-0" "cpuset.cpus=0,,1" "cpuset.cpus=0 1" "cpuset.cpus=-1"
	"hugetlb.3MB.max=1" "hugetlb.2MB.max=-1"
	"cgroup.max.depth=-1" "cgroup.max.descendants=2147483648")
for kv in "${BADSETS[@]}"; do
	k=${kv%%=*} v=${kv#*=}
	d="$k=${v:0:40}"
	add "$UID_A" 'InvalidValue|InvalidArgs|NotSupported|PermissionDenied' "A: Set kw [$d]" - Set 'sa{ss}' kw 1 "$k" "$v"
	add "$UID_A" 'InvalidValue|InvalidArgs|NotSupported|PermissionDenied' "A: Create kw/new [$d]" - Create 'sa{ss}' kw/new 1 "$k" "$v"
	add 0 'InvalidValue|InvalidArgs|NotSupported|PermissionDenied' "root: Set user-A [$d]" - Set 'sa{ss}' user-A 1 "$k" "$v"
done
many=(); for i in {1..33}; do many+=("k$i" 1); done
add "$UID_A" InvalidArgs "A: Set kw with 33 settings" - Set 'sa{ss}' kw 33 "${many[@]}"
add "$UID_A" InvalidArgs "A: Set kw with pids.max twice (1, then max)" - Set 'sa{ss}' kw 2 pids.max 1 pids.max max
add "$UID_A" InvalidArgs "A: Create kw/new with pids.max twice" - Create 'sa{ss}' kw/new 2 pids.max 1 pids.max 2
add "$UID_A" 'InvalidArgs|NotSupported' "A: Get kw with 33 keys" - Get sas kw 33 {1..33}
# A valid setting next to a bad one: all or nothing.
add "$UID_A" 'InvalidValue|NotSupported' "A: Set kw pids.max=7 and a bad memory.max (nothing written)" - Set 'sa{ss}' kw 2 pids.max 7 memory.max -1
add "$UID_A" 'InvalidValue|NotSupported' "A: Create kw/new pids.max=7 and a bad cpu.max (nothing made)" - Create 'sa{ss}' kw/new 2 pids.max 7 cpu.max 0%
run_cases

# --- pidfds, signals, flags, signatures, unknown methods ----------------------------------------
section "pidfds, signals, flags, signatures, unknown methods" 3
for who in A N root; do
	uid_of $who; u=$U kw=kw e=InvalidArgs
	[ $who = root ] && kw=user-A/kw
	[ $who = N ] && e='InvalidArgs|PermissionDenied' # a caller without a home may be refused first
	for spec in file:/dev/null procdir:1 socket; do
		add "$u" "$e" "$who: Move kw [$spec, not a pidfd]" fd=$spec Move sah $kw 1 0
		add "$u" InvalidArgs "$who: ProcCgroup [$spec, not a pidfd]" fd=$spec ProcCgroup h 0
	done
	KEEP=1 add "$u" "NoProcess${e#InvalidArgs}" "$who: Move kw [a dead process]" fd=dead Move sah $kw 1 0
	KEEP=1 add "$u" 'NoProcess' "$who: ProcCgroup [a dead process]" fd=dead ProcCgroup h 0
	add "$u" "$e" "$who: Move kw [no pidfd]" - Move sah $kw 0
	add "$u" drop "$who: Move kw [65 pidfds] (libdbus drops the connection)" \
		"$FD65" Move sah $kw 65 {0..64}
	for sig in 0 -1 65 2147483647 -2147483648; do
		add "$u" "$e" "$who: Kill kw signal $sig" - Kill si $kw $sig
	done
	add "$u" "$e" "$who: Remove kw flags 4" - Remove su $kw 4
	add "$u" "$e" "$who: Remove kw flags 0xffffffff" - Remove su $kw 4294967295
	add "$u" InvalidArgs "$who: Create with signature (s)" - Create s kw
	add "$u" InvalidArgs "$who: Kill with signature (ss)" - Kill ss kw 9
	add "$u" InvalidArgs "$who: Move with signature (su)" - Move su kw 1
	add "$u" InvalidArgs "$who: Set with signature (sas)" - Set sas kw 1 pids.max
	add "$u" InvalidArgs "$who: Ping with an argument" - Ping s x
	add "$u" 'org.freedesktop.DBus.Error.UnknownMethod' "$who: an unknown method" - Frobnicate s x
	add "$u" 'org.freedesktop.DBus.Error.UnknownMethod|org.freedesktop.DBus.Error.UnknownInterface' "$who: Ping on an unknown interface" iface=org.evil.Manager1 Ping -
	add "$u" 'org.freedesktop.DBus.Error.UnknownMethod|org.freedesktop.DBus.Error.UnknownObject' "$who: Ping on an unknown object" path=/org/cgm/Other Ping -
	add "$u" okerr "$who: Introspect" iface=org.freedesktop.DBus.Introspectable Introspect -
	add "$u" okerr "$who: Properties.Get" iface=org.freedesktop.DBus.Properties Get ss org.cgm.Manager1 x
	add "$u" okerr "$who: Properties.Set" iface=org.freedesktop.DBus.Properties Set ssv org.cgm.Manager1 x s y
	add "$u" okerr "$who: AddMatch with a 60000-byte rule" iface=org.freedesktop.DBus AddMatch s "type='signal',arg0='$HUGEPATH'"
	add "$u" okerr "$who: RequestName" iface=org.freedesktop.DBus RequestName su org.cgm 0
done
for who in A N; do
	uid_of $who; u=$U
	for t in "B's process:pid:$B_SH" "root's process:pid:$R_SH" "pid 1:pid:1" "cgmd itself:pid:$DAEMON_PID"; do
		add "$u" PermissionDenied "$who: Move kw [${t%%:*}]" "fd=${t#*:}" Move sah kw 1 0
		add "$u" PermissionDenied "$who: ProcCgroup [${t%%:*}]" "fd=${t#*:}" ProcCgroup h 0
	done
	add "$u" 'PermissionDenied|NoProcess' "$who: Move kw [its zombie, outside its home]" fd=zombie Move sah kw 1 0
	add "$u" PermissionDenied "$who: Move kw [itself, outside its home]" fd=self Move sah kw 1 0
	add "$u" PermissionDenied "$who: Move kw [a thread of its own, outside its home]" fd=thread Move sah kw 1 0
	add "$u" PermissionDenied "$who: Move kw [64 pidfds of B's process]" "$FD64B" Move sah kw 64 {0..63}
	add "$u" ok "$who: ProcCgroup [itself]" fd=self ProcCgroup h 0
	add "$u" okerr "$who: ProcCgroup [a thread of its own]" fd=thread ProcCgroup h 0
	add "$u" okerr "$who: ProcCgroup [its zombie]" fd=zombie ProcCgroup h 0
	for m in "OpenSession:sa{ss}:nobody:0" "CloseSession:s:c1" "Sessions:" "Users:" "ExplainPolicy:s:root" "Reload:"; do
		IFS=: read -r meth sig a1 a2 <<<"$m"
		args=(); [ -n "$a1" ] && args+=("$a1"); [ -n "$a2" ] && args+=("$a2")
		add "$u" PermissionDenied "$who: $meth (not for it)" - "$meth" "${sig:--}" "${args[@]}"
	done
done
# Root: pidfds that must never move or name anything.
KEEP=1 add 0 'NoProcess' "root: Move kw [a dead pidfd whose pid a new root process took]" fd=reused Move sah user-A/kw 1 0
KEEP=1 add 0 'NoProcess' "root: ProcCgroup [a dead pidfd whose pid a new root process took]" fd=reused ProcCgroup h 0
KEEP=1 add 0 'NoProcess' "root: Move kw [its zombie]" fd=zombie Move sah user-A/kw 1 0
# Root-only methods with hostile arguments.
for user in '' a/b a:b $'a\nb' "$(rep 256 a)" no-such-user-cgm-test "é" "$(rep 100 é)" '..' '-' '+' 'root:x'; do
	add 0 'InvalidArgs|NotFound' "root: OpenSession user ${user:0:30}" - OpenSession 'sa{ss}' "$user" 0
	add 0 'InvalidArgs|NotFound' "root: ExplainPolicy user ${user:0:30}" - ExplainPolicy s "$user"
done
add 0 'InvalidArgs|NotFound' "root: OpenSession with a 256-byte info value" - OpenSession 'sa{ss}' no-such-user-cgm-test 1 service "$(rep 256 s)"
add 0 'InvalidArgs|NotFound' "root: OpenSession with a 300-byte info key" - OpenSession 'sa{ss}' no-such-user-cgm-test 1 "$(rep 300 k)" x
add 0 'InvalidArgs|NotFound' "root: OpenSession with xdg_session_id ../x" - OpenSession 'sa{ss}' no-such-user-cgm-test 1 xdg_session_id ../x
for id in '' ../x "$(rep 65 a)" $'\n' nosuch c1 'session-1/../..' "é"; do
	add 0 'InvalidArgs|NotFound' "root: CloseSession ${id:0:30}" - CloseSession s "$id"
done
add 0 InvalidArgs "root: Chown kw to uid 0" - Chown su user-A/kw 0
add 0 InvalidArgs "root: Chown kw to uid 4294967295" - Chown su user-A/kw 4294967295
add 0 'Exists|Busy' "root: Chown user-A to B (B has a home)" - Chown su user-A "$UID_B"
add 0 'Busy|Exists' "root: Chown user-A/s1 to another uid (inside A's home)" - Chown su user-A/s1 "$UID_X"
add 0 NotFound "root: Chown a cgroup that does not exist" - Chown su user-A/no-such "$UID_X"
add 0 ok "root: Reload (no policy file: nothing to write)" - Reload -
run_cases

# --- UTF-8 cut at every quoting boundary ------------------------------------------------------------
section "UTF-8 cut at every quoting boundary" 11
# Strings of 2-byte characters, with and without one ASCII byte in front: any field a message
# quotes with a byte limit (%.40s, %.64s, ...) gets cut inside a character in one of the two.
# libdbus aborts the daemon when an error text is not UTF-8, so each case checks it is alive.
for n in 20 32 40 64 100 128 130 260 1100; do
	for pre in '' a; do
		s=$pre$(rep $n é) l="${#pre}+2x$n bytes"
		KEEP=1 add "$UID_A" 'InvalidValue|NotSupported|PermissionDenied|InvalidArgs' "A: Set kw with a key of $l" - Set 'sa{ss}' kw 1 "$s" 1
		KEEP=1 add "$UID_N" 'InvalidValue|NotSupported|PermissionDenied|InvalidArgs' "N: Set x with a key of $l" - Set 'sa{ss}' x 1 "$s" 1
		add "$UID_N" 'InvalidValue|NotSupported|PermissionDenied|InvalidArgs' "N: Create x with a key of $l" - Create 'sa{ss}' x 1 "$s" 1
		add "$UID_A" 'InvalidValue|NotSupported|InvalidArgs' "A: Set kw pids.max to $l" - Set 'sa{ss}' kw 1 pids.max "$s"
		add "$UID_A" 'InvalidValue|NotSupported|InvalidArgs' "A: Set kw memory.max to 1 and $l of unit" - Set 'sa{ss}' kw 1 memory.max "1$s"
		add "$UID_A" 'InvalidValue|NotSupported|InvalidArgs' "A: Set kw cpu.max to $l and %" - Set 'sa{ss}' kw 1 cpu.max "$s%"
		add "$UID_A" 'InvalidValue|NotSupported|InvalidArgs' "A: Set kw io.max to 8:0 rbps= $l" - Set 'sa{ss}' kw 1 io.max "8:0 rbps=$s"
		add "$UID_A" 'NotSupported|PermissionDenied|InvalidValue|InvalidArgs' "A: Get kw with a key of $l" - Get sas kw 1 "$s"
		add "$UID_A" "$REFUSED" "A: Create a name of $l" - Create 'sa{ss}' "$s" 0
		add "$UID_A" "$REFUSED" "A: Create kw/ and a name of $l" - Create 'sa{ss}' "kw/$s" 0
		add "$UID_A" "$REFUSED" "A: Set B's tree with a name of $l" - Set 'sa{ss}' "$API/user-B/$s" 1 pids.max 1
		add "$UID_A" "$REFUSED" "A: Kill a name of $l" - Kill si "$s" 9
		add "$UID_A" "$REFUSED" "A: Move itself to a name of $l" fd=self Move sah "$s" 1 0
		add "$UID_N" "$REFUSED" "N: List a name of $l" - List sb "$s" false
		add 0 "$REFUSED|NotFound" "root: Chown a name of $l" - Chown su "$s" "$UID_X"
		add 0 'InvalidArgs|NotFound' "root: OpenSession user of $l" - OpenSession 'sa{ss}' "$s" 0
		add 0 'InvalidArgs|NotFound' "root: OpenSession info key of $l with a 300-byte value" - OpenSession 'sa{ss}' no-such-user-cgm-test 1 "$s" "$V300"
		add 0 'InvalidArgs|NotFound' "root: OpenSession xdg_session_id of $l" - OpenSession 'sa{ss}' no-such-user-cgm-test 1 xdg_session_id "$s"
		add 0 'InvalidArgs|NotFound' "root: CloseSession $l" - CloseSession s "$s"
		add 0 'InvalidArgs|NotFound' "root: ExplainPolicy $l" - ExplainPolicy s "$s"
	done
done
run_cases

# --- invalid UTF-8 and NULs on the wire: libdbus in cgmd drops the connection ---------------------------
section "invalid UTF-8 and NULs on the wire" 3
# (hostile.c marshals these with a placeholder and patches the bytes in.)
for bad in '\xff' 'a\xc3' '\xc0\xaf' '\xed\xa0\x80' '\xf4\x90\x80\x80' 'a\x00b' '\x00'; do
	add_raw "$UID_A" drop "A: Set kw with the key $bad" raw Set 'sa{ss}' kw 1 "pids.max$bad" 1
	add_raw "$UID_A" drop "A: Set kw pids.max to $bad" raw Set 'sa{ss}' kw 1 pids.max "1$bad"
	add_raw "$UID_A" drop "A: Create kw/$bad" raw Create 'sa{ss}' "kw/x$bad" 0
	add_raw "$UID_A" drop "A: Kill kw/$bad" raw Kill si "kw/x$bad" 19
	add_raw "$UID_N" drop "N: Get the path $bad" raw Get sas "x$bad" 0
	add_raw "$UID_N" drop "N: Get a key $bad" raw Get sas x 1 "pids.max$bad"
	add_raw 0 drop "root: OpenSession user $bad" raw OpenSession 'sa{ss}' "nobody$bad" 0
	add_raw 0 drop "root: OpenSession info value $bad" raw OpenSession 'sa{ss}' nobody 1 service "x$bad"
	add_raw 0 drop "root: CloseSession $bad" raw CloseSession s "c1$bad"
	add_raw 0 drop "root: ExplainPolicy $bad" raw ExplainPolicy s "root$bad"
done
run_cases

# --- finding 1, as reported: an over-long key with é across byte 40, from a uid with no home -----------
section "finding 1, as reported"
KEY1="$(rep 39 a)é$(rep 30 b)"
state_ref
hostile_cli "cgm set x <72-byte key with é at bytes 40-41>=1 is refused" '3|5' N set x "$KEY1=1"
hostile_cli "cgm set kw <72-byte key with é at bytes 40-41>=1 is refused" '5|8' A set kw "$KEY1=1"
hostile_cli "cgm create kw/new <72-byte key with é at bytes 40-41>=1 is refused" '5|8' A create kw/new "$KEY1=1"

# --- finding 2: cgroup names that are not UTF-8, made by A directly in its v2 home ---------------------
section "finding 2"
if [ -n "$V2" ] && [ "$(stat -c %u "$V2/user-A")" = "$UID_A" ]; then
	check "A creates nu (every hierarchy)" A create nu
	check "A creates kw2, a destination" A create kw2
	BADNAMES=($'\xff' $'a\xc3' $'\xc0\xaf' $'\xed\xa0\x80' "$(rep 120 é)" "a$(rep 120 é)" $'\e[31mred' $'tab\there' 'x y')
	made=0
	for nm in "${BADNAMES[@]}"; do as_uid "$UID_A" mkdir "$V2/user-A/nu/$nm" && made=$((made + 1)); done
	as_uid "$UID_A" mkdir "$V2/user-A/nu/"$'\xff'"/deeper" && made=$((made + 1))
	check "A made ${#BADNAMES[@]}+1 odd directories below nu with mkdir ($made)" test "$made" = $((${#BADNAMES[@]} + 1))
	# Symlinks would be the other way to plant a path; cgroupfs refuses them (cgfs.c relies on it).
	expect_exit "A cannot make a symlink in its cgroup2 home" 1 "" as_uid "$UID_A" ln -s / "$V2/user-A/nu/link"
	BADDIR=$V2/user-A/nu/$'\xff'/deeper
	spawn_as_in BAD_SH "$UID_A" user-A/s1 sleep 600
	wait_until is_uid_in "$BAD_SH" "$UID_A" user-A/s1
	check "A moves its process into nu/\\xff/deeper itself" as_uid "$UID_A" bash -c 'echo "$1" >"$2/cgroup.procs"' _ "$BAD_SH" "$BADDIR"
	W_ARGS+=(-w "$BAD_SH")
	state_ref
	# WhoAmI from a process in that cgroup.
	run_in "$UID_A" user-A/s1 bash -c 'echo $$ >"$1/cgroup.procs" && exec "$2" whoami' _ "$BADDIR" "$CGM" >"$TEST_TMP/who.out" 2>&1
	rc=$?
	check "A: WhoAmI from a cgroup whose path is not UTF-8 answers (exit $rc)" test "$rc" = 0
	cat -v "$TEST_TMP/who.out" | head -n 4 | sed "s/^/# /"
	state_ok "A: WhoAmI from nu/\\xff/deeper"
	hostile_cli "ProcCgroup of a process in nu/\\xff/deeper (its owner)" 0 A cgroup "$BAD_SH"
	hostile_cli "ProcCgroup of a process in nu/\\xff/deeper" 0 root cgroup "$BAD_SH"
	hostile_cli "ProcCgroup of A's process in nu/\\xff/deeper (not B's)" 3 B cgroup "$BAD_SH"
	hostile_cli "ProcCgroup of A's process in nu/\\xff/deeper (no home)" 3 N cgroup "$BAD_SH"
	hostile_cli "Move of A's process from nu/\\xff/deeper (not B's)" 3 B move "$API/user-B/s1" "$BAD_SH"
	hostile_cli "Move of A's process from nu/\\xff/deeper (no home)" 3 N move "$API/user-A/kw2" "$BAD_SH"
	readers=("ls nu" "ls -r nu" "ls -r" "tree nu" "tree" "procs nu" "procs -r nu" "procs -r" "get nu" "stat nu" "whoami")
	[ $VM = 1 ] && readers=("ls -r" "tree nu" "procs -r nu" "stat nu")
	for cmd in "${readers[@]}"; do
		# shellcheck disable=SC2086
		hostile_cli "$cmd with odd names below nu" 0 A $cmd
		# shellcheck disable=SC2086
		[ $VM = 1 ] || hostile_cli "$cmd with odd names below user-A/nu" 0 root ${cmd/nu/user-A\/nu}
	done
	check "A freezes nu with odd names below" A freeze nu
	check "A thaws nu with odd names below" A thaw nu
	state_ok "A: freeze and thaw nu with odd names below"
	hostile_cli "kill -s CONT nu with odd names below" 0 A kill -s CONT nu
	hostile_cli "rm nu (it has children)" 6 A rm nu
	hostile_cli "rm -r nu (odd children hold a process): refused, nu intact everywhere" 6 A rm -r nu
	hostile_cli "rm -r user-A/nu: refused, nu intact everywhere" 6 root rm -r user-A/nu
	# The wire: the odd names themselves cannot be sent (not UTF-8) and their UTF-8 look-alikes are
	# refused as names.
	add_raw "$UID_A" drop "A: List nu/\\xff (not UTF-8 on the wire)" raw List sb 'nu/\xff' false
	add "$UID_A" "$REFUSED" "A: List nu/ÿ (the UTF-8 look-alike)" - List sb 'nu/ÿ' false
	add "$UID_A" "$REFUSED" "A: Kill nu/x y" - Kill si 'nu/x y' 19
	add "$UID_A" "$REFUSED" "A: Remove -r nu/x y" - Remove su 'nu/x y' 1
	run_cases
	# Last, a move out of the odd cgroup by its owner: either done, or refused with a message.
	A move kw2 "$BAD_SH" >"$TEST_TMP/call.out" 2>"$TEST_TMP/call.err"
	rc=$?
	if [ $rc = 0 ]; then check "A moves its process out of nu/\\xff/deeper into kw2" in_cg "$BAD_SH" user-A/kw2
	else check "A's move out of nu/\\xff/deeper is refused with a permission error (exit $rc)" test "$rc" = 3; fi
	kill -0 "$DAEMON_PID" 2>/dev/null && ok "cgmd survives a Move from nu/\\xff/deeper" || { not_ok "cgmd survives a Move from nu/\\xff/deeper"; revive; }
	kill -KILL "$BAD_SH" 2>/dev/null; wait "$BAD_SH" 2>/dev/null
	unset 'W_ARGS[-1]'; unset 'W_ARGS[-1]'
else
	ok "# SKIP no cgroup2 home owned by A here: no odd names to make"
fi

# --- finding 9: a refused Remove -r is all or nothing -----------------------------------------------
section "finding 9"
check "A creates rmt and rmt/ok" bash -c "$(declare -f as_uid A); UID_A=$UID_A CGM='$CGM'; A create rmt && A create rmt/ok"
if [ -n "$V2" ] && as_uid "$UID_A" mkdir "$V2/user-A/rmt/x y"; then
	A rm -r rmt >"$TEST_TMP/call.out" 2>"$TEST_TMP/call.err"
	rc=$?
	missing=""
	for d in $(base_dirs); do for c in rmt rmt/ok; do [ -d "$d/user-A/$c" ] || missing+=" $d/user-A/$c"; done; done
	if [ $rc = 0 ]; then
		check "A's Remove -r rmt (with a directory named 'x y') removed all of it" test ! -d "$V2/user-A/rmt"
		left=""; for d in $(base_dirs); do [ -d "$d/user-A/rmt" ] && left+=" $d"; done
		check "rmt is gone from every hierarchy" test -z "$left"
	else
		check "A's Remove -r rmt (with 'x y' inside) is refused as Busy (exit $rc)" test "$rc" = 6
		check "after the refused Remove, rmt and rmt/ok exist in every hierarchy" test -z "$missing"
		[ -n "$missing" ] && diag "missing:$missing" "stderr: $(cat "$TEST_TMP/call.err")"
		expect_exit "after the refused Remove, Create rmt says it exists" 9 "exists" A create rmt
		spawn_as_in M_SH "$UID_A" user-A/s1 sleep 600
		wait_until is_uid_in "$M_SH" "$UID_A" user-A/s1
		check "after the refused Remove, A moves a process into rmt/ok" A move rmt/ok "$M_SH"
		not_there=""; for d in $(base_dirs); do grep -qx "$M_SH" "$d/user-A/rmt/ok/cgroup.procs" || not_there+=" $d"; done
		check "the process is in rmt/ok in every hierarchy" test -z "$not_there"
		kill -KILL "$M_SH" 2>/dev/null; wait "$M_SH" 2>/dev/null
	fi
	rmdir "$V2/user-A/rmt/x y" 2>/dev/null
else
	ok "# SKIP no cgroup2 home owned by A here"
fi

# --- finding 7: Kill signals only what the caller could signal itself ------------------------------------
section "finding 7"
check "A creates kt" A create kt
spawn_as_in KA "$UID_A" user-A/kt sleep 600
spawn_as_in KB "$UID_B" user-A/kt sleep 600
spawn_as_in KR 0 user-A/kt sleep 600
check "A's, B's and root's processes are in A's kt" wait_until bash -c "$(declare -f in_cg); API='$API' V2='$V2'; in_cg $KA user-A/kt && in_cg $KB user-A/kt && in_cg $KR user-A/kt"
# unsignalled PID SIG: PID lives, is neither stopped nor a zombie, and has no SIG pending. A signal
# is queued when it is sent, so once the caller's own process has reacted this needs no wait.
unsignalled() {
	local st pnd shd
	st=$(pstate "$1")
	[ -n "$st" ] && [ "$st" != T ] && [ "$st" != t ] && [ "$st" != Z ] || return 1
	pnd=$(awk '/^SigPnd:/ { print $2 }' "/proc/$1/status") shd=$(awk '/^ShdPnd:/ { print $2 }' "/proc/$1/status")
	(( ((0x${pnd:-0} | 0x${shd:-0}) >> ($2 - 1)) & 1 )) && return 1
	return 0
}
stopped() { [ "$(pstate "$1")" = T ]; }
A kill -s STOP kt >"$TEST_TMP/call.out" 2>&1
diag "A's kill -s STOP kt: exit $? $(tr "\n" " " <"$TEST_TMP/call.out")"
check "A's own process in kt is stopped" wait_until stopped "$KA"
check "root's process in A's kt got no SIGSTOP from A's kill (state $(pstate "$KR"))" unsignalled "$KR" 19
check "B's process in A's kt got no SIGSTOP from A's kill (state $(pstate "$KB"))" unsignalled "$KB" 19
kill -CONT "$KR" "$KB" "$KA" 2>/dev/null
A kill -s TERM kt >"$TEST_TMP/call.out" 2>&1
diag "A's kill -s TERM kt: exit $? $(tr "\n" " " <"$TEST_TMP/call.out")"
check "A's own process in kt got SIGTERM" wait_until bash -c "! kill -0 $KA 2>/dev/null || grep -q '^State:.*Z' /proc/$KA/status"
check "root's process in A's kt got no SIGTERM from A's kill" unsignalled "$KR" 15
check "B's process in A's kt got no SIGTERM from A's kill" unsignalled "$KB" 15
wait "$KA" 2>/dev/null
check "root kills what is left in kt" "$CGM" kill -s KILL user-A/kt
wait "$KB" "$KR" 2>/dev/null

# --- findings 4/5 and messages: dead and zombie pidfds; Get on a removed cgroup; audit words ------------
section "findings 4/5 and messages"
state_ref
run_in "$UID_A" user-A/s1 "${HOSTILE_CMD[@]}" call -F zombie Move sah kw 1 0 >"$TEST_TMP/call.out" 2>&1
diag "A moves its own zombie (in its home) into kw: $(head -n 2 "$TEST_TMP/call.out")"
check "A's Move of its zombie is refused with NoProcess" grep -q '^ERROR org.cgm.Error.NoProcess ' "$TEST_TMP/call.out"
check "... and the message says the process is exiting or gone" grep -Eiq '^ERROR [^ ]+ .*(exit|zombie|gone|dying|dead)' "$TEST_TMP/call.out"
check "... and not that the kernel shows it elsewhere" bash -c "! grep -q 'kernel shows' '$TEST_TMP/call.out'"
check "the zombie move's audit line does not say Input/output error" bash -c "! grep 'action=Move' '$TEST_TMP/cgmd.log' | grep -q 'Input/output error'"
state_ok "A: Move of its zombie"
run_in "$UID_A" user-A/s1 "${HOSTILE_CMD[@]}" call -F dead Move sah kw 1 0 >"$TEST_TMP/call.out" 2>&1
check "A's Move of a dead pidfd is refused with NoProcess ($(head -c 200 "$TEST_TMP/call.out"))" grep -Eq '^ERROR org.cgm.Error.NoProcess .*(exit|gone|dead)' "$TEST_TMP/call.out"
state_ok "A: Move of a dead pidfd"

check "A creates gone and removes it" bash -c "$(declare -f as_uid A); UID_A=$UID_A CGM='$CGM'; A create gone && A rm gone"
state_ref
for k in pids.max memory.max cpu.max; do hostile_cli "get gone $k on a removed cgroup is NotFound" 4 A get gone "$k"; done
hostile_cli "get gone (every key) on a removed cgroup is NotFound" 4 A get gone
hostile_cli "get user-A/gone pids.max is NotFound" 4 root get user-A/gone pids.max
for cmd in "stat gone" "set gone pids.max=1" "ls gone" "procs gone" "freeze gone" "thaw gone" "kill gone" "rm gone" "move gone $A_SH"; do
	# shellcheck disable=SC2086
	hostile_cli "$cmd on a removed cgroup is NotFound" 4 A $cmd
done

if [ -n "$V2" ] && A create lim cgroup.max.descendants=0 >/dev/null 2>&1; then
	log_lines=$(wc -l <"$TEST_TMP/cgmd.log")
	state_ref
	hostile_cli "create lim/x past cgroup.max.descendants=0 is LimitExceeded" 7 A create lim/x
	audit_line=$(tail -n +$((log_lines + 1)) "$TEST_TMP/cgmd.log" | grep 'action=Create' | grep 'lim/x' | tail -n 1)
	check "the refused creation is audited ($audit_line)" test -n "$audit_line"
	check "... not as 'Disk quota exceeded'" bash -c "! grep -q 'Disk quota exceeded' <<<'$audit_line'"
else
	ok "# SKIP no cgroup2 (cgroup.max.descendants) here"
fi

# --- finding 6: WhoAmI on a connection whose opener has exited and whose pid is reused ------------------
section "finding 6"
check "root creates user-A/who" "$CGM" create user-A/who
procs=(); for d in $(base_dirs); do procs+=("$d/user-A/who/cgroup.procs"); done
"${HOSTILE_CMD[@]}" orphan-whoami "$UID_A" "${procs[@]}" >"$TEST_TMP/call.out" 2>&1
sed 's/^/# /' "$TEST_TMP/call.out"
head1=$(head -n1 "$TEST_TMP/call.out"); rcg=${head1##*rcgroup=}
res=$(sed -n 2p "$TEST_TMP/call.out"); reported=$(sed -n 5p "$TEST_TMP/call.out")
case $head1 in reused=1*) ok "the opener's pid was given to a new root process (clone3 set_tid)" ;;
	*) ok "# SKIP the opener's pid could not be reused here ($head1)" ;; esac
if [ "$res" = OK ]; then
	check "WhoAmI does not report the cgroup of the process that now holds the opener's pid" test "$reported" != "$rcg"
	check "WhoAmI fails closed once the opener is gone: no cgroup reported (got '$reported')" test -z "$reported"
else
	check "WhoAmI without its opener is refused with an error ($res)" bash -c "grep -q '^ERROR ' <<<'$res'"
fi
kill -0 "$DAEMON_PID" 2>/dev/null && ok "cgmd survives WhoAmI from an orphaned connection" || { not_ok "cgmd survives WhoAmI from an orphaned connection"; revive; }

# --- finding 8: a home root made and limited outlives the sessions of its user --------------------------
section "finding 8"
NOBODY_UID=$(getent passwd nobody | cut -d: -f3)
if [ -n "$NOBODY_UID" ] && [ "$NOBODY_UID" != 0 ]; then
	check "root creates homeB with memory.max=48M pids.max=30" "$CGM" create homeB memory.max=48M pids.max=30
	check "root delegates homeB to nobody ($NOBODY_UID)" "$CGM" chown homeB "$NOBODY_UID"
	limits_before=$("$CGM" get homeB memory.max pids.max | tr '\n' ' ')
	# One process opens the session (it is moved into the leaf), closes it and exits.
	"${HOSTILE_CMD[@]}" session nobody >"$TEST_TMP/session.out" 2>&1
	sed 's/^/# /' "$TEST_TMP/session.out"
	sid=$(sed -n 2p "$TEST_TMP/session.out") leaf=$(sed -n 3p "$TEST_TMP/session.out")
	check "a login session of nobody opens (id $sid, leaf $leaf)" test "$(sed -n 1p "$TEST_TMP/session.out")" = OK
	check "the session's leaf is in homeB" bash -c "grep -q '^$API/homeB/' <<<'$leaf'"
	check "the session closes" test "$(sed -n 4p "$TEST_TMP/session.out")" = OK
	leafdir=$V2${leaf#"$API"}; [ -n "$V2" ] || leafdir=$(base_dirs | head -n1)${leaf#"$API"}
	check "the session's leaf goes away" wait_until test ! -d "$leafdir"
	check "homeB still exists after its user's last session ended" test -d "$(dirname "$leafdir")"
	missing=""; for d in $(base_dirs); do [ -d "$d/homeB" ] || missing+=" $d"; done
	check "homeB exists in every hierarchy" test -z "$missing"
	check "homeB keeps root's limits ($limits_before)" test "$("$CGM" get homeB memory.max pids.max 2>&1 | tr '\n' ' ')" = "$limits_before"
	"$CGM" rm -r -k homeB >/dev/null 2>&1
else
	ok "# SKIP no user nobody in NSS"
fi

# --- finding 3: 64 connections that pipeline calls and never read the replies -------------------------
section "finding 3"
rss0=$(rss_kib); fd0=$(fd_count)
as_uid "$UID_F" "${HOSTILE_CMD[@]}" flood 64 "$FLOOD_SECS" "$FLOOD_GRACE" >"$TEST_TMP/flood" 2>&1 &
FLOOD=$!
BG_PIDS+=("$FLOOD")
max_rss=$rss0 pings=0 ping_fail=0 slowest=0
while kill -0 "$FLOOD" 2>/dev/null; do
	r=$(rss_kib); [ "${r:-0}" -gt "$max_rss" ] && max_rss=$r
	t0=$(date +%s%N)
	if as_uid "$UID_B" timeout "$PING_SECS" "$CGM" ping >/dev/null 2>&1; then pings=$((pings + 1)); else ping_fail=$((ping_fail + 1)); fi
	t=$((($(date +%s%N) - t0) / 1000000)); [ $t -gt $slowest ] && slowest=$t
	sleep 0.2
done
wait "$FLOOD"
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DAEMON_PID/status" 2>/dev/null)
diag "flood: $(cat "$TEST_TMP/flood"); cgmd RSS before ${rss0} KiB, highest sampled ${max_rss} KiB, VmHWM ${hwm:-?} KiB"
if kill -0 "$DAEMON_PID" 2>/dev/null; then ok "cgmd survives 64 connections that never read their replies"
else not_ok "cgmd survives 64 connections that never read their replies"; revive; fi
check "cgmd's RSS stays within ${RSS_SLACK_KIB} KiB of ${rss0} KiB during the flood (peak ${max_rss} KiB sampled, VmHWM ${hwm:-?})" \
	test "$max_rss" -le $((rss0 + RSS_SLACK_KIB)) -a "${hwm:-0}" -le $((rss0 + RSS_SLACK_KIB))
read -r connected dropped < <(sed -n 's/^connected=\([0-9]*\) dropped=\([0-9]*\).*/\1 \2/p' "$TEST_TMP/flood")
check "the flooder opened its 64 connections (${connected:-?})" test "${connected:-0}" -ge 60
# A uid may keep CGM_PAUSED_PER_UID_MAX (4) connections paused (served no more until they read);
# every other connection that stops reading is closed.
check "cgmd closed all but at most 4 flooding connections (${dropped:-?} of ${connected:-?} closed)" \
	test -n "$connected" -a "${dropped:-0}" -ge $((${connected:-0} - 4))
check "another uid's Ping answered within ${PING_SECS} s during the flood ($pings answered, $ping_fail failed, slowest $slowest ms)" test "$pings" -ge 1 -a "$ping_fail" = 0
fds_back() { [ "$(fd_count)" -le $((fd0 + 4)) ]; }
WAIT_TENTHS=$((SLOW ? 150 : 50)) check "cgmd closes the flooding connections' fds once they are gone (${fd0} before)" wait_until fds_back
[ "$(fd_count)" -le $((fd0 + 4)) ] || diag "cgmd still holds $(fd_count) fds"
check "the flooding uid is served again afterwards" wait_until as_uid "$UID_F" "$CGM" ping

# --- the end: the victims are where they were -------------------------------------------------------------
section "the end"
check "A's victim is still in user-A/s1 and running" bash -c "$(declare -f in_cg); API='$API' V2='$V2'; in_cg $A_SH user-A/s1 && ! grep -q '^State:.*[TZ]' /proc/$A_SH/status"
check "B's victim is still in user-B/s1 and running" bash -c "$(declare -f in_cg); API='$API' V2='$V2'; in_cg $B_SH user-B/s1 && ! grep -q '^State:.*[TZ]' /proc/$B_SH/status"
check "root's victim is still in victims and running" bash -c "$(declare -f in_cg); API='$API' V2='$V2'; in_cg $R_SH victims && ! grep -q '^State:.*[TZ]' /proc/$R_SH/status"
check "the homes' limits are unchanged" bash -c "[ \"\$('$CGM' get user-A pids.max memory.max | tr '\n' ' ')\" = 'pids.max=300 memory.max=536870912 ' ]"
check "root removes everything below the base" bash -c "'$CGM' rm -r -k user-A; '$CGM' rm -r -k user-B; '$CGM' rm -r -k victims"
finish
