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
 *
 * This file holds the tree and its files: creating, and writing keys (Set). Reads (Get, List,
 * Procs, Stat) are in common/cgread.c, shared with libcgm, which answers them itself where it
 * can. Processes (moves, signals, the freezer) are in cg-proc.c, removal in cg-remove.c.
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


static void cg_api(const Cgfs *cg, const char *rel, char *out, size_t n)
{
        cgfs_api_path(cg, rel, out, n);
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
/* Enable in @parent's cgroup.subtree_control what it has; the ones added are appended to
 * @added (space separated), so a Create that fails later can take them back. */
static void cg_enable_controllers(const Cgfs *cg, const char *parent, char *added, size_t an)
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
                if (cgfs_write(cg, cg->v2, parent, "cgroup.subtree_control", plus) == 0) {
                        size_t l = strlen(added);
                        snprintf(added + l, an - l, "%s%s", l ? " " : "", c);
                }
        }
}

/* Take back what cg_enable_controllers() added to @parent, once the child is gone again. */
static void cg_disable_controllers(const Cgfs *cg, const char *parent, char *added)
{
        char *save = NULL;

        for (char *c = strtok_r(added, " ", &save); c; c = strtok_r(NULL, " ", &save)) {
                char minus[80];
                snprintf(minus, sizeof(minus), "-%s", c);
                (void)cgfs_write(cg, cg->v2, parent, "cgroup.subtree_control", minus);
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
                cg_strip_newline(buf);
                if (!*buf)
                        continue;
                r = cgfs_write(cg, h, rel, files[i], buf);
                if (r < 0)
                        return r;
        }
        return 0;
}

/*
 * Take back a failed Create: remove what it made (@made, by hierarchy), the primary
 * hierarchy first. If that rmdir fails (a user who owns the new cgroup2 directory already
 * put something into it), the cgroup stays whole in every hierarchy rather than half: the
 * secondaries are removed only once the primary is gone. A secondary that cannot be removed
 * is a leftover, which Create reuses and Remove removes.
 */
/* Remove what a failed Create made. Return: 0, or -1 when the cgroup had to be left whole. */
static int cg_create_undo(const Cgfs *cg, const char *rel, const bool *made)
{
        char parent[CGM_PATH_MAX + 1], name[CGM_NAME_MAX + 1], api[CGM_PATH_MAX + 64];

        cg_split_parent(rel, parent, sizeof(parent), name, sizeof(name));
        for (size_t k = 0; k < cg->n; k++) {
                size_t i = k == 0 ? (size_t)cg->primary : (k <= (size_t)cg->primary ? k - 1 : k);
                _cleanup_close_ int pfd = -1;
                if (!made[i])
                        continue;
                pfd = cgfs_openat(cg, (int)i, parent, NULL, O_RDONLY | O_DIRECTORY);
                if ((pfd < 0 || unlinkat(pfd, name, AT_REMOVEDIR) < 0) &&
                    i == (size_t)cg->primary) {
                        cg_api(cg, rel, api, sizeof(api));
                        log_warning("a failed Create could not remove `%s` again (%m); it is "
                                    "left whole in every hierarchy",
                                    api);
                        return -1;
                }
        }
        return 0;
}

static int cg_parent_half_error(const Cgfs *cg, const char *rel, int h, CgmError *e)
{
        char api[CGM_PATH_MAX + 64];

        cg_api(cg, rel, api, sizeof(api));
        return cgm_error_set(e, -ENOENT, CGM_ERR_NOT_FOUND,
                             "cannot create `%s`: its parent exists in the %s hierarchy only, "
                             "not in the v1 %s hierarchy (it was made directly in cgroupfs, not "
                             "through cgm); cgm creates below parents that cgm created",
                             api, cg->h[cg->primary].is_v2 ? "cgroup2" : "primary",
                             cg->h[h].controllers);
}

static int cg_mkdir_error(const Cgfs *cg, const char *rel, int h, int r, CgmError *e)
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
                return cgm_error_set(e, r, NULL, "cannot create `%s` in the %s hierarchy: %s", api,
                                     cgfs_hierarchy_name(cg, h), strerror(-r));
        }
}

