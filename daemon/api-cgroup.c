/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Method handlers for cgroups: each one parses, authorizes, acts, audits
 *
 * Every handler has the same shape: read the typed arguments (the dispatcher has checked the
 * signature), resolve the path against the caller's home and authorize it (auth.c), carry the
 * operation out (cgroup.c), write one audit line when something was changed, and build the
 * reply. Nothing is changed before every argument has been checked.
 *
 * Moves are the delicate part. A process arrives as a pidfd; its pid and credentials are read
 * from the pidfd, its current cgroup from /proc/PID/cgroup, and only then is the pid written.
 * Afterwards the pidfd must still be alive (so the pid was not recycled in between) and
 * /proc/PID/cgroup must show the destination; otherwise the caller is told.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "auth.h"
#include "cgroup.h"
#include "cleanup.h"
#include "home.h"
#include "keys.h"
#include "log.h"
#include "methods.h"
#include "mountinfo.h"
#include "nsview.h"
#include "peer.h"
#include "proc.h"
#include "protocol.h"
#include "reply.h"
#include "server.h"
#include "systemd.h"
#include "text.h"

#define API_PATH_MAX (CGM_PATH_MAX + 1100)

static int resolve(MethodCall *c, const char *input, AuthAction action, char *rel, size_t n)
{
        return api_resolve(c, input, action, false, rel, n);
}


static void audit(MethodCall *c, const char *rel, const char *what, int r)
{
        char api[API_PATH_MAX];

        cgfs_api_path(&c->manager->cgfs, rel, api, sizeof(api));
        audit_write_why(c->peer->principal.uid, c->peer->pid, dbus_message_get_member(c->msg),
                        api, what, r, r < 0 ? c->error->name : NULL,
                        r < 0 ? c->error->msg : NULL);
}

static int reply_new(MethodCall *c, DBusMessageIter *it)
{
        c->reply = dbus_message_new_method_return(c->msg);
        if (!c->reply)
                return cgm_error_set(c->error, -ENOMEM, NULL, "out of memory");
        dbus_message_iter_init_append(c->reply, it);
        return 0;
}

/* Read an a{ss} of settings; the strings live as long as the message. */
static int read_settings(MethodCall *c, DBusMessageIter *it, CgSetting *out, size_t *n,
                         char *what, size_t what_size)
{
        DBusMessageIter arr;
        size_t w = 0;

        *n = 0;
        what[0] = '\0';
        dbus_message_iter_recurse(it, &arr);
        while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY) {
                DBusMessageIter entry;
                const char *k, *v;
                if (*n >= CGM_SETTINGS_MAX)
                        return cgm_error_set(c->error, -E2BIG, CGM_ERR_INVALID_ARGS,
                                             "at most %d settings per request", CGM_SETTINGS_MAX);
                dbus_message_iter_recurse(&arr, &entry);
                dbus_message_iter_get_basic(&entry, &k);
                dbus_message_iter_next(&entry);
                dbus_message_iter_get_basic(&entry, &v);
                if (strlen(k) >= 64 || strlen(v) >= CGM_VALUE_MAX) {
                        char q[64];
                        return cgm_error_set(c->error, -EINVAL, CGM_ERR_INVALID_VALUE,
                                             "setting `%s` is too long (keys < 64, values < "
                                             "%d bytes)",
                                             cgm_quote(k, 40, q, sizeof(q)), CGM_VALUE_MAX);
                }
                out[(*n)++] = (CgSetting){ .key = k, .value = v };
                if (w < what_size)
                        w += (size_t)snprintf(what + w, what_size - w, "%s%s=%s", w ? " " : "", k,
                                              v);
                dbus_message_iter_next(&arr);
        }
        return 0;
}

int api_ping(MethodCall *c)
{
        (void)c;
        return 0;
}

int api_version(MethodCall *c)
{
        Cgfs *cg = &c->manager->cgfs;
        DBusMessageIter it, arr;
        const char *version = PACKAGE_VERSION;
        dbus_uint32_t level = CGM_API_LEVEL;
        char layout[32];
        const char *features[8];
        size_t n = 0;
        int r = reply_new(c, &it);

        if (r < 0)
                return r;
        snprintf(layout, sizeof(layout), "layout=%s", cgfs_layout_name(cg->layout));
        features[n++] = layout;
        if (cg->v2 >= 0)
                features[n++] = "cgroup2";
        if (cg->layout != CGFS_UNIFIED)
                features[n++] = "cgroup1";
        features[n++] = "pidfd";
        reply_append_string(&it, version);
        dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT32, &level);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "s", &arr);
        for (size_t i = 0; i < n; i++)
                reply_append_string(&arr, features[i]);
        dbus_message_iter_close_container(&it, &arr);
        return 0;
}

