#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Callers in user, pid, mount and cgroup namespaces (issue 9, docs/security.md): clients in
# containers reach cgmd through the socket's directory bind-mounted at /run/cgm and use `cgm`
# unchanged; uids, pids and paths in replies are in the caller's terms; root of a user namespace
# acts for the uids it maps inside its own home (nested homes, depth 3); every refusal names its
# error and leaves an audit line; a process that leaves its namespaces or gets a uid map after it
# connected is refused.
#
# Containers are made with tests/integration/nsexec (maps written by the parent) and are long
# lived: a bash reading one command per line from a fifo, so the test can interleave what root
# does on the host with what the container does. Host uids exist nowhere on the host:
#   ns1 maps its 0..65535 to host 100000..165535: its root is host 100000, its uid 1000 host 101000
#   ns2 (inside ns1) maps its 0..999 to ns1's 1000..1999: its root is host 101000, its uid 5 host 101005
# Homes: H1 = <base>/h1 for host 100000 (by host root), H2 = H1/a for ns1's uid 1000 (by ns1's root),
# H3 = H2/b for ns2's uid 5 (by ns2's root).
. "$(dirname "$0")/lib.sh"
require_root
: "${NSEXEC:?set NSEXEC to the nsexec helper}"
: "${NSCLIENT:?set NSCLIENT to the nsclient helper}"
[ -x "$NSEXEC" ] && [ -x "$NSCLIENT" ] || skip_all "nsexec or nsclient is not built"
"$NSEXEC" --map 0:100000:65536 -- true 2>"$TEST_TMP/userns.err" ||
	skip_all "no user namespaces here: $(head -n1 "$TEST_TMP/userns.err")"

# The socket in a directory of its own, bind-mounted into the containers as /run/cgm (the
# documented way: a restarted daemon's new socket is seen through the directory).
SOCKDIR=$TEST_TMP/run-cgm
mkdir -m 0755 "$SOCKDIR"
SOCK=$SOCKDIR/cgm.sock
export CGM_SOCKET=$SOCK
CT_DIR=$TEST_TMP/ct
mkdir -m 0755 "$CT_DIR"

NS1_ROOT=100000 NS1_U1000=101000 NS1_U2000=102000 NS2_U5=101005
MAP1=0:100000:65536 MAP2=0:1000:1000
BIND=(--tmpfs /run --bind "$SOCKDIR:/run/cgm")
# Inside a container: run as one of its uids (its root has CAP_SETUID there).
as_in() { echo "setpriv --reuid=$1 --regid=$1 --clear-groups --inh-caps=-all"; }

# ---- containers ----------------------------------------------------------------------------
# A container is `nsexec ARGS -- bash` reading one command per line; each command runs in a
# subshell with its stdout and stderr going back, then "@@rc=N". "exit" ends it.
declare -A CT_IN CT_OUT CT_PID CT_BG
CT_LOOP='while IFS= read -r ct_cmd && [ "$ct_cmd" != exit ]; do ( eval "$ct_cmd" ) </dev/null 2>&1; echo "@@rc=$?"; done'
CT_OUTPUT=$TEST_TMP/ct.out

# ct_start NAME PARENT PLACE NSEXEC-ARGS...: start container NAME, from the host (PARENT "-")
# or from inside container PARENT (a nested level: its nsexec writes the maps as PARENT's
# root). PLACE ("-" for none): the cgroup the container's process is moved to before it
# unshares its cgroup namespace, by root (relative to the base) or by PARENT's root (as PARENT
# names it). CT_PID[NAME] is that process's pid as its starter sees it.
ct_start() {
	local name=$1 parent=$2 place=$3; shift 3
	local d=$CT_DIR/$name in out ready go pid f
	for f in in out ready go; do mkfifo -m 0666 "$d.$f" || return 1; done
	exec {in}<>"$d.in" {out}<>"$d.out" {ready}<>"$d.ready" {go}<>"$d.go"
	CT_IN[$name]=$in CT_OUT[$name]=$out
	if [ "$parent" = - ]; then
		"$NSEXEC" --ready-fd "$ready" --wait-fd "$go" "$@" -- env -u CGM_SOCKET bash -c "$CT_LOOP" \
			<&"$in" >&"$out" 2>&1 &
		CT_BG[$name]=$!
		BG_PIDS+=("$!")
	else
		ct_run "$parent" "$(printf '%q ' "$NSEXEC" --ready-fd 8 --wait-fd 9 "$@" -- env -u CGM_SOCKET \
			bash -c "$CT_LOOP") <>$d.in 1<>$d.out 2>&1 8<>$d.ready 9<>$d.go &" ||
			{ exec {ready}>&- {go}>&-; return 1; }
	fi
	if ! IFS= read -r -t 20 pid <&"$ready"; then
		exec {ready}>&- {go}>&-
		ct_abandon "$name" "did not start"
		return 1
	fi
	CT_PID[$name]=$pid
	if [ "$place" != - ]; then
		if [ "$parent" = - ]; then "$CGM" move "$place" "$pid" >"$CT_OUTPUT" 2>&1
		else ct_run "$parent" "$CGM move $place $pid"; fi ||
			{ exec {ready}>&- {go}>&-; ct_abandon "$name" "could not be placed in $place: $(cat "$CT_OUTPUT")"; return 1; }
	fi
	printf x >&"$go"
	exec {ready}>&- {go}>&-
	ct_run "$name" "echo up" && [ "$(cat "$CT_OUTPUT")" = up ] || { ct_abandon "$name" "does not answer"; return 1; }
}

