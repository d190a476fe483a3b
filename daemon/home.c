/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Homes: which cgroup in the base is delegated to which uid
 *
 * The daemon keeps no state that cgroupfs does not hold. A home is marked on its directory in
 * the primary hierarchy with the extended attribute trusted.cgm.home = "<uid>". Only
 * CAP_SYS_ADMIN in the initial user namespace may set trusted.* attributes, so no user, nor
 * root inside a container, can mark a directory as someone's home; and the mark vanishes
 * with the directory. After a restart the registry is rebuilt by one walk of the base.
 *
 * Who made a home is marked the same way. A home OpenSession made carries
 * trusted.cgm.origin = "login": it takes the policy's limits at every login and is removed
 * after its last session. A home without that mark was made by root (Create, then Chown):
 * it keeps the limits root gave it and is never removed by a logout. Chown removes the mark,
 * so delegating a login's home again makes it root's.
 *
 * The registry itself is an array with one entry per delegated user, consulted by uid at
 * least once per request (and once per directory while the start-up walk builds it), so it
 * is indexed by uid: an open-addressing table of array positions, at most half full, rebuilt
 * when the array grows or loses an entry (a home removed: rare next to lookups).
 *
 * Delegation on cgroup v2 follows the kernel's rules (Documentation/admin-guide/cgroup-v2.rst,
 * "Delegation Containment"): the directory and exactly the files listed in
 * /sys/kernel/cgroup/delegate are chowned; the controller files, cgroup.freeze, cgroup.kill
 * and cgroup.max.* of the home stay root's. On v1 nothing is chowned: v1 delegation does not
 * contain a user, so users act through the daemon there.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"
#include "home.h"
#include "log.h"
#include "name.h"
#include "protocol.h"

static int home_read_mark(int dirfd, uid_t *uidp)
{
        char val[32];
        ssize_t l;
        char *end;
        unsigned long u;

        /* fgetxattr() refuses O_PATH fds; the walk opens directories O_RDONLY for this. */
        l = fgetxattr(dirfd, CGM_XATTR_HOME, val, sizeof(val) - 1);
        if (l < 0)
                return -errno;
        val[l] = '\0';
        errno = 0;
        u = strtoul(val, &end, 10);
        if (errno || *end || end == val || u >= (uid_t)-1)
                return -EINVAL;
        *uidp = (uid_t)u;
        return 0;
}

static bool home_fd_is_login(int dirfd)
{
        char val[16];
        ssize_t l = fgetxattr(dirfd, CGM_XATTR_ORIGIN, val, sizeof(val) - 1);

        if (l < 0)
                return false;
        val[l] = '\0';
        return strcmp(val, CGM_HOME_ORIGIN_LOGIN) == 0;
}

static size_t home_slot(uid_t uid, size_t cap)
{
        uint64_t h = (uint64_t)uid * 0x9e3779b97f4a7c15ULL; /* Fibonacci hashing */

        return (size_t)(h >> 32) & (cap - 1);
}

static void home_index_put(HomeRegistry *reg, size_t i)
{
        size_t s = home_slot(reg->homes[i].uid, reg->index_cap);

        while (reg->index[s])
                s = (s + 1) & (reg->index_cap - 1);
        reg->index[s] = (uint32_t)(i + 1);
}

/* Rebuild the index for the array as it is; without memory there is none (linear search). */
static void home_index_rebuild(HomeRegistry *reg)
{
        size_t cap = 16;

        while (cap < 2 * reg->n)
                cap *= 2;
        if (cap != reg->index_cap) {
                free(reg->index);
                reg->index = NULL;
                reg->index_cap = 0;
                reg->index = calloc(cap, sizeof(*reg->index));
                if (!reg->index)
                        return;
                reg->index_cap = cap;
        } else
                memset(reg->index, 0, cap * sizeof(*reg->index));
        for (size_t i = 0; i < reg->n; i++)
                home_index_put(reg, i);
}

static int home_add(HomeRegistry *reg, uid_t uid, const char *rel, bool login)
{
        char *p;

        if (reg->n == reg->cap) {
                size_t cap = reg->cap ? reg->cap * 2 : 16;
                Home *h = realloc(reg->homes, cap * sizeof(*h));
                if (!h)
                        return -ENOMEM;
                reg->homes = h;
                reg->cap = cap;
        }
        p = strdup(rel);
        if (!p)
                return -ENOMEM;
        reg->homes[reg->n++] = (Home){ .uid = uid, .path = p, .login = login };
        if (reg->index && 2 * reg->n <= reg->index_cap)
                home_index_put(reg, reg->n - 1);
        else
                home_index_rebuild(reg);
        return 0;
}