int api_whoami(MethodCall *c)
{
        Manager *m = c->manager;
        const char *home = c->peer->principal.is_root
                                   ? ""
                                   : nsview_scope(&c->peer->ns,
                                                  home_lookup_live(&m->homes, &m->cgfs,
                                                                   c->peer->principal.uid));
        char home_api[API_PATH_MAX] = "", where[4096], current[4096] = "";
        const char *hp = home_api, *cp = current;
        dbus_uint32_t uid = nsview_uid_out(&c->peer->ns, c->peer->principal.uid);
        DBusMessageIter it, arr;
        int r;

        if (!home && systemd_active(m) && !c->peer->ns.cgroup_root &&
            !c->peer->ns.cgroup_root_unknown)
                return systemd_whoami(c); /* user@UID.service, the limits of its slice */
        if (home)
                api_caller_path(c, home, home_api, sizeof(home_api));
        /* Through the connection's pidfd: once the process that connected has exited, its
         * number may name a stranger, so there is no answer rather than a wrong one. */
        r = cg_proc_path(&m->cgfs, c->peer->pidfd, where, sizeof(where));
        if (r < 0)
                return cgm_error_set(c->error, -ESRCH, CGM_ERR_NO_PROCESS,
                                     "the process that opened this connection (pid %d) has "
                                     "exited; connect again from a live process",
                                     (int)c->peer->pid);
        nsview_path_out(&c->peer->ns, where, current, sizeof(current));
        r = reply_new(c, &it);
        if (r < 0)
                return r;
        dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT32, &uid);
        reply_append_string(&it, hp);
        reply_append_string(&it, cp);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{ss}", &arr);
        for (size_t i = 0; home && *home && i < cg_whoami_keys_n; i++) {
                char value[CGM_VALUE_MAX];
                const char *k = cg_whoami_keys[i], *v = value;
                CgmError ignored = CGM_ERROR_NULL;
                if (cg_get_one(&m->cgfs, home, k, value, sizeof(value), &ignored) < 0)
                        continue;
                reply_append_pair(&arr, k, v);
        }
        dbus_message_iter_close_container(&it, &arr);
        return 0;
}

int api_create(MethodCall *c)
{
        DBusMessageIter it;
        CgSetting settings[CGM_SETTINGS_MAX];
        size_t n;
        const char *path;
        char rel[CGM_PATH_MAX + 1], api[API_PATH_MAX], what[512];
        const char *ap = api;
        uid_t owner = c->peer->principal.is_root ? (uid_t)-1 : c->peer->principal.uid;
        int r;

        dbus_message_iter_init(c->msg, &it);
        dbus_message_iter_get_basic(&it, &path);
        dbus_message_iter_next(&it);
        r = read_settings(c, &it, settings, &n, what, sizeof(what));
        if (r < 0)
                return r;
        r = resolve(c, path, AUTH_WRITE, rel, sizeof(rel));
        if (r < 0)
                return r;
        r = cg_create(&c->manager->cgfs, rel, owner, settings, n, c->error);
        audit(c, rel, what, r);
        if (r < 0)
                return r;
        api_caller_path(c, rel, api, sizeof(api));
        r = reply_new(c, &it);
        if (r < 0)
                return r;
        reply_append_string(&it, ap);
        return 0;
}

/* ---- kernel writes that may block, on the cgroup workers -------------------------------- */

/*
 * Some kernel writes block. Lowering memory.max or memory.high (and on v1 the memsw limit)
 * makes the writer reclaim down to the new limit inside write(2), which with dirty page cache
 * waits for writeback for as long as the disk takes. Remove with kill waits up to 2 s for the
 * killed processes to exit, and a recursive Remove is an rmdir per cgroup and hierarchy. On
 * the loop, every other client would wait for them.
 *
 * Such a request is checked and authorized on the loop like any other (resolve()); only
 * cg_set() or cg_remove_as() run on a worker thread (Manager.cg_workers). They touch nothing
 * but the Cgfs, which is fixed from start to exit, the job, and cgroupfs through the base's
 * RESOLVE_BENEATH opens. The audit line, the registry (home_forget_below()) and the reply
 * follow in done(), on the loop. Three rules keep this the same as doing it inline:
 *  - The connection is held (server_peer_hold()): nothing more of it is served until the job
 *    is answered, so its requests are answered in order, and a Get after a Set sees the Set,
 *    pipelined or not.
 *  - Jobs on overlapping paths (one equal to or below the other) run one after the other, in
 *    arrival order; a Set or a plain Remove that overlaps a job in flight becomes a job too.
 *    So a Remove never races a Set of the cgroup it removes.
 *  - A uid other than root has at most CG_JOBS_PER_UID jobs running; its others wait, one per
 *    connection at most. One user's slow writes cannot take every thread, and the NSS
 *    lookups of logins have threads of their own.
 */

