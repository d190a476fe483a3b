/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Events: the kernel's *.events files watched for subscribers and for cgmd itself
 *
 * The kernel tells about a cgroup through files it rewrites and notifies (kernfs_notify):
 * cgroup.events (populated, frozen), memory.events (oom, oom_kill, high, max) and pids.events
 * (max) on cgroup v2. This room keeps one inotify fd of its own on the loop and one watch per
 * (cgroup, file), shared by every listener of that cgroup; for each watched file it keeps the
 * values last seen, so a change becomes events: a counter's increase with its new total, a
 * flag's transition. The kernel's counters and the populated flag are hierarchical, so one
 * watch on a cgroup covers its descendants too.
 *
 * The kernel notifies nothing when a cgroup is removed (no IN_DELETE_SELF or IN_IGNORED on
 * kernfs files; tried on 6.x), but rmdir(2) goes through the VFS, which reports IN_DELETE
 * with the child's name on the parent directory: each watched cgroup's parent directory in
 * the primary hierarchy is watched for that (one watch per directory, counted), and a file
 * that cannot be read any more is checked the same way.
 *
 * Listeners are D-Bus subscriptions (Subscribe, Unsubscribe, the Event signal on the
 * subscriber's own connection) and cgmd's own (events_listen(), for the OOM notice on a
 * session's terminal). Subscriptions are bounded per connection and per uid; the events of a
 * subscriber that does not read are bounded by its connection's outgoing queue: past
 * CGM_EVENT_QUEUE_MAX events or CGM_EVENT_QUEUE_BYTES, they are dropped and counted, and once
 * it has read its queue down it gets one `lost` event with the count. Events never pause,
 * hold or close a connection: the bound is far below the reply budgets of server.c, and a
 * send never blocks. The drain is noticed at the subscriber's next event and by a timer that
 * runs only while some subscriber has lost events.
 *
 * On cgroup v1, memory.oom_control notifies through an eventfd (events-v1.c); v1 pids.events
 * is never notified, and v1 has no populated or frozen notification: Subscribe says so.
 *
 * When the kernel's inotify queue overflows (fs.inotify.max_queued_events), the dropped
 * notifications are made up for by reading every watched file again and checking that every
 * watched cgroup still exists: a subscriber gets the changes it would have got, merged.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "auth.h"
#include "cgroup.h"
#include "cleanup.h"
#include "connect.h"
#include "events.h"
#include "log.h"
#include "methods.h"
#include "peer.h"
#include "protocol.h"
#include "reply.h"
#include "text.h"

#define EV_PATH_MAX (CGM_PATH_MAX + 1400)
/* A subscriber has read its queue down once this little of it is left. */
#define EV_QUEUE_LOW (CGM_EVENT_QUEUE_BYTES / 4)
/* How often a subscriber that lost events is looked at again, while there is one. */
#define EV_DRAIN_MS 100
/* Kinds named in one Subscribe. */
#define EV_KINDS_MAX 32
/* An inotify queue overflow is logged at most once in this long, with the count since. */
#define EV_OVERFLOW_LOG_MS 60000

enum { EV_FILE_CGROUP, EV_FILE_MEMORY, EV_FILE_PIDS, EV_FILES };
static const char *const ev_file_name[EV_FILES] = { "cgroup.events", "memory.events",
                                                    "pids.events" };
#define EV_FLAGS (EVENT_POPULATED | EVENT_EMPTY | EVENT_FROZEN | EVENT_THAWED)
#define EV_MEMORY (EVENT_OOM | EVENT_OOM_KILL | EVENT_MEMORY_HIGH | EVENT_MEMORY_MAX)
static const unsigned ev_file_kinds[EV_FILES] = { EV_FLAGS, EV_MEMORY, EVENT_PIDS_MAX };

/* The values last seen, one slot per key of the files. */
enum {
        EV_V_POPULATED,
        EV_V_FROZEN,
        EV_V_OOM,
        EV_V_OOM_KILL,
        EV_V_HIGH,
        EV_V_MAX,
        EV_V_PIDS_MAX,
        EV_VALUES
};

typedef struct EvWatch {
        TableNode by_wd;
        int wd;
        unsigned refs;    /* a directory's: the watched cgroups right below it */
        EventsCgroup *cg; /* a file's: its cgroup; NULL for a directory */
        int file;
        char *dir_rel;    /* a directory's: the directory, relative to the base */
} EvWatch;

struct EventsCgroup {
        TableNode by_rel;
        bool in_table;  /* false once removed: what is left waits for its internal listeners */
        char *rel;
        EvWatch *files[EV_FILES];
        EvWatch *parent; /* its parent directory in the primary hierarchy; NULL for the base */
        EventsV1 *v1;    /* v1 memory.oom_control's eventfd (events-v1.c) */
        uint64_t vals[EV_VALUES];
        uint64_t v1_oom; /* v1: OOM notifications since the watch began (no kernel total) */
        EventListener *listeners;
        unsigned emitting; /* > 0 while events go out: removals are only marked */
        bool removed;
};

struct EventListener {
        EventListener *next; /* in its cgroup */
        EventsCgroup *cg;
        unsigned kinds;
        bool dead;       /* unlistened while its cgroup was emitting; freed right after */
        EventFn fn;      /* cgmd's own listener */
        void *userdata;
        Peer *peer;      /* a subscription: its connection, id and path as the peer sees it */
        uint32_t id;
        char *shown;
        EventListener *next_sub;
};

typedef struct EventsPeer {
        Peer *peer;
        EventListener *subs;
        unsigned n_subs;
        uint32_t last_id;
        unsigned unread; /* events sent since its queue was last at or below EV_QUEUE_LOW */
        uint64_t lost;   /* events dropped since it stopped reading; > 0: it is on the lossy list */
        struct EventsPeer *next_lossy;
} EventsPeer;

struct Events {
        Manager *manager;
        LoopSource inotify;
        LoopSource drain; /* timerfd: armed while the lossy list is not empty */
        Table by_wd;
        Table by_rel;
        EventsPeer *lossy;
        bool drain_armed;
        uint64_t overflows;          /* inotify queue overflows, each healed by ev_check_all() */
        uint64_t overflow_logged_ms; /* when the last one was logged: at most one line a minute */
        uint64_t overflows_logged;
};

static const char *const kind_names[] = { "populated", "empty",      "oom",     "oom_kill",
                                          "memory_high", "memory_max", "pids_max", "frozen",
                                          "thawed",    "removed",    "lost" };

const char *events_kind_name(EventKind kind)
{
        for (size_t i = 0; i < ELEMENTSOF(kind_names); i++)
                if (kind == (1u << i))
                        return kind_names[i];
        return NULL;
}

EventKind events_kind_parse(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(kind_names); i++)
                if (strcmp(name, kind_names[i]) == 0)
                        return (EventKind)(1u << i);
        return 0;
}

static bool kind_is_counter(EventKind k)
{
        return k & (EV_MEMORY | EVENT_PIDS_MAX | EVENT_LOST);
}

/* ---- paths and what the host reports ------------------------------------------------- */

static void ev_path(const Manager *m, int h, const char *rel, const char *file, char *out,
                    size_t n)
{
        const Hierarchy *hi = &m->cgfs.h[h];

        snprintf(out, n, "%s%s%s%s%s%s", hi->mount_point, hi->base_path, *rel ? "/" : "", rel,
                 file ? "/" : "", file ? file : "");
}

static bool ev_file_exists(const Manager *m, int h, const char *rel, const char *file)
{
        int fd = cgfs_openat(&m->cgfs, h, rel, file, O_PATH);

        if (fd < 0)
                return false;
        close(fd);
        return true;
}

/* The hierarchy of v2 file @f, -1 where the host has none. */
static int ev_file_hierarchy(const Manager *m, int f)
{
        int h;

        if (f == EV_FILE_CGROUP)
                return m->cgfs.v2;
        h = cgfs_hierarchy_for(&m->cgfs, f == EV_FILE_MEMORY ? "memory" : "pids");
        return h >= 0 && m->cgfs.h[h].is_v2 ? h : -1;
}

static int ev_v1_memory(const Manager *m)
{
        int h = cgfs_hierarchy_for(&m->cgfs, "memory");
        return h >= 0 && !m->cgfs.h[h].is_v2 ? h : -1;
}

unsigned events_supported(Manager *m, const char *rel)
{
        unsigned k = EVENT_REMOVED;
        int h;

        for (int f = 0; f < EV_FILES; f++) {
                h = ev_file_hierarchy(m, f);
                if (h >= 0 && ev_file_exists(m, h, rel, ev_file_name[f]))
                        k |= ev_file_kinds[f];
        }
        h = ev_v1_memory(m);
        if (h >= 0 && ev_file_exists(m, h, rel, "memory.oom_control"))
                k |= EVENT_OOM | EVENT_OOM_KILL;
        return k;
}

/* Why @kind cannot be reported for @rel, as a sentence naming it. */
static void ev_why_not(Manager *m, const char *rel, EventKind kind, char *out, size_t n)
{
        const char *name = events_kind_name(kind);
        int hp = cgfs_hierarchy_for(&m->cgfs, "pids");

        if (kind & EV_FLAGS) {
                if (m->cgfs.v2 < 0)
                        snprintf(out, n, "%s: this host has no cgroup2 hierarchy, and cgroup v1 "
                                 "does not notify a cgroup's %s state", name,
                                 kind & (EVENT_POPULATED | EVENT_EMPTY) ? "populated" : "frozen");
                else
                        snprintf(out, n, "%s: the cgroup has no cgroup.events", name);
        } else if (kind & EV_MEMORY) {
                if (ev_v1_memory(m) >= 0)
                        snprintf(out, n, "%s: this host has memory on cgroup v1, which reports "
                                 "only oom and oom_kill", name);
                else
                        snprintf(out, n, "%s: the memory controller is not enabled for this "
                                 "cgroup (no memory.events)", name);
        } else if (kind == EVENT_PIDS_MAX && hp >= 0 && !m->cgfs.h[hp].is_v2) {
                snprintf(out, n, "%s: this host has pids on cgroup v1, whose pids.events the "
                         "kernel never notifies", name);
        } else
                snprintf(out, n, "%s: the pids controller is not enabled for this cgroup (no "
                         "pids.events)", name);
        (void)rel;
}

/* ---- watches ---------------------------------------------------------------------------- */

static EvWatch *ev_watch_by_wd(Events *ev, int wd)
{
        TABLE_FOREACH_HASH(n, &ev->by_wd, table_hash_u64(&ev->by_wd, (uint64_t)wd))
        {
                EvWatch *w = container_of(n, EvWatch, by_wd);
                if (w->wd == wd)
                        return w;
        }
        return NULL;
}

static EventsCgroup *ev_cgroup_by_rel(Events *ev, const char *rel)
{
        TABLE_FOREACH_HASH(n, &ev->by_rel, table_hash_string(&ev->by_rel, rel))
        {
                EventsCgroup *cg = container_of(n, EventsCgroup, by_rel);
                if (strcmp(cg->rel, rel) == 0)
                        return cg;
        }
        return NULL;
}

static void ev_watch_drop(Events *ev, EvWatch *w)
{
        if (!w)
                return;
        if (w->refs > 1) {
                w->refs--;
                return;
        }
        table_remove(&ev->by_wd, &w->by_wd);
        (void)inotify_rm_watch(ev->inotify.fd, w->wd);
        free(w->dir_rel);
        free(w);
}

/* Watch @path for @mask; a directory watch (@cg NULL) is shared by its cgroups. */
static int ev_watch_add(Manager *m, const char *path, uint32_t mask, EventsCgroup *cg, int file,
                        const char *dir_rel, EvWatch **wp)
{
        Events *ev = m->events;
        int wd = events_add_watch(ev->inotify.fd, path, mask);
        EvWatch *w;

        if (wd < 0)
                return -errno;
        w = ev_watch_by_wd(ev, wd);
        if (w && !w->cg) {
                w->refs++;
                *wp = w;
                return 0;
        }
        if (w) /* a file watched twice: cannot happen, one EventsCgroup per cgroup */
                return -EEXIST;
        w = calloc(1, sizeof(*w));
        if (!w || (dir_rel && !(w->dir_rel = strdup(dir_rel)))) {
                free(w);
                (void)inotify_rm_watch(ev->inotify.fd, wd);
                return -ENOMEM;
        }
        w->wd = wd;
        w->refs = 1;
        w->cg = cg;
        w->file = file;
        if (table_add(&ev->by_wd, &w->by_wd, table_hash_u64(&ev->by_wd, (uint64_t)wd)) < 0) {
                (void)inotify_rm_watch(ev->inotify.fd, wd);
                free(w->dir_rel);
                free(w);
                return -ENOMEM;
        }
        *wp = w;
        return 0;
}

/* Read file @f of @cg into @vals (the keys it has); -errno when it cannot be read. */
static int ev_read(Manager *m, EventsCgroup *cg, int f, uint64_t *vals)
{
        static const struct {
                int file;
                const char *key;
                int slot;
        } keys[] = {
                { EV_FILE_CGROUP, "populated", EV_V_POPULATED },
                { EV_FILE_CGROUP, "frozen", EV_V_FROZEN },
                { EV_FILE_MEMORY, "oom", EV_V_OOM },
                { EV_FILE_MEMORY, "oom_kill", EV_V_OOM_KILL },
                { EV_FILE_MEMORY, "high", EV_V_HIGH },
                { EV_FILE_MEMORY, "max", EV_V_MAX },
                { EV_FILE_PIDS, "max", EV_V_PIDS_MAX },
        };
        int h = ev_file_hierarchy(m, f);
        char buf[1024], *save = NULL;
        int r;

        if (h < 0)
                return -ENOENT;
        r = cgfs_read(&m->cgfs, h, cg->rel, ev_file_name[f], buf, sizeof(buf));
        if (r < 0)
                return r;
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *sp = strchr(line, ' ');
                if (!sp)
                        continue;
                *sp = '\0';
                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        if (keys[i].file == f && strcmp(keys[i].key, line) == 0)
                                vals[keys[i].slot] = strtoull(sp + 1, NULL, 10);
        }
        return 0;
}

