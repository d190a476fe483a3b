# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034 # sourced: the variables are for the scripts that source it
# Shared helpers of the in-guest scripts of the booted-guest tier (tests/guest/README.md):
# TAP output, bounded waits, the test user and its logins (a real sshd login and a console
# login under `script`), and where a login's cgroup and its home are.
#
# Sourced by install.sh and check-*.sh, which run as root inside a booted guest (never on a
# development host: they add users, edit /etc and enable services).
set -uo pipefail

[ -n "${CGM_GUEST_FLAVOR:-}" ] || { echo "1..0 # SKIP only inside a booted guest (tests/guest)"; exit 0; }

# The test user and group: the policy limits the group, the user is in it.
T_USER=alice
T_GROUP=cgm-limited   # the group of README.md's "safe first policy"
T_MEM=96M T_MEM_BYTES=100663296 T_PIDS=64
# The key root logs in with as the test user over ssh (made in boot 1, install.sh).
T_KEY=/root/cgm-guest-key
OUT=${CGM_GUEST_OUT:-/tmp}
DATA=${CGM_GUEST_DATA:-/run/cgm-guest/data}

n_test=0 n_failed=0
ok() { n_test=$((n_test + 1)); echo "ok $n_test - $*"; }
not_ok() { n_test=$((n_test + 1)); n_failed=$((n_failed + 1)); echo "not ok $n_test - $*"; }
diag() { local l; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done; }
# check DESCRIPTION COMMAND...: pass when COMMAND succeeds; show its output when it does not.
check() {
	local desc=$1 o; shift
	if o=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc"; diag "command: $*" "$o"; fi
}
# is DESCRIPTION GOT WANT
is() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "got:  '$2'" "want: '$3'"; fi; }
finish() { echo "1..$n_test"; [ "$n_failed" = 0 ]; }

