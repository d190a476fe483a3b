#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# cgm top, cgm stat -r, human units and the ASCII tree, as a user sees them: a busy loop shows
# CPU and an idle sibling none, the columns agree with get and stat, --depth and -s do what they
# say, the JSON snapshots parse, the live screen quits on q and Ctrl-C and gives the cursor
# back, units appear on a terminal only (script(1) gives cgm one) and never with --raw or
# --json, and the tree falls back to ASCII outside a UTF-8 locale. Runs on every layout. JSON
# is checked with a validator in awk (the v2 guest has neither python3 nor jq); the terminal
# checks need script(1) and skip without it (that code does not depend on the layout).
. "$(dirname "$0")/lib.sh"
require_root
HAVE_SCRIPT=; command -v script >/dev/null && HAVE_SCRIPT=1

start_daemon || { not_ok "cgmd starts"; finish; exit 1; }
ok "cgmd starts"
BASE=$("$CGM" whoami | sed -n 's/^home: //p')
T=$BASE/top

# on_tty COMMAND...: run COMMAND with a pseudo-terminal as stdout (and stdin), print its
# output with the CRs the terminal adds removed; exit status is COMMAND's.
on_tty() {
	local cmd
	printf -v cmd '%q ' "$@"
	timeout 20 script -qec "exec $cmd" /dev/null </dev/null | tr -d '\r'
	return "${PIPESTATUS[0]}"
}
# json_lines FILE: every line of FILE is one complete JSON text (RFC 8259), checked by a
# tokenizer and a stack machine in awk, for hosts without python3 or jq (the v2 guest).
json_lines() {
	awk '
	function err(m) { printf "%s:%d: %s at `%s`\n", FILENAME, FNR, m, substr(s, 1, 20) >"/dev/stderr"; bad = 1 }
	function tok(   c) {
		sub(/^[ \t\r]+/, "", s)
		if (s == "") return ""
		c = substr(s, 1, 1)
		if (index("{}[]:,", c)) { s = substr(s, 2); return c }
		if (match(s, /^"([^"\\]|\\["\\\/bfnrt]|\\u[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F])*"/) ||
		    match(s, /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/) ||
		    match(s, /^(true|false|null)/)) {
			t = substr(s, 1, RLENGTH); s = substr(s, RLENGTH + 1)
			return substr(t, 1, 1) == "\"" ? "S" : "V"
		}
		return "?"
	}
	{
		s = $0; n = 0; st = "value"
		while (!bad) {
			t = tok()
			if (t == "") { if (st != "end") err("incomplete"); break }
			if (t == "?") { err("not a token"); break }
			if (st == "end") { err("text after the value"); break }
			if (st == "colon") { if (t != ":") { err("expected :"); break } st = "value"; continue }
			if (st == "key" || st == "key_or_close") {
				if (t == "}" && st == "key_or_close") { n--; st = "after" }
				else if (t == "S") { st = "colon"; continue }
				else { err("expected a key"); break }
			} else if (st == "value" || st == "value_or_close") {
				if (t == "]" && st == "value_or_close") { n--; st = "after" }
				else if (t == "{") { stack[++n] = "o"; st = "key_or_close"; continue }
				else if (t == "[") { stack[++n] = "a"; st = "value_or_close"; continue }
				else if (t == "S" || t == "V") st = "after"
				else { err("expected a value"); break }
			} else if (st == "after") {
				if (t == "," && stack[n] == "o") { st = "key"; continue }
				if (t == "," && stack[n] == "a") { st = "value"; continue }
				if ((t == "}" && stack[n] == "o") || (t == "]" && stack[n] == "a")) n--
				else { err("expected , or the end of the " (stack[n] == "o" ? "object" : "array")); break }
			}
			if (st == "after" && n == 0) st = "end"
		}
	}
	END { exit bad || NR == 0 }' "$1"
}
# last_snapshot FILE: the rows of the last snapshot of `cgm top -b` output, without the header
# and column lines.
last_snapshot() { awk '/^cgm top/ { n = 0; delete r; next } /^  CPU%/ || /^$/ { next } { r[n++] = $0 }
	END { for (i = 0; i < n; i++) print r[i] }' "$1"; }
# col FILE NAME N: column N of the row of NAME (relative to top; "." for top) in the last snapshot.
col() { last_snapshot "$1" | awk -v name="$2" -v c="$3" -v top="$T" '($8 == name || (name == "." && $8 == top)) { print $c }'; }
# ge A B, lt A B: decimal comparisons.
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 >= b + 0) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 < b + 0) }'; }

