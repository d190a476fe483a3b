/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replies: the one way a string leaves the daemon
 *
 * Every string in every reply, error and (later) signal that cgmd sends passes through this
 * file. libdbus treats a string that is not valid UTF-8 as a programming error and aborts the
 * process (_dbus_check_is_valid_utf8), which for a root daemon means any local user who can
 * make cgmd quote a byte of its choosing could take it down. The bytes come from many places
 * a user controls: a cgroup name made with mkdir(2) in a delegated v2 subtree (any byte but
 * `/` and NUL), the kernel's /proc/PID/cgroup that then names it, NSS entries, policy files,
 * and the user's own requests quoted back (a message buffer may cut a character in half).
 *
 * So rather than trusting every caller to escape, one function checks: valid UTF-8 goes out
 * unchanged; anything else goes out with each byte that is not part of a valid character
 * written as `\xNN` (the same form cgm_quote() uses for bytes it will not echo). tests/unit/test-reply-discipline.sh fails the build's tests when
 * any other daemon file appends a string to a message or builds an error reply itself.
 */
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "reply.h"
#include "utf8.h"

char *reply_utf8_escape(const char *s, bool *oom)
{
        char *out = cgm_utf8_escape(s, false, oom);

        /* libdbus's own check has the last word (it may be stricter in some version): what it
         * still refuses goes out with every byte escaped. */
        if (!out && !*oom && !dbus_validate_utf8(s, NULL))
                out = cgm_utf8_escape(s, true, oom);
        return out;
}

bool reply_append_string(DBusMessageIter *it, const char *s)
{
        bool oom, ok;
        char *escaped = reply_utf8_escape(s ? s : "", &oom);
        const char *v = escaped ? escaped : (s ? s : "");

        if (oom)
                return false;
        ok = dbus_message_iter_append_basic(it, DBUS_TYPE_STRING, &v);
        free(escaped);
        return ok;
}

bool reply_append_pair(DBusMessageIter *arr, const char *key, const char *value)
{
        DBusMessageIter entry;

        if (!dbus_message_iter_open_container(arr, DBUS_TYPE_DICT_ENTRY, NULL, &entry))
                return false;
        if (!reply_append_string(&entry, key) || !reply_append_string(&entry, value)) {
                dbus_message_iter_abandon_container(arr, &entry);
                return false;
        }
        return dbus_message_iter_close_container(arr, &entry);
}

DBusMessage *reply_error(DBusMessage *call, const char *name, const char *text)
{
        bool oom;
        char *escaped = reply_utf8_escape(text ? text : "", &oom);
        DBusMessage *reply;

        if (oom)
                return NULL;
        reply = dbus_message_new_error(call, name, escaped ? escaped : text);
        free(escaped);
        return reply;
}

DBusMessage *reply_strings(DBusMessage *call, unsigned n, const char *const *strings)
{
        DBusMessage *reply = dbus_message_new_method_return(call);
        DBusMessageIter it;

        if (!reply)
                return NULL;
        dbus_message_iter_init_append(reply, &it);
        for (unsigned i = 0; i < n; i++)
                if (!reply_append_string(&it, strings[i])) {
                        dbus_message_unref(reply);
                        return NULL;
                }
        return reply;
}

DBusMessage *reply_signal_new(const char *member)
{
        return dbus_message_new_signal(CGM_DBUS_PATH, CGM_DBUS_INTERFACE, member);
}
