#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Events: Subscribe, Unsubscribe and the Event signal, as a subscriber on its own connection
# sees them. On the hybrid development machines (v1 controllers, a cgroup2 hierarchy without
# controllers) and in the pure v2 guest (make check-vm): populated/empty, frozen/thawed, a
# real OOM kill, removed ending the subscription; pids_max where the kernel notifies it (v2),
# a NotSupported naming the kind where it does not; a uid refused another's cgroup (audited);
# the bounds per connection; Unsubscribe and the connection's end giving the watches back;
# and a subscriber that never reads: the daemon stays bounded, other clients are served, and
# the subscriber gets one `lost` with a count when it reads again.
. "$(dirname "$0")/lib.sh"
require_root
: "${FORKER:?set FORKER to the forker helper}"
: "${SUBSCRIBER:?set SUBSCRIBER to the subscriber helper}"
MEMHOG=${MEMHOG:-$(dirname "$FORKER")/memhog}
[ -x "$SUBSCRIBER" ] && [ -x "$MEMHOG" ] || skip_all "helpers not built (make check builds them)"

start_daemon || { not_ok "cgmd starts"; finish; exit 1; }
ok "cgmd starts"
LAYOUT=$("$CGM" version | grep -o 'layout=[a-z]*' | head -n1)
V2=$(v2_base)
diag "$LAYOUT; cgroup2 base: ${V2:-none}"
API_BASE=$("$CGM" whoami | sed -n 's/^home: //p')
A() { as_uid "$UID_A" "$CGM" "$@"; }
# priv UID: the words that run a command as UID, for the background jobs (setpriv execs it, so
# $! is the subscriber itself: the test signals it).
priv() { local u=$1; shift; PRIV=(setpriv --reuid="$u" --regid="$u" --clear-groups --inh-caps=-all --); }

