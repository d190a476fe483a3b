/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Privilege decisions: who may do what where. Pure functions, no I/O. */

/*
 * Every request goes through two steps here before it touches cgroupfs.
 *
 * auth_resolve() turns the path from the wire into a path relative to the base, the only
 * form the rest of the daemon uses. Absolute paths are read as the caller sees cgroups
 * (base_api, e.g. "/cgm"); relative paths are relative to the caller's home. The result is
 * checked with cgm_path_check(), so "..", ".", "//", control characters and control-file
 * names never survive resolution: the containment checks below can then compare paths as
 * plain strings, component by component (cgm_path_is_within/below).
 *
 * auth_check() and auth_check_move() decide. The rule is spec §4: root in the initial user
 * namespace may act anywhere in the base; anyone else may read their home and below and may
 * change only what lies strictly below it, because the home's own files carry the limits the
 * administrator set. Moves additionally require that the process is the caller's by both real
 * and effective uid (a setuid program the user started runs with someone else's authority)
 * and that it already sits within the caller's home, so a user can neither pull in other
 * users' processes nor move their own processes out of the limits they were placed under.
 * Root of a user namespace (a container's root) is the host uid its namespace maps 0 to, and
 * in its home it acts for every uid the namespace maps: it may move their processes as its
 * own (the map comes from the kernel, nsview.c; a nested namespace maps a subset of its
 * parent's uids, so the rule narrows level by level).
 *
 * Refusals say who asked, for what path (as the caller would write it), what their home is
 * and what to do instead. The functions take no locks and do no I/O, so they are tested
 * exhaustively in tests/unit/test-auth.c.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "text.h"
#include "name.h"
#include "protocol.h"

/* Longest path the caller may see: base_api plus '/' plus a relative path. */
#define API_PATH_MAX (CGM_PATH_MAX * 2 + 2)

/* Path as the caller sees it: base_api, base_api + "/" + rel, or "/" + rel for base "/". */
static const char *api_path(const char *base_api, const char *rel, char *buf, size_t n)
{
        if (!rel || !rel[0])
                snprintf(buf, n, "%s", base_api);
        else if (strcmp(base_api, "/") == 0)
                snprintf(buf, n, "/%s", rel);
        else
                snprintf(buf, n, "%s/%s", base_api, rel);
        return buf;
}


/* A uid as the caller names it: in its user namespace's terms when it lives in one (the
 * overflow uid for one it does not map), so "uid 1000" in a container means its uid 1000. */
static unsigned shown(const Principal *p, uid_t host)
{
        uid_t u;

        if (!p->view)
                return (unsigned)host;
        u = uidmap_to_inside(p->view, host);
        return (unsigned)(u == (uid_t)-1 ? p->overflow_uid : u);
}

static int no_home(const Principal *p, const char *base_api, CgmError *e)
{
        return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                             "uid %u has no home under `%s`: ask root to delegate one (cgm chown)",
                             shown(p, p->uid), base_api);
}

/**
 * auth_resolve() - turn a path from the wire into a path relative to the base
 * @base_api: the base as seen by the caller, absolute, no trailing '/' (or "/" itself)
 * @home:     the caller's home relative to the base, NULL when it has none (root passes "")
 * @input:    absolute ("/cgm/user-1000/a") or relative to the home ("a/b", "" = the home);
 *            one trailing '/' is tolerated
 * @out:      receives the relative path ("" on failure)
 * @out_size: size of @out; CGM_PATH_MAX + 1 always suffices
 * @e:        error to fill, may be NULL
 *
 * Return: 0; -EACCES (PermissionDenied) for an absolute path outside the base or a relative
 * path without a home; -EINVAL (InvalidName) when a component is not a valid name or the
 * path is too long or too deep.
 */
