/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Direct reads: libcgm answers Get, Stat, List, Procs and WhoAmI from cgroupfs itself
 *
 * direct.h says why and the rules. In short: learn the layout once (Layout), find the
 * daemon's base directories through our own mounts and check they are the daemon's, then run
 * the daemon's own read code (common/cgread.c) on them for paths plainly within what the
 * caller may read, and leave everything else, every error included, to the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "direct.h"
#include "keys.h"
#include "mountinfo.h"
#include "name.h"
#include "utf8.h"

/* A copy of @s as the daemon would send it: bytes that are not UTF-8 (a cgroup name is any
 * bytes) as `\xNN`, the escape of daemon/reply.c. NULL when out of memory. */
static char *dup_out(const char *s)
{
        bool oom;
        char *escaped = cgm_utf8_escape(s, false, &oom);

        return escaped ? escaped : oom ? NULL : strdup(s);
}

void direct_init(Direct *d)
{
        const char *env = getenv("CGM_DIRECT");

        *d = (Direct){ .state = DIRECT_UNKNOWN, .pid = getpid() };
        d->cg.v2 = d->cg.primary = -1;
        for (size_t i = 0; i < CGFS_HIERARCHIES_MAX; i++)
                d->cg.h[i].base_fd = -1;
        /* Only "0" turns it off: anything else is the default. */
        if (env && strcmp(env, "0") == 0)
                d->state = DIRECT_OFF;
}

void direct_drop(Direct *d)
{
        for (size_t i = 0; i < d->cg.n; i++)
                d->cg.h[i].base_fd = safe_close(d->cg.h[i].base_fd);
        d->cg.n = 0;
        if (d->state == DIRECT_READY)
                d->state = DIRECT_UNKNOWN;
}

static int read_mountinfo(char **textp)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        size_t cap = 0;

        if (!f)
                return -errno;
        if (getdelim(textp, &cap, '\0', f) < 0)
                return -EIO;
        return 0;
}

/* The directory of @want through one of our mounts of its hierarchy, if it is the daemon's. */
static int open_base(const MountedHierarchy *mounts, size_t n_mounts, const DirectHierarchy *want)
{
        for (size_t i = 0; i < n_mounts; i++) {
                const MountedHierarchy *m = &mounts[i];
                char dir[sizeof(m->mount_point) + CGM_PATH_MAX + 2];
                const char *below = want->base_path;
                size_t rl = strlen(m->root);
                struct stat st;
                int fd;

                if (m->is_v2 != want->is_v2 ||
                    (!m->is_v2 && strcmp(m->controllers, want->controllers) != 0))
                        continue;
                /* The mount shows the hierarchy from its root down (a container's bind mount
                 * shows only part of it). */
                if (strcmp(m->root, "/") != 0) {
                        if (strncmp(below, m->root, rl) != 0 ||
                            (below[rl] != '/' && below[rl] != '\0'))
                                continue;
                        below += rl;
                }
                if ((size_t)snprintf(dir, sizeof(dir), "%s%s", m->mount_point, below) >=
                    sizeof(dir))
                        continue;
                fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                if (fstat(fd, &st) == 0 && (uint64_t)st.st_dev == want->dev &&
                    (uint64_t)st.st_ino == want->ino && want->ino != 0)
                        return fd;
                close(fd);
        }
        return -ENOENT;
}