# ct_abandon NAME WHY: a container that failed to start: say why, end it, and make every later
# ct_run on it fail at once instead of waiting for an answer.
ct_abandon() {
	local in=${CT_IN[$1]} out=${CT_OUT[$1]} f
	diag "container $1 $2"
	while IFS= read -r -t 0.2 f <&"$out"; do diag "$1: $f"; done
	if [ -n "${CT_BG[$1]:-}" ]; then kill -KILL "${CT_BG[$1]}" 2>/dev/null; wait "${CT_BG[$1]}" 2>/dev/null; fi
	exec {in}>&- {out}>&-
	unset "CT_IN[$1]" "CT_OUT[$1]" "CT_BG[$1]"
}

# ct_run NAME COMMAND: run the one-line COMMAND in container NAME; its output in $CT_OUTPUT,
# its exit status returned (124 when the container does not answer within 30 s).
ct_run() {
	local name=$1 cmd=$2 line i in=${CT_IN[$1]:-} out=${CT_OUT[$1]:-}
	: >"$CT_OUTPUT"
	[ -n "$in" ] || { echo "no container $name" >"$CT_OUTPUT"; return 126; }
	case $cmd in *$'\n'*) echo "ct_run: one line only" >"$CT_OUTPUT"; return 126 ;; esac
	printf '%s\n' "$cmd" >&"$in"
	for ((i = 0; i < 100000; i++)); do
		if ! IFS= read -r -t 30 line <&"$out"; then
			echo "(container $name gave no answer within 30 s)" >>"$CT_OUTPUT"; return 124
		fi
		case $line in
		*"@@rc="*) [ -n "${line%%@@rc=*}" ] && printf '%s\n' "${line%%@@rc=*}" >>"$CT_OUTPUT"
			return "${line##*@@rc=}" ;;
		esac
		printf '%s\n' "$line" >>"$CT_OUTPUT"
	done
	return 125
}

# ct_stop NAME: end the container's shell (its namespaces go with it).
ct_stop() {
	local in=${CT_IN[$1]:-} out=${CT_OUT[$1]:-}
	[ -n "$in" ] || return 0
	printf 'exit\n' >&"$in"
	[ -n "${CT_BG[$1]:-}" ] && { timeout 10 tail --pid="${CT_BG[$1]}" -f /dev/null; wait "${CT_BG[$1]}" 2>/dev/null; }
	exec {in}>&- {out}>&-
	unset "CT_IN[$1]" "CT_OUT[$1]"
}

# has_line DESCRIPTION LINE TEXT: TEXT has LINE as a whole line.
has_line() { if grep -qxF -- "$2" <<<"$3"; then ok "$1"; else not_ok "$1"; diag "want line: $2" "got: $3"; fi; }

ct_fail_diag() { diag "in $1: $2" "exit: $3${4:+ (want $4)}" "output: $(cat "$CT_OUTPUT")"; }

# ct_check NAME DESCRIPTION COMMAND: COMMAND succeeds in the container.
ct_check() {
	local rc=0
	ct_run "$1" "$3" || rc=$?
	if [ $rc = 0 ]; then ok "$2"; else not_ok "$2"; ct_fail_diag "$1" "$3" $rc; fi
}

# ct_is NAME DESCRIPTION EXPECTED COMMAND: COMMAND succeeds and prints exactly EXPECTED
# (lines compared after sorting).
ct_is() {
	local rc=0 got
	ct_run "$1" "$4" || rc=$?
	got=$(sort "$CT_OUTPUT")
	if [ $rc = 0 ] && [ "$got" = "$(sort <<<"$3")" ]; then ok "$2"; else
		not_ok "$2"; ct_fail_diag "$1" "$4" $rc; diag "want output: $3"; fi
}