check "root creates top" "$CGM" create top
check "root creates top/busy with limits" "$CGM" create top/busy memory.max=1.5G pids.max=64 cpu.max=150%
check "root creates top/idle and top/deep/er/est" bash -c "'$CGM' create top/idle && '$CGM' create top/deep && '$CGM' create top/deep/er && '$CGM' create top/deep/er/est"
spawn_as_in SPIN 0 top/busy bash -c 'while :; do :; done'
check "the busy loop is in top/busy" wait_until grep -q "/top/busy\$" "/proc/$SPIN/cgroup"

# --- batch mode: plausible rates, columns that agree with get and stat --------------------------
"$CGM" top -b -n 2 --raw top >"$TEST_TMP/top.out" 2>"$TEST_TMP/top.err"
rc=$?
check "cgm top -b -n 2 exits 0 (got $rc: $(head -c 300 "$TEST_TMP/top.err"))" test "$rc" = 0
check "it prints two snapshots of the 6 cgroups of the subtree" \
	test "$(grep -c '^cgm top - ' "$TEST_TMP/top.out")" = 2 -a "$(last_snapshot "$TEST_TMP/top.out" | wc -l)" = 6
busy_cpu=$(col "$TEST_TMP/top.out" busy 1)
idle_cpu=$(col "$TEST_TMP/top.out" idle 1)
diag "busy loop: $busy_cpu % of a CPU, idle sibling: $idle_cpu %"
check "the busy loop's cgroup shows more than 20 % CPU ($busy_cpu)" ge "$busy_cpu" 20
check "the idle sibling shows less than 5 % CPU ($idle_cpu)" lt "$idle_cpu" 5
check "the parent's CPU includes its child's ($(col "$TEST_TMP/top.out" . 1))" \
	ge "$(col "$TEST_TMP/top.out" . 1)" "$(awk -v b="$busy_cpu" 'BEGIN { print b * 0.8 }')"
check "MEMMAX of busy is get's memory.max" test "$(col "$TEST_TMP/top.out" busy 3)" = "$("$CGM" get top/busy memory.max | cut -d= -f2)"
check "MEMMAX of idle is max" test "$(col "$TEST_TMP/top.out" idle 3)" = max
check "PIDMAX of busy is get's pids.max (64)" test "$(col "$TEST_TMP/top.out" busy 5)" = "$("$CGM" get top/busy pids.max | cut -d= -f2)"
check "PIDS of busy is stat's pids.current (1)" test "$(col "$TEST_TMP/top.out" busy 4)" = "$("$CGM" stat top/busy | awk '$1 == "pids.current" { print $2 }')"
mem_top=$(col "$TEST_TMP/top.out" busy 2)
mem_stat=$("$CGM" stat top/busy | awk '$1 == "memory.current" { print $2 }')
check "MEM of busy is near stat's memory.current ($mem_top vs $mem_stat)" \
	awk -v t="$mem_top" -v s="$mem_stat" 'BEGIN { exit !(s > 0 && t >= s / 2 && t <= s * 2) }'
check "rows of the default sort are by CPU, descending" \
	bash -c "$(declare -f last_snapshot); last_snapshot '$TEST_TMP/top.out' | awk '{ print \$1 }' | sort -c -g -r"