# wait_until SECONDS COMMAND...: retry every 0.2 s, bounded.
wait_until() {
	local limit=$1 i; shift
	for ((i = 0; i < limit * 5; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
	return 1
}

# The cgroup2 mount point, empty on pure v1. (mountinfo: the filesystem type follows the "-"
# after the optional fields, which a booted system has: shared:N, master:N.)
cg2_mount() { awk '{ for (i = 7; i < NF; i++) if ($i == "-") break; if ($(i + 1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo; }
# The v1 mount point of a controller.
cg1_mount() { awk -v c="$1" '{ for (i = 7; i < NF; i++) if ($i == "-") break
	if ($(i + 1) != "cgroup") next; n = split($NF, o, ","); for (j = 1; j <= n; j++) if (o[j] == c) { print $5; exit } }' /proc/self/mountinfo; }

# The cgroup of a process as cgm names it: the cgroup2 path, or on pure v1 the memory
# hierarchy's. Reads a /proc/PID/cgroup (or a saved copy) on stdin.
cg_path() {
	if [ -n "$(cg2_mount)" ]; then sed -n 's/^0:://p'
	else grep -E '^[0-9]+:([^:]*,)?memory(,[^:]*)?:' | cut -d: -f3-; fi
}

# The directory of a cgroup path for a controller's files (cgroup2, else its v1 hierarchy).
cg_dir() { # cg_dir CONTROLLER PATH
	local m; m=$(cg2_mount)
	if [ -n "$m" ]; then echo "$m$2"; else echo "$(cg1_mount "$1")$2"; fi
}

t_uid() { id -u "$T_USER"; }

# ssh_login COMMAND: a real login of the test user through sshd on 127.0.0.1, with root's key
# for that user, running COMMAND (a shell string) in the session.
ssh_login() {
	ssh -i "$T_KEY" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o LogLevel=ERROR -o ConnectTimeout=60 "$T_USER@127.0.0.1" "$1"
}

# console_login COMMAND: a console login of the test user (login -f through /etc/pam.d/login)
# on a pseudo-terminal that `script` provides, running COMMAND in the login shell and then
# logging out. Its output goes to stdout.
console_login() {
	local f; f=$(mktemp)
	printf '%s\nexit\n' "$1" >"$f"
	# script keeps the session's terminal until the login shell exits; its stdin is the
	# shell's input. -e: its exit status is the shell's.
	script -qec "login -f $T_USER" /dev/null <"$f"
	local rc=$?
	rm -f "$f"
	return $rc
}

# cgmd's base under sysvinit and OpenRC (README.md: "cgmd's base is /cgm under sysvinit,
# OpenRC and runit").
BASE=/cgm

# install_helpers: the test programs of the build (forker, memhog) where a login finds them.
install_helpers() {
	local h
	for h in forker memhog; do [ -x "$DATA/bin/$h" ] && install -m 755 "$DATA/bin/$h" /usr/local/bin/$h; done
	command -v forker >/dev/null && command -v memhog >/dev/null
}

# A limit file of a cgroup, v2 or v1 (memory.max is memory.limit_in_bytes on v1).
mem_max_file() { if [ -n "$(cg2_mount)" ]; then echo "$(cg_dir memory "$1")/memory.max"; else echo "$(cg_dir memory "$1")/memory.limit_in_bytes"; fi; }
# The OOM kill counter of a cgroup (memory.events on v2, memory.oom_control on v1); 0 when the
# cgroup does not exist.
oom_kills() {
	local f; if [ -n "$(cg2_mount)" ]; then f=$(cg_dir memory "$1")/memory.events; else f=$(cg_dir memory "$1")/memory.oom_control; fi
	awk '$1 == "oom_kill" { print $2; found = 1 } END { if (!found) print 0 }' "$f" 2>/dev/null || echo 0
}
# How often fork failed at pids.max in a cgroup (pids.events "max"); 0 when it does not exist.
pids_max_events() { awk '$1 == "max" { print $2; found = 1 } END { if (!found) print 0 }' "$(cg_dir pids "$1")/pids.events" 2>/dev/null || echo 0; }

# login_checks KIND: one login of the test user (ssh, console or su), checked from outside
# while it runs and after it ends:
#   - it lands in <base>/user-UID/session-ID (its own /proc/self/cgroup);
#   - the home carries the policy's memory.max and pids.max;
#   - a memory hog in it is OOM-killed (SIGKILL, the oom_kill counter rises);
#   - a fork loop stops at pids.max: forks fail with EAGAIN, fewer than pids.max succeed, and
#     pids.events max rises;
#   - `cgm whoami` in it names the home and the session;
#   - after the logout its session cgroup goes (bounded wait).
# The login's command waits on FIFOs, so the checks see it alive at the right moments.
login_checks() {
	local kind=$1 d=/run/cgm-guest-login/$1 uid home cg pid sessdir o0 p0 v
	uid=$(t_uid)
	home=$BASE/user-$uid
	rm -rf "$d"; mkdir -p "$d"; chown "$T_USER:" "$d"
	mkfifo -m 600 "$d/go" "$d/end"; chown "$T_USER" "$d/go" "$d/end"
	local cmd="cat /proc/self/cgroup >$d/cg; cgm whoami >$d/whoami 2>&1; read x <$d/go;
memhog 200 >$d/memhog.out 2>&1; echo \$? >$d/memhog.rc; forker 200 >$d/forker 2>&1; read x <$d/end"
	case $kind in
	ssh) ssh_login "$cmd" >"$OUT/login-$kind.out" 2>&1 & ;;
	console) console_login "$cmd" >"$OUT/login-$kind.out" 2>&1 & ;;
	su) su -l "$T_USER" -c "$cmd" >"$OUT/login-$kind.out" 2>&1 & ;;
	esac
	pid=$!
	if ! wait_until 120 test -s "$d/cg"; then
		not_ok "$kind login: the session started"; diag "$(cat "$OUT/login-$kind.out")"
		kill "$pid" 2>/dev/null; return 1
	fi
	ok "$kind login: the session started"
	cg=$(cg_path <"$d/cg")
	if [[ $cg =~ ^$home/session-[^/]+$ ]]; then ok "$kind login: in <base>/user-$uid/session-ID ($cg)"
	else not_ok "$kind login: in <base>/user-$uid/session-ID"; diag "/proc/self/cgroup of the login:" "$(cat "$d/cg")"; fi
	sessdir=$(cg_dir memory "$cg")
	check "$kind login: its session cgroup exists" test -d "$sessdir"
	is "$kind login: memory.max of the home" "$(cat "$(mem_max_file "$home")" 2>&1)" "$T_MEM_BYTES"
	is "$kind login: pids.max of the home" "$(cat "$(cg_dir pids "$home")/pids.max" 2>&1)" "$T_PIDS"
	wait_until 30 test -s "$d/whoami"
	check "$kind login: cgm whoami names the home" grep -q "user-$uid" "$d/whoami"
	o0=$(($(oom_kills "$cg") + $(oom_kills "$home"))) p0=$(($(pids_max_events "$cg") + $(pids_max_events "$home")))
	timeout 10 sh -c "echo go >$d/go"
	if wait_until 180 test -s "$d/forker"; then
		is "$kind login: a memory hog (200 MiB) is killed (exit 137)" "$(cat "$d/memhog.rc")" 137
		# cgroup v2 counts an OOM kill in the victim's cgroup (the session) and its parents,
		# v1 only in the victim's: the session's and the home's counters, summed, must rise.
		v=$(($(oom_kills "$cg") + $(oom_kills "$home")))
		if [ "$v" -gt "$o0" ]; then ok "$kind login: the oom_kill counter of the session and home rose ($o0 -> $v)"
		else not_ok "$kind login: the oom_kill counter of the session and home rose"; diag "before $o0, after $v" "$(cat "$d/memhog.out")"; fi
		v=$(cat "$d/forker")
		if [[ $v =~ ^forked=([0-9]+)\ failed=([0-9]+)\ error=Resource\ temporarily\ unavailable ]] &&
			[ "${BASH_REMATCH[1]}" -lt "$T_PIDS" ] && [ "${BASH_REMATCH[2]}" -gt 0 ]; then
			ok "$kind login: a fork loop stops at pids.max ($v)"
		else not_ok "$kind login: a fork loop stops at pids.max"; diag "forker 200: $v"; fi
		# Linux 6.1 counts the event in the forking task's cgroup (the session), later
		# kernels also in the one whose limit was hit (the home): either will do.
		v=$(($(pids_max_events "$cg") + $(pids_max_events "$home")))
		if [ "$v" -gt "$p0" ]; then ok "$kind login: pids.events max of the session or home rose ($p0 -> $v)"
		else not_ok "$kind login: pids.events max of the session or home rose"; diag "before $p0, after $v"; fi
	else
		not_ok "$kind login: the memory hog and the fork loop ran"; diag "$(cat "$OUT/login-$kind.out")"
	fi
	# logout
	timeout 10 sh -c "echo end >$d/end"
	if wait_until 60 sh -c "! kill -0 $pid"; then ok "$kind login: logged out"
	else not_ok "$kind login: logged out"; kill "$pid" 2>/dev/null; fi
	wait "$pid" 2>/dev/null
	check "$kind login: logout removes its session cgroup" wait_until 60 test ! -d "$sessdir"
	rm -rf "$d"
}

# no_session_of_user: `cgm sessions` answers (as root) and lists no session of the test user.
no_session_of_user() { local o; o=$(cgm sessions) || return 1; ! grep -qw "$T_USER" <<<"$o"; }
