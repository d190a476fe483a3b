/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading cgroups: the layout of the hierarchies, confined opens, and the reads behind Get,
 * Stat, List, Procs and WhoAmI's limits, shared by cgmd and libcgm
 *
 * cgmd answers reads with these functions on the base directories it pinned at start-up
 * (daemon/cgfs.c). libcgm answers the same reads itself when it can (client/direct.c): it
 * learns the layout from the daemon (Layout), opens the same base directories through the
 * caller's own mounts, and calls these very functions on them, so that a value, a key's v1
 * translation, the set of counters and the order of a listing are the same whichever side
 * read them. There is one implementation: what changes here changes for both.
 *
 * Every open goes through cgfs_openat(): relative to a base directory fd, with openat2()
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV, so no path
 * can leave the base, follow a link or cross into another mount, whatever it contains. Names
 * are validated before they get here as well (common/name.c); openat2 is the second wall.
 *
 * Errors are the daemon's sentences: a missing cgroup is NotFound with the path as the API
 * shows it, a missing controller file says why the controller is absent.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgread.h"
#include "cleanup.h"
#include "keys.h"
#include "name.h"
#include "protocol.h"

#define CGFS_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

int cgfs_openat2(int dirfd, const char *path, int flags)
{
        struct open_how how = { .flags = (unsigned)(flags | O_CLOEXEC), .resolve = CGFS_RESOLVE };
        int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

        if (fd < 0 && errno == ENOSYS)
                /* Pre-5.6 kernels: names were validated (no "..", no '/'-tricks), so a plain
                 * O_NOFOLLOW openat below a pinned dirfd is still confined. */
                fd = openat(dirfd, path, flags | O_CLOEXEC | O_NOFOLLOW);
        return fd < 0 ? -errno : fd;
}

bool cgfs_list_has(const char *list, const char *word, char sep)
{
        size_t wl = strlen(word);

        for (const char *p = list; p && *p;) {
                const char *end = strchr(p, sep);
                size_t l = end ? (size_t)(end - p) : strlen(p);
                if (l == wl && strncmp(p, word, wl) == 0)
                        return true;
                p = end ? end + 1 : NULL;
        }
        return false;
}

const char *cgfs_layout_name(CgfsLayout layout)
{
        switch (layout) {
        case CGFS_UNIFIED:
                return "unified";
        case CGFS_HYBRID:
                return "hybrid";
        case CGFS_LEGACY:
                return "legacy";
        }
        return "unknown";
}

int cgfs_openat(const Cgfs *cg, int h, const char *rel, const char *file, int flags)
{
        char path[CGM_PATH_MAX + 128];

        if (h < 0 || (size_t)h >= cg->n)
                return -EINVAL;
        if (rel && *rel && file)
                snprintf(path, sizeof(path), "%s/%s", rel, file);
        else if (rel && *rel)
                snprintf(path, sizeof(path), "%s", rel);
        else if (file)
                snprintf(path, sizeof(path), "%s", file);
        else
                snprintf(path, sizeof(path), ".");
        return cgfs_openat2(cg->h[h].base_fd, path, flags);
}

