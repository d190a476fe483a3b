/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Events on cgroup v1: memory.oom_control through cgroup.event_control and an eventfd
 *
 * cgroup v1 has no *.events files that the kernel notifies: its pids.events is rewritten
 * without a notification (inotify stays silent; tried on 6.x), and there is no populated or
 * frozen notification without a release agent. What v1 memory does offer is the OOM
 * notifier: an eventfd registered by writing "<eventfd> <fd of memory.oom_control>" to the
 * cgroup's cgroup.event_control is signalled at every OOM of the cgroup (or of a descendant,
 * memory being hierarchical) and once more when the cgroup goes away. Each wakeup here reads
 * the eventfd's count (the OOMs since the last read) and memory.oom_control's oom_kill line
 * (the kernel's total of OOM kills), and hands both to events.c, which reports `oom` with the
 * count and `oom_kill` as the increase. The kernel keeps no OOM total on v1, so `oom`'s total
 * is what this watch counted since it began.
 *
 * The notification comes before the OOM killer has chosen and killed (the kernel notifies
 * as it marks the cgroup under OOM), so oom_kill read at once often has not moved yet. After
 * each notification a timer of the watch reads it again every V1_RECHECK_MS for a while: the
 * kill shows up there, usually within milliseconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "cgfs.h"
#include "cleanup.h"
#include "events.h"

/* Re-reads of oom_kill after an OOM notification: every 20 ms, 50 times (1 s). */
#define V1_RECHECK_MS 20
#define V1_RECHECKS 50

struct EventsV1 {
        LoopSource source; /* the eventfd */
        LoopSource recheck; /* timerfd while oom_kill is re-read after a notification */
        unsigned rechecks_left;
        Manager *manager;
        EventsCgroup *cg;
        char *rel;
        int h;
};

/* oom_kill of memory.oom_control; -errno when it cannot be read (the cgroup is going). */
static int v1_oom_kill(Manager *m, int h, const char *rel, uint64_t *out)
{
        char buf[256];
        const char *k;
        int r = cgfs_read(&m->cgfs, h, rel, "memory.oom_control", buf, sizeof(buf));

        if (r < 0)
                return r;
        *out = 0;
        k = strstr(buf, "oom_kill ");
        if (k)
                *out = strtoull(k + strlen("oom_kill "), NULL, 10);
        return 0;
}

static void v1_recheck_arm(EventsV1 *v, bool on)
{
        struct itimerspec its = { 0 };

        if (on) {
                its.it_value.tv_nsec = V1_RECHECK_MS * 1000000L;
                its.it_interval = its.it_value;
        }
        (void)timerfd_settime(v->recheck.fd, 0, &its, NULL);
}

static int v1_recheck(LoopSource *s, uint32_t events)
{
        EventsV1 *v = container_of(s, EventsV1, recheck);
        Manager *m = v->manager;
        uint64_t n, kills;

        (void)events;
        (void)!read(s->fd, &n, sizeof(n));
        /* The last re-read closes the timer: an idle watch holds only its eventfd. */
        if (v->rechecks_left == 0 || --v->rechecks_left == 0) {
                (void)loop_update(&m->loop, &v->recheck, 0);
                v->recheck.fd = safe_close(v->recheck.fd);
        }
        if (v1_oom_kill(m, v->h, v->rel, &kills) < 0) {
                if (v->recheck.fd >= 0) {
                        (void)loop_update(&m->loop, &v->recheck, 0);
                        v->recheck.fd = safe_close(v->recheck.fd);
                }
                return 0;
        }
        /* May stop (free) @v: nothing of it is used afterwards. */
        events_v1_oom(m, v->cg, 0, kills);
        return 0;
}

/* Read oom_kill again for a while: the kill follows the notification. */
static void v1_recheck_start(Manager *m, EventsV1 *v)
{
        if (v->recheck.fd < 0) {
                v->recheck = (LoopSource){ .fd = timerfd_create(CLOCK_MONOTONIC,
                                                                TFD_CLOEXEC | TFD_NONBLOCK),
                                           .callback = v1_recheck };
                if (v->recheck.fd < 0)
                        return;
                if (loop_update(&m->loop, &v->recheck, EPOLLIN) < 0) {
                        v->recheck.fd = safe_close(v->recheck.fd);
                        return;
                }
        }
        v->rechecks_left = V1_RECHECKS;
        v1_recheck_arm(v, true);
}

static int v1_dispatch(LoopSource *s, uint32_t events)
{
        EventsV1 *v = container_of(s, EventsV1, source);
        Manager *m = v->manager;
        uint64_t n = 0, kills;

        (void)events;
        if (read(s->fd, &n, sizeof(n)) != sizeof(n))
                return 0;
        if (v1_oom_kill(m, v->h, v->rel, &kills) < 0) {
                /* The kernel's last signal, at the cgroup's removal: the removal itself is
                 * seen on the primary hierarchy (events.c). Nothing more will come. */
                (void)loop_update(&m->loop, &v->source, 0);
                return 0;
        }
        v1_recheck_start(m, v);
        /* May stop (free) @v: nothing of it is used afterwards. */
        events_v1_oom(m, v->cg, n, kills);
        return 0;
}

int events_v1_start(Manager *m, EventsCgroup *cg, const char *rel, EventsV1 **vp,
                    uint64_t *oom_kill)
{
        int h = cgfs_hierarchy_for(&m->cgfs, "memory");
        _cleanup_close_ int ofd = -1;
        char line[64];
        EventsV1 *v;
        int r;

        if (h < 0 || m->cgfs.h[h].is_v2)
                return -ENOENT;
        ofd = cgfs_openat(&m->cgfs, h, rel, "memory.oom_control", O_RDONLY | O_CLOEXEC);
        if (ofd < 0)
                return ofd;
        v = calloc(1, sizeof(*v));
        if (!v || !(v->rel = strdup(rel))) {
                free(v);
                return -ENOMEM;
        }
        v->manager = m;
        v->cg = cg;
        v->h = h;
        v->source = (LoopSource){ .fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
                                  .callback = v1_dispatch };
        v->recheck = (LoopSource)LOOP_SOURCE_NULL;
        if (v->source.fd < 0) {
                r = -errno;
                goto fail;
        }
        snprintf(line, sizeof(line), "%d %d", v->source.fd, ofd);
        r = cgfs_write(&m->cgfs, h, rel, "cgroup.event_control", line);
        if (r < 0)
                goto fail;
        r = v1_oom_kill(m, h, rel, oom_kill);
        if (r < 0)
                goto fail;
        r = loop_update(&m->loop, &v->source, EPOLLIN);
        if (r < 0)
                goto fail;
        *vp = v;
        return 0;
fail:
        safe_close(v->source.fd);
        free(v->rel);
        free(v);
        return r;
}

void events_v1_stop(Manager *m, EventsV1 *v)
{
        if (!v)
                return;
        /* Closing the eventfd ends the kernel's registration too (its wait queue is woken
         * with POLLHUP and the event freed). */
        (void)loop_update(&m->loop, &v->source, 0);
        safe_close(v->source.fd);
        if (v->recheck.fd >= 0) {
                (void)loop_update(&m->loop, &v->recheck, 0);
                safe_close(v->recheck.fd);
        }
        free(v->rel);
        free(v);
}