# ct_has NAME DESCRIPTION COMMAND LINE...: COMMAND succeeds and prints each LINE as a whole line.
ct_has() {
	local name=$1 desc=$2 cmd=$3 rc=0 l missing=0; shift 3
	ct_run "$name" "$cmd" || rc=$?
	for l in "$@"; do grep -qxF -- "$l" "$CT_OUTPUT" || missing=1; done
	if [ $rc = 0 ] && [ $missing = 0 ]; then ok "$desc"; else
		not_ok "$desc"; ct_fail_diag "$name" "$cmd" $rc; diag "want lines: $*"; fi
}

# ct_grep NAME DESCRIPTION COMMAND TEXT: COMMAND succeeds in NAME and its output holds TEXT.
ct_grep() {
	local rc=0
	ct_run "$1" "$3" || rc=$?
	if [ $rc = 0 ] && grep -qF -- "$4" "$CT_OUTPUT"; then ok "$2"; else
		not_ok "$2"; ct_fail_diag "$1" "$3" $rc; diag "want: $4"; fi
}

# ct_expect NAME DESCRIPTION CODE PATTERN COMMAND: COMMAND exits CODE, output matching PATTERN.
ct_expect() {
	local rc=0
	ct_run "$1" "$5" || rc=$?
	if [ $rc = "$3" ] && grep -Eq -- "$4" "$CT_OUTPUT"; then ok "$2"; else
		not_ok "$2"; ct_fail_diag "$1" "$5" $rc "$3"; diag "want output matching: $4"; fi
}

# audited DESCRIPTION ACTION HOST-UID RESULT [MORE]: cgmd logged, since log_mark, an audit
# line for ACTION by HOST-UID with RESULT (an error name or ok) and the extended regex MORE.
log_mark() { LOG_MARK=$(wc -l <"$TEST_TMP/cgmd.log"); }
audited() {
	local lines
	lines=$(tail -n +$((LOG_MARK + 1)) "$TEST_TMP/cgmd.log" | grep -E "audit: uid=$3 pid=-?[0-9]+ action=$2 " || true)
	if grep -E -- "result=$4" <<<"$lines" | grep -Eq -- "${5:-.}"; then ok "$1"; else
		not_ok "$1"; diag "want an audit line action=$2 uid=$3 result=$4 ${5:-}" "got: ${lines:-(none)}"; fi
}

# ct_refused NAME DESCRIPTION CODE PATTERN ACTION HOST-UID COMMAND: COMMAND is refused (exit
# CODE, output matching PATTERN), an audit line says PermissionDenied for ACTION by HOST-UID,
# and nothing changed on disk.
ct_refused() {
	local before
	before=$(snapshot)
	log_mark
	ct_expect "$1" "$2" "$3" "$4" "$7"
	audited "... and audited as refused ($5 by uid $6)" "$5" "$6" PermissionDenied
	if [ "$(snapshot)" = "$before" ]; then ok "... and nothing changed on disk"; else not_ok "... and nothing changed on disk"; fi
}

# ---- the daemon, and root's part ---------------------------------------------------------------
start_daemon || { not_ok "cgmd starts"; finish; exit 1; }
ok "cgmd starts on $SOCK"
check "the socket is connectable by anyone (0666)" test "$(stat -c %a "$SOCK")" = 666
API_BASE=$("$CGM" whoami | sed -n 's/^home: //p')
H1=$API_BASE/h1
V2=$(v2_base)
check "root creates h1" "$CGM" create h1
check "root delegates h1 to host uid $NS1_ROOT (ns1's root)" "$CGM" chown h1 "$NS1_ROOT"
check "root creates park (a leaf of its own, outside h1)" "$CGM" create park
sleep 600 </dev/null >/dev/null 2>&1 &
ROOT_SLEEP=$!
BG_PIDS+=("$ROOT_SLEEP")

# ---- a client in a user namespace connects --------------------------------------------------
ns_once() { "$NSEXEC" --map "$MAP1" "${BIND[@]}" "$@"; }
check "ns1's root reaches cgmd through /run/cgm, cgm unchanged (default socket)" \
	ns_once -- env -u CGM_SOCKET "$CGM" ping