/* Threads for blocking cgroup writes, and how many of them one non-root uid may occupy. */
#define CG_WORKERS 4
#define CG_JOBS_PER_UID 2
/* Below the loop's priority: a mass rmdir or a long reclaim must not take the CPU the loop
 * needs to answer everyone else (2 cores: the thread, the loop and the clients share them). */
#define CG_WORKERS_NICE 10

typedef enum CgJobKind {
        CG_JOB_SET,
        CG_JOB_REMOVE,
} CgJobKind;

struct CgJob {
        WorkerJob job;
        CgJob *next; /* Manager.cg_jobs */
        Manager *manager;
        CgJobKind kind;
        bool started;
        DBusConnection *conn;
        DBusMessage *msg; /* holds the strings of @settings */
        uid_t uid;
        pid_t pid;
        bool root;
        char rel[CGM_PATH_MAX + 1];
        char what[512]; /* for the audit line */
        CgSetting settings[CGM_SETTINGS_MAX];
        size_t n_settings;
        dbus_uint32_t flags;
        UidMap map; /* Remove(kill) by root of a user namespace: a copy of its map */
        bool has_map;
        int r;          /* written by the thread */
        CgmError error; /* written by the thread */
};

/* Is one of @a and @b (relative to the base) equal to the other or below it? */
static bool rel_overlap(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b), l = la < lb ? la : lb;

        if (l == 0)
                return true; /* the base */
        return strncmp(a, b, l) == 0 && (a[l] == '\0' || a[l] == '/') &&
               (b[l] == '\0' || b[l] == '/');
}

/* Without threads (a harness that started none), everything runs inline as before. */
static bool cg_jobs_enabled(const Manager *m)
{
        return m->cg_workers.n_threads > 0;
}

static bool cg_jobs_overlap(Manager *m, const char *rel)
{
        for (CgJob *j = m->cg_jobs; j; j = j->next)
                if (rel_overlap(j->rel, rel))
                        return true;
        return false;
}

static void cg_job_run(WorkerJob *wj)
{
        CgJob *j = container_of(wj, CgJob, job);
        const Cgfs *cg = &j->manager->cgfs;

        if (j->kind == CG_JOB_SET)
                j->r = cg_set(cg, j->rel, j->settings, j->n_settings, &j->error);
        else
                j->r = cg_remove_as(cg, j->rel, j->flags & CGM_REMOVE_RECURSIVE,
                                    j->flags & CGM_REMOVE_KILL, j->root ? (uid_t)-1 : j->uid,
                                    j->has_map ? &j->map : NULL, &j->error);
}

static void cg_job_free(CgJob *j)
{
        if (j->msg)
                dbus_message_unref(j->msg);
        if (j->conn)
                dbus_connection_unref(j->conn);
        if (j->has_map)
                uidmap_free(&j->map);
        free(j);
}

/* Start every waiting job that no earlier job overlaps and whose uid has a thread to spare. */
static void cg_jobs_start(Manager *m)
{
        if (m->stopping)
                return;
        for (CgJob *j = m->cg_jobs; j; j = j->next) {
                unsigned running = 0;
                bool blocked = false;
                if (j->started)
                        continue;
                for (CgJob *k = m->cg_jobs; k && !blocked; k = k->next) {
                        if (k == j)
                                break;
                        blocked = rel_overlap(k->rel, j->rel);
                }
                for (CgJob *k = m->cg_jobs; k && !blocked && !j->root; k = k->next)
                        if (k->started && !k->root && k->uid == j->uid)
                                running++;
                if (blocked || running >= CG_JOBS_PER_UID)
                        continue;
                j->started = true;
                workers_submit(&m->cg_workers, &j->job);
        }
}

static void cg_job_done(WorkerJob *wj)
{
        CgJob *j = container_of(wj, CgJob, job);
        Manager *m = j->manager;
        Peer *p = dbus_connection_get_data(j->conn, m->peer_slot);
        DBusMessage *reply = NULL;

        for (CgJob **q = &m->cg_jobs; *q; q = &(*q)->next)
                if (*q == j) {
                        *q = j->next;
                        break;
                }
        if (!wj->cancelled) {
                char api[API_PATH_MAX];
                cgfs_api_path(&m->cgfs, j->rel, api, sizeof(api));
                audit_write_why(j->uid, j->pid, dbus_message_get_member(j->msg), api, j->what,
                                j->r, j->r < 0 ? j->error.name : NULL,
                                j->r < 0 ? j->error.msg : NULL);
                if (j->kind == CG_JOB_REMOVE && j->r == 0)
                        home_forget_below(&m->homes, j->rel);
        }
        if (p && !m->stopping && !wj->cancelled && dbus_connection_get_is_connected(j->conn)) {
                if (j->r >= 0)
                        reply = dbus_message_new_method_return(j->msg);
                else {
                        CgmError *e = &j->error;
                        if (!e->code)
                                cgm_error_set(e, j->r, NULL, "%s failed: %s",
                                              dbus_message_get_member(j->msg), strerror(-j->r));
                        nsview_message_out(&p->ns, e->msg, sizeof(e->msg));
                        reply = reply_error(j->msg,
                                            e->name ? e->name : cgm_errno_to_error_name(e->code),
                                            e->msg);
                }
                if (reply) {
                        dbus_message_set_no_reply(reply, TRUE);
                        (void)dbus_connection_send(j->conn, reply, NULL);
                        dbus_message_unref(reply);
                }
        }
        if (p)
                server_peer_release(p);
        cg_job_free(j);
        cg_jobs_start(m);
}