int direct_setup(Direct *d, uid_t uid, const char *base_api, bool has_home, const char *home,
                 bool same_pids, unsigned primary, const DirectHierarchy *hs, size_t n)
{
        MountedHierarchy mounts[MOUNTINFO_HIERARCHIES_MAX];
        _cleanup_free_ char *text = NULL;
        size_t n_mounts = 0;
        Cgfs *cg = &d->cg;
        int r;

        direct_drop(d);
        d->state = DIRECT_OFF;
        if (n == 0 || n > CGFS_HIERARCHIES_MAX || primary >= n || base_api[0] != '/' ||
            strlen(base_api) >= sizeof(cg->base_api) || strlen(home) >= sizeof(d->home))
                return -EOPNOTSUPP;
        r = read_mountinfo(&text);
        if (r < 0)
                return r;
        r = mountinfo_parse_cgroups(text, mounts, ELEMENTSOF(mounts), &n_mounts);
        if (r < 0)
                return r;
        cg->v2 = -1;
        for (size_t i = 0; i < n; i++) {
                Hierarchy *h = &cg->h[i];

                if (strlen(hs[i].controllers) >= sizeof(h->controllers) ||
                    strlen(hs[i].base_path) >= sizeof(h->base_path) || hs[i].base_path[0] != '/')
                        r = -EOPNOTSUPP;
                else
                        r = open_base(mounts, n_mounts, &hs[i]);
                if (r < 0) {
                        direct_drop(d);
                        d->state = DIRECT_OFF;
                        return r;
                }
                h->base_fd = r;
                h->is_v2 = hs[i].is_v2;
                snprintf(h->controllers, sizeof(h->controllers), "%s", hs[i].controllers);
                snprintf(h->base_path, sizeof(h->base_path), "%s", hs[i].base_path);
                h->mount_point[0] = '\0';
                if (h->is_v2 && cg->v2 < 0)
                        cg->v2 = (int)i;
                cg->n = i + 1;
        }
        cg->layout = cg->v2 < 0 ? CGFS_LEGACY : n == 1 ? CGFS_UNIFIED : CGFS_HYBRID;
        cg->primary = (int)primary;
        snprintf(cg->base_api, sizeof(cg->base_api), "%s", base_api);
        d->uid = uid;
        d->has_home = has_home;
        d->same_pids = same_pids;
        snprintf(d->home, sizeof(d->home), "%s", home);
        d->state = DIRECT_READY;
        return 0;
}

/*
 * The path relative to the base, when @input is plainly one the caller may read: what
 * auth_resolve() and auth_check(AUTH_READ) accept without a word. Anything else (a trailing
 * '/', a name the checks refuse, outside the base or the home) is the daemon's to answer.
 */
static bool resolve(const Direct *d, const char *input, char *rel, size_t n)
{
        const char *base = d->cg.base_api;
        size_t bl = strlen(base);

        if (d->state != DIRECT_READY || !d->has_home || strlen(input) > CGM_PATH_MAX)
                return false;
        if (input[0] == '/') {
                const char *r;
                if (strcmp(input, base) == 0)
                        r = "";
                else if (strcmp(base, "/") == 0)
                        r = input + 1;
                else if (strncmp(input, base, bl) == 0 && input[bl] == '/')
                        r = input + bl + 1;
                else
                        return false;
                if ((size_t)snprintf(rel, n, "%s", r) >= n)
                        return false;
        } else if (!input[0]) {
                snprintf(rel, n, "%s", d->home);
        } else if ((size_t)snprintf(rel, n, "%s%s%s", d->home, d->home[0] ? "/" : "", input) >=
                   n) {
                return false;
        }
        if (rel[0] && cgm_path_check(rel, NULL, 0) < 0)
                return false;
        return cgm_path_is_within(rel, d->home);
}

/* A direct read failed: if the home (or the base) is gone, what we learnt is stale. */
static int not_answered(Direct *d)
{
        CgmError ignored = CGM_ERROR_NULL; /* the daemon words every refusal */
        if (d->state == DIRECT_READY && cg_exists(&d->cg, d->home, &ignored) < 0)
                direct_drop(d);
        return 0;
}

int direct_get(Direct *d, const char *path, const char *const *keys, size_t n_keys,
               cgm_kv **valuesp, size_t *np)
{
        CgmError ignored = CGM_ERROR_NULL; /* the daemon words every refusal */
        char rel[CGM_PATH_MAX + 1];
        const char *const *names = n_keys ? keys : key_names();
        size_t n_names = 0, n = 0;
        cgm_kv *kv;

        if (!resolve(d, path, rel, sizeof(rel)))
                return 0;
        /* Named keys report a missing cgroup themselves; "every key" must check first. */
        if (n_keys == 0 && cg_exists(&d->cg, rel, &ignored) < 0)
                return not_answered(d);
        while (names[n_names] && (n_keys == 0 || n_names < n_keys))
                n_names++;
        kv = calloc(n_names + 1, sizeof(*kv));
        if (!kv)
                return 0;
        for (size_t i = 0; i < n_names; i++) {
                char value[CGM_VALUE_MAX];

                if (cg_get_one(&d->cg, rel, names[i], value, sizeof(value), &ignored) < 0) {
                        if (n_keys == 0)
                                continue; /* every key the cgroup has */
                        cgm_kv_free(kv, n);
                        return not_answered(d);
                }
                kv[n].key = dup_out(names[i]);
                kv[n].value = dup_out(value);
                n++;
                if (!kv[n - 1].key || !kv[n - 1].value) {
                        cgm_kv_free(kv, n);
                        return 0;
                }
        }
        *valuesp = kv;
        *np = n;
        return 1;
}

