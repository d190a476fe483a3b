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