static int home_walk(HomeRegistry *reg, const Cgfs *cg, const char *rel, unsigned depth)
{
        _cleanup_close_ int fd = cgfs_openat(cg, cg->primary, rel, NULL, O_RDONLY | O_DIRECTORY);
        DIR *d;
        struct dirent *de;
        uid_t uid = 0;
        int r = 0;

        if (fd < 0)
                return fd == -ENOENT ? 0 : fd; /* removed while we walk */
        /* Homes nest: root of a user namespace delegates parts of its home to the uids it
         * maps (home_delegate_nested()), so the walk goes on below a home. */
        if (*rel && home_read_mark(fd, &uid) == 0) {
                if (home_lookup(reg, uid))
                        log_warning("uid %u is marked as owner of `%s` as well as `%s`; using "
                                    "the first",
                                    (unsigned)uid, home_lookup(reg, uid), rel);
                else {
                        r = home_add(reg, uid, rel, home_fd_is_login(fd));
                        if (r < 0)
                                return r;
                }
        }
        if (depth >= CGM_DEPTH_MAX)
                return 0;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -1; /* owned by d now */
        while (r == 0 && (de = readdir(d))) {
                char child[CGM_PATH_MAX + 1];
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                if (cgm_name_check(de->d_name, NULL, 0) < 0)
                        continue; /* not made through cgm: not ours to interpret */
                if ((size_t)snprintf(child, sizeof(child), "%s%s%s", rel, *rel ? "/" : "",
                                     de->d_name) >= sizeof(child))
                        continue;
                r = home_walk(reg, cg, child, depth + 1);
        }
        closedir(d);
        return r;
}

int home_registry_scan(HomeRegistry *reg, const Cgfs *cg)
{
        home_registry_deinit(reg);
        return home_walk(reg, cg, "", 0);
}

void home_registry_deinit(HomeRegistry *reg)
{
        for (size_t i = 0; i < reg->n; i++)
                free(reg->homes[i].path);
        free(reg->homes);
        free(reg->index);
        *reg = (HomeRegistry)HOME_REGISTRY_NULL;
}

const Home *home_find(const HomeRegistry *reg, uid_t uid)
{
        if (reg->index) {
                for (size_t s = home_slot(uid, reg->index_cap); reg->index[s];
                     s = (s + 1) & (reg->index_cap - 1))
                        if (reg->homes[reg->index[s] - 1].uid == uid)
                                return &reg->homes[reg->index[s] - 1];
                return NULL;
        }
        for (size_t i = 0; i < reg->n; i++)
                if (reg->homes[i].uid == uid)
                        return &reg->homes[i];
        return NULL;
}

const char *home_lookup(const HomeRegistry *reg, uid_t uid)
{
        const Home *h = home_find(reg, uid);
        return h ? h->path : NULL;
}

const char *home_lookup_live(HomeRegistry *reg, const Cgfs *cg, uid_t uid)
{
        const char *path = home_lookup(reg, uid);
        _cleanup_close_ int fd = -1;
        uid_t marked;

        if (!path)
                return NULL;
        /* Root may remove a home (or its parent) in cgroupfs behind the daemon's back; a stale
         * entry would then refuse that user everything, logins included, until a restart. */
        fd = cgfs_openat(cg, cg->primary, path, NULL, O_RDONLY | O_DIRECTORY);
        if (fd >= 0 && home_read_mark(fd, &marked) == 0 && marked == uid)
                return path;
        if (fd >= 0 || fd == -ENOENT || fd == -ENOTDIR) {
                log_warning("the home `%s` of uid %u is gone (removed outside cgmd); forgetting it",
                            path, (unsigned)uid);
                home_forget_below(reg, path);
                return NULL;
        }
        return path; /* cannot tell (out of fds?): keep what we know */
}

void home_registry_prune(HomeRegistry *reg, const Cgfs *cg)
{
        /* Backwards: home_lookup_live() may drop the entry it checks (and those below it). */
        for (size_t i = reg->n; i-- > 0;)
                if (i < reg->n)
                        (void)home_lookup_live(reg, cg, reg->homes[i].uid);
}