static void ev_cgroup_unwatch(Manager *m, EventsCgroup *cg)
{
        for (int f = 0; f < EV_FILES; f++) {
                ev_watch_drop(m->events, cg->files[f]);
                cg->files[f] = NULL;
        }
        ev_watch_drop(m->events, cg->parent);
        cg->parent = NULL;
        events_v1_stop(m, cg->v1);
        cg->v1 = NULL;
}

/* The watches @cg needs for what its listeners want, no more: add the missing ones (reading
 * each file once, as the values the next change is compared with), drop the others. */
static int ev_cgroup_rewatch(Manager *m, EventsCgroup *cg)
{
        unsigned want = 0;
        char path[EV_PATH_MAX];
        int r;

        if (cg->removed)
                return 0;
        for (EventListener *l = cg->listeners; l; l = l->next)
                if (!l->dead)
                        want |= l->kinds;
        if (!want) {
                ev_cgroup_unwatch(m, cg);
                return 0;
        }
        if (!cg->parent && *cg->rel) {
                char parent[CGM_PATH_MAX + 1], name[CGM_NAME_MAX + 8];
                cg_split_parent(cg->rel, parent, sizeof(parent), name, sizeof(name));
                ev_path(m, m->cgfs.primary, parent, NULL, path, sizeof(path));
                r = ev_watch_add(m, path, IN_DELETE | IN_ONLYDIR, NULL, -1, parent, &cg->parent);
                if (r < 0)
                        return r;
        }
        for (int f = 0; f < EV_FILES; f++) {
                int h = ev_file_hierarchy(m, f);
                bool need = (want & ev_file_kinds[f]) && h >= 0;
                if (need && !cg->files[f]) {
                        ev_path(m, h, cg->rel, ev_file_name[f], path, sizeof(path));
                        r = ev_watch_add(m, path, IN_MODIFY, cg, f, NULL, &cg->files[f]);
                        if (r == -ENOENT)
                                continue; /* not for this cgroup (events_supported()) */
                        if (r < 0)
                                return r;
                        (void)ev_read(m, cg, f, cg->vals);
                } else if (!need && cg->files[f]) {
                        ev_watch_drop(m->events, cg->files[f]);
                        cg->files[f] = NULL;
                }
        }
        if ((want & (EVENT_OOM | EVENT_OOM_KILL)) && ev_v1_memory(m) >= 0) {
                if (!cg->v1) {
                        r = events_v1_start(m, cg, cg->rel, &cg->v1, &cg->vals[EV_V_OOM_KILL]);
                        if (r < 0 && r != -ENOENT)
                                return r;
                }
        } else if (cg->v1) {
                events_v1_stop(m, cg->v1);
                cg->v1 = NULL;
        }
        return 0;
}

