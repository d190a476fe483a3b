/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Removing cgroups: all or nothing, across the subtree and across the hierarchies
 *
 * The design is described below, above the plan's types.
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

/* How long Remove(kill) waits for killed processes to exit before giving up with Busy. The
 * kernel kills synchronously; exit can take a moment for processes in D state. */
#define CG_KILL_WAIT_MS 2000

/* ---- removing ------------------------------------------------------------------------- */

/*
 * Remove is all or nothing, across the subtree and across the hierarchies. Removing one
 * cgroup is an rmdir in every hierarchy, and a subtree is many of them; the kernel refuses
 * each one on its own (EBUSY: a process, or a child). So:
 *
 * 1. Plan. The subtree is walked in every hierarchy, not only the primary one: a secondary
 *    hierarchy may hold a leftover the primary lacks, and a user may have made directories
 *    directly in its delegated cgroup2 tree whose names cgm does not accept ("x y"). Those are
 *    part of the subtree: a recursive Remove removes them as well (rmdir through the parent's
 *    fd with a name from readdir, which holds no '/'; the kernel removes only empty
 *    cgroups), because Remove -r means that the subtree goes, and because a session's or a
 *    home's cleanup would otherwise be stopped forever by an empty directory some runtime
 *    left behind. Without recursive, any child in any hierarchy refuses the request.
 * 2. Check. With kill, the subtree is killed and the daemon waits for it to empty. Then no
 *    directory of the plan may hold a process, in any hierarchy. Every refusal up to here
 *    has removed nothing (a kill stays done).
 * 3. Remove, deepest first, one hierarchy after the other, cgroup2 first: users write there
 *    directly, so a race (a process moved in, a directory made, between the check and the
 *    rmdir) is likeliest there, and is met before anything else was removed. Just before
 *    each rmdir, what the directory carries is noted: its owner and the owner of its files,
 *    the cgm marks (trusted.cgm.*), the values of the files cgm and its policy write.
 * 4. If an rmdir fails nonetheless, everything removed so far is made again, parents first,
 *    and given back what was noted; the caller gets the error and the tree is as it was.
 */


#define CG_V1 1u
#define CG_V2 2u

/* The files a rollback gives back to a cgroup it makes again: what cgm and its policy write
 * (api.md §5, with the v1 translations), the controllers a v2 cgroup enables for its
 * children, and the v1 cpuset. In the order they are written back: the cpuset first (a v1
 * cpuset cannot hold anything without it), the v1 memory limit before memsw, the period
 * before the quota before the burst. */
static const struct {
        const char *name;
        unsigned where;
} cg_restore_files[] = {
        { "cpuset.cpus", CG_V1 | CG_V2 },
        { "cpuset.mems", CG_V1 | CG_V2 },
        { "cgroup.subtree_control", CG_V2 },
        { "cgroup.max.descendants", CG_V2 },
        { "cgroup.max.depth", CG_V2 },
        { "memory.max", CG_V2 },
        { "memory.high", CG_V2 },
        { "memory.low", CG_V2 },
        { "memory.min", CG_V2 },
        { "memory.swap.max", CG_V2 },
        { "memory.oom.group", CG_V2 },
        { "cpu.max", CG_V2 },
        { "cpu.max.burst", CG_V2 },
        { "cpu.weight", CG_V2 },
        { "pids.max", CG_V1 | CG_V2 },
        { "io.weight", CG_V2 },
        { "io.max", CG_V2 },
        { "memory.limit_in_bytes", CG_V1 },
        { "memory.memsw.limit_in_bytes", CG_V1 },
        { "memory.soft_limit_in_bytes", CG_V1 },
        { "cpu.cfs_period_us", CG_V1 },
        { "cpu.cfs_quota_us", CG_V1 },
        { "cpu.cfs_burst_us", CG_V1 },
        { "cpu.shares", CG_V1 },
        { "blkio.weight", CG_V1 },
        { "blkio.bfq.weight", CG_V1 },
};

