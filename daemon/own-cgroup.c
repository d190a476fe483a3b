/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgmd's own cgroup: a leaf for cgmd itself, so that a base below it gets controllers
 *
 * Service managers start each service in a cgroup of its own: systemd in the unit's cgroup
 * (/system.slice/cgmd.service, handed over with Delegate=yes), OpenRC with
 * rc_cgroup_mode=unified in /sys/fs/cgroup/<service>. A base inside it (`-b self:cgm`) is a
 * child of a cgroup that holds a process, cgmd itself, and on cgroup v2 the kernel enables no
 * domain controller (memory, io) in a cgroup with processes (the no-internal-process rule,
 * Documentation/admin-guide/cgroup-v2.rst): the base would get no memory.max or pids.max, and
 * the policy's limits would not apply.
 *
 * So at start-up, before the base is opened, cgmd moves itself into a leaf beside the base,
 * <own>/cgmd@daemon, and enables in <own>'s cgroup.subtree_control (and in each cgroup between
 * <own> and the base, for a base deeper down) every controller <own> offers. Only cgmd's own
 * process moves; a process it did not start is never touched. If others share <own> (a
 * supervisor, the shell that started cgmd), the kernel would refuse the controllers (EBUSY)
 * however cgmd moved: cgmd stays where it is, one log line says which processes and what to
 * do, and cgmd serves without controllers in the base, as it did before.
 *
 * Restarts. A cgroup whose subtree_control enables controllers takes no new process either
 * (cgroup_migrate_vet_dst() in kernel/cgroup/cgroup.c: EBUSY), so a service manager that
 * starts the next cgmd in <own> fails: systemd 252 with "Failed at step CGROUP" (status
 * 219/CGROUP), OpenRC by leaving its start script wherever it was called from. Two things keep
 * restarts working:
 *   - at exit, when the base holds no cgroup (nothing needs the controllers), cgmd disables
 *     them again, from the base up to <own>: <own> is as the manager made it;
 *   - when the base holds homes or sessions, their limits need the controllers, and no
 *     process can enter <own> until they are gone: the kernel allows no way around that. The
 *     next cgmd must then be started in the leaf directly, which systemd ≥ 254 does with
 *     DelegateSubgroup=cgmd@daemon, and cgm's OpenRC and LSB scripts do themselves. A cgmd
 *     found in its leaf takes the leaf's parent as its own cgroup, so `self:NAME` still names
 *     the same base. cgmd logs this at exit.
 *
 * The leaf's name has an '@', which cgm refuses in every name (common/name.c): no base, home
 * or session can collide with it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "mountinfo.h"
#include "own-cgroup.h"

#define OWN_CHAIN_MAX 16 /* cgroups from <own> down to the base's parent */

void own_cgroup_strip_leaf(char *path)
{
        char *slash = strrchr(path, '/');

        if (!slash || strcmp(slash + 1, OWN_LEAF_NAME) != 0)
                return;
        if (slash == path)
                path[1] = '\0';
        else
                *slash = '\0';
}

static int read_all(int dirfd, const char *file, char *buf, size_t n)
{
        _cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        ssize_t l;

        if (fd < 0)
                return -errno;
        l = read(fd, buf, n - 1);
        if (l < 0)
                return -errno;
        buf[l] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return (int)l;
}

static int write_one(int dirfd, const char *file, const char *value)
{
        _cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        size_t len = strlen(value);

        if (fd < 0)
                return -errno;
        return write(fd, value, len) == (ssize_t)len ? 0 : -errno;
}

static bool word_in(const char *list, const char *word)
{
        size_t wl = strlen(word);

        for (const char *p = list; (p = strstr(p, word)); p += wl)
                if ((p == list || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == '\0'))
                        return true;
        return false;
}

static int read_text(const char *path, char **out)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        size_t cap = 0;

        *out = NULL;
        if (!f)
                return -errno;
        if (getdelim(out, &cap, '\0', f) < 0) {
                free(*out);
                *out = NULL;
                return -EIO;
        }
        return 0;
}