# sub NAME UID ARGS...: a subscriber as UID in the background, its output in $TEST_TMP/NAME.out
# and its pid in $SUB_PID; returns once it has subscribed (or failed).
sub() {
	local name=$1 u=$2; shift 2
	priv "$u"
	"${PRIV[@]}" "$SUBSCRIBER" "$@" >"$TEST_TMP/$name.out" 2>&1 &
	SUB_PID=$!
	BG_PIDS+=("$SUB_PID")
	wait_until grep -Eq '^(subscribed|error)' "$TEST_TMP/$name.out"
}
# saw NAME REGEX: the subscriber NAME printed a line matching REGEX (waits, bounded).
saw() { wait_until grep -Eq -- "$2" "$TEST_TMP/$1.out"; }
# exit_of PID: its exit status, waiting at most 5 s.
exit_of() {
	local i
	for ((i = 0; i < WAIT_TENTHS; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$1" 2>/dev/null && { kill -KILL "$1"; wait "$1" 2>/dev/null; return 124; }
	wait "$1"
}
# watches: inotify watches cgmd holds now (every inotify fd of its).
watches() { cat /proc/"$DAEMON_PID"/fdinfo/* 2>/dev/null | grep -c '^inotify wd:'; }
show() { diag "$1:"; sed 's/^/#   /' "$TEST_TMP/$1.out"; }
# refused DESCRIPTION REGEX UID ARGS...: the subscriber as UID exits 1 and prints a line matching
# REGEX (the D-Bus error's name and its sentence).
refused() {
	local desc=$1 re=$2 u=$3; shift 3
	as_uid "$u" timeout 10 "$SUBSCRIBER" "$@" >"$TEST_TMP/out" 2>&1
	local rc=$?
	if [ "$rc" = 1 ] && grep -Eq -- "$re" "$TEST_TMP/out"; then ok "$desc"; else
		not_ok "$desc"; diag "exit $rc (want 1); output: $(cat "$TEST_TMP/out")" "want: $re"; fi
}

check "root creates user-A and user-B" "$CGM" create user-A
"$CGM" create user-B >/dev/null
check "root delegates them" bash -c "'$CGM' chown user-A $UID_A && '$CGM' chown user-B $UID_B"
check "A creates user-A/w" A create w
W=$API_BASE/user-A/w

# --- populated, empty, frozen, thawed, removed ------------------------------------------------
if [ -n "$V2" ]; then
	sub flags "$UID_A" "$SOCK" w
	check "A subscribes to its cgroup w (every kind the host reports)" grep -q '^subscribed 1$' "$TEST_TMP/flags.out"
	FLAGS_PID=$SUB_PID
	spawn_as_in P "$UID_A" user-A/w sleep 600
	check "a process in w: populated, with the path as A sees it" saw flags "^1 $W populated count=0 total=0$"
	kill -KILL "$P"; wait "$P" 2>/dev/null
	check "its end: empty" saw flags "^1 $W empty "
	check "A freezes w" A freeze w
	check "frozen" saw flags "^1 $W frozen "
	check "A thaws w" A thaw w
	check "thawed" saw flags "^1 $W thawed "
	check "A removes w" A rm w
	check "removed" saw flags "^1 $W removed "
	exit_of "$FLAGS_PID"; rc=$?
	check "removed is the last event: the subscriber's subscription ended (exit $rc)" test "$rc" = 0
	show flags
	check "the events came in order: populated empty frozen thawed removed" bash -c \
		"[ \"\$(awk '/^1 /{print \$3}' '$TEST_TMP/flags.out' | paste -sd' ')\" = 'populated empty frozen thawed removed' ]"
else
	refused "pure v1: populated is NotSupported, naming the kind" '^error org.cgm.Error.NotSupported populated: ' "$UID_A" "$SOCK" w populated
fi

# --- a real OOM kill ---------------------------------------------------------------------------
check "A creates user-A/mem with memory.max=32M" A create mem memory.max=32M
sub oom "$UID_A" "$SOCK" mem oom_kill
check "A subscribes to oom_kill of mem" grep -q '^subscribed 1$' "$TEST_TMP/oom.out"
run_in "$UID_A" user-A/mem "$MEMHOG" 128 >/dev/null 2>&1
rc=$?
check "memhog 128 MiB in mem is OOM-killed (exit $rc)" test "$rc" = 137
check "oom_kill arrives with count and total" saw oom "^1 $API_BASE/user-A/mem oom_kill count=1 total=1$"
show oom
kill -KILL "$SUB_PID" 2>/dev/null; wait "$SUB_PID" 2>/dev/null

# --- pids_max ----------------------------------------------------------------------------------
check "A creates user-A/pids with pids.max=2" A create pids pids.max=2
if [ -n "$V2" ] && [ -f "$V2/user-A/pids/pids.events" ]; then
	sub pids "$UID_A" "$SOCK" pids pids_max
	check "A subscribes to pids_max of pids" grep -q '^subscribed 1$' "$TEST_TMP/pids.out"
	run_in "$UID_A" user-A/pids "$FORKER" 10 >/dev/null 2>&1
	check "forks past pids.max: pids_max" saw pids "^1 $API_BASE/user-A/pids pids_max count=[1-9][0-9]* total=[1-9]"
	show pids
	kill -KILL "$SUB_PID" 2>/dev/null; wait "$SUB_PID" 2>/dev/null
else
	refused "pids on v1: pids_max is NotSupported, naming the kind and why" \
		'^error org.cgm.Error.NotSupported pids_max: this host has pids on cgroup v1' "$UID_A" "$SOCK" pids pids_max
fi

# --- memory_high: v2 only ----------------------------------------------------------------------
priv "$UID_A"
"${PRIV[@]}" "$SUBSCRIBER" --unsubscribe "$SOCK" mem memory_high memory_max >"$TEST_TMP/high.out" 2>&1 &
HIGH=$!; BG_PIDS+=("$HIGH")
wait_until grep -Eq '^(error|unsubscribed)' "$TEST_TMP/high.out"
if grep -q 'memory=v1\|layout=legacy' <<<"$("$CGM" version)" || ! [ -f "$V2/user-A/mem/memory.events" ]; then
	check "memory on v1: memory_high is NotSupported, saying v1 reports only oom and oom_kill" \
		grep -q '^error org.cgm.Error.NotSupported memory_high: this host has memory on cgroup v1, which reports only oom and oom_kill' "$TEST_TMP/high.out"
else
	check "memory on v2: memory_high and memory_max can be subscribed" grep -q '^subscribed 1$' "$TEST_TMP/high.out"
fi
kill -KILL "$HIGH" 2>/dev/null; wait "$HIGH" 2>/dev/null

# --- authorization -----------------------------------------------------------------------------
refused "B may not watch A's home: PermissionDenied" '^error org.cgm.Error.PermissionDenied' "$UID_B" "$SOCK" "$API_BASE/user-A"
check "the refusal is audited" grep -Eq "audit: uid=$UID_B .*action=Subscribe path=\"$API_BASE/user-A\".*result=PermissionDenied" "$TEST_TMP/cgmd.log"
refused "an unknown kind is InvalidArgs, naming it" '^error org.cgm.Error.InvalidArgs `bogus`' "$UID_A" "$SOCK" "" bogus
refused "a cgroup that does not exist is NotFound" '^error org.cgm.Error.NotFound' "$UID_A" "$SOCK" nothere
check "root may watch A's home" bash -c "timeout 5 '$SUBSCRIBER' --count 1 --unsubscribe '$SOCK' '$API_BASE/user-A' | grep -q '^unsubscribed 1'"

# --- a subscriber in a cgroup namespace sees its own paths ------------------------------------
if [ -n "$V2" ] && command -v unshare >/dev/null; then
	"$CGM" create ns >/dev/null && "$CGM" create ns/in >/dev/null && "$CGM" create ns/sib >/dev/null
	# Root, in a cgroup namespace rooted at ns/in: the sibling is "/../sib" there.
	( "$CGM" move ns/in "$BASHPID" >/dev/null || exit 97
	  exec unshare --cgroup -- "$SUBSCRIBER" "$SOCK" /../sib frozen thawed ) >"$TEST_TMP/ns.out" 2>&1 &
	NSSUB=$!; BG_PIDS+=("$NSSUB")
	wait_until grep -Eq '^(subscribed|error)' "$TEST_TMP/ns.out"
	check "a subscriber in a cgroup namespace subscribes to /../sib" grep -q '^subscribed 1$' "$TEST_TMP/ns.out"
	"$CGM" freeze ns/sib >/dev/null
	check "its event names the cgroup as its namespace shows it: /../sib" saw ns '^1 /\.\./sib frozen '
	"$CGM" rm ns/sib >/dev/null
	check "and removed, the same way" saw ns '^1 /\.\./sib removed '
	show ns
	kill -KILL "$NSSUB" 2>/dev/null; wait "$NSSUB" 2>/dev/null
fi

# --- bounds, Unsubscribe, the connection's end -------------------------------------------------
A create idle >/dev/null
BEFORE=$(watches)
"${PRIV[@]}" "$SUBSCRIBER" --count 33 "$SOCK" idle >"$TEST_TMP/limit.out" 2>&1 &
LIM=$!; BG_PIDS+=("$LIM")
exit_of "$LIM"
check "32 subscriptions on one connection" test "$(grep -c '^subscribed' "$TEST_TMP/limit.out")" = 32
check "the 33rd: LimitExceeded" grep -q '^error org.cgm.Error.LimitExceeded this connection has 32 subscriptions' "$TEST_TMP/limit.out"
check "the daemon's watches are back to $BEFORE once that connection is gone" wait_until test "$(watches)" = "$BEFORE"

"${PRIV[@]}" "$SUBSCRIBER" --count 3 --unsubscribe "$SOCK" idle >"$TEST_TMP/unsub.out" 2>&1 &
UNSUB=$!; BG_PIDS+=("$UNSUB")
check "Unsubscribe ends each subscription" wait_until grep -q '^unsubscribed 3$' "$TEST_TMP/unsub.out"
check "Unsubscribe of an ended id: NotFound" wait_until grep -q '^error org.cgm.Error.NotFound' "$TEST_TMP/unsub.out"
check "after Unsubscribe, the connection still open, the watches are back to $BEFORE" test "$(watches)" = "$BEFORE"
kill -KILL "$UNSUB"; wait "$UNSUB" 2>/dev/null

sub alive "$UID_A" "$SOCK" idle
DURING=$(watches)
check "a subscription holds watches ($DURING > $BEFORE)" test "$DURING" -gt "$BEFORE"
kill -KILL "$SUB_PID"; wait "$SUB_PID" 2>/dev/null
check "killing the subscriber gives them back" wait_until test "$(watches)" = "$BEFORE"

# --- a subscriber that never reads -------------------------------------------------------------
if [ -n "$V2" ]; then
	A create flood >/dev/null
	sub flood "$UID_A" --no-read "$SOCK" flood 32
	check "a subscriber with 32 subscriptions that does not read" saw flood '^subscribed 32$'
	FLOOD=$SUB_PID
	rss() { awk '/^VmRSS/ { print $2 }' /proc/"$DAEMON_PID"/status; }
	# A second subscriber that reads paces the flood: each change waits for its event there
	# (so none is merged with the next in the kernel), and shows that it is served meanwhile.
	mkfifo "$TEST_TMP/reader.fifo"
	priv "$UID_A"
	"${PRIV[@]}" "$SUBSCRIBER" "$SOCK" flood frozen thawed >"$TEST_TMP/reader.fifo" 2>&1 &
	READER=$!; BG_PIDS+=("$READER")
	exec 7<"$TEST_TMP/reader.fifo"
	read -r -t 10 -u 7 line
	check "a second subscriber that reads ($line)" test "$line" = "subscribed 1"
	RSS0=$(rss)
	slow=0 missed=0
	for ((i = 0; i < 200; i++)); do
		for v in 1 0; do
			echo $v >"$V2/user-A/flood/cgroup.freeze"
			read -r -t 5 -u 7 line || { missed=$((missed + 1)); break 2; }
		done
		if ((i % 25 == 0)); then
			t0=$(date +%s%N)
			"$CGM" ping >/dev/null || slow=$((slow + 1000))
			t=$((($(date +%s%N) - t0) / 1000000))
			((t > slow)) && slow=$t
		fi
	done
	exec 7<&-
	kill -KILL "$READER"; wait "$READER" 2>/dev/null
	check "the reading subscriber got every one of the 400 changes at once" test "$missed" = 0
	RSS1=$(rss)
	diag "cgmd RSS ${RSS0} kB before the flood, ${RSS1} kB after 400 changes x 32 subscriptions; slowest Ping ${slow} ms"
	check "another client's Ping answers promptly during the flood (slowest ${slow} ms)" test "$slow" -lt 1000
	# RSS says nothing under valgrind or a sanitizer (their own heaps and quarantines).
	if [ "${CGM_TEST_VALGRIND:-0}" != 1 ] && ! ldd "$CGMD" 2>/dev/null | grep -q 'libasan'; then
		check "cgmd's memory stays bounded (RSS grew $((RSS1 - RSS0)) kB)" test $((RSS1 - RSS0)) -lt 1024
	fi
	check "the subscriber was not disconnected" kill -0 "$FLOOD"
	check "nor was it logged as not reading its replies" bash -c "! grep -q 'disconnecting uid $UID_A' '$TEST_TMP/cgmd.log'"
	kill -USR1 "$FLOOD"
	exit_of "$FLOOD"; rc=$?
	check "the subscriber reads at last and ends (exit $rc)" test "$rc" = 0
	n_lost=$(grep -c ' lost ' "$TEST_TMP/flood.out")
	check "it gets exactly one lost event ($n_lost)" test "$n_lost" = 1
	check "lost: id 0, no path, a count" grep -Eq '^0 - lost count=[1-9][0-9]* total=0$' "$TEST_TMP/flood.out"
	n_ev=$(grep -Ec ' (frozen|thawed) ' "$TEST_TMP/flood.out")
	n_dropped=$(sed -n 's/^0 - lost count=\([0-9]*\).*/\1/p' "$TEST_TMP/flood.out")
	diag "events read: $n_ev; dropped: $n_dropped"
	check "the events it got and the ones it lost are all of them (32 x 400)" test $((n_ev + n_dropped)) = 12800
	check "cgmd still answers" "$CGM" ping
fi

# --- the kernel's inotify queue overflows ------------------------------------------------------
# fs.inotify.max_queued_events is host-wide and read when an inotify fd is made: changed only
# on a kernel of the tests' own (the VM tier), for cgmd's start. With cgmd stopped, 24 cgroups
# are frozen, each notifying its own cgroup.events, and a watched one is removed: more than the
# queue's 16 events, so the rest, the removal last, are dropped for one IN_Q_OVERFLOW.
if [ -n "$V2" ] && [ "${CGM_TEST_OWN_KERNEL:-0}" = 1 ] && [ -w /proc/sys/fs/inotify/max_queued_events ]; then
	stop_daemon; rc=$?
	check "cgmd stops for a restart with a small inotify queue (exit $rc)" test "$rc" = 0
	QMAX=$(cat /proc/sys/fs/inotify/max_queued_events)
	echo 16 >/proc/sys/fs/inotify/max_queued_events
	start_daemon; rc=$?
	echo "$QMAX" >/proc/sys/fs/inotify/max_queued_events
	check "cgmd starts with an inotify queue of 16 events" test "$rc" = 0
	"$CGM" create ov >/dev/null
	OVS=()
	for i in $(seq 1 24) gone; do
		"$CGM" create "ov/c$i" >/dev/null
		"$SUBSCRIBER" "$SOCK" "ov/c$i" frozen removed >"$TEST_TMP/ov$i.out" 2>&1 &
		OVS+=($!); BG_PIDS+=($!)
	done
	subscribed=0
	for i in $(seq 1 24) gone; do
		wait_until grep -q '^subscribed 1$' "$TEST_TMP/ov$i.out" && subscribed=$((subscribed + 1))
	done
	check "25 subscribers, one for each of ov/c1..c24 and ov/cgone ($subscribed)" test "$subscribed" = 25
	kill -STOP "$DAEMON_PID"
	for i in $(seq 1 24); do echo 1 >"$V2/ov/c$i/cgroup.freeze"; done
	rmdir "$V2/ov/cgone"
	kill -CONT "$DAEMON_PID"
	frozen=0
	for i in $(seq 1 24); do
		saw "ov$i" "^1 $API_BASE/ov/c$i frozen " && frozen=$((frozen + 1))
	done
	check "after the overflow every one of the 24 subscribers gets its frozen ($frozen)" test "$frozen" = 24
	check "and the one whose cgroup was removed gets removed" saw ovgone "^1 $API_BASE/ov/cgone removed "
	check "cgmd logs the overflow and what it does about it" \
		wait_until grep -q "inotify queue overflowed (1 time(s) since the last such line): every watched cgroup is read again" "$TEST_TMP/cgmd.log"
	for p in "${OVS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	for i in $(seq 1 24); do echo 0 >"$V2/ov/c$i/cgroup.freeze"; done
	check "cgmd still answers" "$CGM" ping
else
	ok "# SKIP an inotify queue overflow: changes fs.inotify.max_queued_events, done only on the tests' own kernel (make check-vm)"
fi

finish