/* What a removed directory carried, to make it again as it was. */
typedef struct CgSnap {
        uid_t uid;
        gid_t gid;
        bool files_all; /* every regular file had the directory's owner */
        char *files;    /* else the names of those that had, each ending in NUL */
        size_t files_len;
        char *values; /* entries: one byte (index in cg_restore_files), the value, NUL */
        size_t values_len;
        char *xattrs; /* entries: name NUL, 4-byte length, value (primary hierarchy only) */
        size_t xattrs_len;
} CgSnap;

/* One directory of the subtree in one hierarchy. */
typedef struct CgRmDir {
        char *rel;
        int h;
        CgSnap *snap;
} CgRmDir;

typedef struct CgRmPlan {
        CgRmDir *dirs;
        size_t n, cap;
        /* The hierarchies in the order they are removed; the dirs of the k-th are
         * dirs[start[k]] to dirs[start[k + 1] - 1], parents first. */
        int order[CGFS_HIERARCHIES_MAX];
        size_t start[CGFS_HIERARCHIES_MAX + 1];
        size_t n_order;
        size_t *done; /* indices into dirs of what was removed, in the order it was */
        size_t n_done;
} CgRmPlan;

/* Where a check failed, for the message. */
typedef struct CgRmWhy {
        int h;
        char rel[CGM_PATH_MAX + 1];
        pid_t pid;
} CgRmWhy;

static void cg_snap_free(CgSnap *s)
{
        if (!s)
                return;
        free(s->files);
        free(s->values);
        free(s->xattrs);
        free(s);
}

static void cg_rm_plan_clear(CgRmPlan *p)
{
        for (size_t i = 0; i < p->n; i++) {
                free(p->dirs[i].rel);
                cg_snap_free(p->dirs[i].snap);
        }
        free(p->dirs);
        free(p->done);
        *p = (CgRmPlan){ 0 };
}

/* Append @len bytes to a growing buffer. */
static int cg_buf_add(char **buf, size_t *len, const void *data, size_t n)
{
        char *b;

        if (n == 0)
                return 0;
        b = realloc(*buf, *len + n);
        if (!b)
                return -ENOMEM;
        memcpy(b + *len, data, n);
        *buf = b;
        *len += n;
        return 0;
}

static bool cg_file_in(const Cgfs *cg, int h, size_t i)
{
        const char *name = cg_restore_files[i].name;
        size_t l = strcspn(name, ".");
        char ctrl[32];

        if (cg->h[h].is_v2)
                return cg_restore_files[i].where & CG_V2;
        if (!(cg_restore_files[i].where & CG_V1))
                return false;
        /* A v1 hierarchy has the files of its own controllers only ("cpu,cpuacct"). */
        snprintf(ctrl, sizeof(ctrl), "%.*s", (int)l, name);
        for (const char *c = cg->h[h].controllers; *c;) {
                size_t cl = strcspn(c, ",");
                if (cl == strlen(ctrl) && strncmp(c, ctrl, cl) == 0)
                        return true;
                c += cl + (c[cl] == ',');
        }
        return false;
}

