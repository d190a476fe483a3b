/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cgroup operations: one logical cgroup mirrored in every hierarchy the daemon uses
 *
 * The API shows one tree. On a pure v2 host that is the tree; on hybrid and v1 hosts the same
 * relative path exists below the base in each hierarchy the daemon uses, and every operation
 * here is carried out in all of them: mkdir and rmdir everywhere, a move writes the pid into
 * each cgroup.procs (the primary hierarchy first, because it carries membership; if that write
 * fails nothing else was touched), and a key is written in the one hierarchy that serves its
 * controller, translated to v1 terms there (keys.c).
 *
 * What the kernel says is turned into a sentence for the user here, because only here is it
 * known which file was written: EBUSY on cgroup.procs is the no-internal-process rule, ENOENT
 * on a controller file means the controller is not enabled, EAGAIN on mkdir is
 * cgroup.max.descendants.
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
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "keys.h"
#include "mountinfo.h"
#include "name.h"
#include "proc.h"
#include "protocol.h"

/* How long Remove(kill) waits for killed processes to exit before giving up with Busy. The
 * kernel kills synchronously; exit can take a moment for processes in D state. */
#define CG_KILL_WAIT_MS 2000

static void cg_api(const Cgfs *cg, const char *rel, char *out, size_t n)
{
        cgfs_api_path(cg, rel, out, n);
}

static void split_parent(const char *rel, char *parent, size_t pn, char *name, size_t nn)
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

static void strip_newline(char *s)
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
        cg_api(cg, rel, api, sizeof(api));
        if (fd == -ENOENT || fd == -ENOTDIR)
                return cgm_error_set(e, -ENOENT, CGM_ERR_NOT_FOUND, "cgroup `%s` does not exist",
                                     api);
        return cgm_error_set(e, fd, NULL, "cannot open cgroup `%s`: %s", api, strerror(-fd));
}

/* Give a cgroup made for a user on v2 the ownership a mkdir by that user would have given. */
static int cg_chown_all(const Cgfs *cg, const char *rel, uid_t owner)
{
        _cleanup_close_ int fd = cgfs_openat(cg, cg->v2, rel, NULL, O_RDONLY | O_DIRECTORY);
        _cleanup_close_ int dfd = -1;
        DIR *d;
        struct dirent *de;

        if (fd < 0)
                return fd;
        if (fchown(fd, owner, (gid_t)-1) < 0)
                return -errno;
        dfd = dup(fd);
        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d)
                return -errno;
        dfd = -1;
        while ((de = readdir(d)))
                if (de->d_type == DT_REG)
                        (void)fchownat(fd, de->d_name, owner, (gid_t)-1, AT_SYMLINK_NOFOLLOW);
        closedir(d);
        return 0;
}

/* On v2 a child gets a controller only if its parent enables it in cgroup.subtree_control.
 * The daemon enables in a parent inside the base whatever the parent has, so that limits can
 * be set on the new child; a parent that holds processes is left as it is (no-internal-
 * process rule), and a limit on its new child then fails with a message that says why. */