/* Hold the caller and queue @j (filled by the handler) to run when its turn comes. */
static int cg_job_submit(MethodCall *c, CgJob *j)
{
        Manager *m = c->manager;
        CgJob **tail = &m->cg_jobs;

        j->job = (WorkerJob){ .run = cg_job_run, .done = cg_job_done };
        j->manager = m;
        j->conn = dbus_connection_ref(c->peer->conn);
        j->msg = dbus_message_ref(c->msg);
        j->uid = c->peer->principal.uid;
        j->pid = c->peer->pid;
        j->root = c->peer->principal.is_root;
        while (*tail)
                tail = &(*tail)->next;
        *tail = j;
        server_peer_hold(c->peer);
        cg_jobs_start(m);
        return METHOD_PENDING;
}

static CgJob *cg_job_new(MethodCall *c, CgJobKind kind, const char *rel)
{
        CgJob *j = calloc(1, sizeof(*j));

        if (!j) {
                cgm_error_set(c->error, -ENOMEM, NULL, "out of memory");
                return NULL;
        }
        j->kind = kind;
        j->error = (CgmError)CGM_ERROR_NULL;
        snprintf(j->rel, sizeof(j->rel), "%s", rel);
        return j;
}

int api_cgroup_jobs_init(Manager *m)
{
        return workers_init_nice(&m->cg_workers, &m->loop, CG_WORKERS, CG_WORKERS_NICE);
}

void api_cgroup_jobs_deinit(Manager *m)
{
        /* Done() of every job a thread has finished or never took; then those never started. */
        workers_deinit(&m->cg_workers);
        while (m->cg_jobs) {
                CgJob *j = m->cg_jobs;
                m->cg_jobs = j->next;
                if (j->started)
                        continue; /* still held by a thread that did not stop: left to exit */
                cg_job_free(j);
        }
}

/* Writes that make the kernel reclaim inside write(2) (see above). */
static bool cg_set_may_block(const CgSetting *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(s[i].key, "memory.max") == 0 || strcmp(s[i].key, "memory.high") == 0 ||
                    strcmp(s[i].key, "memory.swap.max") == 0)
                        return true;
        return false;
}

int api_remove(MethodCall *c)
{
        const char *path;
        dbus_uint32_t flags;
        char rel[CGM_PATH_MAX + 1], what[64];
        int r;

        dbus_message_get_args(c->msg, NULL, DBUS_TYPE_STRING, &path, DBUS_TYPE_UINT32, &flags,
                              DBUS_TYPE_INVALID);
        if (flags & ~CGM_REMOVE_FLAGS_ALL)
                return cgm_error_set(c->error, -EINVAL, CGM_ERR_INVALID_ARGS,
                                     "unknown Remove flags 0x%x (1 = recursive, 2 = kill)",
                                     flags & ~CGM_REMOVE_FLAGS_ALL);
        r = resolve(c, path, AUTH_WRITE, rel, sizeof(rel));
        if (r < 0)
                return r;
        snprintf(what, sizeof(what), "flags=%u", flags);
        /* Kill waits for the processes to exit, recursive may be many rmdirs: on a worker. */
        if (cg_jobs_enabled(c->manager) && ((flags & (CGM_REMOVE_RECURSIVE | CGM_REMOVE_KILL)) ||
                                            cg_jobs_overlap(c->manager, rel))) {
                const UidMap *map = c->peer->principal.map;
                CgJob *j = cg_job_new(c, CG_JOB_REMOVE, rel);
                if (!j)
                        return -ENOMEM;
                j->flags = flags;
                snprintf(j->what, sizeof(j->what), "%s", what);
                if (map) {
                        j->map.extents = calloc(map->n ? map->n : 1, sizeof(*map->extents));
                        if (!j->map.extents) {
                                cg_job_free(j);
                                return cgm_error_set(c->error, -ENOMEM, NULL, "out of memory");
                        }
                        memcpy(j->map.extents, map->extents, map->n * sizeof(*map->extents));
                        j->map.n = map->n;
                        j->has_map = true;
                }
                return cg_job_submit(c, j);
        }
        r = cg_remove_as(&c->manager->cgfs, rel, flags & CGM_REMOVE_RECURSIVE,
                         flags & CGM_REMOVE_KILL,
                         c->peer->principal.is_root ? (uid_t)-1 : c->peer->principal.uid,
                         c->peer->principal.map, c->error);
        audit(c, rel, what, r);
        if (r == 0)
                home_forget_below(&c->manager->homes, rel);
        return r;
}

