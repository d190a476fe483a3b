/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Daemon logging: syslog, plus stderr in the foreground
 *
 * The daemon logs on behalf of clients, so a log write must never stall the event loop. glibc's
 * syslog() cannot promise that: it sends on a blocking socket, and a log daemon that is alive
 * but does not read (hung, stopped, overloaded) fills the socket's queue
 * (net.unix.max_dgram_qlen, 10 lines by default) and then blocks the sender for as long as it
 * does not read, SIGTERM included. So the daemon speaks the syslog protocol itself, as a
 * datagram (or, where the log daemon only takes streams, a stream) of "<PRI>TIMESTAMP
 * cgmd[PID]: MESSAGE" to /dev/log on a non-blocking socket, and a line that cannot go out at
 * once is dropped and counted. The count goes out, as a line of its own, before the next line
 * that is sent. Without a log daemon (no /dev/log, nobody listening) the socket is connected
 * again at most once a second, so a missing syslog costs one failed connect(2) per second, not
 * one per line.
 *
 * stderr is only used in the foreground, where the operator watches it.
 *
 * Every line is made safe here, whatever its caller quoted: a control byte (a newline, an
 * escape sequence) from a cgroup name, a process name or NSS text goes out as `\xNN`, so no
 * line can forge another or drive the operator's terminal. Callers still quote client text
 * with cgm_quote(), which also marks where it starts and ends.
 *
 * The state below is the one piece of process-wide state outside the Manager: syslog is
 * process-wide, and the NSS workers may log from their threads, hence the lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_PATH "/dev/log"
#define LOG_RETRY_NS 1000000000LL /* reconnect to a missing log daemon at most once a second */

static struct {
        pthread_mutex_t lock;
        bool to_stderr;
        bool debug;
        int fd;               /* -1 when not connected */
        int type;             /* SOCK_DGRAM or SOCK_STREAM */
        int64_t next_try_ns;  /* CLOCK_MONOTONIC time of the next connect attempt */
        unsigned long dropped; /* lines not sent since the last line that went out */
        LogSink sink;          /* replaces syslog when set (tests, fuzzers) */
} log_state = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

static int64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void log_disconnect(void)
{
        if (log_state.fd >= 0)
                close(log_state.fd);
        log_state.fd = -1;
}

/* Connect to /dev/log unless connected, or unless the last attempt was less than a second
 * ago. A datagram socket first; a stream one where the log daemon only takes streams. */
static bool log_connect(void)
{
        static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = LOG_PATH };
        int64_t now;

        if (log_state.fd >= 0)
                return true;
        now = now_ns();
        if (now < log_state.next_try_ns)
                return false;
        log_state.next_try_ns = now + LOG_RETRY_NS;
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
                int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (fd < 0)
                        return false;
                /* A stream connect to a local socket completes at once or fails (EAGAIN:
                 * the backlog is full); either way nothing waits. */
                if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
                        log_state.fd = fd;
                        log_state.type = types[i];
                        return true;
                }
                close(fd);
                if (errno != EPROTOTYPE)
                        return false;
        }
        return false;
}

/* Send one line; false when it was not sent (whole). */
static bool log_send(const char *line, size_t len)
{
        ssize_t l;

        if (!log_connect())
                return false;
        /* On a stream the NUL ends the message, as glibc's syslog() sends it. */
        if (log_state.type == SOCK_STREAM)
                len++;
        l = send(log_state.fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (l == (ssize_t)len)
                return true;
        if (l >= 0 || log_state.type == SOCK_STREAM || (errno != EAGAIN && errno != EINTR))
                /* Gone (ECONNREFUSED: the log daemon restarted), or a stream cut in the middle
                 * of a message: connect again later. A full datagram queue keeps the socket. */
                log_disconnect();
        return false;
}

static void log_syslog(int priority, const char *msg)
{
        char line[1200], stamp[32];
        struct tm tm;
        time_t t = time(NULL);
        int l;

        if (!localtime_r(&t, &tm) || strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm) == 0)
                stamp[0] = '\0';
        if (log_state.dropped > 0) {
                l = snprintf(line, sizeof(line),
                             "<%d>%s cgmd[%d]: %lu log line%s dropped: the log daemon did not "
                             "take them",
                             LOG_DAEMON | LOG_WARNING, stamp, (int)getpid(), log_state.dropped,
                             log_state.dropped == 1 ? "" : "s");
                if (!log_send(line, (size_t)l)) {
                        log_state.dropped++;
                        return;
                }
                log_state.dropped = 0;
        }
        l = snprintf(line, sizeof(line), "<%d>%s cgmd[%d]: %s", LOG_DAEMON | priority, stamp,
                     (int)getpid(), msg);
        if (l < 0)
                return;
        if ((size_t)l >= sizeof(line))
                l = (int)sizeof(line) - 1;
        if (!log_send(line, (size_t)l))
                log_state.dropped++;
}

void log_open(bool to_stderr, bool debug)
{
        pthread_mutex_lock(&log_state.lock);
        log_state.to_stderr = to_stderr;
        log_state.debug = debug;
        log_state.next_try_ns = 0;
        (void)log_connect();
        pthread_mutex_unlock(&log_state.lock);
}

void log_set_sink(LogSink sink)
{
        pthread_mutex_lock(&log_state.lock);
        log_state.sink = sink;
        pthread_mutex_unlock(&log_state.lock);
}

void log_close(void)
{
        pthread_mutex_lock(&log_state.lock);
        log_disconnect();
        pthread_mutex_unlock(&log_state.lock);
}

void log_escape_controls(const char *in, char *out, size_t n)
{
        size_t k = 0;

        for (; *in && k + 1 < n; in++) {
                unsigned char c = (unsigned char)*in;
                if (c >= 0x20 && c != 0x7f) {
                        out[k++] = (char)c;
                        continue;
                }
                if (k + 5 > n)
                        break;
                k += (size_t)snprintf(out + k, n - k, "\\x%02x", c);
        }
        out[k] = '\0';
}

void log_msg(int priority, const char *fmt, ...)
{
        va_list ap;
        char raw[1024], line[1024];

        if (priority == LOG_DEBUG && !log_state.debug)
                return;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof(raw), fmt, ap);
        va_end(ap);
        log_escape_controls(raw, line, sizeof(line));
        pthread_mutex_lock(&log_state.lock);
        if (log_state.sink)
                log_state.sink(priority, line);
        else
                log_syslog(priority, line);
        if (log_state.to_stderr)
                fprintf(stderr, "cgmd: %s\n", line);
        pthread_mutex_unlock(&log_state.lock);
}
