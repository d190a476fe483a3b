/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sessions: login leaves below each user's home, and their cleanup
 *
 * A login gets <base>/user-UID/session-ID: the home carries the policy's limits, the leaf
 * carries the login's processes. Both are delegated to the user (v2: the directory and the
 * kernel's delegatable files). The leaf is marked with trusted.cgm.session = ID, which only
 * the daemon can set, so after a restart — even after SIGKILL — one walk of the homes finds
 * every session again; no state lives anywhere but in cgroupfs.
 *
 * Cleanup is driven by the kernel, not by logouts: a leaf is removed as soon as it is empty,
 * whether its session was closed, its processes all exited long after logout, or the daemon
 * was down while that happened. On cgroup v2 the "populated" field of cgroup.events is
 * watched with inotify (the kernel signals every change; we re-read the state, never count
 * events). Where there is no cgroup.events (pure v1) a timer looks every two seconds, and a
 * slower timer re-checks everything everywhere, in case an event was lost (inotify overflow).
 * No release agent is ever used.
 *
 * When a user's last session leaf goes, so does the home — unless the user lingers, or the
 * home still holds processes in some child (a build left running with nohup): then the home
 * is watched and removed when it empties.
 *
 * Cleanup removes only what OpenSession made. A home root made and delegated (Create, then
 * Chown; any name, "homeB") is used as it is by that user's logins, which put their leaves
 * into it; it keeps the limits root gave it (the policy is not written into it) and it stays
 * after the last session. Only a home a login made (<base>/user-UID, marked with
 * trusted.cgm.origin = "login", home.c) takes the policy's limits and goes with its last
 * session. Likewise a login takes over an existing session-ID directory only when it is a
 * session leaf (marked) that is empty; any other directory of that name is left alone and
 * the login gets another id.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cgroup.h"
#include "cleanup.h"
#include "home.h"
#include "log.h"
#include "name.h"
#include "policy.h"
#include "session.h"
#include "systemd.h"

static void api_of(Manager *m, const char *rel, char *out, size_t n)
{
        cgfs_api_path(&m->cgfs, rel, out, n);
}

Session *session_find(Manager *m, const char *id)
{
        for (Session *s = m->sessions; s; s = s->next)
                if (strcmp(s->id, id) == 0)
                        return s;
        return NULL;
}

unsigned sessions_of_uid(Manager *m, uid_t uid)
{
        unsigned n = 0;
        for (Session *s = m->sessions; s; s = s->next)
                n += s->uid == uid;
        return n;
}

static int events_watch(Manager *m, const char *rel)
{
        const Hierarchy *h;
        char path[4096];
        int wd;

        if (m->cgfs.v2 < 0 || m->inotify.fd < 0)
                return -1;
        h = &m->cgfs.h[m->cgfs.v2];
        snprintf(path, sizeof(path), "%s%s/%s/cgroup.events", h->mount_point, h->base_path, rel);
        wd = inotify_add_watch(m->inotify.fd, path, IN_MODIFY);
        if (wd < 0)
                log_warning("cannot watch `%s`: %m; relying on the periodic check", path);
        return wd;
}

static void events_unwatch(Manager *m, int wd)
{
        bool shared = false;

        if (wd < 0)
                return;
        /* inotify hands out one wd per inode: only drop it when nothing else uses it. */
        for (Session *s = m->sessions; s; s = s->next)
                shared |= s->wd == wd;
        for (HomeWait *w = m->home_waits; w; w = w->next)
                shared |= w->wd == wd;
        if (!shared)
                (void)inotify_rm_watch(m->inotify.fd, wd);
}

typedef struct ProcCount {
        Manager *m;
        size_t n;
} ProcCount;

static int count_visit(const char *rel, void *userdata)
{
        ProcCount *c = userdata;
        pid_t *pids = NULL;
        CgmError ignored = CGM_ERROR_NULL;

        (void)cg_procs(&c->m->cgfs, rel, &pids, &c->n, &ignored);
        free(pids);
        return c->n > 0 ? 1 : 0; /* stop at the first process */
}

