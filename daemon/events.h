/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Events: what the kernel reports about a cgroup, for subscribers and for cgmd itself
 *
 * The kernel tells about a cgroup through its *.events files (cgroup.events, memory.events,
 * pids.events on cgroup v2; pids.events and memory.oom_control through cgroup.event_control
 * on v1). This room watches those files, turns a change into events (a counter's increase
 * with its new total, a flag's new state, the cgroup's removal), and hands them to two kinds
 * of listener: a D-Bus subscriber (Subscribe/Unsubscribe, the Event signal, bounded per
 * connection, per uid and per subscriber queue), and an internal listener of cgmd itself
 * (the OOM notice on a session's terminal, notify-tty.c). One watch on a file serves every
 * listener of that cgroup.
 */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/inotify.h>

#include "context.h"
#include "error.h"

/* Kinds, one bit each. Their names on the wire are in events_kind_name(). */
typedef enum EventKind {
        EVENT_POPULATED = 1u << 0,   /* cgroup.events populated 0 -> 1 */
        EVENT_EMPTY = 1u << 1,       /* cgroup.events populated 1 -> 0 */
        EVENT_OOM = 1u << 2,         /* memory.events oom (v1: memory.oom_control's eventfd) */
        EVENT_OOM_KILL = 1u << 3,    /* memory.events oom_kill (v1: memory.oom_control oom_kill) */
        EVENT_MEMORY_HIGH = 1u << 4, /* memory.events high */
        EVENT_MEMORY_MAX = 1u << 5,  /* memory.events max */
        EVENT_PIDS_MAX = 1u << 6,    /* pids.events max */
        EVENT_FROZEN = 1u << 7,      /* cgroup.events frozen 0 -> 1 */
        EVENT_THAWED = 1u << 8,      /* cgroup.events frozen 1 -> 0 */
        EVENT_REMOVED = 1u << 9,     /* the cgroup is gone; the subscription ends with it */
        EVENT_LOST = 1u << 10,       /* not subscribable: events dropped for a full queue */
        EVENT_ALL = (1u << 10) - 1,  /* every subscribable kind */
} EventKind;

/** events_kind_name() - the wire name of one kind ("oom_kill", ...), NULL for none */
const char *events_kind_name(EventKind kind);
/** events_kind_parse() - the kind named @name, or 0 */
EventKind events_kind_parse(const char *name);

/**
 * events_add_watch() - inotify_add_watch(), for every watch cgmd takes (the sessions' and this
 * room's). Under CGMD_TEST_NO_WATCHES (test only) it fails with ENOSPC, as the kernel does at
 * fs.inotify.max_user_watches. Inline: session.c uses it without linking this room.
 */
static inline int events_add_watch(int fd, const char *path, uint32_t mask)
{
        if (getenv("CGMD_TEST_NO_WATCHES")) {
                errno = ENOSPC;
                return -1;
        }
        return inotify_add_watch(fd, path, mask);
}

/** events_init() - the room's inotify fd (and v1 eventfds) on the manager's loop */
int events_init(Manager *m, CgmError *e);
void events_deinit(Manager *m);

/**
 * events_peer_gone() - end every subscription of @p (called when its connection closes)
 */
void events_peer_gone(Manager *m, Peer *p);

/*
 * Internal listeners. @rel is a cgroup as cgmd names it internally (relative to the base, as
 * Session.rel). The callback runs on the loop, after the subscribers of the same change have
 * been served; @delta and @total are the counter's increase and new total (0 for flags).
 * A listener stays until events_unlisten(), also after EVENT_REMOVED.
 */
typedef struct EventListener EventListener;
typedef void (*EventFn)(Manager *m, void *userdata, const char *rel, EventKind kind,
                        uint64_t delta, uint64_t total);

/**
 * events_listen() - call @fn for the @kinds of @rel
 *
 * Kinds the host cannot report for @rel are left out silently (events_supported()).
 * Return: 0; -ENOMEM; -ENOENT when @rel does not exist; -ENOSPC when no watch can be had.
 */
int events_listen(Manager *m, const char *rel, unsigned kinds, EventFn fn, void *userdata,
                  EventListener **lp);
/** events_unlisten() - stop @l (NULL is a no-op); its watches go when nobody needs them */
void events_unlisten(Manager *m, EventListener *l);

/** events_supported() - the kinds this host can report for @rel (a v1 controller reports less) */
unsigned events_supported(Manager *m, const char *rel);

/*
 * Between events.c and events-v1.c (not for other rooms): on v1 memory, memory.oom_control
 * notifies through cgroup.event_control with an eventfd; events-v1.c owns that eventfd and
 * reports what it learns back through events_v1_oom().
 */
typedef struct EventsCgroup EventsCgroup;
typedef struct EventsV1 EventsV1;
/** events_v1_start() - an eventfd for @rel's v1 memory.oom_control on the loop; *@oom_kill
 * is the file's oom_kill now. Return: 0, -ENOENT, -ENOMEM, or another errno of the kernel's */
int events_v1_start(Manager *m, EventsCgroup *cg, const char *rel, EventsV1 **vp,
                    uint64_t *oom_kill);
void events_v1_stop(Manager *m, EventsV1 *v);
/** events_v1_oom() - @n OOM notifications and memory.oom_control's oom_kill now @oom_kill */
void events_v1_oom(Manager *m, EventsCgroup *cg, uint64_t n, uint64_t oom_kill);

/* Handlers of the methods, for the table in methods.c */
typedef struct MethodCall MethodCall;
int api_subscribe(MethodCall *c);
int api_unsubscribe(MethodCall *c);