int cg_create(const Cgfs *cg, const char *rel, uid_t owner, const CgSetting *settings,
              size_t n_settings, CgmError *e)
{
        char parent[CGM_PATH_MAX + 1], name[CGM_NAME_MAX + 1], added[256] = "";
        bool made[CGFS_HIERARCHIES_MAX] = { false };
        int r, failed_h = cg->primary;

        if (!*rel)
                return cgm_error_set(e, -EEXIST, CGM_ERR_EXISTS, "the base already exists");
        /* Check every setting before creating anything (cg_set checks again, later). */
        for (size_t i = 0; i < n_settings; i++) {
                char canon[CGM_VALUE_MAX], why[256];
                for (size_t j = 0; j < i; j++)
                        if (strcmp(settings[i].key, settings[j].key) == 0)
                                return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_ARGS,
                                                     "`%s` is given twice", settings[i].key);
                r = key_parse(settings[i].key, settings[i].value, canon, sizeof(canon), why,
                              sizeof(why));
                if (r < 0)
                        return cgm_error_set(e, r,
                                             r == -EOPNOTSUPP ? CGM_ERR_NOT_SUPPORTED
                                             : r == -EPERM    ? CGM_ERR_PERMISSION_DENIED
                                                              : CGM_ERR_INVALID_VALUE,
                                             "%s", why);
        }
        cg_split_parent(rel, parent, sizeof(parent), name, sizeof(name));

        /* The primary hierarchy first: it decides "exists" and "parent missing". */
        for (size_t k = 0; k < cg->n; k++) {
                size_t i = k == 0 ? (size_t)cg->primary : (k <= (size_t)cg->primary ? k - 1 : k);
                _cleanup_close_ int pfd =
                        cgfs_openat(cg, (int)i, parent, NULL, O_RDONLY | O_DIRECTORY);

                failed_h = (int)i;
                if (pfd < 0) {
                        r = pfd;
                        if (r == -ENOENT && k > 0) {
                                /* The parent was made directly in the primary hierarchy
                                 * (a user's mkdir in its delegated cgroup2 tree). */
                                if (cg_create_undo(cg, rel, made) == 0)
                                        cg_disable_controllers(cg, parent, added);
                                return cg_parent_half_error(cg, rel, (int)i, e);
                        }
                        goto fail;
                }
                if (mkdirat(pfd, name, 0755) < 0) {
                        r = -errno;
                        if (r == -EEXIST && i != (size_t)cg->primary)
                                continue; /* a leftover in a secondary hierarchy: reuse it */
                        goto fail;
                }
                made[i] = true;
                /* Only once the child exists: a Create that fails with Exists or NotFound
                 * leaves the parent as it was. Enabling reaches children made before. */
                if (cg->h[i].is_v2)
                        cg_enable_controllers(cg, parent, added, sizeof(added));
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
                        if (cg_create_undo(cg, rel, made) == 0)
                                cg_disable_controllers(cg, parent, added);
                        return r;
                }
        }
        return 0;
fail:
        if (cg_create_undo(cg, rel, made) == 0)
                cg_disable_controllers(cg, parent, added);
        return cg_mkdir_error(cg, rel, failed_h, r, e);
}

/* ---- keys ---------------------------------------------------------------------------- */

typedef struct CgWrite {
        int h;
        KeyFile file;
        char old[256];
        bool have_old;
        const char *key;
} CgWrite;

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
                                       : cg_file_error(cg, rel, plan[i].key,
                                                       plan[i].file.name, plan[i].file.value, r,
                                                       e);
                cg_strip_newline(plan[i].old);
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
        cg_file_error(cg, rel, plan[done].key, plan[done].file.name, plan[done].file.value, r, e);
        while (done-- > 0)
                if (plan[done].have_old && plan[done].old[0] && !strchr(plan[done].old, '\n'))
                        (void)cgfs_write(cg, plan[done].h, rel, plan[done].file.name,
                                         plan[done].old);
        return e ? e->code : r;
}