/* Note what @rel carries in hierarchy @h (see CgSnap). Return: 0; -ENOENT when it is gone. */
static int cg_snap_take(const Cgfs *cg, int h, const char *rel, CgSnap **snapp)
{
        _cleanup_close_ int fd = cgfs_openat(cg, h, rel, NULL, O_RDONLY | O_DIRECTORY);
        CgSnap *s;
        struct stat st;
        int r = 0;

        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->uid = st.st_uid;
        s->gid = st.st_gid;
        if (st.st_uid != 0 || st.st_gid != 0) {
                /* Ownership comes in two shapes, both cgm's own rules (and the kernel's for a
                 * user's mkdir): every file the directory owner's (a cgroup made below a home,
                 * cg_chown_all()), or only the delegated files (a home, home_chown_v2():
                 * cgroup.type and the controller files stay root's). cgroup.type tells which,
                 * without a stat of every file. */
                struct stat tst;
                s->files_all = fstatat(fd, "cgroup.type", &tst, AT_SYMLINK_NOFOLLOW) == 0 &&
                               tst.st_uid == st.st_uid;
                for (size_t i = 0; !s->files_all && r == 0 && i < cg->n_delegate; i++)
                        r = cg_buf_add(&s->files, &s->files_len, cg->delegate[i],
                                       strlen(cg->delegate[i]) + 1);
                if (r < 0)
                        goto fail;
        }
        for (size_t i = 0; i < ELEMENTSOF(cg_restore_files); i++) {
                char buf[1024];
                unsigned char idx = (unsigned char)i;
                int l;
                if (!cg_file_in(cg, h, i))
                        continue;
                l = cgfs_read(cg, h, rel, cg_restore_files[i].name, buf, sizeof(buf));
                if (l <= 0 || (size_t)l >= sizeof(buf) - 1)
                        continue; /* absent, empty, or too long to be one we wrote */
                cg_strip_newline(buf);
                if (!*buf)
                        continue;
                r = cg_buf_add(&s->values, &s->values_len, &idx, 1);
                if (r == 0)
                        r = cg_buf_add(&s->values, &s->values_len, buf, strlen(buf) + 1);
                if (r < 0)
                        goto fail;
        }
        if (h == cg->primary) {
                char list[1024];
                ssize_t l = flistxattr(fd, list, sizeof(list));
                for (ssize_t o = 0; l > 0 && o < l; o += (ssize_t)strlen(list + o) + 1) {
                        char val[1024];
                        ssize_t vl;
                        uint32_t len;
                        if (strncmp(list + o, "trusted.cgm.", 12) != 0)
                                continue;
                        vl = fgetxattr(fd, list + o, val, sizeof(val));
                        if (vl < 0)
                                continue;
                        len = (uint32_t)vl;
                        r = cg_buf_add(&s->xattrs, &s->xattrs_len, list + o, strlen(list + o) + 1);
                        if (r == 0)
                                r = cg_buf_add(&s->xattrs, &s->xattrs_len, &len, sizeof(len));
                        if (r == 0)
                                r = cg_buf_add(&s->xattrs, &s->xattrs_len, val, len);
                        if (r < 0)
                                goto fail;
                }
        }
        *snapp = s;
        return 0;
fail:
        cg_snap_free(s);
        return r;
}

/* Write @value to @file of a cgroup made again: only where it differs, io.max a line at a
 * time, cgroup.subtree_control as "+controller" words. */
static int cg_snap_write(const Cgfs *cg, int h, const char *rel, const char *file,
                         const char *value)
{
        char now[1024], one[1024];
        int r = 0;

        if (cgfs_read(cg, h, rel, file, now, sizeof(now)) >= 0) {
                cg_strip_newline(now);
                if (strcmp(now, value) == 0)
                        return 0;
        }
        if (strcmp(file, "cgroup.subtree_control") == 0) {
                snprintf(one, sizeof(one), "%s", value);
                for (char *save = NULL, *w = strtok_r(one, " ", &save); w;
                     w = strtok_r(NULL, " ", &save)) {
                        char plus[80];
                        int q;
                        snprintf(plus, sizeof(plus), "+%s", w);
                        q = cgfs_write(cg, h, rel, file, plus);
                        if (q < 0 && r == 0)
                                r = q;
                }
                return r;
        }
        for (const char *l = value; *l;) {
                size_t n = strcspn(l, "\n");
                int q;
                snprintf(one, sizeof(one), "%.*s", (int)n, l);
                q = cgfs_write(cg, h, rel, file, one);
                if (q < 0 && r == 0)
                        r = q;
                l += n + (l[n] == '\n');
        }
        return r;
}

/* Give a cgroup made again what @s noted. Return: 0, or the first failure (the rest is still
 * tried). */
