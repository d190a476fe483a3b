#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boot 2 of the openrc-v2 guest, after check-openrc.sh: events and the live view on pure cgroup
# v2, with the installed cgmd, cgm and pam_cgm, and real logins (tests/guest/README.md).
#   - a real OOM kill in a console login (login -f under script, so the session's terminal is a
#     pty that login gave the user): `cgm watch` in the session sees `oom_kill`, and the
#     terminal gets cgmd's one-line notice; a fork loop at pids.max gives `pids_max`;
#   - an ssh login with a pty: `cgm watch --json` sees its OOM kill too, and the notice reaches
#     the pty sshd made (found from the session's processes: sshd names no terminal to PAM);
#   - a subscriber that never reads, flooded with events: cgmd's memory stays bounded, another
#     client's ping is answered as fast as before, and the subscriber, once it reads, gets one
#     `lost` event with a count;
#   - alice cannot watch a cgroup that is not hers (PermissionDenied, exit 3);
#   - `cgm top -b -n 2 --json` is JSON (python3 reads it) with a busy loop at a plausible CPU
#     rate and an idle sibling near 0.
# Prints TAP.
. "$(dirname "$0")/lib.sh"

uid=$(t_uid)
home=$BASE/user-$uid
W=/run/cgm-guest-events
rm -rf "$W"; mkdir -p "$W"; chown "$T_USER:" "$W"
cleanup() {
	local p
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
	cgm rm -r -k "$BASE/evt" >/dev/null 2>&1
	rm -rf "$W"
}
BG=()
trap cleanup EXIT

check "the test programs are installed (forker, memhog)" install_helpers
for h in subscriber; do [ -x "$DATA/bin/$h" ] && install -m 755 "$DATA/bin/$h" /usr/local/bin/$h; done
check "the subscriber test client is installed" command -v subscriber

# ---- 1. a console login: OOM kill -> event and the line on its terminal; pids.max -> event ----
# The login runs `cgm watch` on its own session cgroup in the background, waits until it is
# subscribed (its "watching" line on stderr), then a memory hog and a fork loop.
cmd="cg=\$(sed -n 's/^0:://p' /proc/self/cgroup); echo \$cg >$W/cg
cgm watch --kinds oom_kill,pids_max \"\$cg\" >$W/watch.out 2>$W/watch.err & w=\$!
for i in \$(seq 100); do grep -q atching $W/watch.err && break; sleep 0.1; done
memhog 200 >/dev/null 2>&1; echo \$? >$W/memhog.rc
forker 200 >$W/forker 2>&1
for i in \$(seq 100); do grep -q pids_max $W/watch.out && break; sleep 0.1; done
kill \$w"
console_login "$cmd" >"$OUT/events-console.out" 2>&1
cg=$(cat "$W/cg" 2>/dev/null)
diag "console session: $cg"
is "console login: the memory hog was OOM-killed (exit 137)" "$(cat "$W/memhog.rc" 2>&1)" 137
check "console login: cgm watch printed an oom_kill event for the session" \
	grep -Eq "^[0-9T:.+-]+ $cg oom_kill count=[1-9][0-9]* total=[1-9]" "$W/watch.out"
check "console login: cgm watch printed a pids_max event for the session" \
	grep -Eq "^[0-9T:.+-]+ $cg pids_max count=[1-9][0-9]* total=[1-9]" "$W/watch.out"
# the notice on the terminal: script copied what the pty showed to its stdout
check "console login: the terminal got cgmd's OOM notice (memhog, its pid, the cgroup, the limit)" \
	grep -Eq "cgm: the kernel killed memhog \(pid [0-9]+\) in $cg: memory\.max 96M of $home reached; see: cgm stat $home" "$OUT/events-console.out"
is "console login: exactly one notice line" "$(grep -c 'cgm: .*memory\.max' "$OUT/events-console.out")" 1
diag "$(grep 'cgm:' "$OUT/events-console.out")"

# ---- 2. an ssh login: the OOM kill is an event there too ---------------------------------------
cmd="cg=\$(sed -n 's/^0:://p' /proc/self/cgroup); echo \$cg >$W/cg2
cgm watch --json --kinds oom_kill \"\$cg\" >$W/watch2.out 2>$W/watch2.err & w=\$!
for i in \$(seq 100); do grep -q atching $W/watch2.err && break; sleep 0.1; done
memhog 200 >/dev/null 2>&1; echo \$? >$W/memhog2.rc
for i in \$(seq 100); do grep -q oom_kill $W/watch2.out && break; sleep 0.1; done
kill \$w"
# -tt: a pty, as an interactive ssh login has. OpenSSH opens the PAM session before it makes
# the pty (PAM_TTY "ssh"); cgmd finds the terminal from the session's processes.
ssh -tt -i "$T_KEY" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-o LogLevel=ERROR -o ConnectTimeout=60 "$T_USER@127.0.0.1" "$cmd" >"$OUT/events-ssh.out" 2>&1 </dev/null
cg=$(cat "$W/cg2" 2>/dev/null)
is "ssh login: the memory hog was OOM-killed (exit 137)" "$(cat "$W/memhog2.rc" 2>&1)" 137
check "ssh login with a pty: the terminal got cgmd's OOM notice" \
	grep -Eq "cgm: the kernel killed memhog \(pid [0-9]+\) in $cg: memory\.max 96M" "$OUT/events-ssh.out"