static bool subtree_populated(Manager *m, const char *rel)
{
        ProcCount c = { .m = m };
        CgmError ignored = CGM_ERROR_NULL;
        char buf[256];

        if (m->cgfs.v2 >= 0) {
                if (cgfs_read(&m->cgfs, m->cgfs.v2, rel, "cgroup.events", buf, sizeof(buf)) < 0)
                        return false; /* gone */
                return strstr(buf, "populated 1") != NULL;
        }
        /* v1 has no populated flag: look for a process in the cgroup or any descendant. */
        if (count_visit(rel, &c) == 0)
                (void)cg_walk(&m->cgfs, rel, true, count_visit, &c, &ignored);
        return c.n > 0;
}

bool session_populated(Manager *m, const Session *s)
{
        return subtree_populated(m, s->rel);
}

void home_user_name(Manager *m, const char *home, char *name, size_t n)
{
        _cleanup_close_ int fd = cgfs_openat(&m->cgfs, m->cgfs.primary, home, NULL,
                                             O_RDONLY | O_DIRECTORY);
        ssize_t l;

        name[0] = '\0';
        if (fd < 0)
                return;
        l = fgetxattr(fd, CGM_XATTR_USER, name, n - 1);
        name[l > 0 ? l : 0] = '\0';
}

static int session_add(Manager *m, const char *id, uid_t uid, const char *user, const char *rel,
                       Session **sp)
{
        Session *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        snprintf(s->id, sizeof(s->id), "%s", id);
        snprintf(s->user, sizeof(s->user), "%s", user);
        snprintf(s->rel, sizeof(s->rel), "%s", rel);
        s->uid = uid;
        s->wd = -1;
        s->next = m->sessions;
        m->sessions = s;
        m->n_sessions++;
        if (sp)
                *sp = s;
        return 0;
}

static void session_free(Manager *m, Session *s)
{
        for (Session **p = &m->sessions; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        break;
                }
        m->n_sessions--;
        events_unwatch(m, s->wd);
        free(s);
}

