#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The generated man pages (docs/man/*, from *.in) pass `mandoc -T lint` with no error and no
# warning: no bad character, no unknown macro, no placeholder left. Style hints are not
# counted. TAP; skips without mandoc. Run from the build directory (make check does).
dir=${MAN_DIR:-docs/man}
if ! command -v mandoc >/dev/null 2>&1; then
	echo "1..0 # SKIP mandoc not installed (apt-get install mandoc)"
	exit 0
fi
pages="cgmd.8 cgm.1 libcgm.3 cgm.conf.5 pam_cgm.8"
set -- $pages
echo "1..$(($# * 2))"
n=0
for p in $pages; do
	n=$((n + 1))
	if [ ! -r "$dir/$p" ]; then
		echo "not ok $n - $p: $dir/$p was not generated"
	elif out=$(mandoc -T lint -W warning "$dir/$p" 2>&1) && [ -z "$out" ]; then
		echo "ok $n - $p: mandoc -T lint -W warning is clean"
	else
		echo "not ok $n - $p: mandoc -T lint -W warning"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
	n=$((n + 1))
	if [ -r "$dir/$p" ] && ! grep -n '@[A-Za-z_]*@' "$dir/$p" | grep -v '@include' | grep -q . &&
		head -n 3 "$dir/$p" | grep -q '^\.TH .*"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]" "cgm [0-9]'; then
		echo "ok $n - $p: version, date and paths substituted"
	else
		echo "not ok $n - $p: a placeholder is left or .TH lacks the date and version"
		grep -n '@[A-Za-z_]*@\|^\.TH' "$dir/$p" 2>/dev/null | sed 's/^/# /'
	fi
done
