/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Audit: one syslog line for every privileged write
 *
 * Every change the daemon makes for a client is one line at LOG_NOTICE (LOG_WARNING when it
 * failed) in the auth facility's sense of "who did what": caller uid and pid, method, cgroup,
 * value and result. Values come from clients, so they are quoted with control characters
 * escaped: a crafted value cannot forge a second log line.
 */
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "error.h"
#include "log.h"

static void audit_escape(const char *in, char *out, size_t n)
{
        size_t o = 0;

        for (; *in && o + 5 < n; in++) {
                unsigned char c = (unsigned char)*in;
                if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
                        o += snprintf(out + o, n - o, "\\x%02x", c);
                else
                        out[o++] = (char)c;
        }
        out[o] = '\0';
}

void audit_write_why(uid_t uid, pid_t pid, const char *action, const char *path,
                     const char *what, int result, const char *error_name, const char *why)
{
        char epath[512], ewhat[512], ewhy[400];
        const char *name = error_name ? error_name : cgm_errno_to_error_name(result);
        const char *dot = strrchr(name, '.');

        audit_escape(path ? path : "", epath, sizeof(epath));
        audit_escape(what ? what : "", ewhat, sizeof(ewhat));
        if (result >= 0) {
                log_msg(LOG_NOTICE, "audit: uid=%u pid=%d action=%s path=\"%s\" value=\"%s\" result=ok",
                        (unsigned)uid, (int)pid, action, epath, ewhat);
                return;
        }
        audit_escape(why && *why ? why : strerror(-result), ewhy, sizeof(ewhy));
        log_msg(LOG_WARNING,
                "audit: uid=%u pid=%d action=%s path=\"%s\" value=\"%s\" result=%s why=\"%s\"",
                (unsigned)uid, (int)pid, action, epath, ewhat, dot ? dot + 1 : name, ewhy);
}

void audit_write(uid_t uid, pid_t pid, const char *action, const char *path, const char *what,
                 int result)
{
        audit_write_why(uid, pid, action, path, what, result, NULL, NULL);
}