int api_set(MethodCall *c)
{
        DBusMessageIter it;
        CgSetting settings[CGM_SETTINGS_MAX];
        size_t n;
        const char *path;
        char rel[CGM_PATH_MAX + 1], what[512];
        int r;

        dbus_message_iter_init(c->msg, &it);
        dbus_message_iter_get_basic(&it, &path);
        dbus_message_iter_next(&it);
        r = read_settings(c, &it, settings, &n, what, sizeof(what));
        if (r < 0)
                return r;
        r = resolve(c, path, AUTH_WRITE, rel, sizeof(rel));
        if (r < 0)
                return r;
        /* A lowered memory limit reclaims inside the write: on a worker. */
        if (cg_jobs_enabled(c->manager) &&
            (cg_set_may_block(settings, n) || cg_jobs_overlap(c->manager, rel))) {
                CgJob *j = cg_job_new(c, CG_JOB_SET, rel);
                if (!j)
                        return -ENOMEM;
                memcpy(j->settings, settings, n * sizeof(*settings));
                j->n_settings = n;
                snprintf(j->what, sizeof(j->what), "%s", what);
                return cg_job_submit(c, j);
        }
        r = cg_set(&c->manager->cgfs, rel, settings, n, c->error);
        audit(c, rel, what, r);
        return r;
}

int api_get(MethodCall *c)
{
        Manager *m = c->manager;
        DBusMessageIter it, keys, out;
        const char *path;
        const char *wanted[CGM_SETTINGS_MAX];
        size_t n = 0;
        char rel[CGM_PATH_MAX + 1];
        int r;

        dbus_message_iter_init(c->msg, &it);
        dbus_message_iter_get_basic(&it, &path);
        dbus_message_iter_next(&it);
        dbus_message_iter_recurse(&it, &keys);
        while (dbus_message_iter_get_arg_type(&keys) == DBUS_TYPE_STRING) {
                if (n >= CGM_SETTINGS_MAX)
                        return cgm_error_set(c->error, -E2BIG, CGM_ERR_INVALID_ARGS,
                                             "at most %d keys per request", CGM_SETTINGS_MAX);
                dbus_message_iter_get_basic(&keys, &wanted[n++]);
                dbus_message_iter_next(&keys);
        }
        r = resolve(c, path, AUTH_READ, rel, sizeof(rel));
        if (r < 0)
                return r;
        /* Named keys report a missing cgroup themselves; "every key" must check first. */
        if (n == 0) {
                r = cg_exists(&m->cgfs, rel, c->error);
                if (r < 0)
                        return r;
        }
        r = reply_new(c, &it);
        if (r < 0)
                return r;
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{ss}", &out);
        if (n > 0) {
                for (size_t i = 0; i < n; i++) {
                        char value[CGM_VALUE_MAX];
                        const char *v = value;
                        r = cg_get_one(&m->cgfs, rel, wanted[i], value, sizeof(value), c->error);
                        if (r < 0) {
                                dbus_message_iter_abandon_container(&it, &out);
                                return r;
                        }
                        reply_append_pair(&out, wanted[i], v);
                }
        } else {
                for (const char *const *k = key_names(); *k; k++) {
                        char value[CGM_VALUE_MAX];
                        const char *v = value;
                        CgmError ignored = CGM_ERROR_NULL;
                        if (cg_get_one(&m->cgfs, rel, *k, value, sizeof(value), &ignored) < 0)
                                continue; /* controller absent or key not applicable here */
                        reply_append_pair(&out, *k, v);
                }
        }
        dbus_message_iter_close_container(&it, &out);
        return 0;
}

typedef struct ListState {
        MethodCall *c;
        DBusMessageIter *arr;
        size_t n;
} ListState;

static int list_visit(const char *rel, void *userdata)
{
        ListState *s = userdata;
        char api[API_PATH_MAX];
        const char *ap = api;

        if (++s->n > CGM_LIST_MAX)
                return -EDQUOT;
        api_caller_path(s->c, rel, api, sizeof(api));
        return reply_append_string(s->arr, ap) ? 0 : -ENOMEM;
}