int cgfs_read(const Cgfs *cg, int h, const char *rel, const char *file, char *buf, size_t n)
{
        _cleanup_close_ int fd = cgfs_openat(cg, h, rel, file, O_RDONLY);
        size_t off = 0;

        if (fd < 0)
                return fd;
        while (off + 1 < n) {
                ssize_t l = read(fd, buf + off, n - 1 - off);
                if (l < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (l == 0)
                        break;
                off += (size_t)l;
                /* cgroupfs files are seq_files, which fill the buffer while there is data:
                 * a short read is the end, and saves the read(2) that would return 0. */
                if ((size_t)l < n - 1 - (off - (size_t)l))
                        break;
        }
        buf[off] = '\0';
        return (int)off;
}

void cgfs_api_path(const Cgfs *cg, const char *rel, char *out, size_t n)
{
        if (!rel || !*rel)
                snprintf(out, n, "%s", cg->base_api);
        else if (strcmp(cg->base_api, "/") == 0)
                snprintf(out, n, "/%s", rel);
        else
                snprintf(out, n, "%s/%s", cg->base_api, rel);
}

int cgfs_rel_from_proc(const Cgfs *cg, const char *proc_path, char *rel, size_t n)
{
        const char *base = cg->h[cg->primary].base_path;
        size_t bl = strlen(base);

        if (strcmp(proc_path, base) == 0) {
                snprintf(rel, n, "%s", "");
                return 0;
        }
        if (strncmp(proc_path, base, bl) != 0 || proc_path[bl] != '/')
                return -ENOENT;
        snprintf(rel, n, "%s", proc_path + bl + 1);
        return 0;
}

const char *cgfs_proc_key(const Cgfs *cg, char *buf, size_t n)
{
        const Hierarchy *h = &cg->h[cg->primary];

        snprintf(buf, n, "%s", h->is_v2 ? "" : h->controllers);
        buf[strcspn(buf, ",")] = '\0';
        return buf;
}

int cgfs_hierarchy_for(const Cgfs *cg, const char *controller)
{
        if (cg->v2 >= 0 && cgfs_list_has(cg->h[cg->v2].controllers, controller, ' '))
                return cg->v2;
        for (size_t i = 0; i < cg->n; i++)
                if (!cg->h[i].is_v2 && cgfs_list_has(cg->h[i].controllers, controller, ','))
                        return (int)i;
        return -1;
}

int cgfs_v1_hierarchy_for(const Cgfs *cg, const char *controller)
{
        for (size_t i = 0; i < cg->n; i++)
                if (!cg->h[i].is_v2 && cgfs_list_has(cg->h[i].controllers, controller, ','))
                        return (int)i;
        return -1;
}

const char *cgfs_hierarchy_name(const Cgfs *cg, int h)
{
        if (h < 0 || (size_t)h >= cg->n)
                return "unknown";
        return cg->h[h].is_v2 ? "cgroup2" : cg->h[h].controllers;
}

void cg_split_parent(const char *rel, char *parent, size_t pn, char *name, size_t nn)
{
        const char *slash = strrchr(rel, '/');

        if (!slash) {
                snprintf(parent, pn, "%s", "");
                snprintf(name, nn, "%s", rel);
        } else {
                snprintf(parent, pn, "%.*s", (int)(slash - rel), rel);
                snprintf(name, nn, "%s", slash + 1);
        }
}

void cg_strip_newline(char *s)
{
        size_t l = strlen(s);
        while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == ' '))
                s[--l] = '\0';
}

int cg_exists(const Cgfs *cg, const char *rel, CgmError *e)
{
        _cleanup_close_ int fd = cgfs_openat(cg, cg->primary, rel, NULL, O_PATH | O_DIRECTORY);
        char api[CGM_PATH_MAX + 64];

        if (fd >= 0)
                return 0;
        cgfs_api_path(cg, rel, api, sizeof(api));
        if (fd == -ENOENT || fd == -ENOTDIR)
                return cgm_error_set(e, -ENOENT, CGM_ERR_NOT_FOUND, "cgroup `%s` does not exist",
                                     api);
        return cgm_error_set(e, fd, NULL, "cannot open cgroup `%s`: %s", api, strerror(-fd));
}

int cg_key_error(int r, const char *why, CgmError *e)
{
        return cgm_error_set(e, r,
                             r == -EOPNOTSUPP ? CGM_ERR_NOT_SUPPORTED
                             : r == -EPERM    ? CGM_ERR_PERMISSION_DENIED
                                              : CGM_ERR_INVALID_VALUE,
                             "%s", why);
}