int auth_resolve(const char *base_api, const char *home, const char *input, char *out,
                 size_t out_size, CgmError *e)
{
        char buf[CGM_PATH_MAX + 2], why[256], q[160];
        const char *rel;
        size_t len, blen;
        int r;

        if (out && out_size > 0)
                out[0] = '\0';
        if (!base_api || base_api[0] != '/' || !input || !out || out_size == 0)
                return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_ARGS, "no path given");
        cgm_quote(input, SIZE_MAX, q, sizeof(q));
        len = strnlen(input, sizeof(buf));
        if (len >= sizeof(buf))
                return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_NAME,
                                     "path `%s` is longer than %d bytes", q, CGM_PATH_MAX);
        memcpy(buf, input, len + 1);
        /* One trailing '/' is forgiven ("build/", "/cgm/"); "//" is left for the checks. */
        if (len > 1 && buf[len - 1] == '/' && buf[len - 2] != '/')
                buf[--len] = '\0';

        if (buf[0] == '/') {
                blen = strlen(base_api);
                if (strcmp(base_api, "/") == 0) {
                        rel = buf + 1;
                } else if (strcmp(buf, base_api) == 0) {
                        rel = "";
                } else if (strncmp(buf, base_api, blen) == 0 && buf[blen] == '/') {
                        rel = buf + blen + 1;
                        if (!rel[0] || rel[0] == '/')
                                return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_NAME,
                                                     "path `%s` contains '//'", q);
                } else {
                        return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                             "`%s` is outside `%s`, the part of the cgroup tree "
                                             "cgm manages: give a path below it or one relative "
                                             "to your home",
                                             q, base_api);
                }
                r = cgm_path_check(rel, why, sizeof(why));
                if (r < 0)
                        return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_NAME, "%s", why);
                if (strlen(rel) >= out_size)
                        return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_NAME,
                                             "path `%s` is too long", q);
                strcpy(out, rel);
                return 0;
        }

        if (!home) {
                char rq[160];

                return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                     "relative path `%s` needs a home, and you have no home "
                                     "under `%s`: give an absolute path, or ask root to "
                                     "delegate one (cgm chown)",
                                     cgm_quote(buf, SIZE_MAX, rq, sizeof(rq)), base_api);
        }
        /* The home comes from the daemon, not the wire; checked so the join below is sound. */
        if (cgm_path_check(home, why, sizeof(why)) < 0)
                return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_ARGS, "invalid home: %s", why);
        r = cgm_path_check(buf, why, sizeof(why));
        if (r < 0)
                return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_NAME, "%s", why);
        if (!buf[0]) {
                rel = home;
        } else if (!home[0]) {
                rel = buf;
        } else {
                char joined[CGM_PATH_MAX * 2 + 4];

                snprintf(joined, sizeof(joined), "%s/%s", home, buf);
                r = cgm_path_check(joined, why, sizeof(why));
                if (r < 0)
                        return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_NAME,
                                             "below your home: %s", why);
                if (strlen(joined) >= out_size)
                        return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_NAME,
                                             "path `%s` is too long", q);
                strcpy(out, joined);
                return 0;
        }
        r = cgm_path_check(rel, why, sizeof(why));
        if (r < 0)
                return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_NAME, "%s", why);
        if (strlen(rel) >= out_size)
                return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_NAME, "path `%s` is too long",
                                     q);
        strcpy(out, rel);
        return 0;
}

/**
 * auth_check() - may @p perform @action on @target?
 * @p:        the caller
 * @base_api: the base as the caller sees it, for messages
 * @home:     the caller's home relative to the base, NULL when it has none
 * @target:   path relative to the base, as returned by auth_resolve()
 * @action:   what the request does there
 * @e:        error to fill, may be NULL
 *
 * Return: 0 or -EACCES (PermissionDenied) with a message naming the uid, the target, the
 * home and what to do; -EINVAL (InvalidName) when @target is not a valid path.
 */
int auth_check(const Principal *p, const char *base_api, const char *home, const char *target,
               AuthAction action, CgmError *e)
{
        char tpath[API_PATH_MAX], hpath[API_PATH_MAX], why[256];

        if (!p || !base_api || !target)
                return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                     "request has no caller or no target");
        if (cgm_path_check(target, why, sizeof(why)) < 0)
                return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_NAME, "%s", why);
        if (p->is_root)
                return 0;
        api_path(base_api, target, tpath, sizeof(tpath));
        if (action == AUTH_ROOT)
                return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                     "uid %u may not do this on `%s`: only root may; ask an "
                                     "administrator",
                                     shown(p, p->uid), tpath);
        if (!home)
                return no_home(p, base_api, e);
        api_path(base_api, home, hpath, sizeof(hpath));

        if (action == AUTH_READ) {
                if (cgm_path_is_within(target, home))
                        return 0;
                return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                     "uid %u may not read a cgroup outside its home: `%s` is "
                                     "outside your home `%s`; you may read your home and what "
                                     "lies below it",
                                     shown(p, p->uid), tpath, hpath);
        }
        if (cgm_path_is_below(target, home))
                return 0;
        if (strcmp(target, home) == 0)
                return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                     "uid %u may not change `%s`: it is your home, whose limits "
                                     "the administrator sets; create a child below it",
                                     shown(p, p->uid), tpath);
        return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                             "uid %u may not change a cgroup outside its home: `%s` is outside "
                             "your home `%s`; work in cgroups below your home",
                             shown(p, p->uid), tpath, hpath);
}