int api_list(MethodCall *c)
{
        const char *path;
        dbus_bool_t recursive;
        char rel[CGM_PATH_MAX + 1];
        DBusMessageIter it, arr;
        ListState s;
        int r;

        dbus_message_get_args(c->msg, NULL, DBUS_TYPE_STRING, &path, DBUS_TYPE_BOOLEAN,
                              &recursive, DBUS_TYPE_INVALID);
        r = resolve(c, path, AUTH_READ, rel, sizeof(rel));
        if (r < 0)
                return r;
        r = cg_exists(&c->manager->cgfs, rel, c->error);
        if (r < 0)
                return r;
        r = reply_new(c, &it);
        if (r < 0)
                return r;
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "s", &arr);
        s = (ListState){ .c = c, .arr = &arr };
        r = cg_walk(&c->manager->cgfs, rel, recursive, list_visit, &s, c->error);
        if (r < 0) {
                dbus_message_iter_abandon_container(&it, &arr);
                if (r == -EDQUOT)
                        return cgm_error_set(c->error, r, CGM_ERR_LIMIT_EXCEEDED,
                                             "more than %d cgroups to list", CGM_LIST_MAX);
                return r;
        }
        dbus_message_iter_close_container(&it, &arr);
        return 0;
}

int api_procs(MethodCall *c)
{
        const char *path;
        dbus_bool_t recursive;
        char rel[CGM_PATH_MAX + 1];
        DBusMessageIter it, arr;
        struct {
                pid_t *pids;
                size_t n;
        } s = { 0 };
        int r;

        dbus_message_get_args(c->msg, NULL, DBUS_TYPE_STRING, &path, DBUS_TYPE_BOOLEAN,
                              &recursive, DBUS_TYPE_INVALID);
        r = resolve(c, path, AUTH_READ, rel, sizeof(rel));
        if (r < 0)
                return r;
        r = (recursive ? cg_procs_subtree : cg_procs)(&c->manager->cgfs, rel, &s.pids, &s.n,
                                                       c->error);
        if (r == 0)
                r = reply_new(c, &it);
        if (r == 0) {
                dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "u", &arr);
                for (size_t i = 0; i < s.n; i++) {
                        /* In the caller's pid namespace; those it cannot see are left out. */
                        dbus_uint32_t pid = (dbus_uint32_t)nsview_pid_out(&c->peer->ns, s.pids[i]);
                        if (pid != 0)
                                dbus_message_iter_append_basic(&arr, DBUS_TYPE_UINT32, &pid);
                }
                dbus_message_iter_close_container(&it, &arr);
        }
        free(s.pids);
        return r;
}

/* Move the process behind @pidfd into @rel after checking it may go there; verify after. */
static int move_one(MethodCall *c, const char *rel, int pidfd)
{
        Manager *m = c->manager;
        const char *home = api_caller_home(c);
        char where[4096], proc_rel[CGM_PATH_MAX + 1], api[API_PATH_MAX], what[32];
        ProcInfo info;
        int r;

        cgfs_api_path(&m->cgfs, rel, api, sizeof(api));
        r = proc_pidfd_info(pidfd, &info);
        if (r == -ESRCH)
                return cgm_error_set(c->error, r, CGM_ERR_NO_PROCESS, "the process has exited");
        if (r < 0)
                return cgm_error_set(c->error, r, CGM_ERR_INVALID_ARGS,
                                     "the file descriptor sent is not a pidfd");
        r = cg_proc_path(&m->cgfs, pidfd, where, sizeof(where));
        if (r < 0)
                return cgm_error_set(c->error, -ESRCH, CGM_ERR_NO_PROCESS,
                                     "process %d has exited", (int)info.pid);
        r = auth_check_move(&c->peer->principal, m->cgfs.base_api, home, info.ruid, info.euid,
                            cgfs_rel_from_proc(&m->cgfs, where, proc_rel, sizeof(proc_rel)) == 0
                                    ? proc_rel
                                    : NULL,
                            rel, c->error);
        snprintf(what, sizeof(what), "pid=%d", (int)info.pid);
        if (r < 0) {
                audit(c, rel, what, r);
                return r;
        }
        r = cg_move_pidfd(&m->cgfs, rel, pidfd, info.pid, c->error);
        audit(c, rel, what, r);
        return r;
}

int api_move(MethodCall *c)
{
        DBusMessageIter it, arr;
        const char *path;
        char rel[CGM_PATH_MAX + 1];
        int fds[CGM_FDS_PER_MESSAGE_MAX];
        size_t n = 0;
        int r = 0;

        dbus_message_iter_init(c->msg, &it);
        dbus_message_iter_get_basic(&it, &path);
        dbus_message_iter_next(&it);
        dbus_message_iter_recurse(&it, &arr);
        /* Take every fd first, so each is closed whatever happens below. */
        while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_UNIX_FD) {
                int fd;
                dbus_message_iter_get_basic(&arr, &fd);
                if (n < ELEMENTSOF(fds))
                        fds[n++] = fd;
                else
                        safe_close(fd);
                dbus_message_iter_next(&arr);
        }
        if (n == 0)
                r = cgm_error_set(c->error, -EINVAL, CGM_ERR_INVALID_ARGS, "no process given");
        if (r == 0)
                r = resolve(c, path, AUTH_WRITE, rel, sizeof(rel));
        if (r == 0)
                r = cg_exists(&c->manager->cgfs, rel, c->error);
        for (size_t i = 0; r == 0 && i < n; i++)
                r = move_one(c, rel, fds[i]);
        for (size_t i = 0; i < n; i++)
                safe_close(fds[i]);
        return r;
}