int direct_stat(Direct *d, const char *path, cgm_counter **countersp, size_t *np)
{
        CgmError ignored = CGM_ERROR_NULL; /* the daemon words every refusal */
        char rel[CGM_PATH_MAX + 1];
        CgCounter counters[CG_COUNTERS_MAX];
        size_t n = 0;
        cgm_counter *c;

        if (!resolve(d, path, rel, sizeof(rel)))
                return 0;
        if (cg_stat(&d->cg, rel, counters, &n, &ignored) < 0)
                return not_answered(d);
        c = calloc(n + 1, sizeof(*c));
        if (!c)
                return 0;
        for (size_t i = 0; i < n; i++) {
                c[i].name = strdup(counters[i].name);
                c[i].value = counters[i].value;
                if (!c[i].name) {
                        cgm_counters_free(c, i);
                        return 0;
                }
        }
        *countersp = c;
        *np = n;
        return 1;
}

typedef struct ListState {
        const Cgfs *cg;
        char **paths;
        size_t n, cap;
} ListState;

static int list_visit(const char *rel, void *userdata)
{
        ListState *s = userdata;
        char api[CGM_PATH_MAX + sizeof(s->cg->base_api) + 2];

        if (s->n + 1 > CGM_LIST_MAX)
                return -EDQUOT; /* the daemon says LimitExceeded */
        if (s->n + 1 >= s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 16;
                char **p = realloc(s->paths, cap * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                s->paths = p;
                s->cap = cap;
        }
        cgfs_api_path(s->cg, rel, api, sizeof(api));
        s->paths[s->n] = dup_out(api);
        if (!s->paths[s->n])
                return -ENOMEM;
        s->paths[++s->n] = NULL;
        return 0;
}

int direct_list(Direct *d, const char *path, bool recursive, char ***pathsp)
{
        CgmError ignored = CGM_ERROR_NULL; /* the daemon words every refusal */
        char rel[CGM_PATH_MAX + 1];
        ListState s;

        if (!resolve(d, path, rel, sizeof(rel)))
                return 0;
        s = (ListState){ .cg = &d->cg };
        if (cg_walk(&d->cg, rel, recursive, list_visit, &s, &ignored) < 0) {
                strv_free(s.paths);
                return not_answered(d);
        }
        if (!s.paths) {
                s.paths = calloc(1, sizeof(*s.paths));
                if (!s.paths)
                        return 0;
        }
        *pathsp = s.paths;
        return 1;
}

int direct_procs(Direct *d, const char *path, bool recursive, pid_t **pidsp, size_t *np)
{
        CgmError ignored = CGM_ERROR_NULL; /* the daemon words every refusal */
        char rel[CGM_PATH_MAX + 1];
        pid_t *pids = NULL, *all;
        size_t n = 0;
        int r;

        /* The daemon's numbers are ours only in its pid namespace. */
        if (!d->same_pids || !resolve(d, path, rel, sizeof(rel)))
                return 0;
        r = (recursive ? cg_procs_subtree : cg_procs)(&d->cg, rel, &pids, &n, &ignored);
        if (r < 0) {
                free(pids);
                return not_answered(d);
        }
        /* At least one element, so that an empty result is not confused with a failure. */
        all = realloc(pids, (n + 1) * sizeof(*all));
        if (!all) {
                free(pids);
                return 0;
        }
        all[n] = 0;
        *pidsp = all;
        *np = n;
        return 1;
}

int direct_whoami(Direct *d, uid_t *uidp, char **homep, char **cgroupp, cgm_kv **limitsp,
                  size_t *n_limitsp)
{
        CgmError ignored = CGM_ERROR_NULL; /* the daemon words every refusal */
        char text[16384], where[4096], key[sizeof(d->cg.h[0].controllers)];
        char api[CGM_PATH_MAX + sizeof(d->cg.base_api) + 2];
        _cleanup_free_ char *home = NULL, *cgroup = NULL;
        _cleanup_close_ int fd = -1;
        cgm_kv *kv = NULL;
        size_t n = 0;
        ssize_t l;

        /* The daemon answers for the process that opened the connection. */
        if (d->state != DIRECT_READY || !d->has_home || getpid() != d->pid)
                return 0;
        if (cg_exists(&d->cg, d->home, &ignored) < 0)
                return not_answered(d); /* the daemon knows what became of it */
        fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || (l = read(fd, text, sizeof(text) - 1)) <= 0)
                return 0;
        text[l] = '\0';
        if (proc_cgroup_lookup(text, cgfs_proc_key(&d->cg, key, sizeof(key)), where,
                               sizeof(where)) < 0)
                return 0;
        cgfs_api_path(&d->cg, d->home, api, sizeof(api));
        home = dup_out(api);
        cgroup = dup_out(where);
        if (!home || !cgroup)
                return 0;
        if (limitsp) {
                kv = calloc(cg_whoami_keys_n + 1, sizeof(*kv));
                if (!kv)
                        return 0;
                for (size_t i = 0; d->home[0] && i < cg_whoami_keys_n; i++) {
                        char value[CGM_VALUE_MAX];
                        if (cg_get_one(&d->cg, d->home, cg_whoami_keys[i], value, sizeof(value),
                                       &ignored) < 0)
                                continue;
                        kv[n].key = strdup(cg_whoami_keys[i]);
                        kv[n].value = dup_out(value);
                        n++;
                        if (!kv[n - 1].key || !kv[n - 1].value) {
                                cgm_kv_free(kv, n);
                                return 0;
                        }
                }
        }
        if (uidp)
                *uidp = d->uid;
        if (homep)
                *homep = TAKE_PTR(home);
        if (cgroupp)
                *cgroupp = TAKE_PTR(cgroup);
        if (limitsp)
                *limitsp = kv;
        if (n_limitsp)
                *n_limitsp = n;
        return 1;
}