static void ev_cgroup_free(Manager *m, EventsCgroup *cg)
{
        ev_cgroup_unwatch(m, cg);
        if (cg->in_table)
                table_remove(&m->events->by_rel, &cg->by_rel);
        free(cg->rel);
        free(cg);
}

/* After events went out or listeners left: free what was unlistened meanwhile, fit the
 * watches, and free @cg when nobody listens any more. @cg may be gone afterwards. */
static void ev_cgroup_settle(Manager *m, EventsCgroup *cg)
{
        EventListener **q = &cg->listeners;

        if (cg->emitting)
                return;
        while (*q) {
                EventListener *l = *q;
                if (l->dead) {
                        *q = l->next;
                        free(l->shown);
                        free(l);
                        continue;
                }
                q = &l->next;
        }
        if (!cg->listeners) {
                ev_cgroup_free(m, cg);
                return;
        }
        if (ev_cgroup_rewatch(m, cg) < 0)
                log_warning("cannot adjust the event watches of `%s`", cg->rel);
}

static int ev_cgroup_get(Manager *m, const char *rel, EventsCgroup **cgp)
{
        Events *ev = m->events;
        EventsCgroup *cg = ev_cgroup_by_rel(ev, rel);

        if (cg) {
                *cgp = cg;
                return 0;
        }
        cg = calloc(1, sizeof(*cg));
        if (!cg || !(cg->rel = strdup(rel))) {
                free(cg);
                return -ENOMEM;
        }
        if (table_add(&ev->by_rel, &cg->by_rel, table_hash_string(&ev->by_rel, rel)) < 0) {
                free(cg->rel);
                free(cg);
                return -ENOMEM;
        }
        cg->in_table = true;
        *cgp = cg;
        return 0;
}