RUNNER_CG=$("$CGM" cgroup $$)
OUT=$(ns_once -- env -u CGM_SOCKET "$CGM" whoami 2>&1)
has_line "whoami from ns1's root says uid 0 (its own terms)" "uid: 0" "$OUT"
has_line "... and names H1 as its home (no cgroup namespace: host paths)" "home: $H1" "$OUT"
OUT=$(ns_once --uid 1000 -- env -u CGM_SOCKET "$CGM" whoami 2>&1)
has_line "whoami from ns1's uid 1000 says uid 1000" "uid: 1000" "$OUT"
has_line "... with no home yet" "home: (none delegated)" "$OUT"
OUT=$(ns_once -- env -u CGM_SOCKET "$NSCLIENT" whoami 2>&1)
has_line "libcgm works unchanged inside (nsclient whoami)" "whoami: ok uid=0 home=$H1 cgroup=$RUNNER_CG" "$OUT"

# ---- c1: ns1 with its own pid and cgroup namespaces, rooted at H1 -----------------------------
# Root moves c1's shell into h1 before it unshares its cgroup namespace, as a runtime puts a
# container's init in the container's cgroup; c1's root then moves itself into /init.
if ct_start c1 - h1 --map "$MAP1" --pid --cgroup "${BIND[@]}"; then
	ok "c1 starts (user, pid, mount and cgroup namespaces; socket directory bind-mounted)"
else
	not_ok "c1 starts"; diag "$(tail -n 20 "$TEST_TMP/cgmd.log")"; finish; exit 1
fi
C1_HOSTPID=${CT_PID[c1]}
ct_is c1 "c1's shell is pid 1 of its pid namespace" 1 'echo $$'
ct_is c1 "c1's root creates /init by an absolute path read in its cgroup namespace" /init "$CGM create /init"
check "... which is H1/init on the host" test -d "$(base_dirs | head -n1)/h1/init"
ct_check c1 "c1's root moves its own shell (pid 1) from H1 into /init" "$CGM move /init 1"
check "root sees c1's shell in $H1/init (host view unchanged)" bash -c "'$CGM' cgroup $C1_HOSTPID | grep -qxF '$H1/init'"
ct_has c1 "whoami in c1: uid 0, home /, cgroup /init (its cgroup namespace's terms)" "$CGM whoami" \
	"uid: 0" "home: /" "cgroup: /init"
ct_is c1 "Create's reply is in c1's terms (relative path q)" /q "$CGM create q"
ct_is c1 "Create's reply is in c1's terms (absolute path /p)" /p "$CGM create /p"
ct_is c1 "List in c1's terms" "$(printf '/init\n/p\n/q')" "$CGM ls /"
check "root lists the same cgroups as host paths" test "$("$CGM" ls h1 | sort)" = "$(printf '%s\n' "$H1/init" "$H1/p" "$H1/q")"
ct_is c1 "ProcCgroup of its pid 1 is /init" /init "$CGM cgroup 1"
# Other D-Bus implementations from inside: each sends the uid it sees (0) in AUTH EXTERNAL,
# which is not the host uid the socket reports, and falls back to ANONYMOUS.
NS_ADDR=unix:path=/run/cgm/cgm.sock
if command -v busctl >/dev/null; then
	ct_grep c1 "busctl (sd-bus) in c1: WhoAmI answers uid 0 and home /" \
		"busctl --address=$NS_ADDR call org.cgm /org/cgm/Manager org.cgm.Manager1 WhoAmI" \
		'ussa{ss} 0 "/" "/init"'
else ok "# SKIP busctl not installed"; fi
if command -v gdbus >/dev/null; then
	ct_grep c1 "gdbus (GDBus) in c1: WhoAmI answers uid 0" \
		"gdbus call --address $NS_ADDR --dest org.cgm --object-path /org/cgm/Manager --method org.cgm.Manager1.WhoAmI" \
		"(uint32 0, '/', '/init'"
else ok "# SKIP gdbus not installed"; fi
if command -v dbus-send >/dev/null; then
	ct_grep c1 "dbus-send (libdbus) in c1: WhoAmI answers uid 0" \
		"dbus-send --peer=$NS_ADDR --print-reply --dest=org.cgm /org/cgm/Manager org.cgm.Manager1.WhoAmI" \
		"uint32 0"
else ok "# SKIP dbus-send not installed"; fi