int cg_key_hierarchy(const Cgfs *cg, const char *key, CgmError *e)
{
        const char *c2 = key_controller(key), *c1 = key_v1_controller(key);
        int h;

        if (!*c2) {
                if (cg->v2 >= 0)
                        return cg->v2;
                return cgm_error_set(e, -EOPNOTSUPP, CGM_ERR_NOT_SUPPORTED,
                                     "`%s` exists only on cgroup v2, which this host does not "
                                     "mount",
                                     key);
        }
        if (cg->v2 >= 0 && cgfs_hierarchy_for(cg, c2) == cg->v2)
                return cg->v2;
        if (c1 && (h = cgfs_v1_hierarchy_for(cg, c1)) >= 0)
                return h;
        return cgm_error_set(e, -EOPNOTSUPP, CGM_ERR_NOT_SUPPORTED,
                             "the %s controller is not available to cgm on this host (neither "
                             "enabled for the base on cgroup2 nor mounted as a v1 hierarchy), so "
                             "`%s` cannot be used",
                             c2, key);
}

int cg_file_error(const Cgfs *cg, const char *rel, const char *key, const char *file,
                         const char *value, int r, CgmError *e)
{
        char api[CGM_PATH_MAX + 64], label[160];

        cgfs_api_path(cg, rel, api, sizeof(api));
        if (key && strcmp(key, file) != 0)
                snprintf(label, sizeof(label), "%s (cgroup v1 %s)", key, file);
        else
                snprintf(label, sizeof(label), "%s", file);
        file = label;
        switch (r) {
        case -ENOENT: {
                char parent[CGM_PATH_MAX + 1], name[CGM_NAME_MAX + 1], procs[16];
                /* The cgroup itself may be gone (removed meanwhile): that is NotFound, not a
                 * missing controller. */
                if (cg_exists(cg, rel, e) < 0)
                        return e->code;
                cg_split_parent(rel, parent, sizeof(parent), name, sizeof(name));
                if (cg->v2 >= 0 && *rel &&
                    cgfs_read(cg, cg->v2, parent, "cgroup.procs", procs, sizeof(procs)) > 0)
                        return cgm_error_set(e, -EOPNOTSUPP, CGM_ERR_NOT_SUPPORTED,
                                             "`%s` has no %s: its parent holds processes, so "
                                             "cgroup v2 cannot enable controllers for its "
                                             "children (no-internal-process rule); move the "
                                             "processes into a leaf first",
                                             api, file);
                return cgm_error_set(e, -EOPNOTSUPP, CGM_ERR_NOT_SUPPORTED,
                                     "`%s` has no %s: its controller is not enabled for it "
                                     "(cgroup.subtree_control of its parent)",
                                     api, file);
        }
        case -EINVAL:
        case -ERANGE:
        case -EOVERFLOW:
                return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_VALUE,
                                     "the kernel refused `%s` for %s of `%s`: %s", value, file,
                                     api, strerror(-r));
        case -EBUSY:
                return cgm_error_set(e, r, CGM_ERR_BUSY, "cannot write %s of `%s` now: %s", file,
                                     api, strerror(-r));
        default:
                return cgm_error_set(e, r, NULL, "cannot write `%s` to %s of `%s`: %s", value,
                                     file, api, strerror(-r));
        }
}

