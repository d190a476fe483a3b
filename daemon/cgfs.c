/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroupfs access: the hierarchies in use, the base in each, confined file operations
 *
 * At start-up the daemon reads /proc/self/mountinfo once, picks the hierarchies it needs (the
 * cgroup2 one, where mounted, and every v1 hierarchy holding a controller that a resource key
 * or Stat uses) and pins one directory fd for its base in each. From then on every access is
 * relative to those fds through openat2() with RESOLVE_BENEATH, so no path a client supplies
 * can leave the base, follow a symlink or cross into another mount, whatever it contains.
 * Names are validated before they get here as well (common/name.c); openat2 is the second
 * wall, not the first.
 *
 * Writes follow crun's rules: the file must exist (no O_CREAT, no O_TRUNC), the value goes
 * out in one write(2) because cgroupfs parses each write as a whole, and errors name the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgfs.h"
#include "cleanup.h"
#include "name.h"
#include "own-cgroup.h"
#include "protocol.h"

/* v1 controllers the daemon mirrors its tree into: those that resource keys or Stat use, and
 * the freezer for hosts without cgroup2. devices, net_cls, perf_event and named hierarchies
 * are left alone: nothing in cgm writes them. */
static const char *const cgfs_v1_wanted[] = { "memory", "cpu", "cpuacct", "cpuset", "pids",
                                              "blkio", "hugetlb", "freezer" };

static int read_file(const char *path, char *buf, size_t n)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t l;

        if (fd < 0)
                return -errno;
        l = read(fd, buf, n - 1);
        if (l < 0)
                return -errno;
        buf[l] = '\0';
        return (int)l;
}

static bool cgfs_v1_is_wanted(const char *controllers)
{
        for (size_t i = 0; i < ELEMENTSOF(cgfs_v1_wanted); i++)
                if (cgfs_list_has(controllers, cgfs_v1_wanted[i], ','))
                        return true;
        return false;
}

/* cgroupfs takes a value in one write(2); a short one is a failure. */
static int cgfs_write_fd(int fd, const char *value)
{
        size_t len = strlen(value);
        ssize_t l;

        do
                l = write(fd, value, len);
        while (l < 0 && errno == EINTR);
        if (l < 0)
                return -errno;
        return (size_t)l == len ? 0 : -EIO;
}

int cgfs_write(const Cgfs *cg, int h, const char *rel, const char *file, const char *value)
{
        _cleanup_close_ int fd = cgfs_openat(cg, h, rel, file, O_WRONLY);

        return fd < 0 ? fd : cgfs_write_fd(fd, value);
}