# Procs in c1's pid namespace: two sleeps of c1 (moved into /p by c1's root, by c1's pids)
# and root's sleep (placed there by root) share /p; c1 sees its two, by its own numbers.
ct_run c1 "sleep 600 </dev/null >/dev/null 2>&1 & a=\$!; sleep 600 </dev/null >/dev/null 2>&1 & b=\$!; $CGM move /p \$a \$b && echo \$a \$b"
read -r S1 S2 <"$CT_OUTPUT"
case "$S1 $S2" in
[1-9]*" "[1-9]*) ok "c1's root moves two of its processes into /p (by its pids $S1 $S2)" ;;
*) not_ok "c1's root moves two of its processes into /p"; diag "$(cat "$CT_OUTPUT")"; S1=x S2=x ;;
esac
check "root places its own sleep in H1/p" "$CGM" move h1/p "$ROOT_SLEEP"
ct_is c1 "Procs /p in c1 lists its two sleeps by c1's pids, not root's sleep" "$(printf '%s\n' "$S1" "$S2")" "$CGM procs /p"
ct_is c1 "... the same pids its own /proc shows in /p" "$(printf '%s\n' "$S1" "$S2")" \
	"for p in /proc/[0-9]*; do grep -qx '0::/p' \$p/cgroup 2>/dev/null && echo \${p#/proc/}; done; true"
check "root's Procs of H1/p lists three host pids, root's sleep among them" \
	bash -c "'$CGM' procs h1/p | grep -c . | grep -qx 3 && '$CGM' procs h1/p | grep -qx $ROOT_SLEEP"
ct_is c1 "ProcCgroup of c1's pid $S1 is /p" /p "$CGM cgroup $S1"

# ---- refusals of c1's root --------------------------------------------------------------------
ct_refused c1 "c1's root cannot Chown to a uid its namespace does not map (70000)" 3 "not mapped" \
	Chown "$NS1_ROOT" "$CGM chown /q 70000"
ct_refused c1 "c1's root cannot Chown its home itself" 3 "" Chown "$NS1_ROOT" "$CGM chown / 1000"
ct_refused c1 "c1's root cannot set its own home's limits" 3 "home" Set "$NS1_ROOT" "$CGM set / pids.max=100000"
ct_expect c1 "... and the refusal names it as c1 does (uid 0, home /), not by its host uid" 3 \
	"uid 0 may not change \`/\`: it is your home" "$CGM set / pids.max=100000"
ct_refused c1 "c1's root cannot act outside its home, named as its cgroup namespace shows it (/../park)" 3 "" \
	Create "$NS1_ROOT" "$CGM create /../park/evil"
ct_refused c1 "c1's root cannot remove root's park (/../park)" 3 "" Remove "$NS1_ROOT" "$CGM rm /../park"
ct_expect c1 "a \`..\` anywhere but at the start of an absolute path is an invalid name" 5 "" "$CGM create /p/../../park/evil"

# ---- Kill: c1's root signals its mapped uids' processes inside its home, not root's ------------
log_mark
ct_check c1 "c1's root sends SIGTERM to /p" "$CGM kill -s TERM /p"
audited "... audited: 2 signalled, root's sleep refused" Kill "$NS1_ROOT" ok "signalled=2 refused=1"
check "c1's sleeps in /p are gone" wait_until bash -c "test \"\$('$CGM' procs h1/p)\" = $ROOT_SLEEP"
check "root's sleep in H1/p still runs" kill -0 "$ROOT_SLEEP"

# ---- depth 2: c1's root delegates H1/a to its uid 1000 ------------------------------------------
ct_check c1 "c1's root creates /a" "$CGM create /a"
ct_check c1 "c1's root delegates /a to its uid 1000 (nested home H2)" "$CGM chown /a 1000"
if [ -n "$V2" ]; then
	check "v2: H2's directory belongs to host uid $NS1_U1000" test "$(stat -c %u "$V2/h1/a")" = "$NS1_U1000"
	check "v2: H2's cgroup.procs belongs to host uid $NS1_U1000" test "$(stat -c %u "$V2/h1/a/cgroup.procs")" = "$NS1_U1000"
fi
AS1000=$(as_in 1000)
ct_has c1 "whoami as c1's uid 1000: uid 1000, home /a" "$AS1000 $CGM whoami" "uid: 1000" "home: /a"
ct_is c1 "c1's uid 1000 creates a child with a limit" /a/x "$AS1000 $CGM create x pids.max=7"
check "... pids.max is 7 on disk" test "$(cat "$(ctl_base pids)/h1/a/x/pids.max")" = 7
ct_refused c1 "c1's uid 1000 cannot raise its own (nested) home's limit" 3 "home" Set "$NS1_U1000" \
	"$AS1000 $CGM set '' pids.max=100000"