/*
 * Set, where the kernel lets the caller write itself: one key, served by cgroup v2, in a
 * cgroup strictly below the home of a caller other than root, whose file the caller may open
 * for writing (the daemon chowns every file of a cgroup it creates for a user, as a mkdir by
 * the user would). The value goes through key_parse() and the key through cg_key_hierarchy(),
 * as the daemon's cg_set() does for such a setting, and is written the same way: the file must
 * exist, one write(2). Several settings (all or nothing, with a rollback), v1 keys
 * (translated, sometimes into several files), root's changes (audited by the daemon) and
 * every failure are the daemon's.
 */
int direct_set(Direct *d, const char *path, const cgm_kv *settings, size_t n)
{
        CgmError ignored = CGM_ERROR_NULL;
        char rel[CGM_PATH_MAX + 1], canon[CGM_VALUE_MAX], why[256];
        _cleanup_close_ int fd = -1;
        size_t len;
        ssize_t l;
        int h;

        if (n != 1 || !d->home[0] || !resolve(d, path, rel, sizeof(rel)) ||
            !cgm_path_is_below(rel, d->home))
                return 0;
        /* The daemon's limits on a setting (api-cgroup.c, read_settings()). */
        if (strlen(settings[0].key) >= 64 || strlen(settings[0].value) >= CGM_VALUE_MAX)
                return 0;
        if (key_parse(settings[0].key, settings[0].value, canon, sizeof(canon), why,
                      sizeof(why)) < 0)
                return 0;
        h = cg_key_hierarchy(&d->cg, settings[0].key, &ignored);
        if (h < 0 || !d->cg.h[h].is_v2)
                return 0;
        fd = cgfs_openat(&d->cg, h, rel, settings[0].key, O_WRONLY);
        if (fd < 0)
                return 0; /* not ours to write (EACCES), or gone: the daemon says */
        len = strlen(canon);
        do
                l = write(fd, canon, len);
        while (l < 0 && errno == EINTR);
        /* A refused write changed nothing: the daemon tries again and words the refusal. */
        return l >= 0 && (size_t)l == len ? 1 : 0;
}
