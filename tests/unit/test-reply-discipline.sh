#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every string that leaves cgmd goes through daemon/reply.c (libdbus aborts on invalid UTF-8,
# and cgroup names, /proc and NSS give arbitrary bytes). This test fails when any other
# daemon file appends a string to a message, builds an error reply, or appends strings with
# dbus_message_append_args itself. TAP output.
set -u
srcdir=${srcdir:-.}
n=0
fail=0
echo "1..3"
check() { # check DESCRIPTION REGEX
	n=$((n + 1))
	hits=$(grep -nE "$2" "$srcdir"/daemon/*.c | grep -v "^$srcdir/daemon/reply.c:")
	if [ -z "$hits" ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		echo "$hits" | sed 's/^/# /'
		fail=1
	fi
}
check "no string is appended outside daemon/reply.c" 'append_basic *\([^;]*DBUS_TYPE_(STRING|OBJECT_PATH|SIGNATURE)'
check "no error reply is built outside daemon/reply.c" 'dbus_message_new_error'
check "no dbus_message_append_args outside daemon/reply.c" 'dbus_message_append_args'
exit $fail
