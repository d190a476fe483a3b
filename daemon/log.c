/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Daemon logging: syslog, plus stderr in the foreground
 *
 * The daemon logs on behalf of clients, so a log write must never stall the event loop.
 * glibc's syslog() sends datagrams on a connected socket opened with LOG_NDELAY; when the log
 * daemon is gone the send fails and the line is dropped rather than blocking. stderr is only
 * used in the foreground, where the operator watches it.
 *
 * The two settings below are the one piece of process-wide state outside the Manager: syslog
 * itself is process-wide (openlog), so the choice of sinks lives beside it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static struct {
        bool to_stderr;
        bool debug;
} log_sinks;

void log_open(bool to_stderr, bool debug)
{
        log_sinks.to_stderr = to_stderr;
        log_sinks.debug = debug;
        openlog("cgmd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        setlogmask(debug ? LOG_UPTO(LOG_DEBUG) : LOG_UPTO(LOG_INFO));
}

void log_close(void)
{
        closelog();
}

void log_msg(int priority, const char *fmt, ...)
{
        va_list ap;
        char line[1024];

        if (priority == LOG_DEBUG && !log_sinks.debug)
                return;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        syslog(priority, "%s", line);
        if (log_sinks.to_stderr)
                fprintf(stderr, "cgmd: %s\n", line);
}