for f in pids.max memory.max memory.limit_in_bytes; do
	for d in $(base_dirs); do
		[ -e "$d/h1/a/$f" ] || continue
		v=$(cat "$d/h1/a/$f")
		check "the kernel refuses host uid $NS1_U1000 writing its home's $f directly (EACCES)" \
			bash -c "setpriv --reuid=$NS1_U1000 --regid=$NS1_U1000 --clear-groups sh -c 'echo $v >$d/h1/a/$f' 2>&1 |
				grep -q 'Permission denied'"
	done
done
ct_check c1 "c1's root (the home above) sets H2's limit" "$CGM set /a pids.max=60"
check "... pids.max is 60 on disk" test "$(cat "$(ctl_base pids)/h1/a/pids.max")" = 60
ct_refused c1 "a plain uid in a user namespace has no root powers: uid 2000 cannot Chown" 3 "" Chown \
	"$NS1_U2000" "$(as_in 2000) $CGM chown /q 3000"
ct_refused c1 "c1's uid 1000 cannot Chown below its own home either" 3 "" Chown "$NS1_U1000" \
	"$AS1000 $CGM chown /a/x 1001"
ct_expect c1 "c1's root cannot Chown to uid 1000 again (it has a home: Exists)" 9 "" "$CGM chown /q 1000"
ct_expect c1 "c1's root cannot Chown below H2, another home (Busy)" 6 "" "$CGM chown /a/x 1500"

# ---- depth 3: c2, a user namespace inside c1's, maps ns1's 1000..1999 --------------------------
if ct_start c2 c1 - --map "$MAP2" --pid; then ok "c2 starts inside c1 (maps written by c1's root)"
else not_ok "c2 starts inside c1"; fi
ct_has c2 "whoami in c2: uid 0, home /a (c1's cgroup namespace)" "$CGM whoami" "uid: 0" "home: /a"
ct_check c2 "c2's root creates b in its home" "$CGM create b"
ct_check c2 "c2's root delegates b to its uid 5 (H3)" "$CGM chown b 5"
[ -n "$V2" ] && check "v2: H3's directory belongs to host uid $NS2_U5" test "$(stat -c %u "$V2/h1/a/b")" = "$NS2_U5"
AS5=$(as_in 5)
ct_has c2 "whoami as c2's uid 5: uid 5, home /a/b" "$AS5 $CGM whoami" "uid: 5" "home: /a/b"
ct_is c2 "c2's uid 5 creates H3/c with a limit" /a/b/c "$AS5 $CGM create c pids.max=5"
check "... pids.max is 5 on disk" test "$(cat "$(ctl_base pids)/h1/a/b/c/pids.max")" = 5
ct_refused c2 "c2's uid 5 cannot raise its own home's limit" 3 "home" Set "$NS2_U5" "$AS5 $CGM set '' pids.max=1000"
ct_check c2 "c2's root sets H3's limit" "$CGM set b pids.max=20"
check "... pids.max is 20 on disk" test "$(cat "$(ctl_base pids)/h1/a/b/pids.max")" = 20
ct_check c2 "c2's root creates d in its home" "$CGM create d"
ct_refused c2 "c2's root cannot Chown to a uid ns2 does not map (1500)" 3 "not mapped" Chown "$NS1_U1000" "$CGM chown d 1500"
ct_refused c2 "c2's root cannot act outside its home (/q is H1's)" 3 "" Create "$NS1_U1000" "$CGM create /q/evil"
ct_refused c2 "c2's root cannot Chown outside its home" 3 "" Chown "$NS1_U1000" "$CGM chown /q 6"
ct_refused c2 "c2's root cannot move its own shell: it sits in /init, outside its home" 3 "outside" Move \
	"$NS1_U1000" "$CGM move b/c 1"

# ---- level by level: c5 maps what c2 maps, without a pid namespace of its own ------------------
# c1's root puts a sleep of its uid 2000 (host 102000, not mapped in ns2) and one of its uid
# 1005 (ns2's uid 5) in H2/x; c5's root (host 101000) sees both by c1's pids and may act for
# the second only.
ct_run c1 "$(as_in 2000) sleep 600 </dev/null >/dev/null 2>&1 & echo \$!"
P2000=$(cat "$CT_OUTPUT")
ct_run c1 "$(as_in 1005) sleep 600 </dev/null >/dev/null 2>&1 & echo \$!"
P1005=$(cat "$CT_OUTPUT")
ct_check c1 "c1's root moves its uids 2000's and 1005's sleeps into H2/x (strictly below its home)" \
	"$CGM move /a/x $P2000 $P1005"