# --- JSON ---------------------------------------------------------------------------------------
# The checker itself: it takes JSON and refuses what is not.
printf '%s\n' '{"a":[1,-2.5e3,"x\u00e9\n",true,null,{}]}' >"$TEST_TMP/good.json"
check "the JSON checker takes a valid document" json_lines "$TEST_TMP/good.json"
bad=0
for doc in '{"a":1,}' '[1 2]' '{"a"}' '"\x"' '{"a":01}' '[1]]' '{"a":1' 'nul' '{1:2}' '{"a":1}{}' ''; do
	printf '%s\n' "$doc" >"$TEST_TMP/bad.json"
	json_lines "$TEST_TMP/bad.json" 2>/dev/null && { bad=1; diag "accepted: $doc"; }
done
check "the JSON checker refuses 11 broken documents" test "$bad" = 0

"$CGM" top -b -n 2 --json top >"$TEST_TMP/top.json"
check "cgm top -b -n 2 --json prints two lines, each a valid JSON document" \
	bash -c "$(declare -f json_lines); [ \$(wc -l <'$TEST_TMP/top.json') = 2 ] && json_lines '$TEST_TMP/top.json'"
# jrow NAME: the JSON object of NAME (relative to top) in each snapshot, one per line.
jrow() { grep -o "{\"path\":\"$T/$1\",[^{}]*}" "$TEST_TMP/top.json"; }
check "each snapshot has the 6 cgroups" test "$(grep -o '{"path":' "$TEST_TMP/top.json" | wc -l)" = 12
diag "busy in JSON: $(jrow busy | tail -n 1)"
check "busy's cpu_percent is above 20 in both snapshots" \
	test "$(jrow busy | sed -n 's/.*"cpu_percent":\([0-9.]*\),.*/\1/p' | awk '$1 > 20' | wc -l)" = 2
check "idle's cpu_percent is below 5 in both snapshots" \
	test "$(jrow idle | sed -n 's/.*"cpu_percent":\([0-9.]*\),.*/\1/p' | awk '$1 < 5' | wc -l)" = 2
check "busy's limits are raw numbers, idle's memory_max is \"max\"" \
	bash -c "$(declare -f jrow); T='$T' TEST_TMP='$TEST_TMP'; jrow busy | tail -n 1 | grep -q '\"memory_max\":1610612736,\"pids_current\":1,\"pids_max\":64,' &&
		jrow idle | tail -n 1 | grep -q '\"memory_max\":\"max\"'"

# --- sort keys and depth ------------------------------------------------------------------------
"$CGM" top -b -s path top >"$TEST_TMP/path.out"
check "-s path lists parents before children, siblings by name, indented" \
	test "$(last_snapshot "$TEST_TMP/path.out" | sed -E 's/^ *([^ ]+ +){6}[^ ]+  //' | tr '\n' '|')" = "$T|busy|deep|  er|    est|idle|"
"$CGM" top -b --raw -s mem top >"$TEST_TMP/mem.out"
check "-s mem sorts by MEM, descending" \
	bash -c "$(declare -f last_snapshot); last_snapshot '$TEST_TMP/mem.out' | awk '{ print \$2 }' | sort -c -g -r"
"$CGM" top -b -s pids top >"$TEST_TMP/pids.out"
check "-s pids puts busy (1 process) before idle (0)" \
	test "$(last_snapshot "$TEST_TMP/pids.out" | awk '$8 == "busy" || $8 == "idle" { print $8 }' | tr '\n' ' ')" = "busy idle "
"$CGM" top -b --depth 1 top >"$TEST_TMP/d1.out"
check "--depth 1 shows top and its children only" \
	test "$(last_snapshot "$TEST_TMP/d1.out" | awk '{ print $8 }' | sort | tr '\n' ' ')" = "$T busy deep idle "