static void home_wait_free(Manager *m, HomeWait *w)
{
        for (HomeWait **p = &m->home_waits; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        events_unwatch(m, w->wd);
        free(w);
}

/* After a session of @uid ended: remove the home when nothing keeps it. */
static void home_after_session(Manager *m, uid_t uid, const char *user)
{
        const char *home = home_lookup(&m->homes, uid);
        CgmError e = CGM_ERROR_NULL;
        char api[CGM_PATH_MAX + 1100], rel[CGM_PATH_MAX + 1];
        int r;

        if (!home || sessions_of_uid(m, uid) > 0)
                return;
        if (!home_find(&m->homes, uid)->login) {
                api_of(m, home, api, sizeof(api));
                log_info("the last session of uid %u ended; its home `%s` was made by root, not "
                         "by a login, and stays",
                         (unsigned)uid, api);
                return;
        }
        if (*user && policy_list_has(&m->policy->linger, user))
                return;
        snprintf(rel, sizeof(rel), "%s", home);
        api_of(m, rel, api, sizeof(api));
        if (subtree_populated(m, rel)) {
                HomeWait *w;
                for (w = m->home_waits; w; w = w->next)
                        if (w->uid == uid)
                                return; /* already waiting */
                w = calloc(1, sizeof(*w));
                if (!w)
                        return;
                w->uid = uid;
                w->wd = events_watch(m, rel);
                w->next = m->home_waits;
                m->home_waits = w;
                log_info("the last session of uid %u ended; `%s` still holds processes and is "
                         "removed once they exit",
                         (unsigned)uid, api);
                return;
        }
        r = cg_remove(&m->cgfs, rel, true, false, &e);
        audit_write(0, getpid(), "cleanup", api, "home", r);
        if (r == 0)
                home_forget_below(&m->homes, rel);
        else
                log_warning("cannot remove `%s` after its last session: %s", api, e.msg);
}

/* Remove @s's leaf if it is empty; then the home if that was the last session. */
static void session_try_remove(Manager *m, Session *s)
{
        CgmError e = CGM_ERROR_NULL;
        char api[CGM_PATH_MAX + 1100], user[256];
        uid_t uid = s->uid;
        int r;

        if (session_populated(m, s))
                return;
        api_of(m, s->rel, api, sizeof(api));
        r = cg_remove(&m->cgfs, s->rel, true, false, &e);
        if (r < 0 && r != -ENOENT) {
                /* Repopulated in between, or the user left an empty child that a racing
                 * process entered: try again at the next event or sweep. */
                log_debug("cannot remove `%s` yet: %s", api, e.msg);
                return;
        }
        audit_write(0, getpid(), "cleanup", api, s->id, 0);
        snprintf(user, sizeof(user), "%s", s->user);
        session_free(m, s);
        home_after_session(m, uid, user);
}

static void homes_check_waits(Manager *m)
{
        for (HomeWait *w = m->home_waits, *next; w; w = next) {
                const char *home = home_lookup(&m->homes, w->uid);
                char user[256];
                uid_t uid = w->uid;
                next = w->next;
                if (!home) {
                        home_wait_free(m, w);
                        continue;
                }
                if (subtree_populated(m, home))
                        continue;
                home_user_name(m, home, user, sizeof(user));
                home_wait_free(m, w);
                home_after_session(m, uid, user);
                next = m->home_waits; /* the list may have changed; the walk is cheap */
                if (next && next->uid == uid)
                        break;
        }
}

static void sessions_check_all(Manager *m)
{
        for (Session *s = m->sessions, *next; s; s = next) {
                next = s->next;
                session_try_remove(m, s);
        }
        homes_check_waits(m);
}

static int inotify_dispatch(LoopSource *src, uint32_t events)
{
        Manager *m = container_of(src, Manager, inotify);
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool overflow = false;
        ssize_t l;

        (void)events;
        while ((l = read(src->fd, buf, sizeof(buf))) > 0) {
                for (char *p = buf; p < buf + l;) {
                        struct inotify_event *ev = (struct inotify_event *)p;
                        p += sizeof(*ev) + ev->len;
                        if (ev->mask & IN_Q_OVERFLOW) {
                                overflow = true;
                                continue;
                        }
                        for (Session *s = m->sessions, *next; s; s = next) {
                                next = s->next;
                                if (s->wd != ev->wd)
                                        continue;
                                if (ev->mask & IN_IGNORED)
                                        s->wd = -1; /* removed behind our back */
                                session_try_remove(m, s);
                                break;
                        }
                }
        }
        if (overflow)
                sessions_check_all(m);
        else
                homes_check_waits(m);
        return 0;
}

static int sweep_dispatch(LoopSource *src, uint32_t events)
{
        Manager *m = container_of(src, Manager, sweep);
        uint64_t n;

        (void)events;
        (void)!read(src->fd, &n, sizeof(n));
        sessions_check_all(m);
        return 0;
}

/* Find the session leaves of one home. */
typedef struct ScanCtx {
        Manager *m;
        uid_t uid;
        char user[256];
} ScanCtx;

static int scan_visit(const char *rel, void *userdata)
{
        ScanCtx *c = userdata;
        _cleanup_close_ int fd = cgfs_openat(&c->m->cgfs, c->m->cgfs.primary, rel, NULL,
                                             O_RDONLY | O_DIRECTORY);
        char id[CGM_NAME_MAX + 1];
        Session *s;
        ssize_t l;

        if (fd < 0)
                return 0;
        l = fgetxattr(fd, CGM_XATTR_SESSION, id, sizeof(id) - 1);
        if (l <= 0)
                return 0;
        id[l] = '\0';
        if (session_find(c->m, id) || session_add(c->m, id, c->uid, c->user, rel, &s) < 0)
                return 0;
        s->wd = events_watch(c->m, rel);
        return 0;
}

int sessions_init(Manager *m, CgmError *e)
{
        struct itimerspec its = { 0 };
        unsigned ms = m->cgfs.v2 >= 0 ? CGM_SWEEP_MS : CGM_SWEEP_LEGACY_MS;

        m->inotify = (LoopSource){ .fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK),
                                   .callback = inotify_dispatch };
        if (m->inotify.fd < 0 || loop_update(&m->loop, &m->inotify, EPOLLIN) < 0)
                return cgm_error_set(e, -errno, NULL, "cannot set up inotify: %m");
        m->sweep = (LoopSource){ .fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
                                 .callback = sweep_dispatch };
        if (m->sweep.fd < 0 || loop_update(&m->loop, &m->sweep, EPOLLIN) < 0)
                return cgm_error_set(e, -errno, NULL, "cannot set up a timer: %m");
        its.it_value.tv_sec = ms / 1000;
        its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
        its.it_interval = its.it_value;
        (void)timerfd_settime(m->sweep.fd, 0, &its, NULL);
        m->next_session_serial = (uint64_t)time(NULL) * 1000;

        for (size_t i = 0; i < m->homes.n; i++) {
                ScanCtx c = { .m = m, .uid = m->homes.homes[i].uid };
                CgmError ignored = CGM_ERROR_NULL;
                home_user_name(m, m->homes.homes[i].path, c.user, sizeof(c.user));
                (void)cg_walk(&m->cgfs, m->homes.homes[i].path, false, scan_visit, &c, &ignored);
        }
        /* Resume cleanup: whatever emptied while the daemon was down goes now, and so do the
         * homes logins made whose last session is gone. */
        sessions_check_all(m);
        for (size_t i = m->homes.n; i-- > 0;) {
                char user[256];
                uid_t uid = m->homes.homes[i].uid;
                if (!m->homes.homes[i].login || sessions_of_uid(m, uid))
                        continue; /* root's homes stay; so do homes in use */
                home_user_name(m, m->homes.homes[i].path, user, sizeof(user));
                home_after_session(m, uid, user);
        }
        return systemd_init(m, e); /* systemd mode: logind's sessions (systemd.c) */
}