/* A listener for @kinds of @rel (which must exist), its watches in place. */
static int ev_listener_add(Manager *m, const char *rel, unsigned kinds, EventListener **lp)
{
        EventsCgroup *cg;
        EventListener *l;
        int r;

        if (!m->events)
                return -EOPNOTSUPP;
        r = ev_cgroup_get(m, rel, &cg);
        if (r < 0)
                return r;
        l = calloc(1, sizeof(*l));
        if (!l) {
                if (!cg->listeners)
                        ev_cgroup_free(m, cg);
                return -ENOMEM;
        }
        l->cg = cg;
        l->kinds = kinds;
        l->next = cg->listeners;
        cg->listeners = l;
        r = ev_cgroup_rewatch(m, cg);
        if (r < 0) {
                l->dead = true;
                ev_cgroup_settle(m, cg);
                return r;
        }
        *lp = l;
        return 0;
}

static void ev_listener_remove(Manager *m, EventListener *l)
{
        l->dead = true;
        ev_cgroup_settle(m, l->cg);
}

/* ---- sending ---------------------------------------------------------------------------- */

static DBusMessage *ev_message(uint32_t id, const char *path, EventKind kind, uint64_t count,
                               uint64_t total)
{
        DBusMessage *msg = reply_signal_new("Event");
        DBusMessageIter it, arr, entry;
        dbus_uint32_t i = id;
        bool ok;

        if (!msg)
                return NULL;
        dbus_message_iter_init_append(msg, &it);
        ok = dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT32, &i) &&
             reply_append_string(&it, path) && reply_append_string(&it, events_kind_name(kind)) &&
             dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{st}", &arr);
        if (ok && kind_is_counter(kind)) {
                const char *keys[2] = { "count", "total" };
                dbus_uint64_t v[2] = { count, total };
                for (int k = 0; ok && k < (kind == EVENT_LOST ? 1 : 2); k++) {
                        ok = dbus_message_iter_open_container(&arr, DBUS_TYPE_DICT_ENTRY, NULL,
                                                              &entry) &&
                             reply_append_string(&entry, keys[k]) &&
                             dbus_message_iter_append_basic(&entry, DBUS_TYPE_UINT64, &v[k]) &&
                             dbus_message_iter_close_container(&arr, &entry);
                }
        }
        if (ok)
                ok = dbus_message_iter_close_container(&it, &arr);
        if (!ok) {
                dbus_message_unref(msg);
                return NULL;
        }
        return msg;
}

