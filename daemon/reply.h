/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replies: the one way a string leaves the daemon */
#pragma once

#include <dbus/dbus.h>
#include <stdbool.h>

/**
 * reply_append_string() - append @s to a message as a D-Bus string
 *
 * libdbus aborts the whole process when it is handed a string that is not valid UTF-8, and
 * the strings cgmd sends come from places a user controls: cgroup names made directly in
 * cgroupfs (arbitrary bytes), /proc/PID/cgroup, NSS names, policy files, and the user's own
 * requests quoted back in messages (cut at a buffer's end, possibly inside a character).
 * Every string is therefore checked here; where it is not valid UTF-8, each offending byte is
 * written as `\xNN`, so the reply is still readable and the daemon never aborts.
 *
 * Return: true, or false when out of memory.
 */
bool reply_append_string(DBusMessageIter *it, const char *s);

/** reply_append_pair() - one `{ss}` dict entry into the array @arr, both strings checked */
bool reply_append_pair(DBusMessageIter *arr, const char *key, const char *value);

/** reply_error() - a D-Bus error reply to @call whose text went through the same check */
DBusMessage *reply_error(DBusMessage *call, const char *name, const char *text);

/**
 * reply_strings() - a method return to @call carrying @n strings (each checked as above)
 *
 * Return: the reply, or NULL when out of memory.
 */
DBusMessage *reply_strings(DBusMessage *call, unsigned n, const char *const *strings);

/**
 * reply_signal_new() - a signal @member of the cgm interface on the cgm object, sent on one
 * connection (peer-to-peer: no destination, no bus); its strings go in with
 * reply_append_string() like a reply's
 *
 * Return: the message, or NULL when out of memory.
 */
DBusMessage *reply_signal_new(const char *member);

/**
 * reply_utf8_escape() - the rendering reply_append_string() sends
 *
 * Return: NULL when @s is valid UTF-8 as it is (send it unchanged), else a newly allocated
 * escaped copy (free() it), or NULL with *@oom set when out of memory.
 */
char *reply_utf8_escape(const char *s, bool *oom);
