/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Event loop: one epoll instance for every fd the daemon waits on
 *
 * Level-triggered epoll, because libdbus reads a bounded chunk per dbus_watch_handle() call
 * and toggles its own watches: a level-triggered registration reports the fd again in the
 * next round if data is still pending, which is exactly the fairness we want between
 * connections. Each round takes at most LOOP_EVENTS_MAX events, so one busy client cannot
 * starve the rest: every ready fd gets one turn per round.
 *
 * A callback may free the object that embeds its source (a peer disconnecting). epoll keeps
 * the pointer we registered until the round ends, so sources unregister themselves before
 * being freed, and the loop marks freed sources via loop_update(…, 0) which removes them from
 * the current batch.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"

/* Events handled per round; taken from dbus-broker's order of magnitude, no tuning done. */
#define LOOP_EVENTS_MAX 64

int loop_init(Loop *loop)
{
        *loop = (Loop){ .epoll_fd = -1 };
        loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (loop->epoll_fd < 0)
                return -errno;
        return 0;
}

void loop_deinit(Loop *loop)
{
        if (loop->epoll_fd >= 0)
                close(loop->epoll_fd);
        loop->epoll_fd = -1;
}

int loop_update(Loop *loop, LoopSource *s, uint32_t events)
{
        struct epoll_event ev = { .events = events, .data.ptr = s };
        int op;

        if (s->fd < 0)
                return -EBADF;
        if (events == s->events)
                return 0;
        if (events == 0) {
                op = EPOLL_CTL_DEL;
                /* Skip it if it is still in the batch being dispatched. */
                for (int i = 0; i < loop->n_batch; i++)
                        if (loop->batch[i].data.ptr == s)
                                loop->batch[i].data.ptr = NULL;
        } else
                op = s->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (epoll_ctl(loop->epoll_fd, op, s->fd, &ev) < 0)
                return -errno;
        s->events = events;
        return 0;
}

int loop_run_once(Loop *loop, int timeout_ms)
{
        struct epoll_event events[LOOP_EVENTS_MAX];
        int n, r = 0;

        n = epoll_wait(loop->epoll_fd, events, LOOP_EVENTS_MAX, timeout_ms);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        loop->batch = events;
        loop->n_batch = n;
        for (int i = 0; i < n && !r; i++) {
                LoopSource *s = events[i].data.ptr;
                if (!s)
                        continue; /* removed earlier in this round */
                r = s->callback(s, events[i].events);
        }
        loop->batch = NULL;
        loop->n_batch = 0;
        return r;
}

void loop_exit(Loop *loop, int code)
{
        loop->exit = true;
        loop->exit_code = code;
}