static void ev_send(Peer *p, DBusMessage *msg)
{
        if (!msg)
                return; /* out of memory: this event is lost like one of a full queue */
        (void)dbus_connection_send(p->conn, msg, NULL);
        dbus_message_unref(msg);
}

static void ev_drain_arm(Events *ev, bool on)
{
        struct itimerspec its = { 0 };

        if (ev->drain_armed == on)
                return;
        if (on) {
                its.it_value.tv_nsec = EV_DRAIN_MS * 1000000L;
                its.it_interval = its.it_value;
        }
        (void)timerfd_settime(ev->drain.fd, 0, &its, NULL);
        ev->drain_armed = on;
}

static void ev_lossy_unlink(Events *ev, EventsPeer *ep)
{
        EventsPeer **q = &ev->lossy;

        while (*q && *q != ep)
                q = &(*q)->next_lossy;
        if (*q)
                *q = ep->next_lossy;
        ep->next_lossy = NULL;
        if (!ev->lossy)
                ev_drain_arm(ev, false);
}

/*
 * May one more event go to @ep's connection now? Its outgoing queue is measured: at or below
 * EV_QUEUE_LOW it has read its queue down (the `lost` count goes out first, once); past the
 * bounds the event is dropped and counted instead.
 */
static bool ev_peer_room(Events *ev, EventsPeer *ep)
{
        long size = dbus_connection_get_outgoing_size(ep->peer->conn);

        if (size <= EV_QUEUE_LOW) {
                ep->unread = 0;
                if (ep->lost) {
                        ev_send(ep->peer, ev_message(0, "", EVENT_LOST, ep->lost, 0));
                        ep->lost = 0;
                        ep->unread = 1;
                        ev_lossy_unlink(ev, ep);
                }
        }
        if (ep->lost)
                return false;
        if (size >= CGM_EVENT_QUEUE_BYTES || ep->unread >= CGM_EVENT_QUEUE_MAX)
                return false;
        return true;
}

static void ev_deliver(Manager *m, EventListener *l, EventKind kind, uint64_t delta,
                       uint64_t total)
{
        Events *ev = m->events;
        EventsPeer *ep = l->peer->events;

        /* `removed` ends a subscription: it is never dropped, or a subscriber that fell
         * behind would wait for it forever. At most one per subscription, so still bounded. */
        if (!ev_peer_room(ev, ep) && kind != EVENT_REMOVED) {
                if (ep->lost++ == 0) {
                        ep->next_lossy = ev->lossy;
                        ev->lossy = ep;
                        ev_drain_arm(ev, true);
                }
                return;
        }
        ev_send(l->peer, ev_message(l->id, l->shown, kind, delta, total));
        ep->unread++;
}

static void ev_sub_unlink(EventListener *l)
{
        EventsPeer *ep = l->peer->events;
        EventListener **q = &ep->subs;

        while (*q && *q != l)
                q = &(*q)->next_sub;
        if (*q)
                *q = l->next_sub;
        ep->n_subs--;
        l->peer->charge->n_subscriptions--;
        l->peer = NULL;
}

/* Tell @cg's listeners: subscribers first, then cgmd's own. */
static void ev_emit(Manager *m, EventsCgroup *cg, EventKind kind, uint64_t delta, uint64_t total)
{
        cg->emitting++;
        for (EventListener *l = cg->listeners; l; l = l->next)
                if (!l->dead && l->peer && (l->kinds & kind))
                        ev_deliver(m, l, kind, delta, total);
        for (EventListener *l = cg->listeners; l; l = l->next)
                if (!l->dead && !l->peer && l->fn && (l->kinds & kind))
                        l->fn(m, l->userdata, cg->rel, kind, delta, total);
        cg->emitting--;
}

/* @cg is gone: `removed` to every subscription (its last event: it ends) and to cgmd's own
 * listeners that asked; the watches go, the listeners of cgmd stay until they unlisten. */
static void ev_removed(Manager *m, EventsCgroup *cg)
{
        if (cg->removed)
                return;
        cg->removed = true;
        ev_cgroup_unwatch(m, cg);
        if (cg->in_table) {
                table_remove(&m->events->by_rel, &cg->by_rel);
                cg->in_table = false;
        }
        cg->emitting++;
        for (EventListener *l = cg->listeners; l; l = l->next)
                if (!l->dead && l->peer) {
                        ev_deliver(m, l, EVENT_REMOVED, 0, 0);
                        ev_sub_unlink(l);
                        l->dead = true;
                }
        for (EventListener *l = cg->listeners; l; l = l->next)
                if (!l->dead && l->fn && (l->kinds & EVENT_REMOVED))
                        l->fn(m, l->userdata, cg->rel, EVENT_REMOVED, 0, 0);
        cg->emitting--;
}

/* A flag in @vals changed from @old: its event. */
static void ev_flag(Manager *m, EventsCgroup *cg, uint64_t old, uint64_t now, EventKind on,
                    EventKind off)
{
        if (!!old != !!now)
                ev_emit(m, cg, now ? on : off, 0, 0);
}

static void ev_counter(Manager *m, EventsCgroup *cg, uint64_t old, uint64_t now, EventKind kind)
{
        if (now > old)
                ev_emit(m, cg, kind, now - old, now);
}

