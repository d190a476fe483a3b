#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The client side of events: `cgm watch` (lines, --json, --kinds, the end at `removed`, a
# refusal outside the caller's home), `cgm run` saying which limit ended or hindered its
# command, `cgm kill` saying how many processes it signalled, and the bash completion.
# Runs on the hybrid development host (memory and pids on v1, populated from the cgroup2
# mount) and in the pure v2 guest; kinds a host cannot report are left to test-events.sh.
. "$(dirname "$0")/lib.sh"
require_root
: "${FORKER:?set FORKER to the forker helper}"
MEMHOG=${MEMHOG:-$(dirname "$FORKER")/memhog}
SRCDIR=${CGM_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
COMPLETION=$SRCDIR/etc/completion/bash/cgm
# The binaries must be reachable by the test uids (they run cgm and the helpers).
chmod o+x "$(dirname "$CGM")" "$(dirname "$FORKER")" 2>/dev/null

start_daemon || { not_ok "cgmd starts"; finish; exit 1; }
ok "cgmd starts"
"$CGM" version | grep -q 'cgmd: .*(API level [4-9]' ||
	{ not_ok "cgmd has API level 4 (Subscribe)"; diag "$("$CGM" version 2>&1)"; finish; exit 1; }
ok "cgmd has API level 4 (Subscribe)"
BASE=$("$CGM" whoami | sed -n 's/^home: //p')

A() { as_uid "$UID_A" "$CGM" "$@"; }
check "root makes a home for A" "$CGM" create user-A
check "root delegates it to A" "$CGM" chown user-A "$UID_A"
check "root makes a home for B" "$CGM" create user-B
check "root delegates it to B" "$CGM" chown user-B "$UID_B"
HOME_A=$BASE/user-A

# watch_start VAR OUT ARGS...: `cgm watch ARGS` as A in the background, stdout to OUT.
watch_start() {
	local var=$1 out=$2; shift 2
	as_uid "$UID_A" "$CGM" watch "$@" >"$out" 2>"$out.err" </dev/null &
	BG_PIDS+=("$!")
	printf -v "$var" '%s' "$!"
}
# poke_until CGROUP OUT PATTERN: once the watcher says it is subscribed (`Watching PATH.` on
# its stderr, OUT.err), a process of A's enters CGROUP and stays until OUT has a line matching
# PATTERN or a second has passed, then leaves; OUT must then get the line (bounded wait).
# cgmd reports the state it reads after the kernel's notification, so a process that comes
# and goes before cgmd reads (a slow daemon, valgrind) shows as no change at all: the process
# stays long enough to be seen, and the whole is tried three times.
poke_until() { local i try holder
	for ((i = 0; i < WAIT_TENTHS * 4; i++)); do
		grep -q '^Watching ' "$2.err" 2>/dev/null && break
		sleep 0.05
	done
	grep -q '^Watching ' "$2.err" || { diag "no Watching line: $(cat "$2.err")"; return 1; }
	for ((try = 0; try < 3; try++)); do
		spawn_as_in holder "$UID_A" "user-A/$1" sleep 60
		for ((i = 0; i < 10; i++)); do
			grep -Eq -- "$3" "$2" && break
			sleep 0.1
		done
		kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
		for ((i = 0; i < WAIT_TENTHS; i++)); do
			grep -Eq -- "$3" "$2" && return 0
			sleep 0.1
		done
	done
	return 1
}
# exits_with PID CODE: PID ends (bounded) with exit status CODE.
exits_with() { local i rc
	for ((i = 0; i < WAIT_TENTHS && $(kill -0 "$1" 2>/dev/null && echo 1); i++)); do sleep 0.1; done
	kill -0 "$1" 2>/dev/null && return 1
	wait "$1"; rc=$?
	[ "$rc" = "$2" ] || { diag "exit status $rc, want $2"; return 1; }
}
TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{2}:[0-9]{2}'

# --- cgm watch: lines, and the end at `removed` ------------------------------------------------
check "A creates w1" A create w1
watch_start W1 "$TEST_TMP/w1.out" w1
check "cgm watch w1 prints populated when a process enters w1" \
	poke_until w1 "$TEST_TMP/w1.out" "^$TS $HOME_A/w1 populated\$"
check "... and empty when it leaves" \
	poke_until w1 "$TEST_TMP/w1.out" "^$TS $HOME_A/w1 empty\$"
check "cgm watch said on stderr that it is subscribed, with the absolute path" \
	grep -qx "Watching $HOME_A/w1\\." "$TEST_TMP/w1.out.err"
check "A removes w1" A rm w1
check "cgm watch exits 0 after w1 is removed" exits_with "$W1" 0
check "... and its last line is w1's removed" \
	grep -Eq "^$TS $HOME_A/w1 removed\$" <(tail -n 1 "$TEST_TMP/w1.out")
check "... and every line has the contract's shape" \
	bash -c "! grep -Ev '^$TS $HOME_A/w1 (populated|empty|removed)\$' '$TEST_TMP/w1.out'"
[ -s "$TEST_TMP/w1.out.err" ] && diag "watch w1 stderr: $(cat "$TEST_TMP/w1.out.err")"

# --- --json -----------------------------------------------------------------------------------
check "A creates w2" A create w2
watch_start W2 "$TEST_TMP/w2.out" --json w2
check "cgm watch --json w2 prints populated" poke_until w2 "$TEST_TMP/w2.out" '"kind":"populated"'
check "A removes w2" A rm w2
check "cgm watch --json exits 0 after removed" exits_with "$W2" 0
# json_lines_ok FILE HOME: each line a JSON object with exactly these members (python3; where
# there is none, as in the VM, the exact shape cgm writes, by a regular expression)
json_lines_ok() {
	if ! command -v python3 >/dev/null; then
		local re='^\{"time":"[0-9T:.+-]+","id":[1-9][0-9]*,"path":"'"$2"'/w2","kind":"[a-z_]+","count":[0-9]+,"total":[0-9]+\}$'
		[ -s "$1" ] && ! grep -Evq "$re" "$1" && tail -n 1 "$1" | grep -q '"kind":"removed"'
		return
	fi
	python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no output"
for l in lines:
    e = json.loads(l)
    assert set(e) == {"time", "id", "path", "kind", "count", "total"}, e
    assert e["path"] == sys.argv[2] + "/w2" and e["id"] >= 1, e
assert json.loads(lines[-1])["kind"] == "removed", lines[-1]
' "$1" "$2"
}
check "every --json line is a JSON object with time, id, path, kind, count, total" \
	json_lines_ok "$TEST_TMP/w2.out" "$HOME_A"

# --- --kinds ----------------------------------------------------------------------------------
check "A creates w3" A create w3
watch_start W3 "$TEST_TMP/w3.out" --kinds empty w3
check "cgm watch --kinds empty prints empty" poke_until w3 "$TEST_TMP/w3.out" ' empty$'
check "A removes w3" A rm w3
check "cgm watch --kinds empty still ends at removed (exit 0)" exits_with "$W3" 0
check "... and printed no populated line" bash -c "! grep -q ' populated' '$TEST_TMP/w3.out'"
check "... only empty and removed" \
	bash -c "! grep -Ev ' (empty|removed)\$' '$TEST_TMP/w3.out'"
expect_exit "an unknown kind is refused (exit 5)" 5 "nosuchkind" A watch --kinds nosuchkind ""

# --- refusals ---------------------------------------------------------------------------------
check "B creates b1" as_uid "$UID_B" "$CGM" create b1
expect_exit "A cannot watch B's cgroup (exit 3)" 3 "." A watch "$BASE/user-B/b1"
expect_exit "A cannot watch the base (exit 3)" 3 "." A watch "$BASE"
expect_exit "watching a missing cgroup says not found (exit 4)" 4 "." A watch nosuch

# --- cgm watch and the daemon going away ------------------------------------------------------
# (last, since it stops the daemon; see the end)

# --- cgm run: which limit ended its command ---------------------------------------------------
# A's cgm run, started from A's session leaf as a login shell would (a user moves only what
# is already in its home).
check "root makes a session leaf for A" "$CGM" create user-A/session
A_run() { run_in "$UID_A" user-A/session "$CGM" run "$@"; }
expect_exit "cgm run: memhog in 32M is OOM-killed, exit 137, and cgm says so" 137 \
	"^cgm: run: the kernel's OOM killer killed memhog \\(PID [0-9]+\\) in $HOME_A/oomrun: memory\\.max \\(32M\\) was reached" \
	A_run -n oomrun -p memory.max=32M -- "$MEMHOG" 256
check "... the transient cgroup is gone" bash -c "! '$CGM' ls user-A | grep -q oomrun"
check "cgm run: memhog within its limit says nothing about limits" A_run -p memory.max=64M -- "$MEMHOG" 8
check "... stderr is empty" test ! -s "$TEST_TMP/err"
expect_exit "cgm run: forker past pids.max=4 reports pids.max, exit 0 (the command's)" 0 \
	"^cgm: run: pids\\.max \\(4\\) was reached [0-9]+ times?: forks failed" \
	A_run -p pids.max=4 -- "$FORKER" 12
cp "$TEST_TMP/out" "$TEST_TMP/forker.out"
check "... and the command itself saw forks fail" grep -q 'failed=[1-9]' "$TEST_TMP/forker.out"
A_run -- sh -c 'kill -KILL $$' 2>"$TEST_TMP/kill9.err"
rc=$?
check "cgm run: a command killed by SIGKILL from outside exits 137" test "$rc" = 137
check "... and is not called an OOM kill or a limit" test ! -s "$TEST_TMP/kill9.err"

# --- cgm kill says how many -------------------------------------------------------------------
check "A creates k1" A create k1
n_procs_is() { [ "$(A procs "$1" | wc -l)" = "$2" ]; }
spawn_as_in K1 "$UID_A" user-A/k1 sleep 600
spawn_as_in K2 "$UID_A" user-A/k1 sleep 600
check "two processes in k1" wait_until n_procs_is k1 2
check "cgm kill k1 prints 'signalled 2 processes'" bash -c "'$CGM' kill -s TERM user-A/k1 | grep -qx 'signalled 2 processes'"
check "... and they end" wait_until n_procs_is k1 0
spawn_as_in K3 "$UID_A" user-A/k1 sleep 600
check "one process in k1" wait_until n_procs_is k1 1
out=$(A kill --json k1)
check "cgm kill --json (as A) prints {\"signalled\":1}" test "$out" = '{"signalled":1}'

# --- bash completion --------------------------------------------------------------------------
# complete_as UID WORD...: what the completion offers for the command line WORD... (the last
# word is the one being completed), run as UID with cgm on PATH.
complete_as() {
	local u=$1; shift
	as_uid "$u" env PATH="$(dirname "$CGM"):$PATH" CGM_SOCKET="$SOCK" bash -c '
		source "$1"; shift
		complete -p cgm >/dev/null || exit 3
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_cgm; printf "%s\n" "${COMPREPLY[@]}"' _ "$COMPLETION" "$@"
}
check "A makes c1/c2 for the completion" A create c1
check "... c1/c2" A create c1/c2
check "bash completion: the script loads and registers for cgm" complete_as "$UID_A" cgm ""
out=$(complete_as "$UID_A" cgm wa); check "bash completion: 'cgm wa' -> watch" test "$out" = watch
out=$(complete_as "$UID_A" cgm st); check "bash completion: 'cgm st' -> stat" test "$out" = stat
out=$(complete_as "$UID_A" cgm set c1 memory.m)
check "bash completion: keys for set (memory.m -> memory.max=, memory.min=)" \
	test "$(echo $out)" = "memory.max= memory.min="
out=$(complete_as "$UID_A" cgm run -p pids.)
check "bash completion: keys for run -p (pids. -> pids.max=)" test "$out" = pids.max=
out=$(complete_as "$UID_A" cgm watch --kinds oom,oom_)
check "bash completion: --kinds completes after the comma" test "$out" = oom,oom_kill
out=$(complete_as "$UID_A" cgm stat c)
check "bash completion: A's own paths, relative to its home (c -> c1 c1/c2)" \
	test "$(echo $out | tr ' ' '\n' | sort | paste -sd' ')" = "c1 c1/c2"
out=$(complete_as "$UID_A" cgm ls /)
check "bash completion: after / it offers absolute paths, A's own" \
	test "$(echo $out | tr ' ' '\n' | sort | paste -sd' ')" = "$HOME_A/c1 $HOME_A/c1/c2 $HOME_A/k1 $HOME_A/session"
out=$(complete_as "$UID_B" cgm ls "")
check "bash completion: B is offered its own b1, not A's cgroups" test "$(echo $out)" = b1
if command -v zsh >/dev/null; then
	check "zsh completion parses (zsh -n)" zsh -n "$SRCDIR/etc/completion/zsh/_cgm"
else
	ok "zsh completion parses # SKIP zsh not installed"
fi

# --- cgm watch and the daemon going away: exit 10 ---------------------------------------------
check "A creates w4" A create w4
watch_start W4 "$TEST_TMP/w4.out" w4
check "cgm watch w4 is subscribed" poke_until w4 "$TEST_TMP/w4.out" ' populated$'
finish_rc=0
stop_daemon || finish_rc=$?
if [ "$finish_rc" = 0 ]; then ok "cgmd exits cleanly on SIGTERM${CGM_TEST_VALGRIND:+ (valgrind: no leak, no error)}"
else not_ok "cgmd exits cleanly on SIGTERM"; diag "$(tail -n 20 "$TEST_TMP/cgmd.log")"
	[ -f "$TEST_TMP/valgrind.log" ] && diag "$(cat "$TEST_TMP/valgrind.log")"; fi
check "cgm watch exits 10 when cgmd goes away" exits_with "$W4" 10
check "... saying the connection was closed" grep -q "closed" "$TEST_TMP/w4.out.err"
finish