static int cg_snap_restore(const Cgfs *cg, int h, const char *rel, const CgSnap *s)
{
        _cleanup_close_ int fd = cgfs_openat(cg, h, rel, NULL, O_RDONLY | O_DIRECTORY);
        int r = 0, q;

        if (fd < 0)
                return fd;
        for (size_t o = 0; o < s->values_len;) {
                unsigned char idx = (unsigned char)s->values[o];
                const char *v = s->values + o + 1;
                q = cg_snap_write(cg, h, rel, cg_restore_files[idx].name, v);
                if (q < 0 && r == 0)
                        r = q;
                o += 1 + strlen(v) + 1;
        }
        if (s->uid != 0 || s->gid != 0) {
                if (fchown(fd, s->uid, s->gid) < 0 && r == 0)
                        r = -errno;
                if (s->files_all) {
                        int dfd = dup(fd);
                        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
                        struct dirent *de;
                        if (!d) {
                                safe_close(dfd);
                                return r ? r : -errno;
                        }
                        while ((de = readdir(d)))
                                if (de->d_type == DT_REG &&
                                    fchownat(fd, de->d_name, s->uid, s->gid,
                                             AT_SYMLINK_NOFOLLOW) < 0 &&
                                    r == 0)
                                        r = -errno;
                        closedir(d);
                }
                for (size_t o = 0; o < s->files_len; o += strlen(s->files + o) + 1)
                        if (fchownat(fd, s->files + o, s->uid, s->gid, AT_SYMLINK_NOFOLLOW) < 0 &&
                            errno != ENOENT && r == 0)
                                r = -errno;
        }
        for (size_t o = 0; o < s->xattrs_len;) {
                const char *name = s->xattrs + o;
                uint32_t len;
                o += strlen(name) + 1;
                memcpy(&len, s->xattrs + o, sizeof(len));
                o += sizeof(len);
                if (fsetxattr(fd, name, s->xattrs + o, len, 0) < 0 && r == 0)
                        r = -errno;
                o += len;
        }
        return r;
}

static int cg_rm_add(CgRmPlan *p, int h, const char *rel)
{
        if (p->n >= CGM_LIST_MAX)
                return -EDQUOT;
        if (p->n == p->cap) {
                size_t cap = p->cap ? p->cap * 2 : 16;
                CgRmDir *d = realloc(p->dirs, cap * sizeof(*d));
                if (!d)
                        return -ENOMEM;
                p->dirs = d;
                p->cap = cap;
        }
        p->dirs[p->n] = (CgRmDir){ .rel = strdup(rel), .h = h };
        if (!p->dirs[p->n].rel)
                return -ENOMEM;
        p->n++;
        return 0;
}

static void cg_rm_note(CgRmWhy *why, int h, const char *rel)
{
        why->h = h;
        why->pid = 0;
        snprintf(why->rel, sizeof(why->rel), "%s", rel);
}

/*
 * Append every directory below @rel in hierarchy @h, parents first, whatever its name.
 * Return: 0; -ENOTEMPTY when there is one and @max_depth is 0; -ELOOP when the tree is
 * deeper than @max_depth; -ENAMETOOLONG; -EDQUOT past CGM_LIST_MAX directories; the error
 * of a directory that cannot be read. @why names the directory.
 */