/* File @f of @cg changed (or may have): its events, or the cgroup's removal. */
static void ev_refresh_file(Manager *m, EventsCgroup *cg, int f)
{
        uint64_t old[EV_VALUES], *v = cg->vals;
        int r;

        memcpy(old, cg->vals, sizeof(old));
        cg->emitting++;
        r = ev_read(m, cg, f, v);
        if (r < 0) {
                CgmError ignored = CGM_ERROR_NULL;
                if (cg_exists(&m->cgfs, cg->rel, &ignored) == -ENOENT)
                        ev_removed(m, cg);
        } else if (f == EV_FILE_CGROUP) {
                ev_flag(m, cg, old[EV_V_POPULATED], v[EV_V_POPULATED], EVENT_POPULATED,
                        EVENT_EMPTY);
                ev_flag(m, cg, old[EV_V_FROZEN], v[EV_V_FROZEN], EVENT_FROZEN, EVENT_THAWED);
        } else if (f == EV_FILE_MEMORY) {
                ev_counter(m, cg, old[EV_V_OOM], v[EV_V_OOM], EVENT_OOM);
                ev_counter(m, cg, old[EV_V_OOM_KILL], v[EV_V_OOM_KILL], EVENT_OOM_KILL);
                ev_counter(m, cg, old[EV_V_HIGH], v[EV_V_HIGH], EVENT_MEMORY_HIGH);
                ev_counter(m, cg, old[EV_V_MAX], v[EV_V_MAX], EVENT_MEMORY_MAX);
        } else if (f == EV_FILE_PIDS) {
                ev_counter(m, cg, old[EV_V_PIDS_MAX], v[EV_V_PIDS_MAX], EVENT_PIDS_MAX);
        }
        cg->emitting--;
        ev_cgroup_settle(m, cg);
}

void events_v1_oom(Manager *m, EventsCgroup *cg, uint64_t n, uint64_t oom_kill)
{
        uint64_t old_kill = cg->vals[EV_V_OOM_KILL];

        cg->emitting++;
        if (n) {
                cg->v1_oom += n;
                ev_emit(m, cg, EVENT_OOM, n, cg->v1_oom);
        }
        if (!cg->removed && oom_kill > old_kill) {
                cg->vals[EV_V_OOM_KILL] = oom_kill;
                ev_emit(m, cg, EVENT_OOM_KILL, oom_kill - old_kill, oom_kill);
        }
        cg->emitting--;
        ev_cgroup_settle(m, cg);
}

/* ---- the loop's sources ----------------------------------------------------------------- */

static void ev_check_all(Manager *m)
{
        Events *ev = m->events;
        EventsCgroup **all;
        size_t n = 0;

        /* Collected first: refreshing may remove cgroups from the table. */
        all = calloc(ev->by_rel.n + 1, sizeof(*all));
        if (!all)
                return;
        for (size_t b = 0; b < ev->by_rel.n_buckets; b++)
                for (TableNode *t = ev->by_rel.buckets[b]; t; t = t->next)
                        all[n++] = container_of(t, EventsCgroup, by_rel);
        /* None is freed until every one was looked at (a listener may unlisten another). */
        for (size_t i = 0; i < n; i++)
                all[i]->emitting++;
        for (size_t i = 0; i < n; i++) {
                EventsCgroup *cg = all[i];
                CgmError ignored = CGM_ERROR_NULL;
                if (cg_exists(&m->cgfs, cg->rel, &ignored) == -ENOENT)
                        ev_removed(m, cg);
                for (int f = 0; f < EV_FILES && !cg->removed; f++)
                        if (cg->files[f])
                                ev_refresh_file(m, cg, f);
        }
        for (size_t i = 0; i < n; i++) {
                all[i]->emitting--;
                ev_cgroup_settle(m, all[i]);
        }
        free(all);
}

static int ev_inotify_dispatch(LoopSource *src, uint32_t events)
{
        Events *ev = container_of(src, Events, inotify);
        Manager *m = ev->manager;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool overflow = false;
        ssize_t l;

        (void)events;
        while ((l = read(src->fd, buf, sizeof(buf))) > 0) {
                for (char *p = buf; p < buf + l;) {
                        struct inotify_event *ie = (struct inotify_event *)p;
                        EvWatch *w;
                        p += sizeof(*ie) + ie->len;
                        if (ie->mask & IN_Q_OVERFLOW) {
                                overflow = true;
                                continue;
                        }
                        w = ev_watch_by_wd(ev, ie->wd);
                        if (!w)
                                continue;
                        if (!w->cg) {
                                char child[CGM_PATH_MAX + 1];
                                EventsCgroup *cg;
                                if (!(ie->mask & IN_DELETE) || !ie->len)
                                        continue;
                                snprintf(child, sizeof(child), "%s%s%s", w->dir_rel,
                                         *w->dir_rel ? "/" : "", ie->name);
                                cg = ev_cgroup_by_rel(ev, child);
                                if (cg) {
                                        cg->emitting++;
                                        ev_removed(m, cg);
                                        cg->emitting--;
                                        ev_cgroup_settle(m, cg);
                                }
                                continue;
                        }
                        if (ie->mask & IN_IGNORED) {
                                /* The kernel dropped it (the file went away): look again. */
                                EventsCgroup *cg = w->cg;
                                int f = w->file;
                                table_remove(&ev->by_wd, &w->by_wd);
                                free(w);
                                cg->files[f] = NULL;
                                ev_refresh_file(m, cg, f);
                                continue;
                        }
                        ev_refresh_file(m, w->cg, w->file);
                }
        }
        if (overflow) {
                uint64_t now = cgm_monotonic_ms();
                ev->overflows++;
                if (!ev->overflow_logged_ms || now - ev->overflow_logged_ms >= EV_OVERFLOW_LOG_MS) {
                        log_notice("the kernel's inotify queue overflowed (%" PRIu64
                                   " time(s) since the last such line): every watched cgroup "
                                   "is read again; raise fs.inotify.max_queued_events if this "
                                   "repeats", ev->overflows - ev->overflows_logged);
                        ev->overflow_logged_ms = now;
                        ev->overflows_logged = ev->overflows;
                }
                ev_check_all(m);
        }
        return 0;
}

