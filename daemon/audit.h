/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Audit: one syslog line for every privileged write */
#pragma once

#include <sys/types.h>

/**
 * audit_write() - record one write done on behalf of a client
 * @uid, @pid: the caller as the kernel reported it
 * @action:    method name ("Set", "Create", ...)
 * @path:      the cgroup as the caller sees it
 * @what:      key=value, pid, signal, ... ("" when nothing more)
 * @result:    0 or negative errno
 */
void audit_write(uid_t uid, pid_t pid, const char *action, const char *path, const char *what,
                 int result);

/**
 * audit_write_why() - audit_write() with the sentence the caller was given
 * @why: the client's error message (NULL or "" to say only the error's name)
 *
 * A failure is recorded as `result=NAME why="..."`, NAME being the D-Bus error's short name
 * (LimitExceeded, NoProcess, ...), so the log says what happened and not an errno's text that
 * happens to share the number (EDQUOT reads "Disk quota exceeded").
 */
void audit_write_why(uid_t uid, pid_t pid, const char *action, const char *path,
                     const char *what, int result, const char *error_name, const char *why);