int cg_get_one(const Cgfs *cg, const char *rel, const char *key, char *value, size_t n,
               CgmError *e)
{
        char canon[CGM_VALUE_MAX], why[256];
        int h, r;

        if (!key_controller(key)) {
                /* key_parse explains refused and unknown keys the same way Set does. */
                r = key_parse(key, "0", canon, sizeof(canon), why, sizeof(why));
                return cg_key_error(r < 0 ? r : -EOPNOTSUPP, why, e);
        }
        h = cg_key_hierarchy(cg, key, e);
        if (h < 0)
                return h;
        if (cg->h[h].is_v2) {
                r = cgfs_read(cg, h, rel, key, value, n);
                if (r < 0)
                        return r == -ENOENT && cg_exists(cg, rel, e) < 0
                                       ? e->code
                                       : cg_file_error(cg, rel, key, key, "", r, e);
                cg_strip_newline(value);
                return 0;
        } else {
                KeyFile files[KEY_V1_FILES_MAX];
                size_t nf = 0;
                r = key_v1_reads(key, files, &nf);
                if (r < 0)
                        return cgm_error_set(e, r, CGM_ERR_NOT_SUPPORTED,
                                             "`%s` has no cgroup v1 equivalent", key);
                /* The v1 files may outlive a cgroup removed from the primary hierarchy. */
                r = cg_exists(cg, rel, e);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < nf; i++) {
                        r = cgfs_read(cg, h, rel, files[i].name, files[i].value,
                                      sizeof(files[i].value));
                        if (r < 0)
                                return cg_file_error(cg, rel, key, files[i].name, "", r, e);
                }
                r = key_v1_value(key, files, nf, value, n);
                if (r < 0)
                        return cgm_error_set(e, r, CGM_ERR_FAILED,
                                             "cannot understand the kernel's value for `%s`", key);
                return 0;
        }
}

static int cg_walk_one(const Cgfs *cg, const char *rel, bool recursive, unsigned depth,
                       CgVisit visit, void *userdata)
{
        _cleanup_close_ int fd = cgfs_openat(cg, cg->primary, rel, NULL, O_RDONLY | O_DIRECTORY);
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (fd < 0)
                return fd;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -1;
        while (r == 0 && (de = readdir(d))) {
                char child[CGM_PATH_MAX + 1];
                if (de->d_type != DT_DIR || cgm_name_check(de->d_name, NULL, 0) < 0)
                        continue; /* names cgm cannot address are not shown */
                if ((size_t)snprintf(child, sizeof(child), "%s%s%s", rel, *rel ? "/" : "",
                                     de->d_name) >= sizeof(child))
                        continue;
                r = visit(child, userdata);
                if (r == 0 && recursive && depth + 1 < CGM_DEPTH_MAX) {
                        r = cg_walk_one(cg, child, true, depth + 1, visit, userdata);
                        if (r == -ENOENT)
                                r = 0; /* removed while we walked */
                }
        }
        closedir(d);
        return r;
}

int cg_walk(const Cgfs *cg, const char *rel, bool recursive, CgVisit visit, void *userdata,
            CgmError *e)
{
        int r = cg_exists(cg, rel, e);

        if (r < 0)
                return r;
        r = cg_walk_one(cg, rel, recursive, 0, visit, userdata);
        if (r < 0 && e && !e->code)
                return cgm_error_set(e, r, NULL, "cannot list cgroups: %s", strerror(-r));
        return r;
}

int cg_procs(const Cgfs *cg, const char *rel, pid_t **pidsp, size_t *np, CgmError *e)
{
        _cleanup_close_ int fd = cgfs_openat(cg, cg->primary, rel, "cgroup.procs", O_RDONLY);
        _cleanup_fclose_ FILE *f = NULL;
        long pid;

        if (fd < 0)
                return cg_exists(cg, rel, e) < 0 ? e->code
                                                 : cgm_error_set(e, fd, NULL,
                                                                 "cannot read cgroup.procs: %s",
                                                                 strerror(-fd));
        f = fdopen(fd, "r");
        if (!f)
                return cgm_error_set(e, -errno, NULL, "fdopen: %m");
        fd = -1;
        while (fscanf(f, "%ld", &pid) == 1) {
                pid_t *p;
                if (*np >= CGM_LIST_MAX)
                        return cgm_error_set(e, -EDQUOT, CGM_ERR_LIMIT_EXCEEDED,
                                             "more than %d processes", CGM_LIST_MAX);
                p = realloc(*pidsp, (*np + 1) * sizeof(pid_t));
                if (!p)
                        return cgm_error_set(e, -ENOMEM, NULL, "out of memory");
                *pidsp = p;
                p[(*np)++] = (pid_t)pid;
        }
        return 0;
}

typedef struct CgProcsWalk {
        const Cgfs *cg;
        pid_t **pidsp;
        size_t *np;
        CgmError *e;
} CgProcsWalk;

