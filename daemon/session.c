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
 * No release agent is ever used. A session past fs.inotify.max_user_watches has no watch: the
 * login still succeeds, and while such sessions exist the slow timer runs at the v1 pace.
 *
 * Built for 10,000 sessions in one daemon (design.md §18.3): sessions are found by id, by
 * watch and by uid through hash tables (table.c); an event or the timer only queues checks,
 * which the loop runs a millisecond at a time between clients' turns, and the rmdirs of an
 * empty leaf run on the cgroup worker threads, so a mass logout never stalls the clients.
 *
 * When a user's last session leaf goes, so does the home, after a grace period
 * (home_grace_ms, 10 s by default; logind keeps user@.service for UserStopDelaySec alike): a
 * user who logs in again within it finds the home as it was, and the login makes only a leaf
 * instead of rebuilding the home in every hierarchy. A home in its grace is a HomeWait with a
 * deadline; one timerfd is armed for the earliest deadline, a new login of the uid cancels
 * the wait, and a restarted daemon gives every login home without sessions a fresh grace (it
 * cannot know how much of the old one was left; the home goes, not never). A home that still
 * holds processes in some child when its grace ends (a build left running with nohup) is
 * watched and removed when it empties. A user who lingers keeps the home.
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
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cgroup.h"
#include "cleanup.h"
#include "events.h"
#include "home.h"
#include "log.h"
#include "name.h"
#include "notify-tty.h"
#include "policy.h"
#include "session.h"
#include "systemd.h"
#include "text.h"

static void api_of(Manager *m, const char *rel, char *out, size_t n)
{
        cgfs_api_path(&m->cgfs, rel, out, n);
}

/* A leaf's removal on a cgroup worker (session_check()). */
typedef struct SessionCleanup {
        WorkerJob job;
        Manager *manager;
        Session *session; /* NULL once freed (daemon exit) */
        int r;
        CgmError error;
        char rel[];
} SessionCleanup;

Session *session_find(Manager *m, const char *id)
{
        TABLE_FOREACH_HASH(n, &m->sessions_by_id, table_hash_string(&m->sessions_by_id, id))
        {
                Session *s = container_of(n, Session, by_id);
                if (strcmp(s->id, id) == 0)
                        return s;
        }
        return NULL;
}

unsigned sessions_of_uid(Manager *m, uid_t uid)
{
        unsigned n = 0;

        TABLE_FOREACH_HASH(node, &m->sessions_by_uid, table_hash_u64(&m->sessions_by_uid, uid))
        n += container_of(node, Session, by_uid)->uid == uid;
        return n;
}

/* The session watching @wd (an inotify event's), or NULL. */
static Session *session_by_wd(Manager *m, int wd)
{
        TABLE_FOREACH_HASH(n, &m->sessions_by_wd, table_hash_u64(&m->sessions_by_wd, (uint64_t)wd))
        {
                Session *s = container_of(n, Session, by_wd);
                if (s->wd == wd)
                        return s;
        }
        return NULL;
}

static void session_set_wd(Manager *m, Session *s, int wd)
{
        if (s->wd >= 0)
                table_remove(&m->sessions_by_wd, &s->by_wd);
        s->wd = wd;
        /* Not indexed (no memory): its events are missed and the periodic check finds it. */
        if (wd >= 0 && table_add(&m->sessions_by_wd, &s->by_wd,
                                 table_hash_u64(&m->sessions_by_wd, (uint64_t)wd)) < 0)
                s->wd = -1;
}

/* The periodic check every CGM_SWEEP_LEGACY_MS (@fast: a session has no watch) or every
 * CGM_SWEEP_MS (v2, every session watched). Pure v1 always checks at the faster pace. */
static void sweep_pace(Manager *m, bool fast)
{
        unsigned ms = fast || m->cgfs.v2 < 0 ? CGM_SWEEP_LEGACY_MS : CGM_SWEEP_MS;
        struct itimerspec its = { 0 };

        m->sweep_fast = fast;
        if (m->sweep.fd < 0)
                return;
        its.it_value.tv_sec = ms / 1000;
        its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
        its.it_interval = its.it_value;
        (void)timerfd_settime(m->sweep.fd, 0, &its, NULL);
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
        wd = events_add_watch(m->inotify.fd, path, IN_MODIFY);
        if (wd < 0 && errno == ENOSPC) {
                /* Every login past the limit would log this: once is enough. The leaf is
                 * still removed, by the periodic check instead of at once. */
                if (!m->watch_limit_told)
                        log_warning("cannot watch `%s`: fs.inotify.max_user_watches is reached; "
                                    "sessions past it are cleaned up by the periodic check, "
                                    "every %u s while there are such sessions, instead of at "
                                    "once",
                                    path, CGM_SWEEP_LEGACY_MS / 1000);
                m->watch_limit_told = true;
        } else if (wd < 0)
                log_warning("cannot watch `%s`: %m; relying on the periodic check", path);
        if (wd < 0 && !m->sweep_fast)
                sweep_pace(m, true);
        return wd;
}

