#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Sessions past fs.inotify.max_user_watches: cgmd watches every session leaf's cgroup.events
# to remove it as soon as it empties, and at 10,000 sessions that limit (8,192 on some
# kernels) can be reached. A login must not fail for it, and its leaf must still go once empty:
# the daemon checks such sessions periodically, every 2 s while there are any (as on pure
# cgroup v1), and says so once in its log. The limit is per user and the daemon runs as root,
# so the test cannot lower it for cgmd alone without touching the host: cgmd's test-only
# CGMD_TEST_NO_WATCHES makes every inotify_add_watch() fail with ENOSPC, as the kernel does at
# the limit.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
require_root
HOSTILE=${HOSTILE:-$(dirname "$FORKER")/hostile}
[ -x "$HOSTILE" ] || skip_all "tests/integration/hostile not built"
[ -n "$(v2_base)" ] || skip_all "no cgroup2 hierarchy: without cgroup.events the daemon never watches"

# Root's logins get sessions here (the default policy excludes root).
printf 'exclude =\n' >"$TEST_TMP/cgm.conf"
CGMD_TEST_NO_WATCHES=1 start_daemon -c "$TEST_TMP/cgm.conf" || { not_ok "cgmd starts"; finish; exit 1; }
DIR=$(v2_base)
API=$(api_base)

# OpenSession from a process that exits right after: its leaf is empty from then on.
leaves=()
ids=()
for i in 1 2 3; do
	out=$("$HOSTILE" call OpenSession 'sa{ss}' root 0 2>&1)
	id=$(sed -n 2p <<<"$out")
	path=$(sed -n 3p <<<"$out")
	if [ "$(head -n1 <<<"$out")" = OK ] && [ -n "$id" ] && [ "${path#"$API"/}" != "$path" ]; then
		ok "OpenSession $i succeeds though no watch can be added ($id)"
	else
		not_ok "OpenSession $i succeeds though no watch can be added"; diag "$out"
	fi
	ids+=("$id")
	leaves+=("$DIR/${path#"$API"/}")
done
for i in 0 1 2; do
	check "the empty leaf of session ${ids[$i]} is removed by the periodic check within 5 s" \
		wait_until test ! -d "${leaves[$i]}"
done
check "the daemon lists none of them afterwards" bash -c "! '$CGM' sessions | grep -Eq '${ids[0]}|${ids[1]}|${ids[2]}'"
check "the watch limit is logged once, not per login" \
	bash -c "[ \"\$(grep -c 'max_user_watches is reached' '$TEST_TMP/cgmd.log')\" = 1 ]"
finish