"$CGM" top -b --depth 0 top/deep >"$TEST_TMP/d0.out"
check "--depth 0 shows the cgroup alone" test "$(last_snapshot "$TEST_TMP/d0.out" | awk '{ print $8 }')" = "$T/deep"
expect_exit "an unknown sort key is a usage error" 2 "unknown sort key" "$CGM" top -b -s nope top
expect_exit "-n 0 is a usage error" 2 "-n wants" "$CGM" top -b -n 0 top
expect_exit "top of a missing cgroup is not found" 4 "top" "$CGM" top -b top/nope
"$CGM" top -b -n 2 -d 0.2 top >"$TEST_TMP/plain.out"
check "plain batch mode prints a header, the columns and one row per cgroup per snapshot" \
	test "$(grep -c '^cgm top - ' "$TEST_TMP/plain.out")" = 2 -a \
	"$(grep -c '^  CPU%' "$TEST_TMP/plain.out")" = 2 -a \
	"$(grep -Ec ' (busy|idle|deep|deep/er|deep/er/est)$' "$TEST_TMP/plain.out")" = 10

# --- the live screen ----------------------------------------------------------------------------
# live_view OUT KEYS CGM-ARGS...: cgm top on a terminal (script(1) makes one; $STTY, if set,
# is given to stty(1) there first), with its screen in OUT; once two frames are drawn, KEYS are
# typed on that terminal. Exit status: script's, which is cgm's.
frames() { grep -o $'\033\\[H\033\\[2J' "$1" 2>/dev/null | wc -l; }
two_frames() { [ "$(frames "$1")" -ge 2 ]; }
live_view() {
	local out=$1 keys=$2; shift 2
	: >"$out"
	# exec: script runs the command with $SHELL -c, and dash (Debian's sh) stays as cgm's
	# parent in the terminal's foreground group, where a Ctrl-C would end it with 130.
	{ wait_until two_frames "$out"; printf '%b' "$keys"; } |
		timeout 30 script -qec "${STTY:+stty $STTY; }exec $(printf '%q ' "$CGM" "$@")" /dev/null >"$out" 2>&1
}
if [ -n "$HAVE_SCRIPT" ]; then
live_view "$TEST_TMP/live.out" q top -d 0.2 top
rc=$?
check "the live view quits on q with exit 0 (got $rc)" test "$rc" = 0
check "it redraws with clear and home, more than once ($(frames "$TEST_TMP/live.out") frames)" test "$(frames "$TEST_TMP/live.out")" -ge 2
check "it shows the rows and says how to quit" bash -c "grep -q 'q quits' '$TEST_TMP/live.out' && grep -q ' busy' '$TEST_TMP/live.out'"
check "it gives the cursor back" grep -q $'\033\\[?25h' "$TEST_TMP/live.out"
live_view "$TEST_TMP/live2.out" '\003' top -d 0.2 top
rc=$?
check "Ctrl-C ends the live view with exit 0 (got $rc)" test "$rc" = 0
check "and gives the cursor back" grep -q $'\033\\[?25h' "$TEST_TMP/live2.out"
STTY="rows 6 cols 60" live_view "$TEST_TMP/live3.out" q top -d 0.2 -s path top
# The last frame: what follows the last clear-and-home.
awk -v RS=$'\033\\[H\033\\[2J' 'END { printf "%s", $0 }' "$TEST_TMP/live3.out" | tr -d '\r' |
	sed $'s/\033\\[?25h//' >"$TEST_TMP/frame.out"
diag "a frame on a 60x6 terminal:" "$(cat "$TEST_TMP/frame.out")"
check "on a 6-line terminal a frame has 5 lines, the last counting the rows left out" \
	bash -c "[ \$(wc -l <'$TEST_TMP/frame.out') = 5 ] && grep -qx '(4 more)' '$TEST_TMP/frame.out'"
check "on a 60-column terminal no row is wider" bash -c "! awk 'length > 60 { f = 1 } END { exit !f }' '$TEST_TMP/frame.out'"
else
	ok "# SKIP the live screen: no script(1) to give cgm a terminal"
fi