if ct_start c5 c1 - --map "$MAP2"; then ok "c5 starts inside c1 (user namespace only)"; else not_ok "c5 starts inside c1"; fi
ct_check c5 "c5's root moves the sleep of its uid 5 within its home (H2/x to H2/d)" "$CGM move /a/d $P1005"
ct_refused c5 "c5's root cannot move the sleep of ns1's uid 2000, which ns2 does not map" 3 "not mapped" Move \
	"$NS1_U1000" "$CGM move /a/d $P2000"
log_mark
ct_check c5 "c5's root sends SIGTERM to H2/x" "$CGM kill -s TERM /a/x"
audited "... audited: the unmapped uid's sleep refused, none signalled" Kill "$NS1_U1000" ok "signalled=0 refused=1"
ct_check c1 "... and ns1's uid 2000's sleep still runs" "kill -0 $P2000"
ct_stop c5

# ---- c3: a cgroup namespace rooted below the home -------------------------------------------
# The cgroup namespace is a delegation boundary (as cgroup2's nsdelegate makes it): c3's root
# acts in H1/q, its namespace's root, though its uid's home is H1; above it is "/..".
if ct_start c3 - h1/q --map "$MAP1" --cgroup "${BIND[@]}"; then ok "c3 starts, its cgroup namespace rooted at H1/q"
else not_ok "c3 starts"; fi
ct_has c3 "whoami in c3: uid 0, home / (its namespace's root, H1/q), cgroup /" "$CGM whoami" \
	"uid: 0" "home: /" "cgroup: /"
ct_is c3 "a relative path starts at c3's namespace root: r is H1/q/r" /r "$CGM create r"
ct_is c3 "an absolute path is read in c3's cgroup namespace: /r2 is H1/q/r2" /r2 "$CGM create /r2"
check "... H1/q/r and H1/q/r2 exist on disk" test -d "$(base_dirs | head -n1)/h1/q/r" -a -d "$(base_dirs | head -n1)/h1/q/r2"
ct_refused c3 "c3's root cannot act above its cgroup namespace's root (/../r3), in its uid's home" 3 "outside" \
	Create "$NS1_ROOT" "$CGM create /../r3"
ct_refused c3 "c3's root cannot set limits above its namespace's root (/../a)" 3 "" Set "$NS1_ROOT" \
	"$CGM set /../a pids.max=1"
ct_is c3 "ProcCgroup of c1's shell (its uid's process, outside the namespace) reads as the kernel shows it (/../init)" \
	"$(printf '/../init\n0::/../init')" "$CGM cgroup $C1_HOSTPID; grep '^0::' /proc/$C1_HOSTPID/cgroup"
ct_stop c3

# ---- c4: a cgroup namespace apart from the home: no home at all ------------------------------
if ct_start c4 - park --map "$MAP1" --cgroup "${BIND[@]}"; then ok "c4 starts, its cgroup namespace rooted at park (beside H1)"
else not_ok "c4 starts"; fi
ct_has c4 "whoami in c4: uid 0, no home" "$CGM whoami" "uid: 0" "home: (none delegated)" "cgroup: /"
ct_refused c4 "c4's root cannot create in its namespace (root's park)" 3 "" Create "$NS1_ROOT" "$CGM create x"
# A process outside its own namespace's root (moved there by root after it unshared): cgmd
# cannot tell where its "/" is, and says so rather than guess.
check "root moves c4's shell out of its namespace's root, into H1/q" "$CGM" move h1/q "${CT_PID[c4]}"
ct_expect c4 "... then c4's absolute paths are refused as NotSupported, saying why" 8 "cannot tell where" "$CGM create /x"
ct_stop c4

# ---- c0: ns1 without pid or cgroup namespaces, parked outside its home -------------------------
if ct_start c0 - park --map "$MAP1" "${BIND[@]}"; then ok "c0 starts, placed by root in park (outside H1)"
else not_ok "c0 starts"; fi
C0_HOSTPID=${CT_PID[c0]}
ct_has c0 "whoami in c0: uid 0, home and cgroup as host paths" "$CGM whoami" "uid: 0" "home: $H1" "cgroup: $API_BASE/park"
ct_refused c0 "c0's root cannot act outside its home (Create in park)" 3 "outside" Create "$NS1_ROOT" \
	"$CGM create $API_BASE/park/evil"
ct_refused c0 "c0's root cannot Chown outside its home" 3 "" Chown "$NS1_ROOT" "$CGM chown $API_BASE/park 1000"
ct_refused c0 "c0's root cannot move root's process (unmapped uid), though it is in H1" 3 "not mapped" Move \
	"$NS1_ROOT" "$CGM move $H1/q $ROOT_SLEEP"
ct_refused c0 "c0's root cannot move the test runner's shell (unmapped uid)" 3 "" Move \
	"$NS1_ROOT" "$CGM move $H1/q $$"