static int home_chown_v2(const Cgfs *cg, const char *rel, uid_t uid, CgmError *e)
{
        _cleanup_close_ int fd = cgfs_openat(cg, cg->v2, rel, NULL, O_RDONLY | O_DIRECTORY);

        if (fd < 0)
                return cgm_error_set(e, fd, NULL, "cannot open `%s` on cgroup2: %s", rel,
                                     strerror(-fd));
        /* gid -1: the group stays root's; the kernel's delegation checks look at the uid. */
        if (fchown(fd, uid, (gid_t)-1) < 0)
                return cgm_error_set(e, -errno, NULL, "cannot chown `%s`: %m", rel);
        for (size_t i = 0; i < cg->n_delegate; i++)
                if (fchownat(fd, cg->delegate[i], uid, (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0 &&
                    errno != ENOENT)
                        return cgm_error_set(e, -errno, NULL, "cannot chown `%s/%s`: %m", rel,
                                             cg->delegate[i]);
        return 0;
}

int home_delegate(HomeRegistry *reg, const Cgfs *cg, const char *rel, uid_t uid, CgmError *e)
{
        return home_delegate_as(reg, cg, rel, uid, HOME_ORIGIN_ADMIN, e);
}

/* Overlap rules of a home that root delegates: none inside or above another uid's. */
static int home_check_top(const HomeRegistry *reg, const char *rel, uid_t uid, CgmError *e)
{
        for (size_t i = 0; i < reg->n; i++)
                if (reg->homes[i].uid != uid && (cgm_path_is_within(rel, reg->homes[i].path) ||
                                                 cgm_path_is_within(reg->homes[i].path, rel)))
                        return cgm_error_set(e, -EBUSY, CGM_ERR_BUSY,
                                             "`%s` overlaps the home `%s` of uid %u: only the "
                                             "owner of a home (as root of a user namespace) "
                                             "delegates parts of it",
                                             rel, reg->homes[i].path, (unsigned)reg->homes[i].uid);
        return 0;
}

/* Overlap rules of a nested home: the nearest home above it is @parent's, none inside it. */
static int home_check_nested(const HomeRegistry *reg, const Cgfs *cg, const char *rel, uid_t uid,
                             uid_t parent, CgmError *e)
{
        const Home *nearest = NULL;
        char api[CGM_PATH_MAX + 64], hapi[CGM_PATH_MAX + 64];

        /* Messages name absolute paths, which the caller's namespace view rewrites. */
        cgfs_api_path(cg, rel, api, sizeof(api));
        for (size_t i = 0; i < reg->n; i++) {
                const Home *h = &reg->homes[i];
                if (h->uid != uid && cgm_path_is_within(h->path, rel))
                        return cgm_error_set(e, -EBUSY, CGM_ERR_BUSY,
                                             "`%s` holds the home `%s` of uid %u", api,
                                             (cgfs_api_path(cg, h->path, hapi, sizeof(hapi)), hapi),
                                             (unsigned)h->uid);
                if (cgm_path_is_below(rel, h->path) &&
                    (!nearest || strlen(h->path) > strlen(nearest->path)))
                        nearest = h;
        }
        if (!nearest || nearest->uid != parent)
                return cgm_error_set(e, -EBUSY, CGM_ERR_BUSY,
                                     "`%s` lies in the home `%s` of uid %u, not directly in "
                                     "yours: the owner of that home delegates there",
                                     api,
                                     nearest ? (cgfs_api_path(cg, nearest->path, hapi,
                                                              sizeof(hapi)),
                                                hapi)
                                             : "",
                                     nearest ? (unsigned)nearest->uid : 0u);
        return 0;
}

static int home_delegate_checked(HomeRegistry *reg, const Cgfs *cg, const char *rel, uid_t uid,
                                 HomeOrigin origin, bool caps, CgmError *e);

int home_delegate_as(HomeRegistry *reg, const Cgfs *cg, const char *rel, uid_t uid,
                     HomeOrigin origin, CgmError *e)
{
        int r = home_check_top(reg, rel, uid, e);

        return r < 0 ? r : home_delegate_checked(reg, cg, rel, uid, origin, true, e);
}

int home_delegate_nested(HomeRegistry *reg, const Cgfs *cg, const char *rel, uid_t uid,
                         uid_t parent, CgmError *e)
{
        int r = home_check_nested(reg, cg, rel, uid, parent, e);

        /* Its cgroup.max.* stay as its parent set them: the defaults could raise them. */
        return r < 0 ? r : home_delegate_checked(reg, cg, rel, uid, HOME_ORIGIN_ADMIN, false, e);
}

static int home_delegate_checked(HomeRegistry *reg, const Cgfs *cg, const char *rel, uid_t uid,
                                 HomeOrigin origin, bool caps, CgmError *e)
{
        _cleanup_close_ int fd = -1;
        const char *old = home_lookup(reg, uid);
        char val[32];
        bool login;
        int r;

        if (old && strcmp(old, rel) != 0) {
                char api[CGM_PATH_MAX + 64];
                cgfs_api_path(cg, old, api, sizeof(api));
                return cgm_error_set(e, -EEXIST, CGM_ERR_EXISTS,
                                     "uid %u already has the home `%s`; remove it first",
                                     (unsigned)uid, api);
        }
        if (!*rel)
                return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_ARGS,
                                     "the base itself cannot be delegated");

        fd = cgfs_openat(cg, cg->primary, rel, NULL, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return cgm_error_set(e, fd, NULL, "cannot open `%s`: %s", rel, strerror(-fd));
        /* The origin before the home mark: a home is never a login's by mistake. */
        if (origin == HOME_ORIGIN_LOGIN &&
            fsetxattr(fd, CGM_XATTR_ORIGIN, CGM_HOME_ORIGIN_LOGIN, strlen(CGM_HOME_ORIGIN_LOGIN),
                      0) < 0)
                return cgm_error_set(e, -errno, CGM_ERR_NOT_SUPPORTED,
                                     "cannot mark `%s` as made by a login (xattr %s): %m", rel,
                                     CGM_XATTR_ORIGIN);
        /* Mark first, chown second: a failure in between leaves a root-owned home that the
         * next Chown completes, never a user-owned directory that is nobody's home. */
        snprintf(val, sizeof(val), "%u", (unsigned)uid);
        if (fsetxattr(fd, CGM_XATTR_HOME, val, strlen(val), 0) < 0)
                return cgm_error_set(e, -errno, CGM_ERR_NOT_SUPPORTED,
                                     "cannot mark `%s` as the home of uid %u (xattr %s): %m", rel,
                                     (unsigned)uid, CGM_XATTR_HOME);
        if (cg->v2 >= 0) {
                if (caps) {
                        snprintf(val, sizeof(val), "%d", CGM_HOME_MAX_DESCENDANTS_DEFAULT);
                        (void)cgfs_write(cg, cg->v2, rel, "cgroup.max.descendants", val);
                        snprintf(val, sizeof(val), "%d", CGM_HOME_MAX_DEPTH_DEFAULT);
                        (void)cgfs_write(cg, cg->v2, rel, "cgroup.max.depth", val);
                }
                r = home_chown_v2(cg, rel, uid, e);
                if (r < 0) {
                        /* A new home is unmarked again; a home that was one stays one. */
                        if (!old)
                                (void)fremovexattr(fd, CGM_XATTR_HOME);
                        return r;
                }
        }
        if (origin == HOME_ORIGIN_ADMIN && fremovexattr(fd, CGM_XATTR_ORIGIN) < 0 &&
            errno != ENODATA)
                return cgm_error_set(e, -errno, NULL,
                                     "cannot mark `%s` as root's home (xattr %s): %m", rel,
                                     CGM_XATTR_ORIGIN);
        login = origin == HOME_ORIGIN_LOGIN || (origin == HOME_ORIGIN_KEEP && home_fd_is_login(fd));
        if (old) {
                for (size_t i = 0; i < reg->n; i++)
                        if (reg->homes[i].uid == uid)
                                reg->homes[i].login = login;
                return 0;
        }
        r = home_add(reg, uid, rel, login);
        return r < 0 ? cgm_error_set(e, r, NULL, "out of memory") : 0;
}

void home_forget_below(HomeRegistry *reg, const char *rel)
{
        size_t n = reg->n;

        for (size_t i = 0; i < reg->n;) {
                if (cgm_path_is_within(reg->homes[i].path, rel)) {
                        free(reg->homes[i].path);
                        reg->homes[i] = reg->homes[--reg->n];
                } else
                        i++;
        }
        if (reg->n != n)
                home_index_rebuild(reg);
}
