/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Service manager protocol: sd_notify readiness and the pidfile */
#pragma once

#include <stdbool.h>

/**
 * service_open() - take NOTIFY_SOCKET from the environment and remember @pidfile
 * @pidfile: absolute path for --pidfile, or NULL
 *
 * NOTIFY_SOCKET is removed from the environment, so nothing cgmd runs inherits it. A socket
 * address cgmd cannot use is logged once and then ignored: readiness is a courtesy to the
 * service manager, never a reason not to serve.
 *
 * Return: 0, or -EINVAL when @pidfile is not an absolute path.
 */
int service_open(const char *pidfile);

/**
 * service_ready() - cgmd listens: write the pidfile, then send READY=1, MAINPID and @status
 *
 * In the detaching mode the daemon child calls this before its parent exits 0, so the pidfile
 * names the process that serves, and it is there when the start command returns.
 *
 * Return: 0, or a negative errno when the pidfile cannot be written (the notification is sent
 * in any case).
 */
int service_ready(const char *status);

/** service_reloading() - RELOADING=1 with MONOTONIC_USEC, before a policy reload */
void service_reloading(void);

/** service_reloaded() - READY=1 and @status, after a reload (taken or refused) */
void service_reloaded(const char *status);

/** service_stopping() - STOPPING=1, when a stop was asked for */
void service_stopping(void);

/** service_failed() - STATUS=@status and ERRNO=, when start-up failed */
void service_failed(int r, const char *status);

/** service_close() - remove the pidfile if it still names this process; close the socket */
void service_close(void);