static int cg_rm_walk(const Cgfs *cg, CgRmPlan *p, int h, const char *rel, unsigned depth,
                      unsigned max_depth, CgRmWhy *why)
{
        _cleanup_close_ int fd = cgfs_openat(cg, h, rel, NULL, O_RDONLY | O_DIRECTORY);
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (fd == -ENOENT && depth > 0)
                return 0; /* removed while we walked */
        if (fd < 0) {
                cg_rm_note(why, h, rel);
                return fd;
        }
        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -1; /* owned by d now */
        while (r == 0 && (de = readdir(d))) {
                char child[CGM_PATH_MAX + 1];
                if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
                    strcmp(de->d_name, "..") == 0)
                        continue;
                if ((size_t)snprintf(child, sizeof(child), "%s/%s", rel, de->d_name) >=
                    sizeof(child)) {
                        cg_rm_note(why, h, child);
                        r = -ENAMETOOLONG;
                        break;
                }
                if (depth >= max_depth) {
                        cg_rm_note(why, h, child);
                        r = max_depth == 0 ? -ENOTEMPTY : -ELOOP;
                        break;
                }
                r = cg_rm_add(p, h, child);
                if (r == 0)
                        r = cg_rm_walk(cg, p, h, child, depth + 1, max_depth, why);
        }
        closedir(d);
        return r;
}

static int cg_rm_plan(const Cgfs *cg, const char *rel, bool recursive, CgRmPlan *p,
                      CgRmWhy *why)
{
        int r;

        for (size_t k = 0; k < cg->n; k++) {
                /* cgroup2 first, then the others in their order. */
                int h = cg->v2 < 0 ? (int)k
                                   : (k == 0 ? cg->v2 : (int)(k <= (size_t)cg->v2 ? k - 1 : k));
                _cleanup_close_ int fd = cgfs_openat(cg, h, rel, NULL, O_PATH | O_DIRECTORY);
                p->order[k] = h;
                p->start[k] = p->n;
                if (fd < 0) {
                        if (fd == -ENOENT && h != cg->primary)
                                continue; /* never made there, or already gone */
                        cg_rm_note(why, h, rel);
                        return fd;
                }
                r = cg_rm_add(p, h, rel);
                if (r == 0)
                        r = cg_rm_walk(cg, p, h, rel, 0, recursive ? CGM_DEPTH_MAX : 0, why);
                if (r < 0)
                        return r;
        }
        p->start[cg->n] = p->n;
        p->n_order = cg->n;
        return 0;
}

/* The first directory of the plan that holds a process: 0 with @why naming it (and a pid in
 * it, or 0), else -ENOENT. */
static int cg_rm_find_procs(const Cgfs *cg, const CgRmPlan *p, CgRmWhy *why)
{
        char buf[256];

        for (size_t k = 0; k < p->n_order; k++) {
                size_t a = p->start[k], b = p->start[k + 1];
                int h = p->order[k];
                if (a == b)
                        continue;
                if (cg->h[h].is_v2) {
                        /* "populated" covers the subtree: most removals read one file. Going
                         * backwards, the first populated directory has no populated
                         * descendant (they come after it), so it holds processes itself. */
                        if (cgfs_read(cg, h, p->dirs[a].rel, "cgroup.events", buf, sizeof(buf)) <
                                    0 ||
                            !strstr(buf, "populated 1"))
                                continue;
                        for (size_t i = b; i-- > a;) {
                                if (cgfs_read(cg, h, p->dirs[i].rel, "cgroup.events", buf,
                                              sizeof(buf)) < 0 ||
                                    !strstr(buf, "populated 1"))
                                        continue;
                                cg_rm_note(why, h, p->dirs[i].rel);
                                why->pid = cgfs_read(cg, h, p->dirs[i].rel, "cgroup.procs", buf,
                                                     sizeof(buf)) > 0
                                                   ? (pid_t)strtol(buf, NULL, 10)
                                                   : 0;
                                return 0;
                        }
                        continue;
                }
                for (size_t i = a; i < b; i++)
                        if (cgfs_read(cg, h, p->dirs[i].rel, "cgroup.procs", buf, sizeof(buf)) >
                            0) {
                                cg_rm_note(why, h, p->dirs[i].rel);
                                why->pid = (pid_t)strtol(buf, NULL, 10);
                                return 0;
                        }
        }
        return -ENOENT;
}

/* After a kill: wait until no directory of the plan holds a process, at most @timeout_ms.
 * poll(2) on cgroup.events where it exists (the kernel signals POLLPRI when "populated"
 * changes); v1 has no notification without release agents, so it is looked at every 10 ms. */