static int cg_procs_visit(const char *rel, void *userdata)
{
        CgProcsWalk *w = userdata;
        return cg_procs(w->cg, rel, w->pidsp, w->np, w->e);
}

int cg_procs_subtree(const Cgfs *cg, const char *rel, pid_t **pidsp, size_t *np, CgmError *e)
{
        CgProcsWalk w = { .cg = cg, .pidsp = pidsp, .np = np, .e = e };
        int r = cg_procs(cg, rel, pidsp, np, e);

        return r < 0 ? r : cg_walk(cg, rel, true, cg_procs_visit, &w, e);
}

bool cg_populated(const Cgfs *cg, const char *rel)
{
        char buf[256];
        if (cg->v2 >= 0 && cgfs_read(cg, cg->v2, rel, "cgroup.events", buf, sizeof(buf)) > 0)
                return strstr(buf, "populated 1") != NULL;
        if (cgfs_read(cg, cg->primary, rel, "cgroup.procs", buf, sizeof(buf)) >= 0)
                return buf[0] != '\0';
        return false;
}

static bool read_u64(const Cgfs *cg, int h, const char *rel, const char *file, uint64_t *v)
{
        char buf[64];
        if (h < 0 || cgfs_read(cg, h, rel, file, buf, sizeof(buf)) <= 0)
                return false;
        if (strncmp(buf, "max", 3) == 0) {
                *v = UINT64_MAX;
                return true;
        }
        *v = strtoull(buf, NULL, 10);
        return true;
}

static bool read_keyed(const Cgfs *cg, int h, const char *rel, const char *file,
                       const char *field, uint64_t *v)
{
        char buf[2048];
        size_t fl = strlen(field);

        if (h < 0 || cgfs_read(cg, h, rel, file, buf, sizeof(buf)) <= 0)
                return false;
        for (char *line = buf; line && *line;) {
                char *next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (strncmp(line, field, fl) == 0 && line[fl] == ' ') {
                        *v = strtoull(line + fl + 1, NULL, 10);
                        return true;
                }
                line = next;
        }
        return false;
}

/*
 * Bytes read and written by @rel, summed over devices: v2 io.stat ("8:0 rbytes=N wbytes=N
 * ..."), v1 blkio.throttle.io_service_bytes ("8:0 Read N", "8:0 Write N", ... "Total N"),
 * which counts every bio whatever the scheduler. False when neither file is readable.
 */
static bool read_io(const Cgfs *cg, const char *rel, uint64_t *rbytes, uint64_t *wbytes)
{
        int h = cgfs_hierarchy_for(cg, "io");
        bool v2 = h >= 0 && cg->h[h].is_v2;
        char buf[8192];

        if (!v2)
                h = cgfs_v1_hierarchy_for(cg, "blkio");
        if (h < 0 || cgfs_read(cg, h, rel, v2 ? "io.stat" : "blkio.throttle.io_service_bytes",
                               buf, sizeof(buf)) < 0)
                return false;
        *rbytes = *wbytes = 0;
        for (char *line = buf; line && *line;) {
                char *next = strchr(line, '\n');
                char *sp = strchr(line, ' ');

                if (next)
                        *next++ = '\0';
                for (char *f = sp; v2 && f; f = strchr(f + 1, ' ')) {
                        if (strncmp(f + 1, "rbytes=", 7) == 0)
                                *rbytes += strtoull(f + 8, NULL, 10);
                        else if (strncmp(f + 1, "wbytes=", 7) == 0)
                                *wbytes += strtoull(f + 8, NULL, 10);
                }
                if (!v2 && sp && strncmp(sp + 1, "Read ", 5) == 0)
                        *rbytes += strtoull(sp + 6, NULL, 10);
                else if (!v2 && sp && strncmp(sp + 1, "Write ", 6) == 0)
                        *wbytes += strtoull(sp + 7, NULL, 10);
                line = next;
        }
        return true;
}

