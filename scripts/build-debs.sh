#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build the four Debian packages (cgmd, libpam-cgm, libcgm0, libcgm-dev) from this tree and
# check them with lintian. The source tree stays clean: the files of the tree (git's list in a
# checkout, else everything but build directories) are copied to OUT/src and
# dpkg-buildpackage runs there, so the .debs land in OUT (default: build-deb/ at the top).
#
#   scripts/build-debs.sh [OUT]
#
# Environment: DEB_BUILD_OPTIONS (default nocheck: tests/run-all.sh runs the suite itself),
# CGM_NO_LINTIAN=1 skips lintian. Exit status: 0 when the packages were built and lintian
# reports no error and no warning; the lintian report is OUT/lintian.txt.
# Needs: dpkg-dev, debhelper, fakeroot (or root), lintian (scripts/install-deps.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build-deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
case "$out/" in "$top/debian/"*) echo "build-debs: OUT may not be inside debian/" >&2; exit 2 ;; esac

# A fresh copy of the source files.
rm -rf "$out/src"
mkdir -p "$out/src"
if [ -e "$top/.git" ] && git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Tracked and new (not ignored) files; a tracked file deleted in the work tree is left out.
	(cd "$top" && git ls-files -z --cached --others --exclude-standard) |
		(cd "$top" && while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) |
		(cd "$top" && tar --null -T - -cf -) | tar -C "$out/src" -xf -
else
	# A release tarball: everything but build output.
	(cd "$top" && tar --exclude='./build-*' --exclude='./build' --exclude=./autom4te.cache \
		--exclude=./debian/tmp --exclude=./debian/.debhelper -cf - .) | tar -C "$out/src" -xf -
fi
rm -f "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes

export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS-nocheck}
start=$(date +%s)
# -b: binary packages only (a native source package is the tree itself); -us -uc: unsigned.
(cd "$out/src" && dpkg-buildpackage -us -uc -b -j"$(nproc 2>/dev/null || echo 2)") >"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log"
	echo "build-debs: dpkg-buildpackage failed, see $out/build.log" >&2
	exit 1
}
echo "build-debs: built in $(($(date +%s) - start)) s:"
(cd "$out" && ls -1 ./*.deb)

[ "${CGM_NO_LINTIAN:-0}" = 1 ] && exit 0
changes=$(ls "$out"/cgm_*.changes)
# --fail-on error,warning: an E: or W: tag fails; I: and P: tags are shown, not counted.
if lintian --fail-on error,warning --info --display-info "$changes" >"$out/lintian.txt" 2>&1; then
	echo "build-debs: lintian: no error, no warning ($(grep -c '^[IP]: ' "$out/lintian.txt" || true) info/pedantic tags, $out/lintian.txt)"
else
	cat "$out/lintian.txt"
	echo "build-debs: lintian reports errors or warnings" >&2
	exit 1
fi