int api_move_self(MethodCall *c)
{
        const char *path;
        char rel[CGM_PATH_MAX + 1];
        int r;

        dbus_message_get_args(c->msg, NULL, DBUS_TYPE_STRING, &path, DBUS_TYPE_INVALID);
        r = resolve(c, path, AUTH_WRITE, rel, sizeof(rel));
        if (r < 0)
                return r;
        r = cg_exists(&c->manager->cgfs, rel, c->error);
        if (r < 0)
                return r;
        return move_one(c, rel, c->peer->pidfd);
}

int api_proc_cgroup(MethodCall *c)
{
        Manager *m = c->manager;
        const char *home = api_caller_home(c);
        _cleanup_close_ int pidfd = -1;
        char where[4096], shown[4096], rel[CGM_PATH_MAX + 1];
        const char *wp = shown;
        DBusMessageIter it;
        ProcInfo info;
        int r;

        dbus_message_get_args(c->msg, NULL, DBUS_TYPE_UNIX_FD, &pidfd, DBUS_TYPE_INVALID);
        r = proc_pidfd_info(pidfd, &info);
        if (r < 0)
                return cgm_error_set(c->error, r == -ESRCH ? r : -EINVAL,
                                     r == -ESRCH ? CGM_ERR_NO_PROCESS : CGM_ERR_INVALID_ARGS,
                                     r == -ESRCH ? "the process has exited"
                                                 : "the file descriptor sent is not a pidfd");
        r = cg_proc_path(&m->cgfs, pidfd, where, sizeof(where));
        if (r < 0)
                return cgm_error_set(c->error, -ESRCH, CGM_ERR_NO_PROCESS,
                                     "process %d has exited", (int)info.pid);
        /* Users may ask about their own processes and about anything inside their home. */
        if (!c->peer->principal.is_root && info.ruid != c->peer->principal.uid &&
            !(home && cgfs_rel_from_proc(&m->cgfs, where, rel, sizeof(rel)) == 0 &&
              auth_check(&c->peer->principal, m->cgfs.base_api, home, rel, AUTH_READ, NULL) == 0))
                return cgm_error_set(c->error, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                     "process %d belongs to another user and is outside your "
                                     "home",
                                     (int)(nsview_pid_out(&c->peer->ns, info.pid) ?: info.pid));
        nsview_path_out(&c->peer->ns, where, shown, sizeof(shown));
        r = reply_new(c, &it);
        if (r < 0)
                return r;
        reply_append_string(&it, wp);
        return 0;
}

int api_kill(MethodCall *c)
{
        const char *path;
        dbus_int32_t sig;
        char rel[CGM_PATH_MAX + 1], what[80];
        CgKill k;
        dbus_uint32_t count;
        DBusMessageIter it;
        int r;

        dbus_message_get_args(c->msg, NULL, DBUS_TYPE_STRING, &path, DBUS_TYPE_INT32, &sig,
                              DBUS_TYPE_INVALID);
        if (sig <= 0 || sig >= NSIG)
                return cgm_error_set(c->error, -EINVAL, CGM_ERR_INVALID_ARGS,
                                     "%d is not a signal number (1..%d)", sig, NSIG - 1);
        r = resolve(c, path, AUTH_WRITE, rel, sizeof(rel));
        if (r < 0)
                return r;
        k = (CgKill){ .sig = sig,
                      .as_uid = c->peer->principal.is_root ? (uid_t)-1 : c->peer->principal.uid,
                      .as_map = c->peer->principal.map };
        r = cg_kill_as(&c->manager->cgfs, rel, &k, c->error);
        snprintf(what, sizeof(what), "signal=%d signalled=%u refused=%u", sig, k.n_signalled,
                 k.n_refused);
        audit(c, rel, what, r);
        if (r < 0)
                return r;
        r = reply_new(c, &it);
        if (r < 0)
                return r;
        count = k.n_signalled;
        dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT32, &count);
        return 0;
}

static int freeze_or_thaw(MethodCall *c, bool freeze)
{
        const char *path;
        char rel[CGM_PATH_MAX + 1];
        int r;

        dbus_message_get_args(c->msg, NULL, DBUS_TYPE_STRING, &path, DBUS_TYPE_INVALID);
        r = resolve(c, path, AUTH_WRITE, rel, sizeof(rel));
        if (r < 0)
                return r;
        r = cg_freeze_as(&c->manager->cgfs, rel, freeze,
                         c->peer->principal.is_root ? (uid_t)-1 : c->peer->principal.uid,
                         c->peer->principal.map, c->error);
        audit(c, rel, "", r);
        return r;
}

int api_freeze(MethodCall *c)
{
        return freeze_or_thaw(c, true);
}

