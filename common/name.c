/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cgroup name and path validation: the one allowlist every path goes through */

/*
 * The kernel accepts almost any byte in a cgroup name (it refuses only '\n'), including
 * spaces, ':', names ending in " (deleted)" and names that collide with control files such
 * as "memory.max" while that controller is off (kernel.md §1.2, §3.4). Every one of those is
 * a way to confuse a reader of /proc/PID/cgroup or to make a directory alias a file the
 * daemon later writes. So cgm accepts a deliberately small language instead:
 *
 *   [A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}
 *
 * minus the v1 core file names ("tasks", "release_agent", "notify_on_release") and minus any
 * name that starts with "cgroup." or "<controller>.", the two prefixes under which the kernel
 * creates control files. The check is an allowlist on bytes, so UTF-8, control characters,
 * '/' and "." / ".." are all refused by the same rule; they get their own messages only to
 * make the refusal readable.
 *
 * A path is names joined by single '/', relative to some top that the caller knows (the
 * base, a home). Paths are bounded in depth and length so that every path the daemon ever
 * builds fits its buffers and stays far from the 4095-byte truncation of /proc/PID/cgroup.
 *
 * Messages quote the offending text with non-printable bytes escaped (\xNN), so a hostile
 * name cannot inject newlines or terminal escapes into logs and error replies.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "name.h"
#include "text.h"
#include "protocol.h"

/* Controllers whose files appear in cgroup directories as "<controller>.<file>". "dmem"
 * (6.14) is included as well: the rule exists to keep names from aliasing control files. */
static const char *const controllers[] = {
        "memory", "cpu",     "cpuacct", "cpuset",     "io",       "blkio",
        "pids",   "hugetlb", "rdma",    "misc",       "devices",  "freezer",
        "net_cls", "net_prio", "perf_event", "dmem",
};

/* v1 core files without a "cgroup." prefix. */
static const char *const reserved[] = {
        "tasks",
        "release_agent",
        "notify_on_release",
};

static bool name_char_ok(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '.';
}

/* Copy at most @len bytes of @s into @buf, escaping everything but printable ASCII, and
 * ending with "..." when cut short. @buf is always terminated. */

