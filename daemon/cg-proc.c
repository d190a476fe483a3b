/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Processes in cgroups: moves, signals and the freezer, with the caller's authority
 *
 * Every process arrives as a pidfd, or as a number read from cgroup.procs that is turned into
 * one at once; from then on everything is asked of the pidfd (see proc.c), because a number
 * can be given to another process at any moment (pid_max may be 32768).
 *
 * A move writes the pid into cgroup.procs in every hierarchy, the primary first. Before, the
 * process must be alive and not a zombie, and where it is in every hierarchy is noted; after,
 * the pidfd must still be alive (so every number written named it). A later hierarchy that
 * refuses puts the earlier ones back (all or nothing), and a number that died during the
 * move and was reused is undone for the process that took it over.
 *
 * Signals go out with the caller's authority: cgroup.kill for SIGKILL of a whole v2 subtree
 * (the kernel's delegation model allows that to the subtree's owner); otherwise one pidfd at a
 * time, each checked to be still in the subtree and one the caller could signal itself.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cgroup.h"
#include "cleanup.h"
#include "keys.h"
#include "log.h"
#include "mountinfo.h"
#include "name.h"
#include "proc.h"
#include "protocol.h"
#include "text.h"

/* ---- moving, killing, freezing -------------------------------------------------------- */

/* The order in which a move writes the hierarchies: the primary first, because it carries
 * membership; if that write fails nothing else was touched. */
static int cg_move_order(const Cgfs *cg, size_t k)
{
        size_t p = (size_t)cg->primary;
        return (int)(k == 0 ? p : (k <= p ? k - 1 : k));
}

static int cg_move_error(const Cgfs *cg, const char *rel, pid_t pid, size_t k, int r, CgmError *e)
{
        char api[CGM_PATH_MAX + 64];

        cgfs_api_path(cg, rel, api, sizeof(api));
        switch (r) {
        case -EBUSY:
                return cgm_error_set(e, r, CGM_ERR_BUSY,
                                     "cannot put process %d into `%s`: it has child cgroups with "
                                     "controllers enabled, and cgroup v2 keeps processes in "
                                     "leaves only; move it into a child (a leaf) instead",
                                     (int)pid, api);
        case -ESRCH:
                return cgm_error_set(e, r, CGM_ERR_NO_PROCESS,
                                     "process %d exited before it could be moved", (int)pid);
        case -ENOSPC:
                return cgm_error_set(e, r, CGM_ERR_FAILED,
                                     "cannot put process %d into `%s`: its cpuset has no cpus or "
                                     "memory nodes",
                                     (int)pid, api);
        case -EOPNOTSUPP:
                return cgm_error_set(e, r, CGM_ERR_NOT_SUPPORTED,
                                     "cannot put process %d into `%s`: the cgroup is threaded or "
                                     "invalid for processes",
                                     (int)pid, api);
        case -ENOENT:
                if (k == 0)
                        return cg_exists(cg, rel, e) < 0 ? e->code
                                                         : cgm_error_set(e, r, CGM_ERR_NOT_FOUND,
                                                                         "cgroup `%s` disappeared",
                                                                         api);
                /* fall through */
        default:
                return cgm_error_set(e, r, NULL, "cannot put process %d into `%s` in the %s "
                                     "hierarchy: %s",
                                     (int)pid, api, cgfs_hierarchy_name(cg, cg_move_order(cg, k)),
                                     strerror(-r));
        }
}

/* Write @pid into @rel's cgroup.procs in hierarchies (in move order) until one fails; *@done
 * is how many were written. */
static int cg_move_write(const Cgfs *cg, const char *rel, pid_t pid, size_t *done, CgmError *e)
{
        char buf[32];

        snprintf(buf, sizeof(buf), "%d", (int)pid);
        for (*done = 0; *done < cg->n; (*done)++) {
                int r = cgfs_write(cg, cg_move_order(cg, *done), rel, "cgroup.procs", buf);
                if (r < 0)
                        return cg_move_error(cg, rel, pid, *done, r, e);
        }
        return 0;
}

int cg_move(const Cgfs *cg, const char *rel, pid_t pid, CgmError *e)
{
        size_t done;
        return cg_move_write(cg, rel, pid, &done, e);
}

