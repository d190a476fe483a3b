#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault injection (docs/fault-injection.md): what cgmd does when the kernel refuses a cgroupfs
# call half-way through a request, when a cgroup or a home is removed behind its back, when it
# runs out of file descriptors and when syslog does not take its lines. For every fault: the
# client gets an error that names what failed, cgmd keeps answering, and the tree on disk is
# consistent afterwards (a request either happened in every hierarchy or in none).
#
# Faults are injected by tests/fault/faultshim.c, preloaded into cgmd and armed through a rules
# file it re-reads when it changes; every case also checks that its fault was hit, so a case
# cannot pass because the daemon took another path.
. "$(dirname "$0")/../integration/lib.sh"
require_root
: "${FAULTSHIM:?set FAULTSHIM to tests/fault/.libs/faultshim.so}"
: "${FAULTHELPER:?set FAULTHELPER to tests/fault/faulthelper}"
[ -f "$FAULTSHIM" ] || skip_all "faultshim not built ($FAULTSHIM)"
command -v unshare >/dev/null || skip_all "needs unshare (util-linux)"

FAULTS=$TEST_TMP/faults
FAULT_LOG=$TEST_TMP/faults.hit
: >"$FAULTS"
# An ASan build of cgmd needs its runtime first in the preload list.
ASAN_RT=$(ldd "$CGMD" 2>/dev/null | awk '/libasan/ { print $3 }')
SHIM_PRELOAD=${ASAN_RT:+$ASAN_RT:}$FAULTSHIM

# Wrappers for start_daemon (CGMD_WRAPPER): each ends in exec, so DAEMON_PID is cgmd's.
with_shim() { CGM_FAULT_FILE=$FAULTS CGM_FAULT_LOG=$FAULT_LOG LD_PRELOAD=$SHIM_PRELOAD exec "$@"; }
with_nofile() { ulimit -n "$NOFILE" && exec "$@"; }
# with_devlog: cgmd in a private mount namespace whose /dev is a tmpfs holding the host's
# device nodes and, as /dev/log, $DEVLOG_SOCK (none when empty). Nothing outside that
# namespace changes.
with_devlog() {
	exec unshare --mount --propagation private bash -c '
		set -e
		tmp=$1 sock=$2; shift 2
		hostdev=$(mktemp -d "$tmp/hostdev.XXXXXX")
		mount --rbind /dev "$hostdev"
		mount -t tmpfs -o mode=0755 cgm-fault-dev /dev
		for e in "$hostdev"/*; do
			n=${e##*/}
			[ "$n" = log ] && continue
			if [ -L "$e" ]; then cp -P "$e" "/dev/$n"
			elif [ -d "$e" ]; then mkdir "/dev/$n" && mount --rbind "$e" "/dev/$n"
			else : >"/dev/$n" && mount --bind "$e" "/dev/$n"; fi
		done
		if [ -n "$sock" ]; then : >/dev/log; mount --bind "$sock" /dev/log; fi
		exec "$@"' _ "$TEST_TMP" "$DEVLOG_SOCK" "$@"
}

# arm RULE...: replace the armed faults (faultshim's rules) and forget earlier hits.
arm() { printf '%s\n' "$@" >"$FAULTS.new" && mv -f "$FAULTS.new" "$FAULTS" && : >"$FAULT_LOG"; }
disarm() { arm; }
# hit PATTERN: the shim injected a fault whose line ("OP PATH ERRNO") matches PATTERN.
hit() { grep -Eq -- "$1" "$FAULT_LOG"; }
alive() { kill -0 "$DAEMON_PID" 2>/dev/null && timeout 10 "$CGM" ping; }
# expect_fail DESCRIPTION PATTERN COMMAND...: COMMAND fails with an answer from cgmd (any exit
# but 0 and 10, "cannot reach cgmd"), and its message matches PATTERN, which names what failed
# (so a bare "Input/output error" cannot pass). For refusals whose class is not fixed by the
# API: the kernel's ENOSPC or ENOMEM.
expect_fail() {
	local desc=$1 pattern=$2; shift 2
	"$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	local rc=$?
	cp "$TEST_TMP/err" "$TEST_TMP/last-err"
	if [ "$rc" != 0 ] && [ "$rc" != 10 ] && grep -Eq -- "$pattern" "$TEST_TMP/err"; then ok "$desc"; else
		not_ok "$desc"; diag "command: $*" "exit: $rc" "stderr: $(cat "$TEST_TMP/err")" "want stderr matching: $pattern"; fi
}