static int cg_rm_wait_empty(const Cgfs *cg, const CgRmPlan *p, const char *rel, int timeout_ms,
                            CgRmWhy *why)
{
        struct timespec start, now;
        _cleanup_close_ int fd = -1;

        if (cg->v2 >= 0)
                fd = cgfs_openat(cg, cg->v2, rel, "cgroup.events", O_RDONLY);
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                struct pollfd pfd = { .fd = fd, .events = POLLPRI };
                char buf[128];
                long elapsed;
                if (cg_rm_find_procs(cg, p, why) < 0)
                        return 0;
                clock_gettime(CLOCK_MONOTONIC, &now);
                elapsed = (now.tv_sec - start.tv_sec) * 1000 +
                          (now.tv_nsec - start.tv_nsec) / 1000000;
                if (elapsed >= timeout_ms)
                        return -EBUSY;
                /* A process in cgroup2 wakes us when it leaves; one in v1 only is looked for
                 * again in 10 ms. */
                (void)poll(&pfd, fd >= 0 ? 1 : 0,
                           fd >= 0 && why->h == cg->v2 ? (int)(timeout_ms - elapsed) : 10);
                if (fd >= 0)
                        (void)pread(fd, buf, sizeof(buf), 0);
        }
}

/* @rel's parent goes to @parent; returns its last name (any length, any byte but '/'). */
static const char *cg_rm_split(const char *rel, char *parent, size_t n)
{
        const char *slash = strrchr(rel, '/');

        if (!slash) {
                snprintf(parent, n, "%s", "");
                return rel;
        }
        snprintf(parent, n, "%.*s", (int)(slash - rel), rel);
        return slash + 1;
}

/* Remove the plan, noting each directory first. Return: 0; else the error, @why naming the
 * directory that could not be removed. */
