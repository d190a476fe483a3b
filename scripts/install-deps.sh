#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install what building and testing cgm needs on Debian/Ubuntu (run as root).
set -eu
# dpkg-dev, debhelper, lintian: the .debs (scripts/build-debs.sh); mandoc: tests/man-lint.sh.
# zsh: the zsh completion check of test-watch.sh; python3: JSON and xattr checks.
# qemu-system-x86, qemu-utils, mmdebstrap, e2fsprogs: the VM and booted-guest tiers (tests/vm,
# tests/guest; their harnesses also install what is missing).
PACKAGES="build-essential autoconf automake libtool pkg-config
libdbus-1-dev libcap-dev libcmocka-dev libpam0g-dev pamtester
dbus-bin libglib2.0-bin systemd util-linux socat valgrind libnss-extrausers
clang libclang-rt-14-dev
dpkg-dev debhelper lintian mandoc
zsh python3
qemu-system-x86 qemu-utils mmdebstrap e2fsprogs"
missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing:$missing; run as root (or: sudo $0)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