# Long-lived clients (faulthelper hold, raw, login): client NAME SUBCOMMAND ARGS... starts one
# in the background with its stdin a pipe the test holds and its output in NAME.out;
# client_end NAME closes that pipe, which ends it (killed if it has not gone within 5 s).
declare -A CL_FD CL_PID
client() {
	local name=$1 fd; shift
	mkfifo "$TEST_TMP/$name.in"
	# The client must not inherit the other clients' pipes, or it would keep them open.
	( for f in "${CL_FD[@]}"; do exec {f}>&-; done
	  exec "$FAULTHELPER" "$@" <"$TEST_TMP/$name.in" >"$TEST_TMP/$name.out" 2>&1 ) &
	CL_PID[$name]=$!; BG_PIDS+=("$!")
	# Read-write: the open does not wait for the reader, whatever happened to it.
	exec {fd}<>"$TEST_TMP/$name.in"; CL_FD[$name]=$fd
}
client_send() { echo "$2" >&"${CL_FD[$1]}"; }
# client_said NAME LINE REGEX: line LINE of the client's output matches REGEX.
client_said() { sed -n "$2p" "$TEST_TMP/$1.out" | grep -Eq -- "$3"; }
client_end() {
	local name=$1 fd=${CL_FD[$1]} pid=${CL_PID[$1]}
	exec {fd}>&-
	unset "CL_FD[$name]"
	wait_until bash -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# Hierarchies as the daemon sees them: their base directories, how many, and which one holds a
# controller's files. The primary one (cgroup2 where mounted) is created first and removed last.
mapfile -t DIRS < <(base_dirs)
N_H=${#DIRS[@]}
PRIMARY=$(v2_base)
if [ -z "$PRIMARY" ]; then # pure v1: the first hierarchy cgmd uses, in mountinfo's order
	for opts in $(awk '{ for (s = 1; s < NF && $s != "-"; s++) ; if ($(s + 1) == "cgroup") print $(s + 3) }' /proc/self/mountinfo); do
		for c in $CGMD_V1_CONTROLLERS; do
			case ",$opts," in *",$c,"*) PRIMARY=$(v1_base "$c"); break 2 ;; esac
		done
	done
fi
# in_all REL / in_none REL: REL exists in every hierarchy / in none.
in_all() { local d; for d in "${DIRS[@]}"; do [ -d "$d/$1" ] || return 1; done; }
in_none() { local d; for d in "${DIRS[@]}"; do [ -e "$d/$1" ] && return 1; done; return 0; }
where() { local d out=""; for d in "${DIRS[@]}"; do [ -d "$d/$1" ] && out="$out ${d#/sys/fs/cgroup/}"; done; echo "${out:- nowhere}"; }
# proc_in PID REL: PID is in REL in every hierarchy.
proc_in() { local d; for d in "${DIRS[@]}"; do grep -qx "$1" "$d/$2/cgroup.procs" 2>/dev/null || return 1; done; }
proc_where() { tr '\n' ' ' <"/proc/$1/cgroup"; }
# check_names_hierarchy: the last failure's message names the hierarchy in which the fault was
# hit, by a controller of it ("in the memory hierarchy", "its cpuset") or its mount point.
check_names_hierarchy() {
	local path mp names
	path=$(awk '{ print $2; exit }' "$FAULT_LOG")
	read -r mp names < <(awk -v p="$path" '{
		for (s = 1; s < NF && $s != "-"; s++) ;
		t = $(s + 1)
		if ((t == "cgroup" || t == "cgroup2") && index(p, $5 "/") == 1 && length($5) > best) {
			best = length($5); m = $5; w = ""
			if (t == "cgroup2") w = "cgroup2|unified"
			else { n = split($(s + 3), o, ","); for (i = 1; i <= n; i++) if (o[i] != "rw" && o[i] != "ro" && o[i] !~ /=/) w = w (w ? "|" : "") o[i] }
		}
	} END { if (m != "" && w != "") print m, w }' /proc/self/mountinfo)
	if [ -z "$mp" ]; then not_ok "  the message names the hierarchy that refused"; diag "no hierarchy holds $path"; return; fi
	# Without the kernel's words: "Cannot allocate memory" does not name the memory hierarchy.
	sed -e 's/Cannot allocate memory//; s/No space left on device//; s/Device or resource busy//' \
		"$TEST_TMP/last-err" >"$TEST_TMP/last-err-words"
	check "  the message names the hierarchy that refused ($mp: $names)" \
		grep -Eq -- "\b($names)\b|$mp" "$TEST_TMP/last-err-words"
}

printf '# cgm.conf for the fault tests\nlinger = nobody\nhome_grace_ms = 200\n' >"$TEST_TMP/cgm.conf"
# -d: the sessions' part waits for a debug line (a removal cgmd tried and had to put off).
CGMD_WRAPPER=with_shim start_daemon -c "$TEST_TMP/cgm.conf" -d || { not_ok "cgmd starts with faultshim"; finish; exit 1; }
check "cgmd runs with faultshim preloaded" grep -q faultshim "/proc/$DAEMON_PID/maps"
# The file a key is written to on this host (v1 names where v1 serves it); the base, which
# cgmd has just made, tells which controllers cgroup2 serves.
is_v2_ctl() { [ "$(ctl_base "$1")" = "$(v2_base)" ] && [ -n "$(v2_base)" ]; }
if is_v2_ctl memory; then MEM_FILE=memory.max; else MEM_FILE=memory.limit_in_bytes; fi
if is_v2_ctl cpu; then CPU_LAST=cpu.max; else CPU_LAST=cpu.cfs_quota_us; fi
HAVE_MEM=0; [ -n "$(ctl_base memory 2>/dev/null)" ] && HAVE_MEM=1
HAVE_CPU=0; [ -n "$(ctl_base cpu 2>/dev/null)" ] && HAVE_CPU=1
diag "hierarchies ($N_H):" "${DIRS[@]}" "primary: $PRIMARY; memory limit file: $MEM_FILE"

# --- the shim itself: an armed fault is hit, and nothing else is -----------------------------
arm "mkdir:shim-check:EACCES"
expect_exit "an armed mkdir fault reaches the client as PermissionDenied" 3 "shim-check" "$CGM" create shim-check
check "the shim logged the fault it injected" hit "^mkdir .*/shim-check EACCES$"
check "shim-check exists nowhere" in_none shim-check
disarm
check "with the fault disarmed the same Create succeeds" "$CGM" create shim-check
check "and made shim-check in every hierarchy ($N_H)" in_all shim-check
check "no fault was injected while disarmed" test ! -s "$FAULT_LOG"
"$CGM" rm shim-check >/dev/null 2>&1

# --- Create: a refusal half-way leaves no half-made cgroup -----------------------------------
if [ "$HAVE_MEM" = 1 ]; then
	arm "write:c1/$MEM_FILE:EBUSY"
	expect_exit "Create whose 2nd limit write is refused (EBUSY) fails as Busy, naming memory.max and c1" 6 \
		"c1.*memory\.max|memory\.max.*c1" "$CGM" create c1 pids.max=100 memory.max=64M
	check "  the fault was hit ($MEM_FILE of c1)" hit "/c1/$MEM_FILE EBUSY$"
	check "  c1 exists in no hierarchy (was:$(where c1))" in_none c1
	check "  cgmd still answers" alive
	disarm
	check "  the same Create succeeds once the kernel accepts" "$CGM" create c1 pids.max=100 memory.max=64M
	check "  and c1 is in every hierarchy" in_all c1
	"$CGM" rm c1 >/dev/null 2>&1
fi

if [ "$N_H" -gt 1 ]; then
	arm "mkdir:c2:ENOSPC:nth=2"
	expect_fail "Create whose mkdir in the 2nd hierarchy fails (ENOSPC) says so and names c2" \
		"c2.*(No space|space)" "$CGM" create c2
	check "  the fault was hit" hit "/c2 ENOSPC$"
	check_names_hierarchy
	check "  c2 exists in no hierarchy (was:$(where c2))" in_none c2
	check "  cgmd still answers" alive
fi

arm "mkdir:c2:ENOMEM:nth=$N_H"
expect_fail "Create whose mkdir in the last hierarchy fails (ENOMEM) says so and names c2" \
	"c2.*(memory)" "$CGM" create c2
check "  the fault was hit" hit "/c2 ENOMEM$"
[ "$N_H" -gt 1 ] && check_names_hierarchy
check "  c2 exists in no hierarchy (was:$(where c2))" in_none c2

arm "write:c2/pids.max:ENOMEM"
expect_fail "Create whose only limit write fails (ENOMEM) names pids.max and c2" \
	"c2.*pids\.max|pids\.max.*c2" "$CGM" create c2 pids.max=10
check "  the fault was hit" hit "/c2/pids.max ENOMEM$"
check "  c2 exists in no hierarchy (was:$(where c2))" in_none c2
disarm

# --- Set: a refusal of the 2nd (or 3rd) key names it and puts the earlier ones back -------------
if [ "$HAVE_MEM" = 1 ] && [ "$HAVE_CPU" = 1 ]; then
	check "create c3" "$CGM" create c3
	before=$(snapshot)
	arm "write:c3/$MEM_FILE:EBUSY"
	expect_exit "Set of 3 keys whose 2nd (memory.max) is refused (EBUSY) fails as Busy and names memory.max" 6 \
		"memory\.max" "$CGM" set c3 pids.max=50 memory.max=32M cpu.max=50%
	check "  the fault was hit" hit "/c3/$MEM_FILE EBUSY$"
	check "  nothing changed on disk: pids.max is back, cpu.max untouched" test "$(snapshot)" = "$before"
	check "  cgmd still answers" alive
	arm "write:c3/$CPU_LAST:ENOMEM"
	expect_fail "Set of 3 keys whose 3rd (cpu.max) fails (ENOMEM) names cpu.max" \
		"cpu\.max" "$CGM" set c3 pids.max=50 memory.max=32M cpu.max=50%
	check "  the fault was hit" hit "/c3/$CPU_LAST ENOMEM$"
	check "  nothing changed on disk: pids.max and memory.max are back" test "$(snapshot)" = "$before"
	disarm
	check "  the same Set succeeds once the kernel accepts" "$CGM" set c3 pids.max=50 memory.max=32M cpu.max=50%
	check "  and Get reads the three values back" bash -c "'$CGM' get c3 pids.max memory.max cpu.max | tr '\n' ' ' | grep -q 'pids.max=50 memory.max=33554432 cpu.max=50000 100000'"
	"$CGM" rm c3 >/dev/null 2>&1
fi

# --- Remove: a refused rmdir leaves the cgroup in every hierarchy ------------------------------
# Secondary hierarchies are removed first and the primary last, so nth=1 is a secondary (where
# there is one) and nth=N_H the primary.
nths=(1)
[ "$N_H" -gt 2 ] && nths+=($((N_H / 2 + 1)))
[ "$N_H" -gt 1 ] && nths+=("$N_H")
for nth in "${nths[@]}"; do
	"$CGM" rm c4 >/dev/null 2>&1
	check "create c4 (for rmdir #$nth of $N_H)" "$CGM" create c4
	arm "rmdir:c4:EBUSY:nth=$nth"
	expect_exit "Remove whose rmdir #$nth of $N_H is refused (EBUSY) fails as Busy and names c4" 6 \
		"c4" "$CGM" rm c4
	check "  the fault was hit" hit "/c4 EBUSY$"
	check "  c4 is still in every hierarchy (is in:$(where c4))" in_all c4
	check "  cgmd still answers" alive
	disarm
done
check "Remove of c4 succeeds once the kernel accepts" "$CGM" rm c4
check "  and c4 is gone from every hierarchy (was in:$(where c4))" in_none c4

check "create c4r and c4r/child" bash -c "'$CGM' create c4r && '$CGM' create c4r/child"
arm "rmdir:c4r/child:EBUSY"
expect_exit "recursive Remove whose rmdir of the child is refused fails as Busy and names c4r/child" 6 \
	"c4r/child" "$CGM" rm -r c4r
check "  the fault was hit" hit "/c4r/child EBUSY$"
check "  c4r/child is still in every hierarchy (is in:$(where c4r/child))" in_all c4r/child
check "  c4r is still in every hierarchy" in_all c4r
disarm
check "  recursive Remove succeeds once the kernel accepts" "$CGM" rm -r c4r
check "  and c4r is gone from every hierarchy" in_none c4r

# --- Move: a refused write to cgroup.procs leaves the process where it was ---------------------
check "create c5src and c5dst" bash -c "'$CGM' create c5src && '$CGM' create c5dst"
spawn_as_in SLEEPER 0 c5src sleep 600
check "a process sits in c5src in every hierarchy" wait_until proc_in "$SLEEPER" c5src
seen=""
for f in "cpuset ENOSPC" "memory ENOMEM" "primary ENOMEM"; do
	set -- $f
	if [ "$1" = primary ]; then dir=$PRIMARY; else dir=$(ctl_base "$1" 2>/dev/null) || continue; fi
	[ -n "$dir" ] || continue
	case " $seen " in *" $dir "*) continue ;; esac # one hierarchy serves several (pure v2)
	seen="$seen $dir"
	arm "write:$dir/c5dst/cgroup.procs:$2"
	expect_fail "Move refused by the $1 hierarchy ($2) fails and names the process and c5dst" \
		"$SLEEPER.*c5dst|c5dst.*$SLEEPER" "$CGM" move c5dst "$SLEEPER"
	check "  the fault was hit" hit "^write $dir/c5dst/cgroup.procs $2$"
	[ "$dir" = "$PRIMARY" ] || check_names_hierarchy
	check "  the process is still in c5src in every hierarchy (is in:$(proc_where "$SLEEPER"))" proc_in "$SLEEPER" c5src
	check "  cgmd still answers" alive
	disarm
	"$CGM" move c5src "$SLEEPER" >/dev/null 2>&1 # put it back where a partial move left it