void sessions_deinit(Manager *m)
{
        systemd_deinit(m);
        while (m->sessions)
                session_free(m, m->sessions);
        while (m->home_waits)
                home_wait_free(m, m->home_waits);
        if (m->inotify.fd >= 0) {
                (void)loop_update(&m->loop, &m->inotify, 0);
                m->inotify.fd = safe_close(m->inotify.fd);
        }
        if (m->sweep.fd >= 0) {
                (void)loop_update(&m->loop, &m->sweep, 0);
                m->sweep.fd = safe_close(m->sweep.fd);
        }
}

int session_apply_limits(Manager *m, const char *home, const NssLookup *who)
{
        const Home *h = home_find(&m->homes, who->uid);
        PolicyLimits lim;
        const char *groups[NSS_GROUPS_MAX];
        char api[CGM_PATH_MAX + 1100];
        int failed = 0;

        if (!h || !h->login || strcmp(h->path, home) != 0) {
                /* Root made this home and set its limits by hand: a login does not overwrite
                 * them with the policy's. */
                api_of(m, home, api, sizeof(api));
                log_debug("policy for %s: `%s` is a home root made; its limits stay as root set "
                          "them",
                          who->user, api);
                return 0;
        }

        for (size_t i = 0; i < who->n_groups; i++)
                groups[i] = who->groups[i];
        policy_resolve(m->policy, who->user, groups, who->n_groups, &lim);
        api_of(m, home, api, sizeof(api));
        if (m->cgfs.v2 >= 0) {
                char v[32];
                snprintf(v, sizeof(v), "%u", policy_uint(&m->policy->max_cgroups_per_user));
                (void)cgfs_write(&m->cgfs, m->cgfs.v2, home, "cgroup.max.descendants", v);
        }
        for (size_t i = 0; i < lim.n; i++) {
                CgSetting set = { .key = lim.values[i]->key, .value = lim.values[i]->value };
                CgmError e = CGM_ERROR_NULL;
                char what[400], now[CGM_VALUE_MAX];
                int r;
                /* Every login refreshes the limits; a write only where they differ, since some
                 * writes (cpu.max) walk every cgroup below the home. */
                if (cg_get_one(&m->cgfs, home, set.key, now, sizeof(now), &e) == 0 &&
                    strcmp(now, set.value) == 0)
                        continue;
                e = (CgmError)CGM_ERROR_NULL;
                r = cg_set(&m->cgfs, home, &set, 1, &e);
                snprintf(what, sizeof(what), "%s=%s (%s)", set.key, set.value,
                         lim.values[i]->source);
                audit_write(0, getpid(), "policy", api, what, r);
                if (r < 0) {
                        log_warning("policy for %s: cannot apply %s=%s from %s to `%s`: %s",
                                    who->user, set.key, set.value, lim.values[i]->source, api,
                                    e.msg);
                        failed++;
                }
        }
        return failed;
}