diag "$(grep -a 'cgm:' "$OUT/events-ssh.out")"
check "ssh login: cgm watch --json printed the oom_kill event as JSON" \
	python3 -c "import json,sys
ev=[json.loads(l) for l in open('$W/watch2.out')]
assert any(e['kind']=='oom_kill' and e['path']=='$cg' and e['count']>=1 for e in ev), ev"

# ---- 3. a cgroup of alice's own without a login: root makes it and delegates it ----------------
# One home per uid: the logins' home goes once its grace (home_grace_ms, 10 s) is over.
check "the logins' home $home is gone after its grace" wait_until 60 test ! -d "/sys/fs/cgroup$home"
check "root makes $BASE/evt and delegates it to $T_USER" sh -c "cgm create $BASE/evt && cgm chown $BASE/evt $uid"
as_alice() { setpriv --reuid="$uid" --regid="$(id -g "$T_USER")" --init-groups -- "$@"; }
# as_alice_bg COMMAND...: the same in the background; $! is then the command's own pid (setpriv
# execs it), which a signal or a move must reach, not a subshell's.
as_alice_bg() { setpriv --reuid="$uid" --regid="$(id -g "$T_USER")" --init-groups -- "$@" & }

# refused: another uid's cgroup (the base is root's)
o=$(as_alice cgm watch "$BASE" 2>&1); rc=$?
is "$T_USER cannot watch $BASE (exit 3, PermissionDenied)" "$rc" 3
diag "$o"

# a subscriber that never reads, flooded
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$(cat /run/cgmd.pid)/status"; }
ping_ms() { # median of 15 `cgm ping`s, in ms
	local i t0 t
	for i in $(seq 15); do t0=$(date +%s%N); cgm ping >/dev/null; t=$(date +%s%N); echo $(((t - t0) / 1000000)); done | sort -n | sed -n 8p
}
before_ping=$(ping_ms)
as_alice_bg subscriber --no-read /run/cgm/cgm.sock "$BASE/evt" 32 >"$W/flood.out" 2>&1
sub=$!; BG+=("$sub")
wait_until 20 grep -q subscribed "$W/flood.out"
rss0=$(rss)
# each freeze/thaw of the (empty) cgroup is two events for each of the 32 subscriptions
for i in $(seq 100); do cgm freeze "$BASE/evt" && cgm thaw "$BASE/evt"; done >/dev/null 2>&1 &
flood=$!; BG+=("$flood")
during_ping=$(ping_ms)
wait "$flood"
rss1=$(rss)
diag "cgmd RSS ${rss0} kB -> ${rss1} kB; ping median ${before_ping} ms idle, ${during_ping} ms during the flood"
if [ $((rss1 - rss0)) -lt 4096 ]; then ok "a subscriber that never reads: cgmd's RSS grew < 4 MiB (${rss0} -> ${rss1} kB)"
else not_ok "a subscriber that never reads: cgmd's RSS grew < 4 MiB"; diag "${rss0} -> ${rss1} kB"; fi
if [ "$during_ping" -le $((before_ping * 3 + 20)) ]; then ok "another client's ping during the flood: ${during_ping} ms (idle ${before_ping} ms)"
else not_ok "another client's ping during the flood is not slowed"; diag "idle ${before_ping} ms, during ${during_ping} ms"; fi
check "the subscriber that never read is still connected" kill -0 "$sub"
kill -USR1 "$sub"   # it starts reading now
check "once it reads, it gets one lost event with a count" wait_until 30 grep -Eq '^0 - lost count=[1-9]' "$W/flood.out"
is "... exactly one" "$(grep -c ' lost ' "$W/flood.out")" 1
diag "$(grep ' lost ' "$W/flood.out")"
kill "$sub" 2>/dev/null

# ---- 4. cgm top ----------------------------------------------------------------------------------
as_alice cgm create "$BASE/evt/busy" >/dev/null && as_alice cgm create "$BASE/evt/idle" >/dev/null
# alice's processes, moved in by root (a move needs the common ancestor's cgroup.procs)
as_alice_bg sh -c 'while :; do :; done'
busy=$!; BG+=("$busy")
as_alice_bg sleep 60
idle=$!; BG+=("$idle")
echo "$busy" >"/sys/fs/cgroup$BASE/evt/busy/cgroup.procs"
echo "$idle" >"/sys/fs/cgroup$BASE/evt/idle/cgroup.procs"
as_alice cgm top -b -n 2 --json "$BASE/evt" >"$W/top.json" 2>"$W/top.err"
is "cgm top -b -n 2 --json exits 0" "$?" 0
check "cgm top -b -n 2 --json: two JSON documents, the busy loop at > 20 % CPU, the idle one < 5 %" \
	python3 -c "import json
docs=[json.loads(l) for l in open('$W/top.json') if l.strip()]
assert len(docs)==2, len(docs)
rows={r['path']: r for r in docs[1]['cgroups']}
b=rows['$BASE/evt/busy']['cpu_percent']; i=rows['$BASE/evt/idle']['cpu_percent']
print(b, i)
assert 20 < b < 210 and i < 5, (b, i)"
diag "$(head -c 600 "$W/top.json")"
finish