done
check "Move succeeds once the kernel accepts" "$CGM" move c5dst "$SLEEPER"
check "  and the process is in c5dst in every hierarchy" proc_in "$SLEEPER" c5dst

# --- a cgroup removed behind the daemon's back ------------------------------------------------
rmdir_behind() { local d; for d in "${DIRS[@]}"; do [ -d "$d/$1" ] && find "$d/$1" -depth -type d -exec rmdir {} +; done; in_none "$1"; }
check "create gone and gone/sub" bash -c "'$CGM' create gone && '$CGM' create gone/sub"
check "List of the base shows gone" bash -c "'$CGM' ls | grep -q '/gone\$'"
check "root removes gone directly in every hierarchy" rmdir_behind gone
expect_exit "Get on it: NotFound" 4 "gone.*(does not exist|not found)" "$CGM" get gone pids.max
expect_exit "Set on it: NotFound" 4 "gone.*(does not exist|not found)" "$CGM" set gone pids.max=10
expect_exit "List of it: NotFound" 4 "gone.*(does not exist|not found)" "$CGM" ls gone
expect_exit "List of its child: NotFound" 4 "gone/sub.*(does not exist|not found)" "$CGM" ls gone/sub
expect_exit "Stat of it: NotFound" 4 "gone.*(does not exist|not found)" "$CGM" stat gone
expect_exit "Procs of it: NotFound" 4 "gone.*(does not exist|not found)" "$CGM" procs gone
expect_exit "Freeze of it: NotFound" 4 "gone.*(does not exist|not found)" "$CGM" freeze gone
expect_exit "Remove of it: NotFound" 4 "gone.*(does not exist|not found)" "$CGM" rm gone
expect_exit "recursive Remove of it: NotFound" 4 "gone.*(does not exist|not found)" "$CGM" rm -r gone
expect_exit "Move into it: NotFound" 4 "gone.*(does not exist|not found)" "$CGM" move gone "$SLEEPER"
check "  the process stays in c5dst" proc_in "$SLEEPER" c5dst
check "List of the base no longer shows it" bash -c "! '$CGM' ls | grep -q '/gone\$'"
check "cgmd still answers" alive
check "Create of gone again succeeds" "$CGM" create gone
check "  and gone is in every hierarchy" in_all gone