static int cg_rm_execute(const Cgfs *cg, CgRmPlan *p, CgRmWhy *why)
{
        p->done = calloc(p->n ? p->n : 1, sizeof(*p->done));
        if (!p->done)
                return -ENOMEM;
        /* The directory removed last needs no note: nothing can fail after it. */
        size_t last = p->n;
        for (size_t k = p->n_order; k-- > 0 && last == p->n;)
                if (p->start[k + 1] > p->start[k])
                        last = p->start[k];
        for (size_t k = 0; k < p->n_order; k++)
                for (size_t i = p->start[k + 1]; i-- > p->start[k];) {
                        CgRmDir *d = &p->dirs[i];
                        char parent[CGM_PATH_MAX + 1];
                        const char *name = cg_rm_split(d->rel, parent, sizeof(parent));
                        _cleanup_close_ int pfd = -1;
                        int r = i == last ? 0 : cg_snap_take(cg, d->h, d->rel, &d->snap);
                        if (r == -ENOENT)
                                continue; /* gone already: removed directly in cgroupfs */
                        if (r == 0) {
                                pfd = cgfs_openat(cg, d->h, parent, NULL, O_RDONLY | O_DIRECTORY);
                                r = pfd < 0 ? pfd : unlinkat(pfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
                        }
                        if (r == -ENOENT)
                                continue;
                        if (r < 0) {
                                cg_rm_note(why, d->h, d->rel);
                                return r;
                        }
                        p->done[p->n_done++] = i;
                }
        return 0;
}

/* Make again what cg_rm_execute() removed, parents first. Return: 0, or the first failure
 * (logged, as every one is; the rest is still tried). */
static int cg_rm_rollback(const Cgfs *cg, CgRmPlan *p)
{
        int r = 0;

        while (p->n_done > 0) {
                CgRmDir *d = &p->dirs[p->done[--p->n_done]];
                char parent[CGM_PATH_MAX + 1], api[CGM_PATH_MAX + 1100], q[1024];
                const char *name = cg_rm_split(d->rel, parent, sizeof(parent));
                _cleanup_close_ int pfd =
                        cgfs_openat(cg, d->h, parent, NULL, O_RDONLY | O_DIRECTORY);
                int e = pfd < 0 ? pfd : mkdirat(pfd, name, 0755) < 0 && errno != EEXIST ? -errno : 0;
                if (e == 0 && d->snap)
                        e = cg_snap_restore(cg, d->h, d->rel, d->snap);
                if (e < 0) {
                        cgfs_api_path(cg, d->rel, api, sizeof(api));
                        log_error("a failed Remove could not put `%s` back completely in the %s "
                                  "hierarchy: %s",
                                  cgm_quote(api, SIZE_MAX, q, sizeof(q)),
                                  cg->h[d->h].is_v2 ? "cgroup2" : cg->h[d->h].controllers,
                                  strerror(-e));
                        if (r == 0)
                                r = e;
                }
        }
        return r;
}

/* "`PATH`" for a directory of the plan, saying in which hierarchy when that is not the
 * primary, and when a name in it is not one cgm accepts (made outside cgm). */
static const char *cg_rm_describe(const Cgfs *cg, const char *top, const CgRmWhy *why,
                                  char *out, size_t n)
{
        char api[CGM_PATH_MAX + 1100], q[1024];
        bool foreign = false;

        /* Names below @top came from readdir, not from a caller: check each one. */
        for (const char *s = why->rel + strlen(top); *s == '/';) {
                size_t l = strcspn(s + 1, "/");
                char name[CGM_NAME_MAX + 2];
                if (l > CGM_NAME_MAX)
                        foreign = true;
                else {
                        snprintf(name, sizeof(name), "%.*s", (int)l, s + 1);
                        foreign |= cgm_name_check(name, NULL, 0) < 0;
                }
                s += 1 + l;
        }
        cgfs_api_path(cg, why->rel, api, sizeof(api));
        snprintf(out, n, "`%s`%s%s%s%s", cgm_quote(api, SIZE_MAX, q, sizeof(q)),
                 why->h != cg->primary ? " in the " : "",
                 why->h != cg->primary ? (cg->h[why->h].is_v2 ? "cgroup2" : cg->h[why->h].controllers)
                                       : "",
                 why->h != cg->primary ? " hierarchy" : "",
                 foreign ? " (made outside cgm: its name is not one cgm accepts)" : "");
        return out;
}

int cg_remove(const Cgfs *cg, const char *rel, bool recursive, bool kill, CgmError *e)
{
        return cg_remove_as(cg, rel, recursive, kill, (uid_t)-1, NULL, e);
}

int cg_remove_as(const Cgfs *cg, const char *rel, bool recursive, bool kill, uid_t as_uid,
                 const UidMap *as_map, CgmError *e)
{
        CgRmPlan p = { 0 };
        CgRmWhy why = { .h = cg->primary };
        char api[CGM_PATH_MAX + 1100], what[2200];
        int r;

        if (!*rel)
                return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                     "the base itself is never removed by cgmd");
        r = cg_exists(cg, rel, e);
        if (r < 0)
                return r;
        cgfs_api_path(cg, rel, api, sizeof(api));

        r = cg_rm_plan(cg, rel, recursive, &p, &why);
        if (r == 0 && kill) {
                /* With the caller's authority: on v2 cgroup.kill (the delegation model lets
                 * the owner kill its subtree); on v1 only what the caller could kill itself. */
                CgKill k = { .sig = SIGKILL, .as_uid = as_uid, .as_map = as_map };
                r = cg_kill_as(cg, rel, &k, e);
                if (r < 0)
                        goto out;
                if (cg_rm_wait_empty(cg, &p, rel, k.n_refused ? 200 : CG_KILL_WAIT_MS, &why) < 0) {
                        if (k.n_refused)
                                r = cgm_error_set(e, -EBUSY, CGM_ERR_BUSY,
                                                  "`%s` holds process %d of another user, which "
                                                  "uid %u may not kill; nothing was removed",
                                                  cg_rm_describe(cg, rel, &why, what, sizeof(what)),
                                                  (int)why.pid, (unsigned)as_uid);
                        else
                                r = cgm_error_set(e, -EBUSY, CGM_ERR_BUSY,
                                                  "processes in `%s` did not exit within %d ms of "
                                                  "SIGKILL: %s still holds process %d; nothing was "
                                                  "removed",
                                                  api, CG_KILL_WAIT_MS,
                                                  cg_rm_describe(cg, rel, &why, what, sizeof(what)),
                                                  (int)why.pid);
                        goto out;
                }
                /* The tree may have changed while the processes exited: plan again. */
                cg_rm_plan_clear(&p);
                r = cg_rm_plan(cg, rel, recursive, &p, &why);
        }
        switch (r) {
        case 0:
                break;
        case -ENOTEMPTY:
                r = cgm_error_set(e, -EBUSY, CGM_ERR_BUSY,
                                  "cannot remove `%s`: it has the child cgroup %s; remove "
                                  "recursively, or remove the child first",
                                  api, cg_rm_describe(cg, rel, &why, what, sizeof(what)));
                goto out;
        case -ELOOP:
                r = cgm_error_set(e, -EBUSY, CGM_ERR_BUSY,
                                  "cannot remove `%s`: %s is more than %d levels below it",
                                  api, cg_rm_describe(cg, rel, &why, what, sizeof(what)),
                                  CGM_DEPTH_MAX);
                goto out;
        case -EDQUOT:
                r = cgm_error_set(e, -EDQUOT, CGM_ERR_LIMIT_EXCEEDED,
                                  "cannot remove `%s`: it holds more than %d cgroups; remove "
                                  "parts of it first",
                                  api, CGM_LIST_MAX);
                goto out;
        case -ENOMEM:
                r = cgm_error_set(e, r, NULL, "out of memory");
                goto out;
        default:
                r = cgm_error_set(e, r, r == -ENAMETOOLONG ? CGM_ERR_INVALID_NAME : NULL,
                                  "cannot remove `%s`: cannot read %s: %s; nothing was removed",
                                  api, cg_rm_describe(cg, rel, &why, what, sizeof(what)),
                                  strerror(-r));
                goto out;
        }
        if (cg_rm_find_procs(cg, &p, &why) == 0) {
                char pid[48] = "";
                if (why.pid > 0)
                        snprintf(pid, sizeof(pid), " (process %d)", (int)why.pid);
                r = cgm_error_set(e, -EBUSY, CGM_ERR_BUSY,
                                  "cannot remove `%s`: %s still holds processes%s; kill them "
                                  "(remove with kill) or move them out first",
                                  api, cg_rm_describe(cg, rel, &why, what, sizeof(what)), pid);
                goto out;
        }

        r = cg_rm_execute(cg, &p, &why);
        if (r < 0) {
                int rb = cg_rm_rollback(cg, &p);
                char reason[160];
                snprintf(reason, sizeof(reason), "%s%s", strerror(-r),
                         r == -EBUSY ? " (a process or a child cgroup appeared meanwhile)" : "");
                cg_rm_describe(cg, rel, &why, what, sizeof(what));
                if (rb == 0)
                        r = cgm_error_set(e, r, r == -EBUSY ? CGM_ERR_BUSY : NULL,
                                          "cannot remove `%s`: removing %s failed: %s; what was "
                                          "already removed has been put back",
                                          api, what, reason);
                else
                        r = cgm_error_set(e, r, CGM_ERR_FAILED,
                                          "cannot remove `%s`: removing %s failed: %s; putting "
                                          "back what was already removed failed as well (%s), "
                                          "see the daemon's log",
                                          api, what, reason, strerror(-rb));
        }
out:
        cg_rm_plan_clear(&p);
        return r;
}

