/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Service manager protocol: sd_notify readiness and the pidfile
 *
 * A service manager wants to know when cgmd serves, so that what is ordered after it (sshd,
 * logins) finds the socket listening, and which process to signal. cgmd tells it in the two
 * ways managers understand:
 *
 *  - the sd_notify protocol, when NOTIFY_SOCKET is set (systemd's Type=notify; s6 and others
 *    speak it too): one datagram per state change on a Unix socket, "READY=1" once the socket
 *    listens, "RELOADING=1" and "READY=1" around a policy reload (SIGHUP), "STOPPING=1" when
 *    asked to stop, with "MAINPID=" and a one-line "STATUS=". The address is a path, or an
 *    abstract name written with a leading '@' (the kernel's leading NUL). The datagram is sent
 *    here in a few lines instead of linking libsystemd: cgmd needs nothing else of it, and a
 *    daemon for non-systemd hosts should not depend on it. Sends never block (MSG_DONTWAIT):
 *    a stuck manager must not stop cgmd from serving logins; a failure is logged once.
 *
 *  - a pidfile (--pidfile PATH), for start-stop-daemon, OpenRC and their like. It is written
 *    once the socket listens, to a temporary name in the same directory and renamed into
 *    place, so a reader never sees it empty or half written. In the detaching mode the daemon
 *    child writes it before its parent exits 0: when `cgmd --pidfile P` returns, P names the
 *    process that serves. At exit it is removed, but only while it still names this process.
 *
 * Nothing here decides anything about cgroups or clients; main.c calls in at start-up,
 * reload, stop and exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "service.h"

static struct {
        int fd; /* SOCK_DGRAM towards NOTIFY_SOCKET, -1 without one */
        struct sockaddr_un sa;
        socklen_t sa_len;
        char address[sizeof(((struct sockaddr_un *)0)->sun_path) + 1]; /* for messages */
        bool warned;
        char pidfile[PATH_MAX]; /* "" without --pidfile */
        pid_t pidfile_pid;      /* the pid written into it, 0 before */
} service = { .fd = -1 };

/* "/path" or "@abstract" into @sa; systemd's own rules (sd_notify(3)). */
static int notify_address(const char *value, struct sockaddr_un *sa, socklen_t *lenp)
{
        size_t l = strlen(value);

        *sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
        if (value[0] == '/') {
                if (l >= sizeof(sa->sun_path))
                        return -ENAMETOOLONG;
                memcpy(sa->sun_path, value, l + 1);
                *lenp = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + l + 1);
                return 0;
        }
        if (value[0] == '@' && l > 1) {
                if (l > sizeof(sa->sun_path))
                        return -ENAMETOOLONG;
                sa->sun_path[0] = '\0';
                memcpy(sa->sun_path + 1, value + 1, l - 1);
                *lenp = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + l);
                return 0;
        }
        return -EINVAL; /* relative paths, "@" alone, vsock:, ... */
}

int service_open(const char *pidfile)
{
        const char *v = getenv("NOTIFY_SOCKET");

        if (pidfile) {
                if (pidfile[0] != '/' || strlen(pidfile) >= sizeof(service.pidfile) - 16)
                        return -EINVAL;
                snprintf(service.pidfile, sizeof(service.pidfile), "%s", pidfile);
        }
        if (!v)
                return 0;
        snprintf(service.address, sizeof(service.address), "%s", v);
        unsetenv("NOTIFY_SOCKET");
        if (notify_address(service.address, &service.sa, &service.sa_len) < 0) {
                log_warning("NOTIFY_SOCKET `%s` is not an address cgmd can use (a path, or an "
                            "abstract name starting with '@'); the service manager will not "
                            "hear that cgmd is ready",
                            service.address);
                return 0;
        }
        service.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (service.fd < 0)
                log_warning("cannot create a socket for NOTIFY_SOCKET: %m");
        return 0;
}

/* Send @msg, one datagram. Never blocks; logs the first failure only. */
static void notify_send(const char *msg)
{
        ssize_t l;

        if (service.fd < 0)
                return;
        do
                l = sendto(service.fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
                           (const struct sockaddr *)&service.sa, service.sa_len);
        while (l < 0 && errno == EINTR);
        if (l < 0 && !service.warned) {
                service.warned = true;
                log_warning("cannot notify the service manager on `%s`: %m", service.address);
        }
}

/* STATUS= is one line: newlines in @in become spaces. */
static void status_line(const char *in, char *out, size_t n)
{
        snprintf(out, n, "%s", in ? in : "");
        for (char *p = out; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
}

static int pidfile_write(void)
{
        char tmp[sizeof(service.pidfile) + 8], buf[32];
        _cleanup_close_ int fd = -1;
        int l;

        snprintf(tmp, sizeof(tmp), "%s.XXXXXX", service.pidfile);
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        l = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
        errno = 0;
        if (fchmod(fd, 0644) < 0 || write(fd, buf, (size_t)l) != l) {
                int r = errno ? -errno : -EIO;
                (void)unlink(tmp);
                return r;
        }
        if (rename(tmp, service.pidfile) < 0) {
                int r = -errno;
                (void)unlink(tmp);
                return r;
        }
        service.pidfile_pid = getpid();
        return 0;
}

int service_ready(const char *status)
{
        char msg[512], line[400];

        if (service.pidfile[0]) {
                int r = pidfile_write();
                if (r < 0)
                        return r;
        }
        status_line(status, line, sizeof(line));
        snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%d\nSTATUS=%s\n", (int)getpid(), line);
        notify_send(msg);
        return 0;
}

void service_reloading(void)
{
        struct timespec ts;
        char msg[128];

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        /* MONOTONIC_USEC lets systemd ≥ 253 (Type=notify-reload) match this to its request. */
        snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading the policy\n",
                 (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL);
        notify_send(msg);
}

void service_reloaded(const char *status)
{
        char msg[512], line[400];

        status_line(status, line, sizeof(line));
        snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s\n", line);
        notify_send(msg);
}

void service_stopping(void)
{
        notify_send("STOPPING=1\nSTATUS=stopping\n");
}

void service_failed(int r, const char *status)
{
        char msg[512], line[400];

        status_line(status, line, sizeof(line));
        snprintf(msg, sizeof(msg), "STATUS=%s\nERRNO=%d\n", line, r < 0 ? -r : r);
        notify_send(msg);
}

void service_close(void)
{
        if (service.pidfile_pid != 0 && service.pidfile_pid == getpid()) {
                char buf[32] = "";
                _cleanup_close_ int fd = open(service.pidfile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                ssize_t l = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
                /* Another instance may have written its own pid meanwhile: leave that alone. */
                if (l > 0 && atoi(buf) == (int)getpid() && unlink(service.pidfile) < 0)
                        log_warning("cannot remove the pidfile `%s`: %m", service.pidfile);
                service.pidfile_pid = 0;
        }
        service.fd = safe_close(service.fd);
}