/* May a login use @leaf? When it does not exist, or is an empty session leaf (marked) that
 * a session of an earlier daemon left; never a directory someone else made with that name. */
static bool leaf_is_free(Manager *m, const char *leaf)
{
        _cleanup_close_ int fd = cgfs_openat(&m->cgfs, m->cgfs.primary, leaf, NULL,
                                             O_RDONLY | O_DIRECTORY);

        if (fd == -ENOENT)
                return true;
        if (fd < 0 || fgetxattr(fd, CGM_XATTR_SESSION, NULL, 0) < 0)
                return false;
        return !subtree_populated(m, leaf);
}

/* Delegate a leaf: the directory and the kernel's delegatable files, on v2 only. */
static int leaf_delegate(Manager *m, const char *rel, uid_t uid, const char *id, CgmError *e)
{
        _cleanup_close_ int fd = cgfs_openat(&m->cgfs, m->cgfs.primary, rel, NULL,
                                             O_RDONLY | O_DIRECTORY);

        if (fd < 0)
                return cgm_error_set(e, fd, NULL, "cannot open the new session leaf: %s",
                                     strerror(-fd));
        if (fsetxattr(fd, CGM_XATTR_SESSION, id, strlen(id), 0) < 0)
                return cgm_error_set(e, -errno, NULL, "cannot mark the session leaf: %m");
        if (m->cgfs.v2 >= 0) {
                _cleanup_close_ int vfd = cgfs_openat(&m->cgfs, m->cgfs.v2, rel, NULL,
                                                      O_RDONLY | O_DIRECTORY);
                if (vfd < 0 || fchown(vfd, uid, (gid_t)-1) < 0)
                        return cgm_error_set(e, vfd < 0 ? vfd : -errno, NULL,
                                             "cannot delegate the session leaf");
                for (size_t i = 0; i < m->cgfs.n_delegate; i++)
                        if (fchownat(vfd, m->cgfs.delegate[i], uid, (gid_t)-1,
                                     AT_SYMLINK_NOFOLLOW) < 0 &&
                            errno != ENOENT)
                                return cgm_error_set(e, -errno, NULL,
                                                     "cannot delegate %s of the session leaf: %m",
                                                     m->cgfs.delegate[i]);
        }
        return 0;
}