# --- stat -r ------------------------------------------------------------------------------------
"$CGM" stat -r top >"$TEST_TMP/statr.out"
check "stat -r prints one block per cgroup, headed by its path" \
	test "$(grep -c "^$T" "$TEST_TMP/statr.out")" = 6
check "stat -r's block of busy has its pids.current" \
	bash -c "awk '/^\\// { p = \$1 } p == \"$T/busy\" && \$1 == \"pids.current\" { print \$2 }' '$TEST_TMP/statr.out' | grep -qx 1"
"$CGM" stat -r --json top >"$TEST_TMP/statr.json"
check "stat -r --json is one valid JSON document" json_lines "$TEST_TMP/statr.json"
check "it is keyed by the 6 paths, busy's with its pids.current" bash -c "
	[ \$(grep -o '\"$T[^\"]*\":{' '$TEST_TMP/statr.json' | wc -l) = 6 ] &&
	grep -q '\"$T/busy\":{[^}]*\"pids.current\":1,' '$TEST_TMP/statr.json'"

# io: bytes written with O_DIRECT reach the block layer and v2's io.stat counts them. v1's
# blkio.throttle counters are the kernel's too, but recent kernels keep them only on devices
# with a throttle limit, so only their presence is checked there.
if "$CGM" stat top/idle | grep -q '^io.wbytes '; then
	ok "stat lists io.rbytes and io.wbytes where the io (blkio) controller serves the cgroup"
	fstype=$(stat -f -c %T "$TEST_TMP")
	if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] && [[ $fstype == @(ext2/ext3|xfs|btrfs) ]]; then
		run_in 0 top/idle dd if=/dev/zero of="$TEST_TMP/io.bin" bs=1M count=8 oflag=direct 2>/dev/null
		w=$("$CGM" stat top/idle | awk '$1 == "io.wbytes" { print $2 }')
		check "8 MiB written with O_DIRECT in top/idle show in its io.wbytes ($w)" test "${w:-0}" -ge 8388608
		rm -f "$TEST_TMP/io.bin"
	else
		ok "# SKIP io.wbytes after a write: needs cgroup2 and \$TEST_TMP on a block device ($fstype)"
	fi
else
	ok "# SKIP no io or blkio controller for the test cgroups"
fi

# --- human units on a terminal, raw elsewhere ---------------------------------------------------
"$CGM" get top/busy memory.max cpu.max >"$TEST_TMP/pipe.out"
check "get through a pipe prints the kernel's numbers, as before" \
	bash -c "grep -qx 'memory.max=1610612736' '$TEST_TMP/pipe.out' && grep -qx 'cpu.max=150000 100000' '$TEST_TMP/pipe.out'"
if [ -n "$HAVE_SCRIPT" ]; then
on_tty "$CGM" get top/busy memory.max cpu.max >"$TEST_TMP/tty.out"
check "get on a terminal prints memory.max=1.5G and cpu.max=150%" \
	bash -c "grep -qx 'memory.max=1.5G' '$TEST_TMP/tty.out' && grep -qx 'cpu.max=150%' '$TEST_TMP/tty.out'"