int api_thaw(MethodCall *c)
{
        return freeze_or_thaw(c, false);
}

int api_stat(MethodCall *c)
{
        const char *path;
        char rel[CGM_PATH_MAX + 1];
        CgCounter counters[CG_COUNTERS_MAX];
        size_t n = 0;
        DBusMessageIter it, arr;
        int r;

        dbus_message_get_args(c->msg, NULL, DBUS_TYPE_STRING, &path, DBUS_TYPE_INVALID);
        r = resolve(c, path, AUTH_READ, rel, sizeof(rel));
        if (r < 0)
                return r;
        r = cg_stat(&c->manager->cgfs, rel, counters, &n, c->error);
        if (r < 0)
                return r;
        r = reply_new(c, &it);
        if (r < 0)
                return r;
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{st}", &arr);
        for (size_t i = 0; i < n; i++) {
                DBusMessageIter entry;
                dbus_uint64_t v = counters[i].value;
                dbus_message_iter_open_container(&arr, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
                reply_append_string(&entry, counters[i].name);
                dbus_message_iter_append_basic(&entry, DBUS_TYPE_UINT64, &v);
                dbus_message_iter_close_container(&arr, &entry);
        }
        dbus_message_iter_close_container(&it, &arr);
        return 0;
}

/* Make @rel the home of host uid @uid, once the caller's right to was checked: a nested home
 * below the caller's (@nested), or one of root's. */
static int chown_apply(MethodCall *c, const char *rel, uid_t uid, bool nested, const char *what)
{
        Manager *m = c->manager;
        int r = cg_exists(&m->cgfs, rel, c->error);

        /* Homes root removed behind our back must not block this one (overlap, Exists). */
        if (r == 0)
                home_registry_prune(&m->homes, &m->cgfs);
        if (r == 0)
                r = nested ? home_delegate_nested(&m->homes, &m->cgfs, rel, uid,
                                                  c->peer->principal.uid, c->error)
                           : home_delegate(&m->homes, &m->cgfs, rel, uid, c->error);
        audit(c, rel, what, r);
        return r;
}

/* Chown by root of a user namespace: @uid is in its terms; a nested home strictly below its
 * own, for a uid its namespace maps (spec §4; auth.c, home.c). */
static int chown_nested(MethodCall *c, const char *path, dbus_uint32_t uid)
{
        const Principal *p = &c->peer->principal;
        char rel[CGM_PATH_MAX + 1], what[64];
        uid_t host = uidmap_to_host(p->map, uid);
        int r = 0;

        snprintf(what, sizeof(what), "uid=%u host_uid=%d", uid,
                 host == (uid_t)-1 ? -1 : (int)host);
        if (host == (uid_t)-1)
                r = cgm_error_set(c->error, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                  "uid %u is not mapped in your user namespace: root of a "
                                  "namespace may delegate only to the uids it maps",
                                  uid);
        else if (host == p->uid)
                r = cgm_error_set(c->error, -EINVAL, CGM_ERR_INVALID_ARGS,
                                  "uid %u is you: you act in your home already", uid);
        if (r < 0) {
                audit_write_why(p->uid, c->peer->pid, "Chown", path, what, r, c->error->name,
                                c->error->msg);
                return r;
        }
        r = resolve(c, path, AUTH_WRITE, rel, sizeof(rel)); /* strictly below its home */
        return r < 0 ? r : chown_apply(c, rel, host, true, what);
}

int api_chown(MethodCall *c)
{
        const char *path;
        dbus_uint32_t uid;
        char rel[CGM_PATH_MAX + 1], what[32];
        int r;

        dbus_message_get_args(c->msg, NULL, DBUS_TYPE_STRING, &path, DBUS_TYPE_UINT32, &uid,
                              DBUS_TYPE_INVALID);
        if (c->peer->principal.ns_root && !c->peer->principal.is_root)
                return chown_nested(c, path, uid);
        if (!c->peer->principal.is_root) {
                r = cgm_error_set(c->error, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                  "Chown is for root, and for root of a user namespace below "
                                  "its own home (uid %u is neither)",
                                  (unsigned)nsview_uid_out(&c->peer->ns,
                                                           c->peer->principal.uid));
                audit_write_why(c->peer->principal.uid, c->peer->pid, "Chown", path, "", r,
                                c->error->name, c->error->msg);
                return r;
        }
        if (uid == 0 || uid == (dbus_uint32_t)-1)
                return cgm_error_set(c->error, -EINVAL, CGM_ERR_INVALID_ARGS,
                                     "cannot delegate to uid %u: root acts everywhere already",
                                     uid);
        r = resolve(c, path, AUTH_ROOT, rel, sizeof(rel));
        if (r < 0)
                return r;
        snprintf(what, sizeof(what), "uid=%u", uid);
        return chown_apply(c, rel, uid, false, what);
}