int session_open(Manager *m, const NssLookup *who, const char *xdg_id, int pidfd, pid_t pid,
                 char *idp, size_t id_size, char *pathp, size_t path_size, CgmError *e)
{
        char home[CGM_PATH_MAX + 1], leaf[CGM_PATH_MAX + 1], id[CGM_NAME_MAX + 1], name[80];
        const char *existing = home_lookup_live(&m->homes, &m->cgfs, who->uid);
        Session *s;
        int r;

        /* The home: the uid's home when it has one, whoever made it and whatever its name
         * (a home root made by hand is used as it is); else user-UID, made and delegated on
         * the first login and marked as a login's. */
        if (existing)
                snprintf(home, sizeof(home), "%s", existing);
        else {
                bool made = false;
                snprintf(home, sizeof(home), "user-%u", (unsigned)who->uid);
                r = cg_exists(&m->cgfs, home, NULL);
                if (r < 0) {
                        r = cg_create(&m->cgfs, home, (uid_t)-1, NULL, 0, e);
                        if (r < 0)
                                return cgm_error_prefix(e, "cannot create the home of %s: ",
                                                        who->user);
                        made = true;
                }
                /* A user-UID that was there already is adopted as it is: root's if root made
                 * it, a login's if a login did (and the daemon died before it was marked). */
                r = home_delegate_as(&m->homes, &m->cgfs, home, who->uid,
                                     made ? HOME_ORIGIN_LOGIN : HOME_ORIGIN_KEEP, e);
                if (r < 0) {
                        if (made) {
                                CgmError ignored = CGM_ERROR_NULL;
                                (void)cg_remove(&m->cgfs, home, true, false, &ignored);
                        }
                        return cgm_error_prefix(e, "cannot delegate the home of %s: ", who->user);
                }
        }
        {
                _cleanup_close_ int fd = cgfs_openat(&m->cgfs, m->cgfs.primary, home, NULL,
                                                     O_RDONLY | O_DIRECTORY);
                if (fd >= 0)
                        (void)fsetxattr(fd, CGM_XATTR_USER, who->user, strlen(who->user), 0);
        }
        (void)session_apply_limits(m, home, who);

        /* The leaf: named after XDG_SESSION_ID when that is a valid, unused name. */
        id[0] = '\0';
        if (xdg_id && *xdg_id && strlen(xdg_id) + 8 <= CGM_NAME_MAX) {
                snprintf(name, sizeof(name), "session-%s", xdg_id);
                snprintf(leaf, sizeof(leaf), "%s/%s", home, name);
                if (cgm_name_check(name, NULL, 0) == 0 && !session_find(m, xdg_id) &&
                    leaf_is_free(m, leaf))
                        snprintf(id, sizeof(id), "%s", xdg_id);
        }
        if (!*id)
                do {
                        snprintf(id, sizeof(id), "c%llu", (unsigned long long)m->next_session_serial++);
                        snprintf(leaf, sizeof(leaf), "%s/session-%s", home, id);
                } while (session_find(m, id) || cg_exists(&m->cgfs, leaf, NULL) == 0);
        snprintf(leaf, sizeof(leaf), "%s/session-%s", home, id);
        r = cg_exists(&m->cgfs, leaf, NULL) == 0 ? 0 : cg_create(&m->cgfs, leaf, (uid_t)-1, NULL, 0, e);
        if (r < 0)
                return cgm_error_prefix(e, "cannot create the session leaf");
        r = leaf_delegate(m, leaf, who->uid, id, e);
        if (r == 0)
                r = cg_move_pidfd(&m->cgfs, leaf, pidfd, pid, e);
        if (r < 0) {
                CgmError ignored = CGM_ERROR_NULL;
                (void)cg_remove(&m->cgfs, leaf, true, false, &ignored);
                home_after_session(m, who->uid, who->user); /* a home made for nothing goes too */
                return r;
        }
        r = session_add(m, id, who->uid, who->user, leaf, &s);
        if (r < 0)
                return cgm_error_set(e, r, NULL, "out of memory");
        s->wd = events_watch(m, leaf);
        snprintf(idp, id_size, "%s", id);
        api_of(m, leaf, pathp, path_size);
        return 0;
}

int session_close(Manager *m, const char *id, pid_t caller, CgmError *e)
{
        Session *s = session_find(m, id);
        char api[CGM_PATH_MAX + 1100];

        if (!s)
                return cgm_error_set(e, -ENOENT, CGM_ERR_NOT_FOUND,
                                     "no session `%s` (it may have ended and been cleaned up "
                                     "already)",
                                     id);
        s->closed = true;
        api_of(m, s->rel, api, sizeof(api));
        if (policy_bool(&m->policy->kill_on_logout) &&
            !(*s->user && policy_list_has(&m->policy->kill_exempt, s->user)) && s->uid != 0) {
                unsigned n = 0;
                CgmError ke = CGM_ERROR_NULL;
                /* The caller is the PAM process itself, usually inside the leaf: it must live
                 * to finish the logout, and the leaf goes once it exits. */
                int r = cg_kill_except(&m->cgfs, s->rel, SIGKILL, caller, &n, &ke);
                audit_write(0, getpid(), "kill_on_logout", api, s->id, r);
                if (r < 0)
                        log_warning("kill_on_logout of `%s` failed: %s", api, ke.msg);
        }
        /* Empty now (the usual case once the login process is gone): remove at once; else the
         * watch removes it when its last process exits. */
        session_try_remove(m, s);
        return 0;
}