static int ev_drain_dispatch(LoopSource *src, uint32_t events)
{
        Events *ev = container_of(src, Events, drain);
        uint64_t n;
        EventsPeer *next;

        (void)events;
        (void)!read(src->fd, &n, sizeof(n));
        for (EventsPeer *ep = ev->lossy; ep; ep = next) {
                next = ep->next_lossy;
                (void)ev_peer_room(ev, ep); /* sends `lost` and leaves the list when drained */
        }
        return 0;
}

int events_init(Manager *m, CgmError *e)
{
        Events *ev = calloc(1, sizeof(*ev));
        uint64_t seed[2] = { 0 };

        if (!ev)
                return cgm_error_set(e, -ENOMEM, NULL, "out of memory");
        ev->manager = m;
        ev->inotify = (LoopSource){ .fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK),
                                    .callback = ev_inotify_dispatch };
        ev->drain = (LoopSource){ .fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
                                  .callback = ev_drain_dispatch };
        (void)!getrandom(seed, sizeof(seed), GRND_NONBLOCK);
        table_init(&ev->by_wd, seed[0]);
        table_init(&ev->by_rel, seed[1]);
        m->events = ev;
        if (ev->inotify.fd < 0 || loop_update(&m->loop, &ev->inotify, EPOLLIN) < 0 ||
            ev->drain.fd < 0 || loop_update(&m->loop, &ev->drain, EPOLLIN) < 0) {
                int r = -errno;
                events_deinit(m);
                return cgm_error_set(e, r, NULL, "cannot set up the event watches: %m");
        }
        return 0;
}

void events_deinit(Manager *m)
{
        Events *ev = m->events;

        if (!ev)
                return;
        /* Subscriptions ended with their connections (server_stop()); what is left are
         * cgmd's own listeners that were not unlistened. */
        while (ev->by_rel.n > 0) {
                EventsCgroup *cg = NULL;
                for (size_t b = 0; !cg && b < ev->by_rel.n_buckets; b++)
                        if (ev->by_rel.buckets[b])
                                cg = container_of(ev->by_rel.buckets[b], EventsCgroup, by_rel);
                if (!cg)
                        break;
                while (cg->listeners) {
                        EventListener *l = cg->listeners;
                        cg->listeners = l->next;
                        free(l->shown);
                        free(l);
                }
                ev_cgroup_free(m, cg);
        }
        if (ev->inotify.fd >= 0) {
                (void)loop_update(&m->loop, &ev->inotify, 0);
                safe_close(ev->inotify.fd);
        }
        if (ev->drain.fd >= 0) {
                (void)loop_update(&m->loop, &ev->drain, 0);
                safe_close(ev->drain.fd);
        }
        table_deinit(&ev->by_wd);
        table_deinit(&ev->by_rel);
        free(ev);
        m->events = NULL;
}

/* ---- cgmd's own listeners --------------------------------------------------------------- */

int events_listen(Manager *m, const char *rel, unsigned kinds, EventFn fn, void *userdata,
                  EventListener **lp)
{
        CgmError ignored = CGM_ERROR_NULL;
        EventListener *l;
        int r;

        if (cg_exists(&m->cgfs, rel, &ignored) < 0)
                return -ENOENT;
        r = ev_listener_add(m, rel, kinds & events_supported(m, rel), &l);
        if (r < 0)
                return r == -ENOMEM ? r : -ENOSPC;
        l->fn = fn;
        l->userdata = userdata;
        *lp = l;
        return 0;
}

void events_unlisten(Manager *m, EventListener *l)
{
        if (!l)
                return;
        l->fn = NULL;
        ev_listener_remove(m, l);
}

/* ---- subscriptions ---------------------------------------------------------------------- */

void events_peer_gone(Manager *m, Peer *p)
{
        EventsPeer *ep = p->events;

        if (!ep)
                return;
        while (ep->subs) {
                EventListener *l = ep->subs;
                ev_sub_unlink(l);
                ev_listener_remove(m, l);
        }
        if (ep->lost && m->events)
                ev_lossy_unlink(m->events, ep);
        free(ep);
        p->events = NULL;
}

