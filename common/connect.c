/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Connecting to cgmd's socket by a deadline (see connect.h for why it is done this way) */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "connect.h"

const char *cgm_hint_unreachable(void)
{
        return "is cgmd running? start it, or set CGM_SOCKET (cgm -s) to its socket";
}

int64_t cgm_monotonic_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The sentence for a connect(2) to the daemon's socket that failed with @err. strerror()
 * rather than strerror_r() (two incompatible forms): glibc and musl return static text for
 * every errno here. */
static int connect_failed(const char *path, int err, CgmError *e)
{
        switch (err) {
        case ENOENT:
        case ENOTDIR:
                return cgm_error_set(e, -ENOENT, NULL, "cannot connect to cgmd at `%s`: %s; %s",
                                     path, strerror(ENOENT), cgm_hint_unreachable());
        case EACCES:
        case EPERM:
                return cgm_error_set(e, -EACCES, NULL,
                                     "cannot connect to cgmd at `%s`: %s; this user may not "
                                     "open the socket",
                                     path, strerror(EACCES));
        case ENOMEM:
        case ENOBUFS:
                return cgm_error_set(e, -ENOMEM, NULL, "cannot connect to cgmd at `%s`: %s",
                                     path, strerror(err));
        default:
                /* ECONNREFUSED (nobody listens), and what else says the same in other words:
                 * a path that is not a stream socket (EPROTOTYPE, ENOTSOCK), ... */
                return cgm_error_set(e, -ECONNREFUSED, NULL,
                                     "cannot connect to cgmd at `%s`: %s; %s", path,
                                     strerror(err), cgm_hint_unreachable());
        }
}

int cgm_unix_connect(const char *path, int64_t deadline, int budget_ms, int *fdp,
                     CgmError *e)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof(sa.sun_path))
                return cgm_error_set(e, -ENAMETOOLONG, NULL, "socket path `%s` is too long",
                                     path);
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return cgm_error_set(e, errno == ENOMEM || errno == ENOBUFS ? -ENOMEM : -errno,
                                     NULL, "cannot create a socket to connect to cgmd: %s",
                                     strerror(errno));
        for (;;) {
                int64_t left = deadline - cgm_monotonic_ms(), start;
                struct timeval tv;

                if (left <= 0)
                        return cgm_error_set(e, -ETIMEDOUT, NULL,
                                             "cgmd at `%s` did not accept the connection within "
                                             "%d ms: its listen queue is full, the daemon is "
                                             "hung or overloaded",
                                             path, budget_ms);
                /* At least 1 µs: a zero timeval means no timeout at all. */
                tv = (struct timeval){ .tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000 };
                if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
                        return cgm_error_set(e, -errno, NULL, "cannot set a connect timeout: %s",
                                             strerror(errno));
                start = cgm_monotonic_ms();
                if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                        break;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return connect_failed(path, errno, e);
                /* The kernel sleeps out the whole timeout before EAGAIN; should one return
                 * early, do not spin on it. */
                if (cgm_monotonic_ms() - start < left)
                        (void)nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
        }
        *fdp = TAKE_FD(fd);
        return 0;
}