if [ "$N_H" -gt 1 ]; then
	sec=${DIRS[0]}; [ "$sec" = "$PRIMARY" ] && sec=${DIRS[1]}
	check "create half" "$CGM" create half
	check "root removes half in one secondary hierarchy only (${sec#/sys/fs/cgroup/})" rmdir "$sec/half"
	check "Remove of half succeeds" "$CGM" rm half
	check "  and half is gone from every hierarchy (is in:$(where half))" in_none half
	check "create half2" "$CGM" create half2
	check "root removes half2 in the primary hierarchy only" rmdir "$PRIMARY/half2"
	expect_exit "Get on half2: NotFound" 4 "half2.*(does not exist|not found)" "$CGM" get half2 pids.max
	check "Create of half2 again succeeds over the leftovers" "$CGM" create half2
	check "  and half2 is in every hierarchy" in_all half2
	check "Remove of half2 then leaves none" bash -c "'$CGM' rm half2 && $(declare -p DIRS); $(declare -f in_none); in_none half2"
fi

# --- homes removed behind the daemon's back ---------------------------------------------------
A() { as_uid "$UID_A" timeout 10 "$CGM" "$@"; }
check "root creates home-a and delegates it to uid $UID_A" bash -c "'$CGM' create home-a && '$CGM' chown home-a $UID_A"
check "A's WhoAmI shows the home" bash -c "$(declare -f as_uid A); UID_A=$UID_A CGM='$CGM'; A whoami | grep -q '^home: .*/home-a\$'"
check "root removes home-a directly in every hierarchy" rmdir_behind home-a
check "A's WhoAmI still answers" A whoami
A whoami >"$TEST_TMP/whoami" 2>&1; diag "WhoAmI after the removal: $(tr '\n' ' ' <"$TEST_TMP/whoami")"
check "  and shows no removed home" bash -c "! grep -q '^home: .*/home-a\$' '$TEST_TMP/whoami'"
A create x >"$TEST_TMP/out" 2>"$TEST_TMP/a-err"; rc=$?
if [ "$rc" = 3 ] || [ "$rc" = 4 ]; then ok "A's Create below the removed home is refused as NotFound/PermissionDenied (exit $rc)"
else not_ok "A's Create below the removed home is refused as NotFound/PermissionDenied"; diag "exit $rc" "$(cat "$TEST_TMP/a-err")"; fi
diag "its message: $(cat "$TEST_TMP/a-err")"
check "  with a message that names home-a or says there is no home" grep -Eq "home-a|no (cgroup|home)" "$TEST_TMP/a-err"
check "cgmd still answers" alive
check "root delegates a new home-a to uid $UID_A" bash -c "'$CGM' create home-a && '$CGM' chown home-a $UID_A"
check "A creates a child in the new home" A create x
check "  and home-a/x is in every hierarchy" in_all home-a/x

