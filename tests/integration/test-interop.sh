#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Independent D-Bus implementations talk to cgmd: systemd's busctl, GLib's gdbus, and the
# reference implementation's dbus-send, each over the peer-to-peer socket.
. "$(dirname "$0")/lib.sh"
require_root
start_daemon || { not_ok "cgmd starts"; finish; exit 1; }
ADDR="unix:path=$SOCK"
OBJ=/org/cgm/Manager
IF=org.cgm.Manager1

if command -v busctl >/dev/null; then
	check "busctl introspect lists every method" bash -c "busctl --address='$ADDR' introspect org.cgm $OBJ $IF |
		awk '\$2 == \"method\" { n++ } END { exit !(n >= 17) }'"
	check "busctl call Version" bash -c "busctl --address='$ADDR' call org.cgm $OBJ $IF Version | grep -q '^suas \"'"
	check "busctl call Create with settings" busctl --address="$ADDR" call org.cgm $OBJ $IF Create 'sa{ss}' bus 1 pids.max 7
	check "busctl call Get reads it back" bash -c "busctl --address='$ADDR' call org.cgm $OBJ $IF Get sas bus 1 pids.max | grep -q '\"pids.max\" \"7\"'"
	expect_exit "busctl sees a named error" 1 "org.cgm.Error.NotSupported|not.*resource|unknown key" \
		busctl --address="$ADDR" call org.cgm $OBJ $IF Set 'sa{ss}' bus 1 memory.nonsense 1
else
	ok "# SKIP busctl not installed"
fi
if command -v gdbus >/dev/null; then
	check "gdbus introspect" bash -c "gdbus introspect --address '$ADDR' --dest org.cgm --object-path $OBJ | grep -q 'MoveSelf'"
	check "gdbus call WhoAmI" bash -c "gdbus call --address '$ADDR' --dest org.cgm --object-path $OBJ --method $IF.WhoAmI | grep -q '^(uint32 0,'"
	check "gdbus call Stat" bash -c "gdbus call --address '$ADDR' --dest org.cgm --object-path $OBJ --method $IF.Stat bus | grep -q 'pids.current'"
	expect_exit "gdbus sees the error name and message" 1 "org.cgm.Error.InvalidName.*\\.\\." \
		gdbus call --address "$ADDR" --dest org.cgm --object-path $OBJ --method $IF.Create "bus/../x" "{}"
else
	ok "# SKIP gdbus not installed"
fi
if command -v dbus-send >/dev/null; then
	check "dbus-send --peer Ping" dbus-send --peer="$ADDR" --print-reply $OBJ $IF.Ping
	check "dbus-send --peer List" bash -c "dbus-send --peer='$ADDR' --print-reply $OBJ $IF.List string:'' boolean:false | grep -q '/bus\"'"
	check "dbus-send --peer Remove" dbus-send --peer="$ADDR" --print-reply $OBJ $IF.Remove string:bus uint32:0
	check "dbus-send --peer Introspect" bash -c "dbus-send --peer='$ADDR' --print-reply $OBJ org.freedesktop.DBus.Introspectable.Introspect | grep -q 'name=\"Chown\"'"
	expect_exit "a wrong signature is refused by name" 1 "InvalidArgs" dbus-send --peer="$ADDR" --print-reply $OBJ $IF.Remove string:bus
else
	ok "# SKIP dbus-send not installed"
fi
finish