/**
 * auth_check_move() - may @p move a process into @dest?
 * @p:           the caller
 * @base_api:    the base as the caller sees it, for messages
 * @home:        the caller's home relative to the base, NULL when it has none
 * @proc_ruid:   real uid of the process
 * @proc_euid:   effective uid of the process
 * @proc_cgroup: the process's cgroup relative to the base, NULL when outside the base
 * @dest:        destination relative to the base
 * @e:           error to fill, may be NULL
 *
 * Return: 0 or -EACCES (PermissionDenied); -EINVAL (InvalidName) when @dest is not a valid
 * path.
 */
int auth_check_move(const Principal *p, const char *base_api, const char *home, uid_t proc_ruid,
                    uid_t proc_euid, const char *proc_cgroup, const char *dest, CgmError *e)
{
        char dpath[API_PATH_MAX], hpath[API_PATH_MAX], ppath[API_PATH_MAX], pq[200], why[256];

        if (!p || !base_api || !dest)
                return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                     "request has no caller or no destination");
        if (cgm_path_check(dest, why, sizeof(why)) < 0)
                return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_NAME, "%s", why);
        if (p->is_root)
                return 0;
        if (!home)
                return no_home(p, base_api, e);
        api_path(base_api, dest, dpath, sizeof(dpath));
        api_path(base_api, home, hpath, sizeof(hpath));

        if (p->ns_root) {
                /* Root of a user namespace acts for every uid it maps, by both ids. */
                if (!uidmap_has(p->map, proc_ruid) || !uidmap_has(p->map, proc_euid))
                        return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                             "uid %u (root of a user namespace) may not move a "
                                             "process of host uid %u: that uid is not mapped in "
                                             "your user namespace",
                                             shown(p, p->uid),
                                             (unsigned)(uidmap_has(p->map, proc_ruid)
                                                                ? proc_euid
                                                                : proc_ruid));
        } else if (proc_ruid != p->uid)
                return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                     "uid %u may not move a process of uid %u: you may move only "
                                     "your own processes",
                                     shown(p, p->uid), shown(p, proc_ruid));
        else if (proc_euid != p->uid)
                return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                     "uid %u may not move a process that runs with effective uid "
                                     "%u (a setuid program): it acts with another user's "
                                     "authority; ask root to move it",
                                     shown(p, p->uid), shown(p, proc_euid));
        if (!proc_cgroup)
                return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                     "uid %u may not move a process from outside `%s`: only "
                                     "processes already in your home `%s` can be moved",
                                     shown(p, p->uid), base_api, hpath);
        if (!cgm_path_is_within(proc_cgroup, home))
                return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                     "uid %u may not move a process from outside its home: "
                                     "`%s` is outside your home `%s`, and only processes already "
                                     "in your home can be moved",
                                     shown(p, p->uid),
                                     cgm_quote(api_path(base_api, proc_cgroup, ppath, sizeof(ppath)),
                                               SIZE_MAX, pq, sizeof(pq)),
                                     hpath);
        if (strcmp(dest, home) == 0)
                return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                     "uid %u may not move processes into `%s`: it is your home, "
                                     "whose limits the administrator sets; move them into a "
                                     "child below it",
                                     shown(p, p->uid), dpath);
        if (!cgm_path_is_below(dest, home))
                return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                     "uid %u may not move processes out of its home: `%s` is "
                                     "outside your home `%s`; move them into a cgroup below "
                                     "your home",
                                     shown(p, p->uid), dpath, hpath);
        return 0;
}