static int fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t n, const char *fmt, ...)
{
        va_list ap;

        if (why && n > 0) {
                va_start(ap, fmt);
                vsnprintf(why, n, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* Check @len bytes at @name (not necessarily NUL-terminated there). */
static int name_check_n(const char *name, size_t len, char *why, size_t n)
{
        char q[96];

        cgm_quote(name, len, q, sizeof(q));
        if (len == 0)
                return fail(why, n, "the empty string is not a cgroup name");
        if (len > CGM_NAME_MAX) {
                return fail(why, n, "cgroup name `%s` is longer than %d bytes", q, CGM_NAME_MAX);
        }
        if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
                return fail(why, n,
                            "`%s` is not a cgroup name: it names a directory itself or its parent",
                            q);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)name[i];

                if (c == '/')
                        return fail(why, n,
                                    "cgroup name `%s` contains '/': give one name, not a path",
                                    q);
                if (!name_char_ok(c)) {
                        char what[48];

                        if (c >= 0x20 && c < 0x7f)
                                snprintf(what, sizeof(what), "'%c'", c);
                        else
                                snprintf(what, sizeof(what), "byte 0x%02x", c);
                        return fail(why, n,
                                    "cgroup name `%s` contains %s: names may use only letters, "
                                    "digits, '_', '-' and '.'",
                                    q, what);
                }
        }
        if (name[0] == '.')
                return fail(why, n, "cgroup name `%s` starts with '.'", q);
        for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
                if (strlen(reserved[i]) == len && memcmp(reserved[i], name, len) == 0)
                        return fail(why, n,
                                    "`%s` is not allowed as a cgroup name: it is a cgroup v1 "
                                    "control file",
                                    q);
        if (len > 7 && memcmp(name, "cgroup.", 7) == 0)
                return fail(why, n,
                            "cgroup name `%s` starts with `cgroup.`: that prefix is reserved for "
                            "the kernel's control files",
                            q);
        for (size_t i = 0; i < sizeof(controllers) / sizeof(controllers[0]); i++) {
                size_t cl = strlen(controllers[i]);

                if (len > cl && memcmp(name, controllers[i], cl) == 0 && name[cl] == '.') {
                        return fail(why, n,
                                    "cgroup name `%s` starts with `%s.`: that prefix is "
                                    "reserved for the %s controller's files",
                                    q, controllers[i], controllers[i]);
                }
        }
        return 0;
}

/**
 * cgm_name_check() - is @name an acceptable cgroup name?
 * @name: one path component (not NULL)
 * @why:  filled with the reason on failure (may be NULL)
 * @n:    size of @why
 *
 * Return: 0, or -EINVAL with @why filled.
 */
int cgm_name_check(const char *name, char *why, size_t n)
{
        if (!name)
                return fail(why, n, "no cgroup name given");
        /* strnlen bounds the work on hostile input; anything longer is refused anyway. */
        return name_check_n(name, strnlen(name, CGM_NAME_MAX + 1), why, n);
}

/**
 * cgm_path_check() - validate a relative path of names separated by single '/'
 * @path: "a/b/c"; "" is the empty path (valid); no leading, trailing or doubled '/'
 * @why:  filled with the reason on failure (may be NULL)
 * @n:    size of @why
 *
 * Return: 0, or -EINVAL with @why filled.
 */
int cgm_path_check(const char *path, char *why, size_t n)
{
        char q[96];
        size_t len, depth = 0;
        const char *p;

        if (!path)
                return fail(why, n, "no path given");
        len = strnlen(path, CGM_PATH_MAX + 1);
        cgm_quote(path, len, q, sizeof(q));
        if (len == 0)
                return 0;
        if (len > CGM_PATH_MAX) {
                return fail(why, n, "path `%s` is longer than %d bytes", q, CGM_PATH_MAX);
        }
        if (path[0] == '/')
                return fail(why, n, "path `%s` starts with '/' where a relative path is needed", q);
        if (path[len - 1] == '/')
                return fail(why, n, "path `%s` ends with '/'", q);
        p = path;
        for (;;) {
                const char *slash = memchr(p, '/', len - (size_t)(p - path));
                size_t clen = slash ? (size_t)(slash - p) : len - (size_t)(p - path);
                char inner[256];
                int r;

                if (clen == 0)
                        return fail(why, n, "path `%s` contains '//'", q);
                if (++depth > CGM_DEPTH_MAX) {
                        return fail(why, n, "path `%s` is deeper than %d levels", q,
                                    CGM_DEPTH_MAX);
                }
                r = name_check_n(p, clen, inner, sizeof(inner));
                if (r < 0)
                        return fail(why, n, "in path `%s`: %s", q, inner);
                if (!slash)
                        break;
                p = slash + 1;
        }
        return 0;
}

/**
 * cgm_path_is_within() - does @path equal @ancestor or lie below it?
 * @path:     relative path
 * @ancestor: relative path; "" is the top and contains everything
 *
 * Purely textual: both must already be valid paths. NULL is within nothing.
 */
bool cgm_path_is_within(const char *path, const char *ancestor)
{
        size_t alen;

        if (!path || !ancestor)
                return false;
        if (ancestor[0] == '\0')
                return true;
        alen = strlen(ancestor);
        return strncmp(path, ancestor, alen) == 0 && (path[alen] == '\0' || path[alen] == '/');
}

/**
 * cgm_path_is_below() - does @path lie strictly below @ancestor?
 * @path:     relative path
 * @ancestor: relative path; "" is the top
 */
bool cgm_path_is_below(const char *path, const char *ancestor)
{
        return cgm_path_is_within(path, ancestor) && strcmp(path, ancestor) != 0;
}