static void events_unwatch(Manager *m, int wd)
{
        bool shared = false;

        if (wd < 0)
                return;
        /* inotify hands out one wd per inode: only drop it when nothing else uses it. */
        shared = session_by_wd(m, wd) != NULL;
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

/* One allocation per session, its strings exactly as long as they are: ~200 bytes where
 * fixed buffers took 2.5 kB (25 MB at 10,000 sessions). */
static int session_add(Manager *m, const char *id, uid_t uid, const char *user, const char *rel,
                       const char *tty, Session **sp)
{
        size_t li = strlen(id) + 1, lu = strlen(user) + 1, lr = strlen(rel) + 1;
        size_t lt = strlen(tty) + 1;
        Session *s = calloc(1, sizeof(*s) + li + lu + lr + lt);
        char *p;

        if (!s)
                return -ENOMEM;
        p = mempcpy(s->id, id, li);
        s->user = p;
        p = mempcpy(p, user, lu);
        s->rel = p;
        p = mempcpy(p, rel, lr);
        s->tty = p;
        memcpy(p, tty, lt);
        s->oom_notice = true;
        s->uid = uid;
        s->wd = -1;
        if (table_add(&m->sessions_by_id, &s->by_id,
                      table_hash_string(&m->sessions_by_id, id)) < 0) {
                free(s);
                return -ENOMEM;
        }
        if (table_add(&m->sessions_by_uid, &s->by_uid,
                      table_hash_u64(&m->sessions_by_uid, uid)) < 0) {
                table_remove(&m->sessions_by_id, &s->by_id);
                free(s);
                return -ENOMEM;
        }
        s->next = m->sessions;
        if (s->next)
                s->next->prev = s;
        m->sessions = s;
        m->n_sessions++;
        if (sp)
                *sp = s;
        return 0;
}

static void session_free(Manager *m, Session *s)
{
        int wd = s->wd;

        if (s->prev)
                s->prev->next = s->next;
        else
                m->sessions = s->next;
        if (s->next)
                s->next->prev = s->prev;
        if (m->check_cursor == s)
                m->check_cursor = s->next;
        if (s->queued)
                for (Session **q = &m->check_queue; *q; q = &(*q)->check_next)
                        if (*q == s) {
                                *q = s->check_next;
                                break;
                        }
        if (s->cleanup)
                s->cleanup->session = NULL; /* the thread has its own copy of the path */
        notify_tty_session_stop(m, s);
        m->n_sessions--;
        table_remove(&m->sessions_by_id, &s->by_id);
        table_remove(&m->sessions_by_uid, &s->by_uid);
        session_set_wd(m, s, -1);
        events_unwatch(m, wd);
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

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Arm the one grace timer for the earliest deadline still ahead, or disarm it. A deadline
 * passed is not armed again: such a home waits for its processes (inotify, the sweep). */
static void home_timer_arm(Manager *m)
{
        struct itimerspec its = { 0 };
        uint64_t now = now_ns(), first = 0;

        if (m->home_timer.fd < 0)
                return;
        for (HomeWait *w = m->home_waits; w; w = w->next)
                if (w->until_ns > now && (first == 0 || w->until_ns < first))
                        first = w->until_ns;
        its.it_value.tv_sec = (time_t)(first / 1000000000ULL);
        its.it_value.tv_nsec = (long)(first % 1000000000ULL);
        (void)timerfd_settime(m->home_timer.fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Arm the grace timer to fire at once: due homes are left after a turn's budget. */
static void home_timer_soon(Manager *m)
{
        struct itimerspec its = { .it_value = { .tv_nsec = 1 } };

        if (m->home_timer.fd >= 0)
                (void)timerfd_settime(m->home_timer.fd, 0, &its, NULL);
}

/* The sweep runs at the fast pace while a removal waits for a retry (Session.retry). */
static void sweep_retry(Manager *m)
{
        if (!m->sweep_fast)
                sweep_pace(m, true);
}

/* Remove @uid's login home @home now (cgroup2 shows it empty and nothing keeps it). -EBUSY:
 * a process is still in one of its v1 directories, which tell nothing when it leaves; the
 * caller keeps a retrying wait. */
static int home_remove_now(Manager *m, uid_t uid, const char *home)
{
        CgmError e = CGM_ERROR_NULL;
        char api[CGM_PATH_MAX + 1100], rel[CGM_PATH_MAX + 1];
        int r;

        snprintf(rel, sizeof(rel), "%s", home); /* home_forget_below() frees @home */
        api_of(m, rel, api, sizeof(api));
        r = cg_remove(&m->cgfs, rel, true, false, &e);
        if (r == -EBUSY) {
                log_debug("cannot remove `%s` of uid %u yet: %s", api, (unsigned)uid, e.msg);
                return r;
        }
        audit_write(0, getpid(), "cleanup", api, "home", r);
        if (r == 0)
                home_forget_below(&m->homes, rel);
        else
                log_warning("cannot remove `%s` of uid %u after its last session: %s", api,
                            (unsigned)uid, e.msg);
        return r;
}

/* Does anything keep @uid's home: a session, root's making it, the user lingering? */
static bool home_kept(Manager *m, uid_t uid, const char *user)
{
        const Home *h = home_find(&m->homes, uid);

        return !h || !h->login || sessions_of_uid(m, uid) > 0 ||
               (*user && policy_list_has(&m->policy->linger, user));
}

/* After a session of @uid ended: the home's grace begins (or, with home_grace_ms = 0, it goes
 * now when empty); nothing happens to a home a session, root or linger keeps. */
static void home_after_session(Manager *m, uid_t uid, const char *user)
{
        const char *home = home_lookup(&m->homes, uid);
        unsigned grace = policy_uint(&m->policy->home_grace_ms);
        char api[CGM_PATH_MAX + 1100];
        bool populated;
        HomeWait *w;

        if (!home || sessions_of_uid(m, uid) > 0)
                return;
        if (!home_find(&m->homes, uid)->login) {
                api_of(m, home, api, sizeof(api));
                log_info("the last session of uid %u ended; its home `%s` was made by root, not "
                         "by a login, and stays",
                         (unsigned)uid, api);
                return;
        }
        if (home_kept(m, uid, user))
                return; /* the user lingers */
        for (w = m->home_waits; w; w = w->next)
                if (w->uid == uid)
                        return; /* already waiting */
        populated = grace == 0 && subtree_populated(m, home);
        if (grace == 0 && !populated && home_remove_now(m, uid, home) != -EBUSY)
                return;
        w = calloc(1, sizeof(*w));
        if (!w)
                return; /* out of memory: the home stays until a restart finds it */
        w->uid = uid;
        w->wd = populated ? events_watch(m, home) : -1;
        w->until_ns = grace ? now_ns() + (uint64_t)grace * 1000000ULL : 0;
        w->retry = grace == 0 && !populated;
        w->next = m->home_waits;
        m->home_waits = w;
        api_of(m, home, api, sizeof(api));
        if (w->retry)
                sweep_retry(m);
        else if (populated)
                log_info("the last session of uid %u ended; `%s` still holds processes and is "
                         "removed once they exit",
                         (unsigned)uid, api);
        else {
                log_debug("the last session of uid %u ended; `%s` stays for %u ms", (unsigned)uid,
                          api, grace);
                home_timer_arm(m);
        }
}

/* A login of @uid: its home's grace, if running, ends here and the home is used again. The
 * timer stays armed; when it fires it finds nothing due and arms for the next. */
static void home_wait_cancel(Manager *m, uid_t uid)
{
        for (HomeWait *w = m->home_waits; w; w = w->next)
                if (w->uid == uid) {
                        home_wait_free(m, w);
                        return;
                }
}

/* The leaf of @s was removed (@r 0 or -ENOENT), or could not be yet (@r, @e). */
static void session_removed(Manager *m, Session *s, int r, const CgmError *e)
{
        char api[CGM_PATH_MAX + 1100], user[256];
        uid_t uid = s->uid;

        api_of(m, s->rel, api, sizeof(api));
        if (r < 0 && r != -ENOENT) {
                /* Repopulated in between, or the user left an empty child that a racing
                 * process entered: try again at the next event or sweep. A process still
                 * in a v1 leaf of a hybrid host gives no event when it leaves: the fast
                 * sweep looks again (session_check() ends that once cgroup2 has one). */
                log_debug("cannot remove `%s` yet: %s", api, e->msg);
                if (r == -EBUSY) {
                        s->retry = true;
                        sweep_retry(m);
                }
                return;
        }
        audit_write(0, getpid(), "cleanup", api, s->id, 0);
        snprintf(user, sizeof(user), "%s", s->user);
        session_free(m, s);
        home_after_session(m, uid, user);
}

/* Remove @s's leaf if it is empty; then the home if that was the last session. */
static void session_try_remove(Manager *m, Session *s)
{
        CgmError e = CGM_ERROR_NULL;
        int r;

        if (s->cleanup)
                return; /* a worker removes it already */
        if (session_populated(m, s)) {
                s->retry = false; /* in use: its emptying is an event again */
                return;
        }
        r = cg_remove(&m->cgfs, s->rel, true, false, &e);
        session_removed(m, s, r, &e);
}

/*
 * The rmdirs of a leaf (one per hierarchy) are the kernel's, and it may hold each for
 * milliseconds (cgroup_mutex, memory cgroup offlining) — tens of them when thousands of
 * cgroups go at once. The queued checks (below) therefore hand the removal itself to the
 * cgroup workers (api-cgroup.c's threads) and go on serving. The thread touches only its
 * copy of the path and the Cgfs, fixed from start to exit; the session stays registered
 * until done() on the loop frees it, and a second removal of it is not started meanwhile.
 * At most CLEANUP_IN_FLIGHT run at once, so the threads stay free for clients' writes.
 */
#define CLEANUP_IN_FLIGHT 2

static void cleanup_run(WorkerJob *wj)
{
        SessionCleanup *c = container_of(wj, SessionCleanup, job);

        c->r = cg_remove(&c->manager->cgfs, c->rel, true, false, &c->error);
}

static void check_arm(Manager *m);

static void cleanup_done(WorkerJob *wj)
{
        SessionCleanup *c = container_of(wj, SessionCleanup, job);
        Manager *m = c->manager;
        Session *s = c->session;

        m->n_cleanups--;
        if (s)
                s->cleanup = NULL;
        if (s && !wj->cancelled && !m->stopping)
                session_removed(m, s, c->r, &c->error);
        free(c);
        if (!m->stopping && (m->check_queue || m->check_sweep))
                check_arm(m); /* a slot is free: the queue goes on */
}

/* Like session_try_remove(), with the rmdirs on a worker when there is one. */
static void session_check(Manager *m, Session *s)
{
        size_t l = strlen(s->rel) + 1;
        SessionCleanup *c;

        if (!m->cg_workers.n_threads) {
                session_try_remove(m, s); /* no threads (a test harness): inline */
                return;
        }
        if (s->cleanup)
                return;
        if (session_populated(m, s)) {
                s->retry = false; /* its emptying is an event again */
                return;
        }
        c = calloc(1, sizeof(*c) + l);
        if (!c) {
                session_try_remove(m, s);
                return;
        }
        c->job = (WorkerJob){ .run = cleanup_run, .done = cleanup_done };
        c->manager = m;
        c->session = s;
        c->error = (CgmError)CGM_ERROR_NULL;
        memcpy(c->rel, s->rel, l);
        s->cleanup = c;
        m->n_cleanups++;
        workers_submit(&m->cg_workers, &c->job);
}

/* At most this long per loop turn removing homes: the graces of a mass logout end together,
 * and each removal is a recursive rmdir in every hierarchy. The rest follows a turn later. */
#define HOME_BUDGET_NS 1000000ULL

/* Remove the homes whose grace is over and which hold no process; watch those that still
 * do. Without a system call for a home still in its grace (this runs at every inotify event),
 * and a removal put off by a v1 directory is tried again only by the sweep (@sweep). When the
 * budget runs out before a removal, the timer is armed to come back at once for the rest. */
static void homes_check_waits(Manager *m, bool sweep)
{
        uint64_t now = now_ns();

        for (HomeWait *w = m->home_waits, *next; w; w = next) {
                const char *home = home_lookup(&m->homes, w->uid);
                char user[256];
                uid_t uid = w->uid;
                next = w->next;
                if (home && (w->until_ns > now || (w->retry && !sweep)))
                        continue;
                if (home)
                        home_user_name(m, home, user, sizeof(user));
                if (!home || home_kept(m, uid, user)) {
                        home_wait_free(m, w);
                        continue;
                }
                if (subtree_populated(m, home)) {
                        w->retry = false; /* its emptying is an event again */
                        if (w->wd < 0) {
                                char api[CGM_PATH_MAX + 1100];
                                w->wd = events_watch(m, home);
                                api_of(m, home, api, sizeof(api));
                                log_info("the grace of `%s` (uid %u) is over, but it still holds "
                                         "processes: removed once they exit",
                                         api, (unsigned)uid);
                        }
                        continue;
                }
                if (now_ns() - now > HOME_BUDGET_NS) {
                        home_timer_soon(m); /* only for removals: each one ends a wait */
                        return;
                }
                if (home_remove_now(m, uid, home) == -EBUSY) { /* touches no wait */
                        w->retry = true;
                        sweep_retry(m);
                        continue;
                }
                home_wait_free(m, w);
        }
        /* The timer is not re-armed here: armed for a wait that is gone, it fires for nothing
         * and home_timer_dispatch() arms it for the next. */
}

static int home_timer_dispatch(LoopSource *src, uint32_t events)
{
        Manager *m = container_of(src, Manager, home_timer);
        uint64_t n;

        (void)events;
        (void)!read(src->fd, &n, sizeof(n));
        home_timer_arm(m); /* for the next deadline; homes_check_waits() may make it sooner */
        homes_check_waits(m, false);
        return 0;
}

/*
 * Checking a session (is its leaf empty? then remove it in every hierarchy, and perhaps its
 * home) costs a read, or up to a millisecond of rmdirs. 10,000 leaves emptying together, or a
 * periodic check of 10,000 sessions, done in one go would hold every client for seconds. So
 * the checks are queued and the loop runs them CHECK_BUDGET_NS at a time per round, between
 * the clients' turns: an eventfd stays readable while work is left, and level-triggered epoll
 * gives it one turn per round like any connection (loop.c).
 */
#define CHECK_BUDGET_NS 1000000ULL

static bool check_idle(Manager *m)
{
        return !m->check_queue && !m->check_sweep;
}

static void check_arm(Manager *m)
{
        uint64_t one = 1;

        if (!m->check_armed && m->check_work.fd >= 0 &&
            write(m->check_work.fd, &one, sizeof(one)) == sizeof(one))
                m->check_armed = true;
}

static void check_disarm(Manager *m)
{
        uint64_t n;

        if (m->check_armed)
                (void)!read(m->check_work.fd, &n, sizeof(n));
        m->check_armed = false;
}

/* Look at @s soon (an event on its watch). */
static void session_queue_check(Manager *m, Session *s)
{
        if (s->queued)
                return;
        check_arm(m);
        s->queued = true;
        s->check_next = m->check_queue;
        m->check_queue = s;
}

/* Look at every session soon, and at the homes waiting after them. */
static void sessions_check_all(Manager *m)
{
        check_arm(m);
        m->check_sweep = true;
        m->check_cursor = m->sessions;
}

static int check_dispatch(LoopSource *src, uint32_t events)
{
        Manager *m = container_of(src, Manager, check_work);
        uint64_t start = now_ns();

        (void)events;
        do {
                Session *s = m->check_queue;
                if (m->n_cleanups >= CLEANUP_IN_FLIGHT) {
                        /* Wait for a removal to finish: cleanup_done() arms us again. */
                        check_disarm(m);
                        return 0;
                }
                if (s) {
                        m->check_queue = s->check_next;
                        s->queued = false;
                        session_check(m, s);
                } else if (m->check_cursor) {
                        s = m->check_cursor;
                        m->check_cursor = s->next;
                        session_check(m, s);
                } else if (m->check_sweep) {
                        m->check_sweep = false;
                        homes_check_waits(m, true);
                } else
                        break;
        } while (now_ns() - start < CHECK_BUDGET_NS);
        if (check_idle(m))
                check_disarm(m); /* nothing left: not readable any more */
        return 0;
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
                        Session *s = session_by_wd(m, ev->wd);
                        if (!s)
                                continue;
                        if (ev->mask & IN_IGNORED)
                                session_set_wd(m, s, -1); /* removed behind our back */
                        session_queue_check(m, s);
                }
        }
        if (overflow)
                sessions_check_all(m);
        else
                homes_check_waits(m, false);
        return 0;
}

static int sweep_dispatch(LoopSource *src, uint32_t events)
{
        Manager *m = container_of(src, Manager, sweep);
        bool fast = false;
        uint64_t n;

        (void)events;
        (void)!read(src->fd, &n, sizeof(n));
        sessions_check_all(m);
        if (m->sweep_fast) {
                /* Back to the slow pace once every session has its watch again and none
                 * waits for a retry of its removal. */
                for (Session *s = m->sessions; s && !fast; s = s->next)
                        fast = s->wd < 0 || s->retry;
                for (HomeWait *w = m->home_waits; w && !fast; w = w->next)
                        fast = w->retry;
                if (!fast)
                        sweep_pace(m, false);
        }
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
        char id[CGM_NAME_MAX + 1], tty[64];
        PolicyLimits lim;
        Session *s;
        ssize_t l;

        if (fd < 0)
                return 0;
        l = fgetxattr(fd, CGM_XATTR_SESSION, id, sizeof(id) - 1);
        if (l <= 0)
                return 0;
        id[l] = '\0';
        l = fgetxattr(fd, CGM_XATTR_TTY, tty, sizeof(tty) - 1);
        tty[l > 0 ? l : 0] = '\0';
        if (!notify_tty_name_ok(tty, NULL))
                tty[0] = '\0';
        if (session_find(c->m, id) || session_add(c->m, id, c->uid, c->user, rel, tty, &s) < 0)
                return 0;
        session_set_wd(c->m, s, events_watch(c->m, rel));
        /* The user's groups are not known without NSS: [user:] and [default] decide until the
         * next login of the user or Reload, which resolve them (session_note_policy()). */
        policy_resolve(c->m->policy, c->user, NULL, 0, &lim);
        s->oom_notice = lim.oom_notice;
        notify_tty_session_start(c->m, s);
        return 0;
}

int sessions_init(Manager *m, CgmError *e)
{
        struct itimerspec its = { 0 };
        unsigned ms = m->cgfs.v2 >= 0 ? CGM_SWEEP_MS : CGM_SWEEP_LEGACY_MS;

        m->check_work = (LoopSource){ .fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
                                      .callback = check_dispatch };
        if (m->check_work.fd < 0 || loop_update(&m->loop, &m->check_work, EPOLLIN) < 0)
                return cgm_error_set(e, -errno, NULL, "cannot set up an eventfd: %m");
        m->home_timer = (LoopSource){ .fd = timerfd_create(CLOCK_MONOTONIC,
                                                           TFD_CLOEXEC | TFD_NONBLOCK),
                                      .callback = home_timer_dispatch };
        if (m->home_timer.fd < 0 || loop_update(&m->loop, &m->home_timer, EPOLLIN) < 0)
                return cgm_error_set(e, -errno, NULL, "cannot set up a timer: %m");
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
        {
                uint64_t seed[3] = { 0 };
                /* Keys for the indexes' hashes (table.c); without entropy they still work. */
                (void)!getrandom(seed, sizeof(seed), GRND_NONBLOCK);
                table_init(&m->sessions_by_id, seed[0]);
                table_init(&m->sessions_by_uid, seed[1]);
                table_init(&m->sessions_by_wd, seed[2]);
        }
        notify_tty_init(m); /* before the scan: found sessions with a terminal listen at once */

        for (size_t i = 0; i < m->homes.n; i++) {
                ScanCtx c = { .m = m, .uid = m->homes.homes[i].uid };
                CgmError ignored = CGM_ERROR_NULL;
                home_user_name(m, m->homes.homes[i].path, c.user, sizeof(c.user));
                (void)cg_walk(&m->cgfs, m->homes.homes[i].path, false, scan_visit, &c, &ignored);
        }
        /* Resume cleanup: whatever emptied while the daemon was down goes now (in bounded
         * batches once the loop runs: the daemon answers meanwhile); the homes
         * logins made whose last session is gone begin a grace (a full one: how much of the
         * old daemon's was left is not recorded) and go after it. */
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
        notify_tty_deinit(m);
        while (m->home_waits)
                home_wait_free(m, m->home_waits);
        m->check_sweep = false;
        m->check_cursor = NULL;
        m->check_armed = false;
        m->sweep_fast = false;
        if (m->check_work.fd >= 0) {
                (void)loop_update(&m->loop, &m->check_work, 0);
                m->check_work.fd = safe_close(m->check_work.fd);
        }
        table_deinit(&m->sessions_by_id);
        table_deinit(&m->sessions_by_uid);
        table_deinit(&m->sessions_by_wd);
        if (m->inotify.fd >= 0) {
                (void)loop_update(&m->loop, &m->inotify, 0);
                m->inotify.fd = safe_close(m->inotify.fd);
        }
        if (m->sweep.fd >= 0) {
                (void)loop_update(&m->loop, &m->sweep, 0);
                m->sweep.fd = safe_close(m->sweep.fd);
        }
        if (m->home_timer.fd >= 0) {
                (void)loop_update(&m->loop, &m->home_timer, 0);
                m->home_timer.fd = safe_close(m->home_timer.fd);
        }
}

/* The policy's settings kept per session (oom_notice), for every session of @who's uid, with
 * the groups NSS just gave: at a login and at each Reload (its re-apply). */
static void session_note_policy(Manager *m, const NssLookup *who)
{
        const char *groups[NSS_GROUPS_MAX];
        PolicyLimits lim;

        for (size_t i = 0; i < who->n_groups && i < NSS_GROUPS_MAX; i++)
                groups[i] = who->groups[i];
        policy_resolve(m->policy, who->user, groups,
                       who->n_groups < NSS_GROUPS_MAX ? who->n_groups : NSS_GROUPS_MAX, &lim);
        TABLE_FOREACH_HASH(n, &m->sessions_by_uid, table_hash_u64(&m->sessions_by_uid, who->uid))
        {
                Session *s = container_of(n, Session, by_uid);
                if (s->uid == who->uid)
                        s->oom_notice = lim.oom_notice;
        }
}

int session_apply_limits(Manager *m, const char *home, const NssLookup *who)
{
        const Home *h = home_find(&m->homes, who->uid);
        PolicyLimits lim;
        const char *groups[NSS_GROUPS_MAX];
        char api[CGM_PATH_MAX + 1100];
        int failed = 0;

        session_note_policy(m, who); /* a Reload's new oom_notice, for a home of any origin */
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

/* Keep the login's terminal on the leaf (or none: a taken-over leaf may hold an old one), so a
 * restarted daemon still knows where the OOM notice goes. */
static void leaf_mark_tty(Manager *m, const char *leaf, const char *tty)
{
        _cleanup_close_ int fd = cgfs_openat(&m->cgfs, m->cgfs.primary, leaf, NULL,
                                             O_RDONLY | O_DIRECTORY);

        if (fd < 0)
                return;
        if (*tty)
                (void)fsetxattr(fd, CGM_XATTR_TTY, tty, strlen(tty), 0);
        else
                (void)fremovexattr(fd, CGM_XATTR_TTY);
}

int session_open(Manager *m, const NssLookup *who, const char *xdg_id, const char *tty,
                 int pidfd, pid_t pid,
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
        if (tty && *tty && !notify_tty_name_ok(tty, &tty)) {
                char q[80];
                log_debug("session %s: PAM_TTY `%s` is no terminal name: no OOM notices", id,
                          cgm_quote(tty, 64, q, sizeof(q)));
                tty = ""; /* ":0", odd bytes: no terminal, no notice */
        } else if (!tty)
                tty = "";
        r = leaf_delegate(m, leaf, who->uid, id, e);
        if (r == 0)
                leaf_mark_tty(m, leaf, tty);
        if (r == 0)
                r = cg_move_pidfd(&m->cgfs, leaf, pidfd, pid, e);
        if (r < 0) {
                CgmError ignored = CGM_ERROR_NULL;
                (void)cg_remove(&m->cgfs, leaf, true, false, &ignored);
                home_after_session(m, who->uid, who->user); /* a home made for nothing goes too */
                return r;
        }
        r = session_add(m, id, who->uid, who->user, leaf, tty, &s);
        if (r < 0)
                return cgm_error_set(e, r, NULL, "out of memory");
        home_wait_cancel(m, who->uid); /* a home in its grace is in use again */
        session_set_wd(m, s, events_watch(m, leaf));
        session_note_policy(m, who);
        notify_tty_session_start(m, s);
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