/* The daemon's own cgroup in hierarchy @m, relative to the mount's root. */
static int cgfs_own_path(const MountedHierarchy *m, const char *proc_cgroup, char *out, size_t n,
                         CgmError *e)
{
        char path[1024];
        const char *want = m->is_v2 ? "" : m->controllers;
        char first[64];
        int r;

        /* A v1 line lists all co-mounted controllers; any one of them finds it. */
        snprintf(first, sizeof(first), "%s", want);
        first[strcspn(first, ",")] = '\0';
        r = proc_cgroup_lookup(proc_cgroup, first, path, sizeof(path));
        if (r < 0)
                return cgm_error_set(e, r, CGM_ERR_FAILED,
                                     "cannot find cgmd's own cgroup for the %s hierarchy in "
                                     "/proc/self/cgroup: %s",
                                     m->is_v2 ? "cgroup2" : m->controllers, strerror(-r));
        /* The mount may show only part of the hierarchy (a container's bind mount). */
        if (strcmp(m->root, "/") != 0) {
                size_t rl = strlen(m->root);
                if (strncmp(path, m->root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0'))
                        return cgm_error_set(e, -ENOENT, CGM_ERR_FAILED,
                                             "cgmd's cgroup `%s` is not visible below the mount "
                                             "`%s` (root `%s`)",
                                             path, m->mount_point, m->root);
                memmove(path, path + rl, strlen(path + rl) + 1);
                if (!*path)
                        snprintf(path, sizeof(path), "/");
        }
        /* In its leaf (own-cgroup.c), cgmd's own cgroup is the leaf's parent. */
        own_cgroup_strip_leaf(path);
        snprintf(out, n, "%s", path);
        return 0;
}

static int cgfs_setup_base(Cgfs *cg, Hierarchy *h, CgmError *e)
{
        _cleanup_close_ int root_fd = -1, parent_fd = -1;
        char parent[1024], name[256], buf[512];
        char *slash;
        int r;

        root_fd = open(h->mount_point, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return cgm_error_set(e, -errno, CGM_ERR_FAILED, "cannot open `%s`: %m",
                                     h->mount_point);
        snprintf(parent, sizeof(parent), "%s", h->base_path);
        slash = strrchr(parent, '/');
        snprintf(name, sizeof(name), "%s", slash + 1);
        *slash = '\0';
        parent_fd = cgfs_openat2(root_fd, *parent ? parent + 1 : ".", O_RDONLY | O_DIRECTORY);
        if (parent_fd < 0)
                return cgm_error_set(e, parent_fd, CGM_ERR_FAILED,
                                     "the parent `%s` of the base does not exist in %s: %s",
                                     *parent ? parent : "/", h->mount_point, strerror(-parent_fd));
        if (mkdirat(parent_fd, name, 0755) < 0 && errno != EEXIST)
                return cgm_error_set(e, -errno, CGM_ERR_FAILED, "cannot create the base `%s%s`: %m",
                                     h->mount_point, h->base_path);
        h->base_fd = cgfs_openat2(parent_fd, name, O_RDONLY | O_DIRECTORY);
        if (h->base_fd < 0)
                return cgm_error_set(e, h->base_fd, CGM_ERR_FAILED, "cannot open the base `%s%s`: %s",
                                     h->mount_point, h->base_path, strerror(-h->base_fd));

        if (!h->is_v2 && cgfs_list_has(h->controllers, "cpuset", ',')) {
                /* A v1 cpuset with empty cpus or mems refuses every task (ENOSPC). */
                static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
                for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                        _cleanup_close_ int src = cgfs_openat2(parent_fd, files[i], O_RDONLY);
                        ssize_t l;
                        if (cgfs_read(cg, (int)(h - cg->h), "", files[i], buf, sizeof(buf)) > 1)
                                continue;
                        if (src < 0 || (l = read(src, buf, sizeof(buf) - 1)) <= 0)
                                return cgm_error_set(e, -EIO, CGM_ERR_FAILED,
                                                     "cannot read %s of the base's parent", files[i]);
                        buf[l] = '\0';
                        r = cgfs_write(cg, (int)(h - cg->h), "", files[i], buf);
                        if (r < 0)
                                return cgm_error_set(e, r, CGM_ERR_FAILED,
                                                     "cannot initialise %s of the base: %s",
                                                     files[i], strerror(-r));
                }
                /* Children of the base then get their parent's cpus and mems from the kernel
                 * at mkdir (the flag is inherited), so they can hold tasks at once. */
                (void)cgfs_write(cg, (int)(h - cg->h), "", "cgroup.clone_children", "1");
        }

        if (h->is_v2) {
                char avail[256], *save = NULL;
                r = cgfs_read(cg, (int)(h - cg->h), "", "cgroup.controllers", avail, sizeof(avail));
                if (r < 0)
                        return cgm_error_set(e, r, CGM_ERR_FAILED,
                                             "cannot read cgroup.controllers of the base: %s",
                                             strerror(-r));
                for (char *c = strtok_r(avail, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
                        char plus[80];
                        snprintf(plus, sizeof(plus), "+%s", c);
                        /* Best effort: the base holds no processes, so this only fails for
                         * controllers the kernel refuses to delegate here. */
                        (void)cgfs_write(cg, (int)(h - cg->h), "", "cgroup.subtree_control", plus);
                }
                r = cgfs_read(cg, (int)(h - cg->h), "", "cgroup.subtree_control", buf, sizeof(buf));
                if (r < 0)
                        buf[0] = '\0';
                buf[strcspn(buf, "\n")] = '\0';
                snprintf(h->controllers, sizeof(h->controllers), "%s", buf);
        }
        return 0;
}

static void cgfs_read_delegate(Cgfs *cg)
{
        char buf[512], *save = NULL;

        cg->n_delegate = 0;
        if (read_file("/sys/kernel/cgroup/delegate", buf, sizeof(buf)) < 0)
                /* Before 4.15 there is no list; these three are what every kernel delegates. */
                snprintf(buf, sizeof(buf), "cgroup.procs\ncgroup.threads\ncgroup.subtree_control\n");
        for (char *f = strtok_r(buf, " \n", &save); f && cg->n_delegate < ELEMENTSOF(cg->delegate);
             f = strtok_r(NULL, " \n", &save))
                snprintf(cg->delegate[cg->n_delegate++], sizeof(cg->delegate[0]), "%s", f);
}

int cgfs_open(Cgfs *cg, const char *base, CgmError *e)
{
        MountedHierarchy mounts[MOUNTINFO_HIERARCHIES_MAX];
        _cleanup_free_ char *mi = NULL;
        char proc_cgroup[8192];
        size_t n_mounts = 0;
        const char *self_name = NULL;
        int r;

        *cg = (Cgfs){ .v2 = -1, .primary = -1 };
        for (size_t i = 0; i < CGFS_HIERARCHIES_MAX; i++)
                cg->h[i].base_fd = -1;

        if (strncmp(base, "self:", 5) == 0) {
                char why[160];
                self_name = base + 5;
                if (cgm_path_check(self_name, why, sizeof(why)) < 0 || !*self_name)
                        return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_NAME, "bad base `%s`: %s",
                                             base, *self_name ? why : "empty name");
        } else {
                char why[160];
                if (base[0] != '/' || cgm_path_check(base + 1, why, sizeof(why)) < 0 || !base[1])
                        return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_NAME,
                                             "bad base `%s`: it must be an absolute cgroup path "
                                             "other than the root, or self:NAME",
                                             base);
        }

        {
                _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
                size_t cap = 0;
                if (!f)
                        return cgm_error_set(e, -errno, CGM_ERR_FAILED,
                                             "cannot read /proc/self/mountinfo: %m");
                if (getdelim(&mi, &cap, '\0', f) < 0)
                        return cgm_error_set(e, -EIO, CGM_ERR_FAILED,
                                             "cannot read /proc/self/mountinfo");
        }
        r = mountinfo_parse_cgroups(mi, mounts, ELEMENTSOF(mounts), &n_mounts);
        if (r < 0)
                return cgm_error_set(e, r, CGM_ERR_FAILED, "cannot parse /proc/self/mountinfo: %s",
                                     strerror(-r));
        r = read_file("/proc/self/cgroup", proc_cgroup, sizeof(proc_cgroup));
        if (r < 0)
                return cgm_error_set(e, r, CGM_ERR_FAILED, "cannot read /proc/self/cgroup: %s",
                                     strerror(-r));

        for (size_t i = 0; i < n_mounts; i++) {
                Hierarchy *h;
                char own[1024];
                if (!mounts[i].is_v2 && !cgfs_v1_is_wanted(mounts[i].controllers))
                        continue;
                if (mounts[i].is_v2 && cg->v2 >= 0)
                        continue;
                h = &cg->h[cg->n];
                h->is_v2 = mounts[i].is_v2;
                snprintf(h->mount_point, sizeof(h->mount_point), "%s", mounts[i].mount_point);
                snprintf(h->controllers, sizeof(h->controllers), "%s",
                         mounts[i].is_v2 ? "" : mounts[i].controllers);
                if (self_name) {
                        r = cgfs_own_path(&mounts[i], proc_cgroup, own, sizeof(own), e);
                        if (r < 0)
                                return r;
                        snprintf(h->base_path, sizeof(h->base_path), "%s/%s",
                                 strcmp(own, "/") == 0 ? "" : own, self_name);
                } else
                        snprintf(h->base_path, sizeof(h->base_path), "%s", base);
                if (h->is_v2)
                        cg->v2 = (int)cg->n;
                cg->n++;
        }
        if (cg->n == 0)
                return cgm_error_set(e, -ENOENT, CGM_ERR_FAILED,
                                     "no cgroup filesystem is mounted (looked for cgroup2 and the "
                                     "v1 memory, cpu, cpuset, pids, blkio and freezer hierarchies "
                                     "in /proc/self/mountinfo)");
        cg->layout = cg->v2 < 0 ? CGFS_LEGACY : cg->n == 1 ? CGFS_UNIFIED : CGFS_HYBRID;
        cg->primary = cg->v2 >= 0 ? cg->v2 : 0;
        snprintf(cg->base_api, sizeof(cg->base_api), "%s", cg->h[cg->primary].base_path);

        for (size_t i = 0; i < cg->n; i++) {
                r = cgfs_setup_base(cg, &cg->h[i], e);
                if (r < 0)
                        return r;
        }
        cgfs_read_delegate(cg);
        return 0;
}

void cgfs_close(Cgfs *cg)
{
        for (size_t i = 0; i < cg->n; i++)
                cg->h[i].base_fd = safe_close(cg->h[i].base_fd);
        cg->n = 0;
}

int cgfs_write_hierarchy(const Cgfs *cg, int h, const char *path, const char *file,
                         const char *value)
{
        _cleanup_close_ int root_fd = -1, fd = -1;
        char rel[CGM_PATH_MAX * 2 + 128];

        if (h < 0 || (size_t)h >= cg->n)
                return -EINVAL;
        root_fd = open(cg->h[h].mount_point, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return -errno;
        while (*path == '/')
                path++;
        if ((size_t)snprintf(rel, sizeof(rel), "%s%s%s", path, *path ? "/" : "", file) >= sizeof(rel))
                return -ENAMETOOLONG;
        fd = cgfs_openat2(root_fd, rel, O_WRONLY);
        return fd < 0 ? fd : cgfs_write_fd(fd, value);
}