ct_refused c0 "c0's root cannot move its own shell: mapped, but outside its home" 3 "outside" Move \
	"$NS1_ROOT" "$CGM move $H1/q \$\$"
ct_refused c0 "c0's root cannot move c1's shell (mapped, in H1) to a destination outside its home" 3 "" \
	Move "$NS1_ROOT" "$CGM move $API_BASE/park $C1_HOSTPID"

# ---- leaving the namespaces after connecting -------------------------------------------------
ct_refused c0 "a client that unshares its cgroup namespace after connecting is refused" 1 \
	"create: error org\\.cgm\\.Error\\.PermissionDenied: .*left the cgroup namespace" Create "$NS1_ROOT" \
	"$NSCLIENT whoami unshare:cgroup create:$H1/left-cgroup"
ct_refused c1 "a client that unshares its user namespace after connecting is refused" 1 \
	"create: error org\\.cgm\\.Error\\.PermissionDenied: .*left the user namespace" Create "$NS1_ROOT" \
	"$NSCLIENT whoami unshare:user create:/left-user"
ct_refused c1 "a client that setns()es into c2's user namespace after connecting is refused" 1 \
	"create: error org\\.cgm\\.Error\\.PermissionDenied: .*left the user namespace" Create "$NS1_ROOT" \
	"$NSCLIENT whoami setns:/proc/${CT_PID[c2]}/ns/user create:/left-setns"

# ---- a uid map written after connect ----------------------------------------------------------
# Host uid 100000 makes a user namespace and leaves its map empty; nsclient connects (whoami:
# the overflow uid, not mapped in its namespace) and creates below its home as plain uid
# 100000; then the parent writes the map (which would make it root there) and the next
# request is refused.
for f in lm rd c2t t2c; do mkfifo -m 0666 "$CT_DIR/late.$f"; done
exec {LM}<>"$CT_DIR/late.lm" {RD}<>"$CT_DIR/late.rd" {C2T}<>"$CT_DIR/late.c2t" {T2C}<>"$CT_DIR/late.t2c"
setpriv --reuid=$NS1_ROOT --regid=$NS1_ROOT --clear-groups --inh-caps=-all \
	"$NSEXEC" --map 0:$NS1_ROOT:1 --late-map-fd $LM --ready-fd $RD -- "$NSCLIENT" whoami create:late-ok \
	signal:$C2T wait:$T2C create:late-refused >"$TEST_TMP/late.out" 2>&1 &
LATE=$!
BG_PIDS+=("$LATE")
IFS= read -r -t 20 x <&"$RD"; IFS= read -r -n 1 -t 20 x <&"$C2T"
log_mark
printf x >&"$LM"
IFS= read -r -t 20 mapped <&"$RD"
check "the parent wrote the map after the client connected" test "$mapped" = mapped
printf x >&"$T2C"
wait "$LATE"
exec {LM}>&- {RD}>&- {C2T}>&- {T2C}>&-
OUT=$(cat "$TEST_TMP/late.out")
has_line "before its map, whoami shows the overflow uid 65534 and uid $NS1_ROOT's home" \
	"whoami: ok uid=65534 home=$H1 cgroup=$RUNNER_CG" "$OUT"
has_line "before its map, it creates below its home as plain uid $NS1_ROOT" "create: ok $H1/late-ok" "$OUT"
if grep -Eq "^create: error org\\.cgm\\.Error\\.PermissionDenied: .*uid map" <<<"$OUT"; then
	ok "after the map is written, its next request is refused"
else not_ok "after the map is written, its next request is refused"; diag "$OUT"; fi
audited "... and audited as refused" Create "$NS1_ROOT" PermissionDenied
check "... and nothing was created" test ! -e "$(base_dirs | head -n1)/h1/late-refused"

# ---- a restarted daemon is reached through the bind-mounted directory ---------------------------
if stop_daemon; then ok "cgmd stops cleanly${CGM_TEST_VALGRIND:+ (valgrind: no leak, no error)}"; else
	not_ok "cgmd stops cleanly"; [ -f "$TEST_TMP/valgrind.log" ] && diag "$(cat "$TEST_TMP/valgrind.log")"; fi
start_daemon || not_ok "cgmd starts again"
ct_has c1 "c1 reaches the restarted cgmd through /run/cgm" "$CGM whoami" "uid: 0" "home: /"
ct_has c2 "c2 still acts in its home after the restart" "$CGM ls b" "/a/b/c"

ct_stop c2
ct_stop c0
ct_stop c1
finish