# Sessions: logins for `nobody` as pam_cgm makes them (faulthelper login: OpenSession moves the
# helper into the new leaf, where it stays until its input ends). cgm.conf lets nobody linger,
# so the home outlives the sessions.
if getent passwd nobody >/dev/null; then
	NOBODY=$(id -u nobody)
	HOME_N=user-$NOBODY
	# login I [USER]: session faultI for USER (nobody); succeeds when OpenSession did.
	login() {
		client "login-$1" login "$SOCK" "${2:-nobody}" "fault$1"
		wait_until client_said "login-$1" 1 '^(ready|error)'
		client_said "login-$1" 1 '^ready' || { diag "login $1: $(cat "$TEST_TMP/login-$1.out")"; return 1; }
	}
	listed() { timeout 10 "$CGM" "$1" >"$TEST_TMP/listed" && grep -q -- "$2" "$TEST_TMP/listed"; }
	not_listed() { timeout 10 "$CGM" "$1" >"$TEST_TMP/listed" && ! grep -q -- "$2" "$TEST_TMP/listed"; }

	# A lingering home removed while no session runs.
	check "login 1 for nobody" login 1
	check "  its leaf $HOME_N/session-fault1 is in every hierarchy" in_all "$HOME_N/session-fault1"
	check "  Sessions lists it" listed sessions fault1
	check "  Users lists the home" listed users "/$HOME_N\b"
	client_end login-1
	check "after the logout the leaf goes and the lingering home stays" \
		wait_until bash -c "$(declare -p DIRS); $(declare -f in_all in_none); in_none $HOME_N/session-fault1 && in_all $HOME_N"
	check "root removes the lingering home directly in every hierarchy" rmdir_behind "$HOME_N"
	check "Users still answers" timeout 10 "$CGM" users
	check "  and no longer lists the removed home" not_listed users "/$HOME_N\b"
	check "nobody's WhoAmI still answers" as_uid "$NOBODY" timeout 10 "$CGM" whoami
	as_uid "$NOBODY" timeout 10 "$CGM" whoami 2>&1 | grep '^home' >"$TEST_TMP/whoami"
	check "  and shows no removed home ($(cat "$TEST_TMP/whoami"))" bash -c "! grep -q '/$HOME_N\$' '$TEST_TMP/whoami'"
	check "the next login for nobody succeeds" login 2
	if client_said login-2 1 '^ready'; then
		check "  its home and leaf are in every hierarchy" in_all "$HOME_N/session-fault2"
		# A running session whose process root moves away and whose leaf and home root then
		# removes, racing the daemon's own clean-up of an emptied leaf.
		gone_behind() {
			local d pid=${CL_PID[login-2]} i
			for d in "${DIRS[@]}"; do echo "$pid" >"$d/c5dst/cgroup.procs" || return 1; done
			for ((i = 0; i < 50; i++)); do
				for d in "${DIRS[@]}"; do [ -d "$d/$HOME_N" ] && find "$d/$HOME_N" -depth -type d -exec rmdir {} + 2>/dev/null; done
				in_none "$HOME_N" && return 0
				sleep 0.1
			done
			return 1
		}
		check "root moves session 2's process out and removes its leaf and home directly" gone_behind
		check "Sessions still answers" timeout 10 "$CGM" sessions
		check "  and drops the removed session within 5 s" wait_until not_listed sessions fault2
		check "Users still answers and does not list the removed home" not_listed users "/$HOME_N\b"
		client_send login-2 close
		wait_until client_said login-2 2 '^(ok|error)'
		if client_said login-2 2 '^ok|^error org.cgm.Error.NotFound'; then ok "CloseSession of the removed session: done or NotFound"
		else not_ok "CloseSession of the removed session: done or NotFound"; diag "$(cat "$TEST_TMP/login-2.out")"; fi
	else
		ok "# SKIP a running session removed behind cgmd's back: login 2 failed"
	fi
	client_end login-2
	check "a new login for nobody succeeds" login 3
	check "  its home and leaf are in every hierarchy" in_all "$HOME_N/session-fault3"
	# A hybrid host: the session's process leaves its cgroup2 leaf first and its v1 leaves
	# later. cgroup2 tells cgmd at once; the removal it tries then finds the process in a v1
	# leaf, and v1 tells nothing when the process leaves there. cgmd must look again soon,
	# not at the 30 s sweep.
	V2_DIR=$(v2_base)
	if [ -n "$V2_DIR" ] && [ "$N_H" -gt 1 ] && client_said login-3 1 '^ready'; then
		P3=${CL_PID[login-3]}
		check "root moves session 3's process out of its cgroup2 leaf only" \
			bash -c "echo $P3 >'$V2_DIR/c5dst/cgroup.procs'"
		check "  cgmd tries to remove the leaf and puts it off: a v1 leaf holds the process" \
			wait_until grep -q "cannot remove .*/session-fault3\` yet: .*still holds processes" "$TEST_TMP/cgmd.log"
		v1_out() { local d; for d in "${DIRS[@]}"; do [ "$d" = "$V2_DIR" ] || echo "$P3" >"$d/c5dst/cgroup.procs" || return 1; done; }
		check "root moves it out of the v1 leaves too" v1_out
		check "  cgmd removes the leaf within 5 s, though v1 notifies nothing" \
			wait_until bash -c "$(declare -p DIRS); $(declare -f in_none); in_none $HOME_N/session-fault3"
		check "  and Sessions no longer lists the session" wait_until not_listed sessions fault3
	else
		ok "# SKIP a process leaving the cgroup2 leaf before the v1 leaves: not a hybrid host"
	fi
	client_end login-3
	# The same for a home: the last session of a user who does not linger ends while a job of
	# theirs, moved out of cgroup2 already, is still in a v1 child of the home. When the grace
	# is over cgroup2 shows the home empty, and the removal cgmd tries is put off.
	if [ -n "$V2_DIR" ] && [ "$N_H" -gt 1 ] && getent passwd daemon >/dev/null; then
		HOME_D=user-$(id -u daemon)
		check "login 4 for daemon, who does not linger" login 4 daemon
		sleep 600 & JOB=$!; BG_PIDS+=("$JOB")
		job_in() { local d; for d in "${DIRS[@]}"; do echo "$JOB" >"$d/$HOME_D/job/cgroup.procs" || return 1; done; }
		check "root makes $HOME_D/job and puts a job into it in every hierarchy" \
			bash -c "'$CGM' create $HOME_D/job && $(declare -p DIRS JOB HOME_D); $(declare -f job_in); job_in"
		check "  and moves the job out of its cgroup2 part only" bash -c "echo $JOB >'$V2_DIR/c5dst/cgroup.procs'"
		client_end login-4
		check "the session ends; once the grace is over cgmd puts the home's removal off" \
			wait_until grep -q "cannot remove .*/$HOME_D\` of uid $(id -u daemon) yet: .*still holds processes" "$TEST_TMP/cgmd.log"
		check "  and keeps the home meanwhile" in_all "$HOME_D"
		job_out() { local d; for d in "${DIRS[@]}"; do [ "$d" = "$V2_DIR" ] || echo "$JOB" >"$d/c5dst/cgroup.procs" || return 1; done; }
		check "root moves the job out of the v1 children too" job_out
		check "  cgmd removes the home within 5 s, though v1 notifies nothing" \
			wait_until bash -c "$(declare -p DIRS); $(declare -f in_none); in_none $HOME_D"
		kill "$JOB" 2>/dev/null; wait "$JOB" 2>/dev/null
	else
		ok "# SKIP a home's v1 child emptied after its cgroup2 part: not a hybrid host, or no user daemon"
	fi
	check "cgmd still answers" alive