/* cgmd's cgroup in the cgroup2 hierarchy, relative to @m's mount. */
static int own_path(const MountedHierarchy *m, char *out, size_t n)
{
        _cleanup_free_ char *text = NULL;
        char path[1024];
        int r;

        r = read_text("/proc/self/cgroup", &text);
        if (r < 0)
                return r;
        r = proc_cgroup_lookup(text, "", path, sizeof(path));
        if (r < 0)
                return r;
        if (strcmp(m->root, "/") != 0) {
                size_t rl = strlen(m->root);
                if (strncmp(path, m->root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0'))
                        return -ENOENT;
                memmove(path, path + rl, strlen(path + rl) + 1);
                if (!*path)
                        snprintf(path, sizeof(path), "/");
        }
        snprintf(out, n, "%s", path);
        return 0;
}

/* The first few pids of <own>'s cgroup.procs other than ours, with their names, as text. */
static void other_pids(int own_fd, char *out, size_t n)
{
        _cleanup_close_ int fd = openat(own_fd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
        char buf[4096], *save = NULL;
        size_t k = 0, shown = 0;
        ssize_t l = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

        out[0] = '\0';
        buf[l > 0 ? l : 0] = '\0';
        for (char *p = strtok_r(buf, "\n", &save); p && k < n; p = strtok_r(NULL, "\n", &save)) {
                char comm[64] = "?", path[64];
                if (atoi(p) == (int)getpid())
                        continue;
                if (shown++ == 4) {
                        snprintf(out + k, n - k, ", ...");
                        break;
                }
                snprintf(path, sizeof(path), "/proc/%s/comm", p);
                (void)read_all(AT_FDCWD, path, comm, sizeof(comm));
                k += (size_t)snprintf(out + k, n - k, "%s%s (%s)", k ? ", " : "", p, comm);
        }
}

/* One line: why the base gets no controllers, and what to do. */
static void log_shared(int own_fd, const char *own, const char *base_path)
{
        char others[256];

        other_pids(own_fd, others, sizeof(others));
        log_warning("cgmd's cgroup `%s` holds other processes (%s), and on cgroup v2 the kernel "
                    "enables no controller in a cgroup with processes: the base `%s` gets none "
                    "and the policy's limits cannot be applied; start cgmd alone in its cgroup, "
                    "or directly in `%s/%s`, or use a base outside it (-b /cgm)",
                    own, *others ? others : "pids unknown", base_path,
                    strcmp(own, "/") == 0 ? "" : own, OWN_LEAF_NAME);
}

/*
 * Enable in @dirfd's subtree_control each controller it offers and does not enable yet, one
 * write each, so a refused one does not hold back the others.
 * Return: 0, or the first error (EBUSY: the cgroup holds processes).
 */
static int enable_offered(int dirfd)
{
        char avail[256], enabled[256], *save = NULL;
        int first = 0;

        if (read_all(dirfd, "cgroup.controllers", avail, sizeof(avail)) < 0 ||
            read_all(dirfd, "cgroup.subtree_control", enabled, sizeof(enabled)) < 0)
                return -EIO;
        for (char *c = strtok_r(avail, " ", &save); c; c = strtok_r(NULL, " ", &save)) {
                char plus[80];
                int r;
                if (word_in(enabled, c))
                        continue;
                snprintf(plus, sizeof(plus), "+%s", c);
                r = write_one(dirfd, "cgroup.subtree_control", plus);
                if (r < 0 && first == 0)
                        first = r;
        }
        return first;
}

/* Disable every controller @dirfd enables for its children, in one write (all or nothing). */
static int disable_all(int dirfd)
{
        char enabled[256], minus[512] = "", *save = NULL;
        size_t k = 0;

        if (read_all(dirfd, "cgroup.subtree_control", enabled, sizeof(enabled)) < 0)
                return -EIO;
        for (char *c = strtok_r(enabled, " ", &save); c; c = strtok_r(NULL, " ", &save))
                k += (size_t)snprintf(minus + k, sizeof(minus) - k, "%s-%s", k ? " " : "", c);
        return k == 0 ? 0 : write_one(dirfd, "cgroup.subtree_control", minus);
}

/* Directory fds from <own> down to the base's parent (chain[0] = <own>). */
static int open_chain(int own_fd, const char *base_rel, int *chain, size_t *n)
{
        char rel[1024], *save = NULL;
        char *parts[OWN_CHAIN_MAX];
        size_t k = 0;

        snprintf(rel, sizeof(rel), "%s", base_rel);
        for (char *p = strtok_r(rel, "/", &save); p && k < OWN_CHAIN_MAX; p = strtok_r(NULL, "/", &save))
                parts[k++] = p;
        *n = 0;
        chain[(*n)++] = fcntl(own_fd, F_DUPFD_CLOEXEC, 3);
        if (chain[0] < 0)
                return -errno;
        /* parts[k - 1] is the base itself: stop before it. */
        for (size_t i = 0; i + 1 < k; i++) {
                int fd = openat(chain[*n - 1], parts[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        return -errno;
                chain[(*n)++] = fd;
        }
        return 0;
}

static void close_chain(int *chain, size_t n)
{
        for (size_t i = 0; i < n; i++)
                safe_close(chain[i]);
}

void own_cgroup_enter(OwnCgroup *o, const char *base)
{
        MountedHierarchy mounts[MOUNTINFO_HIERARCHIES_MAX];
        const MountedHierarchy *m = NULL;
        _cleanup_free_ char *mi = NULL;
        _cleanup_close_ int root_fd = -1, own_fd = -1;
        char self[1024], own[1024], base_path[2048], avail[256], others[256];
        bool alone;
        int chain[OWN_CHAIN_MAX];
        size_t n_mounts = 0, n_chain = 0, ol;
        bool in_leaf;
        int r;

        *o = (OwnCgroup)OWN_CGROUP_NULL;
        if (read_text("/proc/self/mountinfo", &mi) < 0 ||
            mountinfo_parse_cgroups(mi, mounts, MOUNTINFO_HIERARCHIES_MAX, &n_mounts) < 0)
                return; /* cgfs_open() says what is wrong */
        for (size_t i = 0; i < n_mounts && !m; i++)
                if (mounts[i].is_v2)
                        m = &mounts[i];
        if (!m || own_path(m, self, sizeof(self)) < 0)
                return;
        snprintf(own, sizeof(own), "%s", self);
        own_cgroup_strip_leaf(own);
        in_leaf = strcmp(own, self) != 0;

        if (strncmp(base, "self:", 5) == 0)
                snprintf(base_path, sizeof(base_path), "%s/%s", strcmp(own, "/") == 0 ? "" : own,
                         base + 5);
        else
                snprintf(base_path, sizeof(base_path), "%s", base);
        ol = strcmp(own, "/") == 0 ? 0 : strlen(own);
        if (strncmp(base_path, own, ol) != 0 || base_path[ol] != '/' || !base_path[ol + 1])
                return; /* the base is not below cgmd's cgroup: its parent is not ours */

        root_fd = open(m->mount_point, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return;
        own_fd = ol == 0 ? fcntl(root_fd, F_DUPFD_CLOEXEC, 3)
                         : openat(root_fd, own + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (own_fd < 0)
                return;
        /* The root cgroup has no cgroup.type; it may hold processes and enable controllers. */
        if (faccessat(own_fd, "cgroup.type", F_OK, 0) < 0)
                return;
        if (read_all(own_fd, "cgroup.controllers", avail, sizeof(avail)) <= 0)
                return; /* nothing to offer the base, nothing to gain by moving */

        /* Someone else in <own>: moving cgmd out would not let <own> enable anything, and
         * would only leave a leaf in a cgroup cgmd shares. Say so, and change nothing. */
        other_pids(own_fd, others, sizeof(others));
        alone = others[0] == '\0';
        if (!in_leaf && !alone) {
                log_shared(own_fd, own, base_path);
                return;
        }
        if (!in_leaf) {
                char procs[sizeof(OWN_LEAF_NAME) + 16];
                if (mkdirat(own_fd, OWN_LEAF_NAME, 0755) < 0 && errno != EEXIST) {
                        log_warning("cannot create cgmd's leaf `%s/%s`: %m; the base gets no "
                                    "controllers from cgmd's cgroup and the policy's limits cannot "
                                    "be applied",
                                    own, OWN_LEAF_NAME);
                        return;
                }
                snprintf(procs, sizeof(procs), "%s/cgroup.procs", OWN_LEAF_NAME);
                r = write_one(own_fd, procs, "0");
                if (r < 0) {
                        log_warning("cannot move cgmd into its leaf `%s/%s`: %s; the base gets no "
                                    "controllers from cgmd's cgroup and the policy's limits cannot "
                                    "be applied",
                                    own, OWN_LEAF_NAME, strerror(-r));
                        return;
                }
                log_info("moved into `%s/%s`, so that the base `%s` below cgmd's cgroup can get "
                         "controllers",
                         strcmp(own, "/") == 0 ? "" : own, OWN_LEAF_NAME, base_path);
        }

        snprintf(o->base_rel, sizeof(o->base_rel), "%s", base_path + ol + 1);
        r = open_chain(own_fd, o->base_rel, chain, &n_chain);
        for (size_t i = 0; r >= 0 && i < n_chain; i++) {
                r = enable_offered(chain[i]);
                if (r == -EBUSY && i == 0) {
                        log_shared(own_fd, own, base_path);
                        close_chain(chain, n_chain);
                        return;
                }
                if (r < 0)
                        log_warning("cannot enable every controller for the children of `%s/%s`: "
                                    "%s",
                                    own, i == 0 ? "." : o->base_rel, strerror(-r));
                r = 0;
        }
        close_chain(chain, n_chain);
        snprintf(o->own, sizeof(o->own), "%s", own);
        o->own_fd = own_fd;
        own_fd = -1;
}

/* Does the directory @fd have a subdirectory (a child cgroup)? */
static bool has_child(int fd)
{
        _cleanup_close_ int dup_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = dup_fd < 0 ? NULL : fdopendir(dup_fd);
        struct dirent *de;
        bool found = false;

        if (!d)
                return true; /* cannot tell: keep the controllers */
        dup_fd = -1;
        while (!found && (de = readdir(d)))
                found = de->d_type == DT_DIR && strcmp(de->d_name, ".") != 0 &&
                        strcmp(de->d_name, "..") != 0;
        closedir(d);
        return found;
}

void own_cgroup_leave(OwnCgroup *o)
{
        _cleanup_close_ int base_fd = -1;
        int chain[OWN_CHAIN_MAX];
        size_t n_chain = 0;
        int r;

        if (o->own_fd < 0)
                return;
        base_fd = openat(o->own_fd, o->base_rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (base_fd >= 0 && has_child(base_fd)) {
                log_notice("the controllers of cgmd's cgroup `%s` stay enabled: the homes and "
                           "sessions below the base `%s/%s` need them, and while they do, no "
                           "process can be started in `%s` (cgroup v2): start the next cgmd in "
                           "`%s/%s` (systemd 254 and later: DelegateSubgroup=%s), or once they "
                           "are gone",
                           o->own, o->own, o->base_rel, o->own, o->own, OWN_LEAF_NAME,
                           OWN_LEAF_NAME);
                goto out;
        }
        r = base_fd < 0 ? 0 : disable_all(base_fd);
        if (r >= 0)
                r = open_chain(o->own_fd, o->base_rel, chain, &n_chain);
        for (size_t i = n_chain; r >= 0 && i-- > 0;)
                r = disable_all(chain[i]);
        close_chain(chain, n_chain);
        if (r < 0)
                log_warning("cannot disable the controllers of cgmd's cgroup `%s` again: %s; a "
                            "service manager may be unable to start cgmd there",
                            o->own, strerror(-r));
        else
                log_debug("disabled the controllers of `%s` again: the base is empty", o->own);
out:
        o->own_fd = safe_close(o->own_fd);
}