int cg_stat(const Cgfs *cg, const char *rel, CgCounter *out, size_t *n_out, CgmError *e)
{
        int hm = cgfs_hierarchy_for(cg, "memory"), hp = cgfs_hierarchy_for(cg, "pids");
        int hc = cgfs_hierarchy_for(cg, "cpuacct");
        size_t n = 0;
        uint64_t v, rbytes, wbytes;
        int r = cg_exists(cg, rel, e);

        if (r < 0)
                return r;
#define PUT(label, val)                                                                            \
        do {                                                                                       \
                out[n].name = (label);                                                             \
                out[n].value = (val);                                                              \
                n++;                                                                               \
        } while (0)
        if (hm >= 0 && cg->h[hm].is_v2) {
                if (read_u64(cg, hm, rel, "memory.current", &v))
                        PUT("memory.current", v);
                if (read_u64(cg, hm, rel, "memory.peak", &v))
                        PUT("memory.peak", v);
                if (read_keyed(cg, hm, rel, "memory.events", "oom", &v))
                        PUT("memory.events.oom", v);
                if (read_keyed(cg, hm, rel, "memory.events", "oom_kill", &v))
                        PUT("memory.events.oom_kill", v);
        } else if (hm >= 0) {
                if (read_u64(cg, hm, rel, "memory.usage_in_bytes", &v))
                        PUT("memory.current", v);
                if (read_u64(cg, hm, rel, "memory.max_usage_in_bytes", &v))
                        PUT("memory.peak", v);
                if (read_keyed(cg, hm, rel, "memory.oom_control", "oom_kill", &v))
                        PUT("memory.events.oom_kill", v);
        }
        if (hc >= 0 && !cg->h[hc].is_v2 && read_u64(cg, hc, rel, "cpuacct.usage", &v))
                PUT("cpu.usage_usec", v / 1000);
        else if (cg->v2 >= 0 && read_keyed(cg, cg->v2, rel, "cpu.stat", "usage_usec", &v))
                PUT("cpu.usage_usec", v);
        if (read_u64(cg, hp, rel, "pids.current", &v))
                PUT("pids.current", v);
        if (read_u64(cg, hp, rel, "pids.max", &v) && v != UINT64_MAX)
                PUT("pids.max", v);
        /* Forks refused by pids.max (also on v1, where the kernel never notifies it): how
         * `cgm run` tells that a limit hindered its command. */
        if (read_keyed(cg, hp, rel, "pids.events", "max", &v))
                PUT("pids.events.max", v);
        if (read_io(cg, rel, &rbytes, &wbytes)) {
                PUT("io.rbytes", rbytes);
                PUT("io.wbytes", wbytes);
        }
        if (cg->v2 >= 0) {
                if (read_keyed(cg, cg->v2, rel, "cgroup.events", "populated", &v))
                        PUT("populated", v);
                if (read_keyed(cg, cg->v2, rel, "cgroup.events", "frozen", &v))
                        PUT("frozen", v);
        } else {
                int hf = cgfs_hierarchy_for(cg, "freezer");
                char state[32];
                PUT("populated", cg_populated(cg, rel) ? 1 : 0);
                /* v1: FROZEN once every task stopped; FREEZING (on the way) is not frozen yet */
                if (hf >= 0 && cgfs_read(cg, hf, rel, "freezer.state", state, sizeof(state)) >= 0)
                        PUT("frozen", strncmp(state, "FROZEN", 6) == 0 ? 1 : 0);
        }
#undef PUT
        *n_out = n;
        return 0;
}

/* Limits worth showing a user about its home. */
const char *const cg_whoami_keys[] = { "memory.max",  "memory.high", "memory.swap.max",
                                       "cpu.max",     "cpu.weight",  "pids.max",
                                       "io.weight",   "cgroup.max.descendants",
                                       "cgroup.max.depth" };
const size_t cg_whoami_keys_n = ELEMENTSOF(cg_whoami_keys);