else
	ok "# SKIP sessions: no user nobody"
fi

if stop_daemon; then ok "cgmd (with faultshim) exits cleanly on SIGTERM"; else not_ok "cgmd (with faultshim) exits cleanly on SIGTERM"; diag "$(tail -n 20 "$TEST_TMP/cgmd.log")"; fi

# --- fd exhaustion ----------------------------------------------------------------------------
# cgmd with RLIMIT_NOFILE a few fds above what it holds when idle. Working clients connect until
# one is turned away; then clients that connect and never authenticate take whatever is left
# and fill the listen backlog. A client past the limit is refused or waits; the connected ones
# keep working; cgmd does not spin (on a listening socket it cannot accept from, say); once the
# clients leave, new ones are served. A connection costs cgmd several fds (socket, pidfd, one
# dup per libdbus watch), so the round is run with growing limits until one of them leaves
# cgmd with no fd at all, where accept(2) itself fails. (Not under valgrind, which keeps fds of
# its own below the limit.)
if [ "${CGM_TEST_VALGRIND:-0}" = 1 ]; then
	ok "# SKIP fd exhaustion under valgrind"
else
start_daemon -c "$TEST_TMP/cgm.conf" || { not_ok "cgmd starts"; finish; exit 1; }
IDLE=$(ls "/proc/$DAEMON_PID/fd" | wc -l)
stop_daemon
ticks() { awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"; }
HZ=$(getconf CLK_TCK)
fd_round() {
	local r=$1 i n_ready=0 n_raw=0 turned_away="" t0 t1 all_ok=1 late free
	NOFILE=$((IDLE + $2))
	CGMD_WRAPPER=with_nofile start_daemon -c "$TEST_TMP/cgm.conf" || { not_ok "cgmd starts with RLIMIT_NOFILE=$NOFILE"; DAEMON_PID=""; return; }
	ok "cgmd starts with RLIMIT_NOFILE=$NOFILE (it holds $IDLE fds when idle)"
	for ((i = 1; i <= 20; i++)); do
		client "hold-$r-$i" hold "$SOCK" 2000
		WAIT_TENTHS=50 wait_until client_said "hold-$r-$i" 1 '^(ready|error)'
		if client_said "hold-$r-$i" 1 '^ready'; then n_ready=$i; continue; fi
		turned_away=$(cat "$TEST_TMP/hold-$r-$i.out"); client_end "hold-$r-$i"; break
	done
	diag "clients connected: $n_ready; the next one got: ${turned_away:-(nothing within 5 s)}"
	check "  clients connect up to the limit, and one past it is turned away ($n_ready got in)" \
		test "$n_ready" -ge 1 -a -n "$turned_away"
	for ((i = 1; i <= 40; i++)); do
		client "raw-$r-$i" raw "$SOCK"
		WAIT_TENTHS=50 wait_until client_said "raw-$r-$i" 1 '^(connected|refused)'
		client_said "raw-$r-$i" 1 '^connected' || { client_end "raw-$r-$i"; break; }
		n_raw=$i
	done
	client "late-$r" hold "$SOCK" 20000
	t0=$(ticks); sleep 1; t1=$(ticks)
	# Only fds below the limit count: cgmd may hold inherited ones above it.
	free=$((NOFILE - $(ls "/proc/$DAEMON_PID/fd" | awk -v n="$NOFILE" '$1 < n' | wc -l)))
	[ "$free" -le 0 ] && NO_FD_LEFT=1
	diag "silent connections on top: $n_raw; fds left to cgmd: $free; it used $((t1 - t0)) ticks of $HZ in the next second"
	check "  cgmd does not spin while out of fds" test $((t1 - t0)) -le $((HZ / 5))
	late=$(cat "$TEST_TMP/late-$r.out")
	check "  a client past the limit is refused or waits, and does not get in" test "${late%% *}" != ready
	for ((i = 1; i <= n_ready; i++)); do
		client_send "hold-$r-$i" ping
		WAIT_TENTHS=50 wait_until client_said "hold-$r-$i" 2 '^(ok|error)'
		client_said "hold-$r-$i" 2 '^ok' || { all_ok=0; diag "client $i: $(sed -n 2p "$TEST_TMP/hold-$r-$i.out")"; }
	done
	check "  the $n_ready connected clients still get answers" test "$all_ok" = 1
	for ((i = 1; i <= n_raw; i++)); do client_end "raw-$r-$i"; done
	for ((i = 1; i <= n_ready; i++)); do client_end "hold-$r-$i"; done
	if [ -n "$late" ]; then
		diag "the client past the limit was refused: $late"
	else
		check "  the client that waited past the limit is served once the others leave" \
			wait_until client_said "late-$r" 1 '^ready'
	fi
	client_end "late-$r"
	check "  new clients are served again (20 in a row)" \
		bash -c "for i in \$(seq 20); do timeout 10 '$CGM' ping || exit 1; done"
	if stop_daemon; then ok "  cgmd exits cleanly on SIGTERM"; else not_ok "  cgmd exits cleanly on SIGTERM"; diag "$(tail -n 20 "$TEST_TMP/cgmd.log")"; fi
}
NO_FD_LEFT=0
for extra in 8 9 10 11 12 13 14 15; do
	fd_round "$extra" "$extra"
	[ "$NO_FD_LEFT" = 1 ] && break
done
# cgmd caps its connections from RLIMIT_NOFILE (server_connections_max()), so it may refuse
# clients before its fds run out; either way the rounds above pushed it to its limit.
check "a round left cgmd with no free fd, or cgmd refused clients at its own cap first" \
	bash -c "test '$NO_FD_LEFT' = 1 || grep -q 'refusing connections: .* file descriptor limit' '$TEST_TMP/cgmd.log'"
grep -E "refus|descriptor|open files" "$TEST_TMP/cgmd.log" | sed 's/[0-9]\+ are open/N are open/' | sort | uniq -c | while read -r l; do diag "cgmd.log: $l"; done
fi

# --- syslog unavailable -----------------------------------------------------------------------
# Every write is audited through syslog. cgmd must answer promptly whether /dev/log is missing
# or a socket that nobody reads (a hung log daemon: its queue fills after
# net.unix.max_dgram_qlen lines, and a blocking send would wait for ever).
# bounded_stop: SIGTERM, then at most 5 s; SIGKILL if it is stuck.
bounded_stop() {
	kill -TERM "$DAEMON_PID" 2>/dev/null
	if WAIT_TENTHS=50 wait_until bash -c "! kill -0 $DAEMON_PID 2>/dev/null || grep -q '^State:.*Z' /proc/$DAEMON_PID/status"; then
		wait "$DAEMON_PID"; local rc=$?; DAEMON_PID=""; return $rc; fi
	kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=""; return 1
}
# prompt_calls N: N Create/Remove pairs (2N audited writes), each call answered within 2 s.
prompt_calls() {
	local i
	for ((i = 0; i < $1; i++)); do
		timeout 2 "$CGM" create "log-$i" >/dev/null 2>&1 || { echo "create log-$i: no answer within 2 s"; return 1; }
		timeout 2 "$CGM" rm "log-$i" >/dev/null 2>&1 || { echo "rm log-$i: no answer within 2 s"; return 1; }
	done
}
for mode in missing unread; do
	DEVLOG_SOCK=""
	if [ "$mode" = unread ]; then
		DEVLOG_SOCK=$TEST_TMP/deadlog
		"$FAULTHELPER" deadlog "$DEVLOG_SOCK" 1 >"$TEST_TMP/deadlog.out" 2>&1 &
		DEADLOG=$!; BG_PIDS+=("$!")
		wait_until grep -q ready "$TEST_TMP/deadlog.out" || diag "deadlog did not start: $(cat "$TEST_TMP/deadlog.out")"
	fi
	CGMD_WRAPPER=with_devlog start_daemon -c "$TEST_TMP/cgm.conf" || { not_ok "cgmd starts with /dev/log $mode"; DAEMON_PID=""; continue; }
	ok "cgmd starts with /dev/log $mode"
	if [ "$mode" = unread ]; then
		check "  cgmd logs to that socket (the hung log daemon read its first line)" \
			wait_until grep -q "cgmd\[$DAEMON_PID\]" "$TEST_TMP/deadlog.out"
		diag "that line: $(sed -n 2p "$TEST_TMP/deadlog.out")"
	fi
	check "  30 audited writes are each answered within 2 s" prompt_calls 15
	check "  Get, List and Ping still answer" bash -c "timeout 2 '$CGM' get '' pids.max >/dev/null; timeout 2 '$CGM' ls >/dev/null && timeout 2 '$CGM' ping"
	check "  cgmd exits on SIGTERM within 5 s" bounded_stop
	if [ "$mode" = unread ]; then kill "$DEADLOG" 2>/dev/null; wait "$DEADLOG" 2>/dev/null; fi
done

finish