int api_subscribe(MethodCall *c)
{
        Manager *m = c->manager;
        Peer *p = c->peer;
        DBusMessageIter it, arr;
        const char *path;
        char rel[CGM_PATH_MAX + 1], host[EV_PATH_MAX], shown[EV_PATH_MAX];
        unsigned kinds = 0, supported, n = 0;
        EventListener *l;
        EventsPeer *ep;
        dbus_uint32_t id;
        int r;

        dbus_message_iter_init(c->msg, &it);
        dbus_message_iter_get_basic(&it, &path);
        dbus_message_iter_next(&it);
        dbus_message_iter_recurse(&it, &arr);
        while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_STRING) {
                const char *name;
                EventKind k;
                char q[64];
                dbus_message_iter_get_basic(&arr, &name);
                if (++n > EV_KINDS_MAX)
                        return cgm_error_set(c->error, -E2BIG, CGM_ERR_INVALID_ARGS,
                                             "at most %d kinds per Subscribe", EV_KINDS_MAX);
                k = events_kind_parse(name);
                if (!k || k == EVENT_LOST)
                        return cgm_error_set(c->error, -EINVAL, CGM_ERR_INVALID_ARGS,
                                             "`%s` is not an event kind one can subscribe to; "
                                             "kinds: populated empty oom oom_kill memory_high "
                                             "memory_max pids_max frozen thawed removed",
                                             cgm_quote(name, 40, q, sizeof(q)));
                kinds |= k;
                dbus_message_iter_next(&arr);
        }
        /* Authorized like Stat; a refusal is audited, unlike a read's: watching another
         * user's cgroups is what an administrator wants to know about. */
        r = api_resolve(c, path, AUTH_READ, true, rel, sizeof(rel));
        if (r < 0)
                return r;
        r = cg_exists(&m->cgfs, rel, c->error);
        if (r < 0)
                return r;
        supported = events_supported(m, rel);
        if (kinds & ~supported) {
                char why[256];
                unsigned missing = kinds & ~supported;
                ev_why_not(m, rel, (EventKind)(missing & -missing), why, sizeof(why));
                return cgm_error_set(c->error, -EOPNOTSUPP, CGM_ERR_NOT_SUPPORTED, "%s", why);
        }
        if (!kinds)
                kinds = supported;
        ep = p->events;
        if (ep && ep->n_subs >= CGM_SUBSCRIPTIONS_PER_PEER_MAX)
                return cgm_error_set(c->error, -EDQUOT, CGM_ERR_LIMIT_EXCEEDED,
                                     "this connection has %u subscriptions, the most one may "
                                     "hold; Unsubscribe some or open another connection",
                                     ep->n_subs);
        if (!p->principal.is_root && p->charge->n_subscriptions >= CGM_SUBSCRIPTIONS_PER_UID_MAX)
                return cgm_error_set(c->error, -EDQUOT, CGM_ERR_LIMIT_EXCEEDED,
                                     "uid %u has %u subscriptions over its connections, the "
                                     "most one uid may hold",
                                     (unsigned)p->principal.uid, p->charge->n_subscriptions);
        if (!ep) {
                ep = calloc(1, sizeof(*ep));
                if (!ep)
                        return cgm_error_set(c->error, -ENOMEM, NULL, "out of memory");
                ep->peer = p;
                p->events = ep;
        }
        cgfs_api_path(&m->cgfs, rel, host, sizeof(host));
        api_caller_path(c, rel, shown, sizeof(shown));
        r = ev_listener_add(m, rel, kinds, &l);
        if (r == -ENOSPC)
                return cgm_error_set(c->error, r, CGM_ERR_LIMIT_EXCEEDED,
                                     "cannot watch `%s`: the host's fs.inotify.max_user_watches "
                                     "is reached", host);
        if (r < 0)
                return cgm_error_set(c->error, r, NULL, "cannot watch `%s`: %s", host,
                                     strerror(-r));
        l->shown = strdup(shown);
        if (!l->shown) {
                ev_listener_remove(m, l);
                return cgm_error_set(c->error, -ENOMEM, NULL, "out of memory");
        }
        /* Removed between the check above and the watches: no IN_DELETE would come. */
        r = cg_exists(&m->cgfs, rel, c->error);
        if (r < 0) {
                ev_listener_remove(m, l);
                return r;
        }
        l->peer = p;
        l->id = id = ++ep->last_id;
        l->next_sub = ep->subs;
        ep->subs = l;
        ep->n_subs++;
        p->charge->n_subscriptions++;
        c->reply = dbus_message_new_method_return(c->msg);
        if (c->reply) {
                DBusMessageIter out;
                dbus_message_iter_init_append(c->reply, &out);
                if (dbus_message_iter_append_basic(&out, DBUS_TYPE_UINT32, &id))
                        return 0;
        }
        return cgm_error_set(c->error, -ENOMEM, NULL, "out of memory");
}

int api_unsubscribe(MethodCall *c)
{
        EventsPeer *ep = c->peer->events;
        dbus_uint32_t id;

        dbus_message_get_args(c->msg, NULL, DBUS_TYPE_UINT32, &id, DBUS_TYPE_INVALID);
        for (EventListener *l = ep ? ep->subs : NULL; l; l = l->next_sub)
                if (l->id == id) {
                        ev_sub_unlink(l);
                        ev_listener_remove(c->manager, l);
                        return 0;
                }
        return cgm_error_set(c->error, -ENOENT, CGM_ERR_NOT_FOUND,
                             "this connection has no subscription %u (it ended with its "
                             "cgroup's removal, or was never made)",
                             (unsigned)id);
}