static void cg_enable_controllers(const Cgfs *cg, const char *parent)
{
        char avail[256], enabled[256], padded[260], procs[16], *save = NULL;

        /* A parent with processes keeps its controllers as they are: the kernel would refuse
         * the domain ones (EBUSY) and accept the threaded ones, leaving a half change. */
        if (cgfs_read(cg, cg->v2, parent, "cgroup.procs", procs, sizeof(procs)) != 0)
                return;
        if (cgfs_read(cg, cg->v2, parent, "cgroup.controllers", avail, sizeof(avail)) < 0 ||
            cgfs_read(cg, cg->v2, parent, "cgroup.subtree_control", enabled, sizeof(enabled)) < 0)
                return;
        enabled[strcspn(enabled, "\n")] = '\0';
        snprintf(padded, sizeof(padded), " %s ", enabled);
        for (char *c = strtok_r(avail, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
                char plus[80], word[80];
                snprintf(word, sizeof(word), " %s ", c);
                if (strstr(padded, word))
                        continue;
                snprintf(plus, sizeof(plus), "+%s", c);
                (void)cgfs_write(cg, cg->v2, parent, "cgroup.subtree_control", plus);
        }
}

static int cg_copy_cpuset(const Cgfs *cg, int h, const char *parent, const char *rel)
{
        static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
        char buf[512];
        int r;

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                /* Below the base, cgroup.clone_children (set on the base at start-up) has made
                 * the kernel copy them already; copying again costs a walk of the siblings. */
                if (cgfs_read(cg, h, rel, files[i], buf, sizeof(buf)) > 1)
                        continue;
                r = cgfs_read(cg, h, parent, files[i], buf, sizeof(buf));
                if (r < 0)
                        return r;
                strip_newline(buf);
                if (!*buf)
                        continue;
                r = cgfs_write(cg, h, rel, files[i], buf);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void cg_rmdir_all(const Cgfs *cg, const char *rel)
{
        char parent[CGM_PATH_MAX + 1], name[CGM_NAME_MAX + 1];

        split_parent(rel, parent, sizeof(parent), name, sizeof(name));
        for (size_t i = 0; i < cg->n; i++) {
                _cleanup_close_ int pfd =
                        cgfs_openat(cg, (int)i, parent, NULL, O_RDONLY | O_DIRECTORY);
                if (pfd >= 0)
                        (void)unlinkat(pfd, name, AT_REMOVEDIR);
        }
}

static int cg_mkdir_error(const Cgfs *cg, const char *rel, int r, CgmError *e)
{
        char api[CGM_PATH_MAX + 64];

        cg_api(cg, rel, api, sizeof(api));
        switch (r) {
        case -EEXIST:
                return cgm_error_set(e, r, CGM_ERR_EXISTS, "cgroup `%s` already exists", api);
        case -ENOENT:
                return cgm_error_set(e, r, CGM_ERR_NOT_FOUND,
                                     "cannot create `%s`: its parent does not exist", api);
        case -EAGAIN:
                return cgm_error_set(e, -EDQUOT, CGM_ERR_LIMIT_EXCEEDED,
                                     "cannot create `%s`: the number or depth of cgroups allowed "
                                     "below the home is reached (cgroup.max.descendants / "
                                     "cgroup.max.depth); remove some first",
                                     api);
        default:
                return cgm_error_set(e, r, NULL, "cannot create `%s`: %s", api, strerror(-r));
        }
}

int cg_create(const Cgfs *cg, const char *rel, uid_t owner, const CgSetting *settings,
              size_t n_settings, CgmError *e)
{
        char parent[CGM_PATH_MAX + 1], name[CGM_NAME_MAX + 1];
        bool made[CGFS_HIERARCHIES_MAX] = { false };
        int r;

        if (!*rel)
                return cgm_error_set(e, -EEXIST, CGM_ERR_EXISTS, "the base already exists");
        /* Check every setting before creating anything. */
        for (size_t i = 0; i < n_settings; i++) {
                char canon[CGM_VALUE_MAX], why[256];
                r = key_parse(settings[i].key, settings[i].value, canon, sizeof(canon), why,
                              sizeof(why));
                if (r < 0)
                        return cgm_error_set(e, r,
                                             r == -EOPNOTSUPP ? CGM_ERR_NOT_SUPPORTED
                                             : r == -EPERM    ? CGM_ERR_PERMISSION_DENIED
                                                              : CGM_ERR_INVALID_VALUE,
                                             "%s", why);
        }
        split_parent(rel, parent, sizeof(parent), name, sizeof(name));

        /* The primary hierarchy first: it decides "exists" and "parent missing". */
        for (size_t k = 0; k < cg->n; k++) {
                size_t i = k == 0 ? (size_t)cg->primary : (k <= (size_t)cg->primary ? k - 1 : k);
                _cleanup_close_ int pfd =
                        cgfs_openat(cg, (int)i, parent, NULL, O_RDONLY | O_DIRECTORY);
                if (pfd < 0) {
                        r = pfd;
                        goto fail;
                }
                if (cg->h[i].is_v2)
                        cg_enable_controllers(cg, parent);
                if (mkdirat(pfd, name, 0755) < 0) {
                        r = -errno;
                        if (r == -EEXIST && i != (size_t)cg->primary)
                                continue; /* a leftover in a secondary hierarchy: reuse it */
                        goto fail;
                }
                made[i] = true;
                if (!cg->h[i].is_v2 && strstr(cg->h[i].controllers, "cpuset")) {
                        r = cg_copy_cpuset(cg, (int)i, parent, rel);
                        if (r < 0)
                                goto fail;
                }
        }
        if (owner != (uid_t)-1 && cg->v2 >= 0) {
                r = cg_chown_all(cg, rel, owner);
                if (r < 0)
                        goto fail;
        }
        if (n_settings > 0) {
                r = cg_set(cg, rel, settings, n_settings, e);
                if (r < 0) {
                        cg_rmdir_all(cg, rel);
                        return r;
                }
        }
        return 0;
fail:
        for (size_t i = 0; i < cg->n; i++)
                if (made[i]) {
                        _cleanup_close_ int pfd =
                                cgfs_openat(cg, (int)i, parent, NULL, O_RDONLY | O_DIRECTORY);
                        if (pfd >= 0)
                                (void)unlinkat(pfd, name, AT_REMOVEDIR);
                }
        return cg_mkdir_error(cg, rel, r, e);
}

/* ---- keys ---------------------------------------------------------------------------- */

typedef struct CgWrite {
        int h;
        KeyFile file;
        char old[256];
        bool have_old;
        const char *key;
} CgWrite;

static int cg_key_error(int r, const char *why, CgmError *e)
{
        return cgm_error_set(e, r,
                             r == -EOPNOTSUPP ? CGM_ERR_NOT_SUPPORTED
                             : r == -EPERM    ? CGM_ERR_PERMISSION_DENIED
                                              : CGM_ERR_INVALID_VALUE,
                             "%s", why);
}

/* Which hierarchy serves @key; -EOPNOTSUPP with a message when none does. */
static int cg_key_hierarchy(const Cgfs *cg, const char *key, CgmError *e)
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

static int cg_file_error(const Cgfs *cg, const char *rel, const char *file, const char *value,
                         int r, CgmError *e)
{
        char api[CGM_PATH_MAX + 64];

        cg_api(cg, rel, api, sizeof(api));
        switch (r) {
        case -ENOENT: {
                char parent[CGM_PATH_MAX + 1], name[CGM_NAME_MAX + 1], procs[16];
                split_parent(rel, parent, sizeof(parent), name, sizeof(name));
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

int cg_set(const Cgfs *cg, const char *rel, const CgSetting *settings, size_t n_settings,
           CgmError *e)
{
        CgWrite plan[CGM_SETTINGS_MAX * KEY_V1_FILES_MAX];
        size_t n_plan = 0, done;
        int r;

        if (n_settings > CGM_SETTINGS_MAX)
                return cgm_error_set(e, -E2BIG, CGM_ERR_INVALID_ARGS,
                                     "at most %d settings per request", CGM_SETTINGS_MAX);

        /* Phase 1: parse, translate and read the old values; nothing is written yet. */
        for (size_t i = 0; i < n_settings; i++) {
                char canon[CGM_VALUE_MAX], why[256];
                int h;

                for (size_t j = 0; j < i; j++)
                        if (strcmp(settings[i].key, settings[j].key) == 0)
                                return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_ARGS,
                                                     "`%s` is given twice", settings[i].key);
                r = key_parse(settings[i].key, settings[i].value, canon, sizeof(canon), why,
                              sizeof(why));
                if (r < 0)
                        return cg_key_error(r, why, e);
                h = cg_key_hierarchy(cg, settings[i].key, e);
                if (h < 0)
                        return h;
                if (cg->h[h].is_v2) {
                        CgWrite *w = &plan[n_plan++];
                        *w = (CgWrite){ .h = h, .key = settings[i].key };
                        snprintf(w->file.name, sizeof(w->file.name), "%s", settings[i].key);
                        snprintf(w->file.value, sizeof(w->file.value), "%s", canon);
                } else {
                        KeyFile files[KEY_V1_FILES_MAX];
                        size_t nf = 0;
                        uint64_t mem = UINT64_MAX;
                        if (strcmp(settings[i].key, "memory.swap.max") == 0) {
                                char buf[CGM_VALUE_MAX];
                                /* memsw = memory + swap: the memory limit this request sets,
                                 * else the current one. */
                                const char *newmem = NULL;
                                for (size_t j = 0; j < n_settings; j++)
                                        if (strcmp(settings[j].key, "memory.max") == 0 &&
                                            key_parse("memory.max", settings[j].value, buf,
                                                      sizeof(buf), why, sizeof(why)) == 0)
                                                newmem = buf;
                                if (newmem || cgfs_read(cg, h, rel, "memory.limit_in_bytes", buf,
                                                        sizeof(buf)) > 0) {
                                        unsigned long long v = strtoull(buf, NULL, 10);
                                        mem = strncmp(buf, "max", 3) == 0 || v >= (1ULL << 62)
                                                      ? UINT64_MAX
                                                      : v;
                                }
                        }
                        r = key_v1_writes(settings[i].key, canon, mem, files, &nf, why,
                                          sizeof(why));
                        if (r < 0)
                                return cg_key_error(r, why, e);
                        for (size_t f = 0; f < nf; f++) {
                                CgWrite *w = &plan[n_plan++];
                                *w = (CgWrite){ .h = h, .file = files[f], .key = settings[i].key };
                        }
                }
        }
        /* Old values, to put back if a later write is refused; one write needs none. */
        for (size_t i = 0; n_plan > 1 && i < n_plan; i++) {
                r = cgfs_read(cg, plan[i].h, rel, plan[i].file.name, plan[i].old,
                              sizeof(plan[i].old));
                if (r < 0)
                        return cg_exists(cg, rel, e) < 0
                                       ? e->code
                                       : cg_file_error(cg, rel, plan[i].file.name,
                                                       plan[i].file.value, r, e);
                strip_newline(plan[i].old);
                plan[i].have_old = true;
        }

        /* Phase 2: write; on a refusal put back what was already written. */
        for (done = 0; done < n_plan; done++) {
                r = cgfs_write(cg, plan[done].h, rel, plan[done].file.name, plan[done].file.value);
                if (r < 0)
                        break;
        }
        if (done == n_plan)
                return 0;
        if (r == -ENOENT && cg_exists(cg, rel, e) < 0)
                return e->code;
        cg_file_error(cg, rel, plan[done].file.name, plan[done].file.value, r, e);
        while (done-- > 0)
                if (plan[done].have_old && plan[done].old[0] && !strchr(plan[done].old, '\n'))
                        (void)cgfs_write(cg, plan[done].h, rel, plan[done].file.name,
                                         plan[done].old);
        return e ? e->code : r;
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
                                       : cg_file_error(cg, rel, key, "", r, e);
                strip_newline(value);
                return 0;
        } else {
                KeyFile files[KEY_V1_FILES_MAX];
                size_t nf = 0;
                r = key_v1_reads(key, files, &nf);
                if (r < 0)
                        return cgm_error_set(e, r, CGM_ERR_NOT_SUPPORTED,
                                             "`%s` has no cgroup v1 equivalent", key);
                for (size_t i = 0; i < nf; i++) {
                        r = cgfs_read(cg, h, rel, files[i].name, files[i].value,
                                      sizeof(files[i].value));
                        if (r < 0)
                                return cg_file_error(cg, rel, files[i].name, "", r, e);
                }
                r = key_v1_value(key, files, nf, value, n);
                if (r < 0)
                        return cgm_error_set(e, r, CGM_ERR_FAILED,
                                             "cannot understand the kernel's value for `%s`", key);
                return 0;
        }
}

/* ---- walking ------------------------------------------------------------------------- */

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

/* ---- moving, killing, freezing -------------------------------------------------------- */

int cg_move(const Cgfs *cg, const char *rel, pid_t pid, CgmError *e)
{
        char api[CGM_PATH_MAX + 64], buf[32];
        int r;

        cg_api(cg, rel, api, sizeof(api));
        snprintf(buf, sizeof(buf), "%d", (int)pid);
        for (size_t k = 0; k < cg->n; k++) {
                size_t i = k == 0 ? (size_t)cg->primary : (k <= (size_t)cg->primary ? k - 1 : k);
                r = cgfs_write(cg, (int)i, rel, "cgroup.procs", buf);
                if (r == 0)
                        continue;
                switch (r) {
                case -EBUSY:
                        return cgm_error_set(e, r, CGM_ERR_BUSY,
                                             "cannot put process %d into `%s`: it has child "
                                             "cgroups with controllers enabled, and cgroup v2 "
                                             "keeps processes in leaves only; move it into a "
                                             "child (a leaf) instead",
                                             (int)pid, api);
                case -ESRCH:
                        return cgm_error_set(e, r, CGM_ERR_NO_PROCESS,
                                             "process %d exited before it could be moved",
                                             (int)pid);
                case -ENOSPC:
                        return cgm_error_set(e, r, CGM_ERR_FAILED,
                                             "cannot put process %d into `%s`: its cpuset has no "
                                             "cpus or memory nodes",
                                             (int)pid, api);
                case -EOPNOTSUPP:
                        return cgm_error_set(e, r, CGM_ERR_NOT_SUPPORTED,
                                             "cannot put process %d into `%s`: the cgroup is "
                                             "threaded or invalid for processes",
                                             (int)pid, api);
                case -ENOENT:
                        if (k == 0)
                                return cg_exists(cg, rel, e) < 0
                                               ? e->code
                                               : cgm_error_set(e, r, CGM_ERR_NOT_FOUND,
                                                               "cgroup `%s` disappeared", api);
                        /* fall through */
                default:
                        return cgm_error_set(e, r, NULL,
                                             "cannot put process %d into `%s`%s: %s", (int)pid,
                                             api, k ? " (a secondary hierarchy)" : "",
                                             strerror(-r));
                }
        }
        return 0;
}

/* The path of @pid in the primary hierarchy, as /proc/PID/cgroup shows it. */
int cg_proc_path(const Cgfs *cg, pid_t pid, char *path, size_t n)
{
        const Hierarchy *h = &cg->h[cg->primary];
        char buf[8192], controller[sizeof(h->controllers)];
        int r = proc_read_cgroup(pid, buf, sizeof(buf));

        if (r < 0)
                return r;
        snprintf(controller, sizeof(controller), "%s", h->is_v2 ? "" : h->controllers);
        controller[strcspn(controller, ",")] = '\0';
        return proc_cgroup_lookup(buf, controller, path, n);
}

int cg_move_pidfd(const Cgfs *cg, const char *rel, int pidfd, pid_t pid, CgmError *e)
{
        char api[CGM_PATH_MAX + 64], want[2200], where[4096];
        int r;

        r = cg_move(cg, rel, pid, e);
        if (r < 0)
                return r;
        cg_api(cg, rel, api, sizeof(api));
        /* A pid stays allocated until its process is reaped: alive now means the number we
         * wrote named this very process. */
        if (!proc_pidfd_alive(pidfd))
                return cgm_error_set(e, -ESRCH, CGM_ERR_NO_PROCESS,
                                     "process %d exited while it was moved", (int)pid);
        snprintf(want, sizeof(want), "%s%s%s", cg->h[cg->primary].base_path, *rel ? "/" : "", rel);
        if (cg_proc_path(cg, pid, where, sizeof(where)) < 0 || strcmp(where, want) != 0)
                return cgm_error_set(e, -EIO, CGM_ERR_FAILED,
                                     "process %d was written to `%s` but the kernel shows it in "
                                     "`%s`",
                                     (int)pid, api, where);
        return 0;
}

typedef struct CgCollect {
        const Cgfs *cg;
        pid_t *pids;
        size_t n;
        CgmError *e;
} CgCollect;

static int cg_collect_visit(const char *rel, void *userdata)
{
        CgCollect *c = userdata;
        return cg_procs(c->cg, rel, &c->pids, &c->n, c->e);
}

static int cg_collect(const Cgfs *cg, const char *rel, CgCollect *c, CgmError *e)
{
        int r;

        *c = (CgCollect){ .cg = cg, .e = e };
        r = cg_procs(cg, rel, &c->pids, &c->n, e);
        if (r == 0)
                r = cg_walk(cg, rel, true, cg_collect_visit, c, e);
        return r;
}

static bool cg_is_frozen(const Cgfs *cg, const char *rel)
{
        char buf[256];
        if (cg->v2 < 0 || cgfs_read(cg, cg->v2, rel, "cgroup.freeze", buf, sizeof(buf)) < 0)
                return false;
        return buf[0] == '1';
}

int cg_kill(const Cgfs *cg, const char *rel, int sig, unsigned *np, CgmError *e)
{
        return cg_kill_except(cg, rel, sig, 0, np, e);
}

int cg_kill_except(const Cgfs *cg, const char *rel, int sig, pid_t except, unsigned *np,
                   CgmError *e)
{
        CgCollect c;
        bool thaw = false;
        int r;

        *np = 0;
        if (sig < 0 || sig >= 65)
                return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_ARGS, "%d is not a signal", sig);
        r = cg_collect(cg, rel, &c, e);
        if (r < 0) {
                free(c.pids);
                return r;
        }
        if (sig == SIGKILL && cg->v2 >= 0 && !except) {
                r = cgfs_write(cg, cg->v2, rel, "cgroup.kill", "1");
                if (r == 0) {
                        *np = (unsigned)c.n;
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
        for (size_t i = 0; r == 0 && i < c.n; i++) {
                _cleanup_close_ int pfd = -1;
                if (c.pids[i] == except)
                        continue;
                pfd = proc_pidfd_open(c.pids[i]);
                /* A pidfd pins the process between here and the signal. Without pidfd_open
                 * (ENOSYS: valgrind, kernels before 5.3) fall back to kill(2); the freeze
                 * above keeps that window small. */
                if (pfd >= 0 ? proc_pidfd_signal(pfd, sig) == 0
                             : pfd == -ENOSYS && kill(c.pids[i], sig) == 0)
                        (*np)++;
        }
        if (thaw)
                (void)cgfs_write(cg, cg->v2, rel, "cgroup.freeze", "0");
        free(c.pids);
        return r;
}

int cg_freeze(const Cgfs *cg, const char *rel, bool freeze, CgmError *e)
{
        char api[CGM_PATH_MAX + 64];
        int r, h;

        r = cg_exists(cg, rel, e);
        if (r < 0)
                return r;
        cg_api(cg, rel, api, sizeof(api));
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
        r = cgfs_write(cg, h, rel, "freezer.state", freeze ? "FROZEN" : "THAWED");
        if (r < 0)
                return cgm_error_set(e, r, NULL, "cannot %s `%s`: %s", freeze ? "freeze" : "thaw",
                                     api, strerror(-r));
        return 0;
}

/* ---- removing ------------------------------------------------------------------------- */

static bool cg_populated(const Cgfs *cg, const char *rel)
{
        char buf[256];
        if (cg->v2 >= 0 && cgfs_read(cg, cg->v2, rel, "cgroup.events", buf, sizeof(buf)) > 0)
                return strstr(buf, "populated 1") != NULL;
        if (cgfs_read(cg, cg->primary, rel, "cgroup.procs", buf, sizeof(buf)) >= 0)
                return buf[0] != '\0';
        return false;
}

/* Wait until the subtree is empty: poll(2) on cgroup.events where it exists (the kernel
 * signals POLLPRI when "populated" changes), with a deadline. */
static int cg_wait_empty(const Cgfs *cg, const char *rel, int timeout_ms)
{
        struct timespec start, now;
        _cleanup_close_ int fd = -1;

        if (cg->v2 >= 0)
                fd = cgfs_openat(cg, cg->v2, rel, "cgroup.events", O_RDONLY);
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                long elapsed;
                if (!cg_populated(cg, rel))
                        return 0;
                clock_gettime(CLOCK_MONOTONIC, &now);
                elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
                if (elapsed >= timeout_ms)
                        return -EBUSY;
                if (fd >= 0) {
                        struct pollfd p = { .fd = fd, .events = POLLPRI };
                        char buf[128];
                        (void)poll(&p, 1, (int)(timeout_ms - elapsed));
                        (void)pread(fd, buf, sizeof(buf), 0);
                } else {
                        /* v1 has no notification without release agents; check every 10 ms. */
                        struct pollfd none = { .fd = -1 };
                        (void)poll(&none, 0, 10);
                }
        }
}

typedef struct CgList {
        char **paths;
        size_t n;
} CgList;

static int cg_list_visit(const char *rel, void *userdata)
{
        CgList *l = userdata;
        char **p;

        if (l->n >= CGM_LIST_MAX)
                return -EDQUOT;
        p = realloc(l->paths, (l->n + 1) * sizeof(char *));
        if (!p)
                return -ENOMEM;
        l->paths = p;
        p[l->n] = strdup(rel);
        if (!p[l->n])
                return -ENOMEM;
        l->n++;
        return 0;
}

static int cg_rmdir_one(const Cgfs *cg, const char *rel, CgmError *e)
{
        char parent[CGM_PATH_MAX + 1], name[CGM_NAME_MAX + 1], api[CGM_PATH_MAX + 64];
        int r = 0;

        cg_api(cg, rel, api, sizeof(api));
        split_parent(rel, parent, sizeof(parent), name, sizeof(name));
        /* Secondary hierarchies first, the primary last: while it exists, the cgroup exists. */
        for (size_t k = cg->n; k-- > 0;) {
                size_t i = k == 0 ? (size_t)cg->primary : (k <= (size_t)cg->primary ? k - 1 : k);
                _cleanup_close_ int pfd =
                        cgfs_openat(cg, (int)i, parent, NULL, O_RDONLY | O_DIRECTORY);
                if (pfd < 0 || unlinkat(pfd, name, AT_REMOVEDIR) == 0)
                        continue;
                if (errno == ENOENT && i != (size_t)cg->primary)
                        continue;
                r = -errno;
                if (r == -EBUSY)
                        return cgm_error_set(e, r, CGM_ERR_BUSY,
                                             "cannot remove `%s`: it still holds processes or "
                                             "child cgroups; use recursive and kill, or move them "
                                             "out first",
                                             api);
                if (r == -ENOENT)
                        return cgm_error_set(e, r, CGM_ERR_NOT_FOUND, "cgroup `%s` does not exist",
                                             api);
                return cgm_error_set(e, r, NULL, "cannot remove `%s`: %s", api, strerror(-r));
        }
        return r;
}

int cg_remove(const Cgfs *cg, const char *rel, bool recursive, bool kill, CgmError *e)
{
        CgList l = { 0 };
        int r;

        if (!*rel)
                return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                     "the base itself is never removed by cgmd");
        r = cg_exists(cg, rel, e);
        if (r < 0)
                return r;
        if (kill) {
                unsigned n;
                r = cg_kill(cg, rel, SIGKILL, &n, e);
                if (r < 0)
                        return r;
                if (cg_wait_empty(cg, rel, CG_KILL_WAIT_MS) < 0) {
                        char api[CGM_PATH_MAX + 64];
                        cg_api(cg, rel, api, sizeof(api));
                        return cgm_error_set(e, -EBUSY, CGM_ERR_BUSY,
                                             "processes in `%s` did not exit within %d ms of "
                                             "SIGKILL",
                                             api, CG_KILL_WAIT_MS);
                }
        }
        if (recursive) {
                r = cg_walk(cg, rel, true, cg_list_visit, &l, e);
                /* Deepest first: walk order is parents first, so go backwards. */
                for (size_t i = l.n; r == 0 && i-- > 0;)
                        r = cg_rmdir_one(cg, l.paths[i], e);
                for (size_t i = 0; i < l.n; i++)
                        free(l.paths[i]);
                free(l.paths);
                if (r < 0)
                        return r;
        }
        return cg_rmdir_one(cg, rel, e);
}

/* ---- statistics ----------------------------------------------------------------------- */

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

int cg_stat(const Cgfs *cg, const char *rel, CgCounter *out, size_t *n_out, CgmError *e)
{
        int hm = cgfs_hierarchy_for(cg, "memory"), hp = cgfs_hierarchy_for(cg, "pids");
        int hc = cgfs_hierarchy_for(cg, "cpuacct");
        size_t n = 0;
        uint64_t v;
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
        if (cg->v2 >= 0) {
                if (read_keyed(cg, cg->v2, rel, "cgroup.events", "populated", &v))
                        PUT("populated", v);
                if (read_keyed(cg, cg->v2, rel, "cgroup.events", "frozen", &v))
                        PUT("frozen", v);
        } else {
                PUT("populated", cg_populated(cg, rel) ? 1 : 0);
        }
#undef PUT
        *n_out = n;
        return 0;
}