on_tty "$CGM" get --raw top/busy memory.max >"$TEST_TMP/raw.out"
check "get --raw on a terminal prints the kernel's numbers" grep -qx 'memory.max=1610612736' "$TEST_TMP/raw.out"
on_tty "$CGM" --raw get top/busy memory.max >"$TEST_TMP/raw2.out"
check "the global --raw does the same" grep -qx 'memory.max=1610612736' "$TEST_TMP/raw2.out"
on_tty "$CGM" get --json top/busy memory.max >"$TEST_TMP/json.out"
check "get --json on a terminal stays raw" grep -q '"memory.max":"1610612736"' "$TEST_TMP/json.out"
check "a value printed with units sets the same value again" bash -c "
	'$CGM' set top/idle memory.max=\$(sed -n 's/^memory.max=//p' '$TEST_TMP/tty.out') cpu.max=\$(sed -n 's/^cpu.max=//p' '$TEST_TMP/tty.out') &&
	[ \"\$('$CGM' get top/idle memory.max cpu.max)\" = \"\$(cat '$TEST_TMP/pipe.out')\" ]"
on_tty "$CGM" stat top/busy >"$TEST_TMP/stat-tty.out"
check "stat on a terminal shows CPU time in seconds and memory with a unit" \
	bash -c "grep -Eq '^cpu.usage_usec [0-9]+\\.[0-9]{3}s\$' '$TEST_TMP/stat-tty.out' && grep -Eq '^memory.current [0-9.]+[KMG]?\$' '$TEST_TMP/stat-tty.out'"
on_tty "$CGM" top -b top >"$TEST_TMP/top-tty.out"
check "top -b on a terminal shows busy's memory.max as 1.5G" grep -Eq ' 1\.5G +1 +64 .* busy$' "$TEST_TMP/top-tty.out"
on_tty "$CGM" top -b --raw top >"$TEST_TMP/top-raw.out"
check "top -b --raw shows it as 1610612736" grep -Eq ' 1610612736 +1 +64 .* busy$' "$TEST_TMP/top-raw.out"
on_tty "$CGM" whoami >"$TEST_TMP/whoami.out"
check "whoami on a terminal still answers" grep -q '^home: ' "$TEST_TMP/whoami.out"
LC_ALL=C on_tty "$CGM" tree top >"$TEST_TMP/tree-tty.out"
check "the tree on a terminal shows the limits with units" grep -q 'busy  memory.max=1.5G  pids.max=64  cpu.max=150%' "$TEST_TMP/tree-tty.out"
else
	ok "# SKIP units on a terminal: no script(1) to give cgm one"
fi

# --- the tree: UTF-8 rails, or ASCII ones ------------------------------------------------------
LC_ALL=C "$CGM" tree top >"$TEST_TMP/tree-c.out"
check "LC_ALL=C: the tree is drawn in ASCII (|-- and \`--)" \
	bash -c "grep -q '^|-- busy' '$TEST_TMP/tree-c.out' && grep -q '^\`-- idle' '$TEST_TMP/tree-c.out' && grep -q '^|   \`-- er' '$TEST_TMP/tree-c.out'"
check "LC_ALL=C: the tree has no byte above 0x7f" bash -c "! LC_ALL=C grep -q \$'[\\x80-\\xff]' '$TEST_TMP/tree-c.out'"
if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
	LC_ALL=C.UTF-8 "$CGM" tree top >"$TEST_TMP/tree-u.out"
	check "LC_ALL=C.UTF-8: the tree is drawn with box-drawing characters" \
		bash -c "grep -q '^├── busy' '$TEST_TMP/tree-u.out' && grep -q '^└── idle' '$TEST_TMP/tree-u.out'"
else
	ok "# SKIP no C.UTF-8 locale here"
fi
check "the tree through a pipe keeps the raw limits" grep -q 'busy  memory.max=1610612736  pids.max=64  cpu.max="150000 100000"' "$TEST_TMP/tree-c.out"

# --- a user sees its own subtree, and only that --------------------------------------------------
check "root makes a home for uid $UID_A" bash -c "'$CGM' create user-A && '$CGM' chown user-A $UID_A && '$CGM' create user-A/job"
as_uid "$UID_A" "$CGM" top -b -s path >"$TEST_TMP/a.out" 2>"$TEST_TMP/a.err"
check "uid $UID_A's top shows its home and its child, nothing else" \
	test "$(last_snapshot "$TEST_TMP/a.out" | awk '{ print $8 }' | tr '\n' ' ')" = "$BASE/user-A job "
expect_exit "uid $UID_A cannot watch another subtree with top" 3 "top" as_uid "$UID_A" "$CGM" top -b "$T"
expect_exit "uid $UID_A cannot stat -r another subtree" 3 "stat" as_uid "$UID_A" "$CGM" stat -r "$T"

kill -KILL "$SPIN" 2>/dev/null
wait "$SPIN" 2>/dev/null
finish