/* Where a process is in every hierarchy the daemon uses (paths from each hierarchy's root, as
 * /proc/PID/cgroup shows them; "" where unknown). */
typedef struct CgPlace {
        char path[CGFS_HIERARCHIES_MAX][CGM_PATH_MAX * 2];
} CgPlace;

static int cg_place_read(const Cgfs *cg, int procdir, CgPlace *pl)
{
        char buf[16384];
        int r = proc_read_cgroup(procdir, buf, sizeof(buf));

        if (r < 0)
                return r;
        for (size_t h = 0; h < cg->n; h++) {
                char controller[sizeof(cg->h[h].controllers)];
                snprintf(controller, sizeof(controller), "%s", cg->h[h].is_v2 ? "" : cg->h[h].controllers);
                controller[strcspn(controller, ",")] = '\0';
                if (proc_cgroup_lookup(buf, controller, pl->path[h], sizeof(pl->path[h])) < 0)
                        pl->path[h][0] = '\0';
        }
        return 0;
}

/* Put @pid back at @pl in the first @done hierarchies (move order). Best effort: each write is
 * independent, and a failure is logged by the caller's message. */
static int cg_place_restore(const Cgfs *cg, pid_t pid, const CgPlace *pl, size_t done)
{
        char buf[32];
        int ret = 0;

        snprintf(buf, sizeof(buf), "%d", (int)pid);
        for (size_t k = 0; k < done; k++) {
                int h = cg_move_order(cg, k);
                int r = pl->path[h][0] ? cgfs_write_hierarchy(cg, h, pl->path[h], "cgroup.procs", buf)
                                       : -ENOENT;
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

/*
 * The pidfd died during the move, so the number we wrote may have named another process that
 * took it over meanwhile (pid_max can be as low as 32768). If a process with that number now
 * sits in @rel although its parent does not, it was moved there by us: put it back where its
 * parent is, in every hierarchy. A child of a process in @rel is left alone (it was born there).
 */
static void cg_undo_recycled(const Cgfs *cg, const char *rel, pid_t pid, size_t done)
{
        _cleanup_close_ int pfd = proc_pidfd_open(pid), procdir = -1, ppfd = -1, pprocdir = -1;
        _cleanup_free_ CgPlace *now = NULL, *parent = NULL;
        char want[2200];
        pid_t ppid;
        int r;

        if (pfd < 0)
                return; /* nobody has the number now */
        procdir = proc_pidfd_procdir(pfd, NULL);
        now = malloc(sizeof(*now));
        parent = malloc(sizeof(*parent));
        if (procdir < 0 || !now || !parent || cg_place_read(cg, procdir, now) < 0)
                return;
        snprintf(want, sizeof(want), "%s%s%s", cg->h[cg->primary].base_path, *rel ? "/" : "", rel);
        if (strcmp(now->path[cg->primary], want) != 0)
                return; /* not in the destination: our write did not reach it */
        if (proc_parent_pid(procdir, &ppid) < 0 || ppid <= 0 ||
            (ppfd = proc_pidfd_open(ppid)) < 0 || (pprocdir = proc_pidfd_procdir(ppfd, NULL)) < 0 ||
            cg_place_read(cg, pprocdir, parent) < 0)
                return;
        if (strcmp(parent->path[cg->primary], want) == 0)
                return; /* born there */
        r = cg_place_restore(cg, pid, parent, done);
        log_msg(r < 0 ? LOG_ERR : LOG_WARNING,
                "a move into `%s` named pid %d after its process had exited and the number had "
                "been reused; the new process was put back with its parent (%s)",
                want, (int)pid, r < 0 ? strerror(-r) : "ok");
}

/* The path of @pidfd's process in the primary hierarchy, as /proc/PID/cgroup shows it. */
int cg_proc_path(const Cgfs *cg, int pidfd, char *path, size_t n)
{
        char buf[16384], controller[sizeof(cg->h[0].controllers)];
        _cleanup_close_ int procdir = proc_pidfd_procdir(pidfd, NULL);
        int r;

        if (procdir < 0)
                return procdir;
        r = proc_read_cgroup(procdir, buf, sizeof(buf));
        if (r < 0)
                return r;
        return proc_cgroup_lookup(buf, cgfs_proc_key(cg, controller, sizeof(controller)), path,
                                  n);
}

int cg_move_pidfd(const Cgfs *cg, const char *rel, int pidfd, pid_t pid, CgmError *e)
{
        _cleanup_free_ CgPlace *from = malloc(sizeof(*from));
        _cleanup_close_ int procdir = -1;
        char api[CGM_PATH_MAX + 64], want[2200], where[4096];
        size_t done = 0;
        int r;

        cgfs_api_path(cg, rel, api, sizeof(api));
        if (!from)
                return cgm_error_set(e, -ENOMEM, NULL, "out of memory");
        /* Before: the process is alive and not a zombie (the kernel skips exiting processes
         * without an error, so a zombie would seem to move and stay where it was), and we
         * know where it is, to put it back if a later hierarchy refuses it. */
        procdir = proc_pidfd_procdir(pidfd, NULL);
        if (procdir < 0 || proc_pidfd_exited(pidfd))
                return cgm_error_set(e, -ESRCH, CGM_ERR_NO_PROCESS,
                                     "process %d has exited%s; there is nothing to move", (int)pid,
                                     procdir >= 0 ? " (a zombie its parent has not reaped yet)"
                                                  : "");
        r = cg_place_read(cg, procdir, from);
        if (r < 0)
                return cgm_error_set(e, -ESRCH, CGM_ERR_NO_PROCESS,
                                     "process %d exited before it could be moved", (int)pid);

        r = cg_move_write(cg, rel, pid, &done, e);
        /* A pid stays allocated until its process is reaped: alive now means every number we
         * wrote named this very process. */
        if (!proc_pidfd_alive(pidfd)) {
                cg_undo_recycled(cg, rel, pid, done);
                return cgm_error_set(e, -ESRCH, CGM_ERR_NO_PROCESS,
                                     "process %d exited while it was being moved", (int)pid);
        }
        if (r < 0) {
                /* All or nothing: a later hierarchy refused; undo the ones already written. */
                int u = cg_place_restore(cg, pid, from, done);
                if (u < 0)
                        log_msg(LOG_ERR, "process %d is half moved into `%s`: putting it back "
                                "failed (%s)", (int)pid, api, strerror(-u));
                return r;
        }
        if (proc_pidfd_exited(pidfd))
                return cgm_error_set(e, -ESRCH, CGM_ERR_NO_PROCESS,
                                     "process %d exited while it was being moved", (int)pid);
        snprintf(want, sizeof(want), "%s%s%s", cg->h[cg->primary].base_path, *rel ? "/" : "", rel);
        r = cg_proc_path(cg, pidfd, where, sizeof(where));
        if (r < 0)
                return cgm_error_set(e, -ESRCH, CGM_ERR_NO_PROCESS,
                                     "process %d exited while it was being moved", (int)pid);
        if (strcmp(where, want) != 0)
                /* Someone (the process itself, or another manager) moved it again at once. */
                return cgm_error_set(e, -EAGAIN, CGM_ERR_BUSY,
                                     "process %d was put into `%s`, but was moved on to `%s` at "
                                     "once by someone else",
                                     (int)pid, api, where);
        return 0;
}

/* The pids of @rel's whole subtree (*@c is freed by the caller, also on failure). */
typedef struct CgCollect {
        pid_t *pids;
        size_t n;
} CgCollect;

static int cg_collect(const Cgfs *cg, const char *rel, CgCollect *c, CgmError *e)
{
        *c = (CgCollect){ 0 };
        return cg_procs_subtree(cg, rel, &c->pids, &c->n, e);
}

static bool cg_is_frozen(const Cgfs *cg, const char *rel)
{
        char buf[256];
        if (cg->v2 < 0 || cgfs_read(cg, cg->v2, rel, "cgroup.freeze", buf, sizeof(buf)) < 0)
                return false;
        return buf[0] == '1';
}

/* Is @where (a path from /proc/PID/cgroup) @rel or below it? */
static bool cg_path_within(const Cgfs *cg, const char *where, const char *rel)
{
        char want[2200];
        size_t wl;

        snprintf(want, sizeof(want), "%s%s%s", cg->h[cg->primary].base_path, *rel ? "/" : "", rel);
        wl = strlen(want);
        return strncmp(where, want, wl) == 0 && (where[wl] == '\0' || where[wl] == '/');
}

/* kill(2)'s rule for an unprivileged sender: its uid is the target's real or saved uid. */
static bool cg_may_signal(uid_t as_uid, const UidMap *as_map, const ProcInfo *info)
{
        return as_uid == (uid_t)-1 || info->ruid == as_uid || info->suid == as_uid ||
               uidmap_has(as_map, info->ruid) || uidmap_has(as_map, info->suid);
}

/*
 * Signal one process that was listed in @rel's subtree. The number is turned into a pidfd
 * first, and everything after that is asked of the pidfd: that it is still in the subtree
 * (a number read from cgroup.procs may have been given to another process since) and that
 * the caller may signal it. Return: 1 signalled, 0 skipped (gone, moved away, or not the
 * caller's to signal; *@refused counts the last).
 */
static int cg_signal_one(const Cgfs *cg, const char *rel, pid_t pid, const CgKill *k,
                         unsigned *refused)
{
        _cleanup_close_ int pfd = proc_pidfd_open(pid);
        char where[4096];
        ProcInfo info;

        if (pfd == -ENOSYS) {
                /* No pidfd_open (kernels before 5.3, valgrind before 3.20): the same checks by
                 * number; the freeze around the loop keeps the window small. */
                char path[64], buf[8192];
                _cleanup_close_ int procdir = -1;
                snprintf(path, sizeof(path), "/proc/%d", (int)pid);
                procdir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (procdir < 0 || proc_read_cgroup(procdir, buf, sizeof(buf)) < 0)
                        return 0;
                if (k->as_uid != (uid_t)-1) {
                        struct stat st;
                        /* /proc/PID is owned by the process's effective uid: without the
                         * real and saved ids, require the same uid for all three. */
                        if (fstat(procdir, &st) < 0 ||
                            (st.st_uid != k->as_uid && !uidmap_has(k->as_map, st.st_uid))) {
                                (*refused)++;
                                return 0;
                        }
                }
                return kill(pid, k->sig) == 0;
        }
        if (pfd < 0)
                return 0;
        if (cg_proc_path(cg, pfd, where, sizeof(where)) < 0 || !cg_path_within(cg, where, rel))
                return 0; /* gone, or the number is someone else's now */
        if (proc_pidfd_info(pfd, &info) < 0)
                return 0;
        if (!cg_may_signal(k->as_uid, k->as_map, &info)) {
                (*refused)++;
                return 0;
        }
        return proc_pidfd_signal(pfd, k->sig) == 0;
}

int cg_kill(const Cgfs *cg, const char *rel, int sig, unsigned *np, CgmError *e)
{
        return cg_kill_except(cg, rel, sig, 0, np, e);
}

int cg_kill_except(const Cgfs *cg, const char *rel, int sig, pid_t except, unsigned *np,
                   CgmError *e)
{
        CgKill k = { .sig = sig, .except = except, .as_uid = (uid_t)-1 };
        int r = cg_kill_as(cg, rel, &k, e);

        *np = k.n_signalled;
        return r;
}

int cg_kill_as(const Cgfs *cg, const char *rel, CgKill *k, CgmError *e)
{
        CgCollect c;
        bool thaw = false;
        int r;

        k->n_signalled = k->n_refused = 0;
        if (k->sig < 0 || k->sig >= 65)
                return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_ARGS, "%d is not a signal", k->sig);
        r = cg_collect(cg, rel, &c, e);
        if (r < 0) {
                free(c.pids);
                return r;
        }
        if (k->sig == SIGKILL && cg->v2 >= 0 && !k->except) {
                /* cgroup.kill is race-free (the kernel kills the whole subtree, forks
                 * included) and is the kernel's own delegation model: the owner of a v2
                 * subtree may write it whoever's processes are inside. */
                r = cgfs_write(cg, cg->v2, rel, "cgroup.kill", "1");
                if (r == 0) {
                        k->n_signalled = (unsigned)c.n;
                        free(c.pids);
                        return 0;
                }
                /* Before 5.14 there is no cgroup.kill: signal one by one below. */
        }
        /* Freeze first so nothing forks between reading the pids and signalling them. */
        if (cg->v2 >= 0 && !cg_is_frozen(cg, rel) &&
            cgfs_write(cg, cg->v2, rel, "cgroup.freeze", "1") == 0)
                thaw = true;
        if (thaw) {
                free(c.pids);
                r = cg_collect(cg, rel, &c, e);
        }
        for (size_t i = 0; r == 0 && i < c.n; i++)
                if (c.pids[i] != k->except)
                        k->n_signalled += (unsigned)cg_signal_one(cg, rel, c.pids[i], k,
                                                                  &k->n_refused);
        if (thaw)
                (void)cgfs_write(cg, cg->v2, rel, "cgroup.freeze", "0");
        free(c.pids);
        return r;
}

/* Does @rel's subtree hold a process that @as_uid could not signal (kill(2)'s rule)? */
static int cg_holds_foreign(const Cgfs *cg, const char *rel, uid_t as_uid,
                            const UidMap *as_map, pid_t *foreignp, CgmError *e)
{
        CgCollect c;
        int r = cg_collect(cg, rel, &c, e);

        *foreignp = 0;
        for (size_t i = 0; r == 0 && i < c.n && !*foreignp; i++) {
                _cleanup_close_ int pfd = proc_pidfd_open(c.pids[i]);
                ProcInfo info;
                char path[64];
                struct stat st;

                if (pfd >= 0) {
                        if (proc_pidfd_info(pfd, &info) == 0 && !cg_may_signal(as_uid, as_map, &info))
                                *foreignp = c.pids[i];
                } else if (pfd == -ENOSYS) {
                        /* No pidfd_open: /proc/PID belongs to the process's effective uid. */
                        snprintf(path, sizeof(path), "/proc/%d", (int)c.pids[i]);
                        if (stat(path, &st) == 0 && st.st_uid != as_uid &&
                            !uidmap_has(as_map, st.st_uid))
                                *foreignp = c.pids[i];
                }
        }
        free(c.pids);
        return r;
}

int cg_freeze(const Cgfs *cg, const char *rel, bool freeze, CgmError *e)
{
        return cg_freeze_as(cg, rel, freeze, (uid_t)-1, NULL, e);
}

int cg_freeze_as(const Cgfs *cg, const char *rel, bool freeze, uid_t as_uid,
                 const UidMap *as_map, CgmError *e)
{
        char api[CGM_PATH_MAX + 64];
        pid_t foreign;
        int r, h;

        r = cg_exists(cg, rel, e);
        if (r < 0)
                return r;
        cgfs_api_path(cg, rel, api, sizeof(api));
        if (cg->v2 >= 0) {
                r = cgfs_write(cg, cg->v2, rel, "cgroup.freeze", freeze ? "1" : "0");
                if (r < 0)
                        return cgm_error_set(e, r, NULL, "cannot %s `%s`: %s",
                                             freeze ? "freeze" : "thaw", api, strerror(-r));
                return 0;
        }
        h = cgfs_hierarchy_for(cg, "freezer");
        if (h < 0)
                return cgm_error_set(e, -EOPNOTSUPP, CGM_ERR_NOT_SUPPORTED,
                                     "no freezer on this host: neither cgroup2 nor the v1 freezer "
                                     "hierarchy is mounted");
        /* v1 has no delegation model: freezing stops processes as SIGSTOP would, so only a
         * subtree whose processes the caller could signal itself may be frozen. */
        if (freeze && as_uid != (uid_t)-1) {
                r = cg_holds_foreign(cg, rel, as_uid, as_map, &foreign, e);
                if (r < 0)
                        return r;
                if (foreign)
                        return cgm_error_set(e, -EPERM, CGM_ERR_PERMISSION_DENIED,
                                             "cannot freeze `%s`: process %d in it belongs to "
                                             "another user, and uid %u could not stop it itself",
                                             api, (int)foreign, (unsigned)as_uid);
        }
        r = cgfs_write(cg, h, rel, "freezer.state", freeze ? "FROZEN" : "THAWED");
        if (r < 0)
                return cgm_error_set(e, r, NULL, "cannot %s `%s`: %s", freeze ? "freeze" : "thaw",
                                     api, strerror(-r));
        return 0;
}

