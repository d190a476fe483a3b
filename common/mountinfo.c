/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing /proc/self/mountinfo and /proc/PID/cgroup text. Pure functions, no I/O. */

/*
 * The daemon learns the host's cgroup layout once at start-up from /proc/self/mountinfo:
 * which cgroup2 mount carries membership, and which v1 hierarchies exist with which
 * controllers (a pure v2 host has one line, the development machines have a dozen, systemd
 * hosts co-mount "cpu,cpuacct"). The format is proc(5):
 *
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   (1)(2)(3)   (4)   (5)      (6)      (7...)  (8)(9)   (10)         (11)
 *
 * with any number of optional fields (7) ended by a lone "-", and spaces, tabs, newlines
 * and backslashes in paths written as octal escapes (\040). The v1 controllers are the super
 * options (11) minus the generic options. Lines are parsed in place, without copies or
 * allocation; the caller gets a fixed array.
 *
 * /proc/PID/cgroup lines are "ID:CONTROLLERS:PATH". The path is the rest of the line: the
 * kernel does not escape it, so it may hold spaces and ':' (kernel.md §2). These parsers only
 * split text; the daemon identifies cgroups by id, not by these paths, where it matters.
 */

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "mountinfo.h"

/* Super options of cgroup v1 mounts that are not controllers (kernel/cgroup/cgroup-v1.c
 * cgroup1_parse_param, plus the generic ro/rw). */
static const char *const non_controllers[] = {
        "rw",     "ro",         "xattr",          "noprefix", "clone_children",
        "cpuset_v2_mode", "none", "all", "nsdelegate", "favordynmods",
        "memory_localevents", "memory_recursiveprot", "memory_hugetlb_accounting",
        "pids_localevents",
};

typedef struct Span {
        const char *p;
        size_t len;
} Span;

static bool span_eq(Span s, const char *lit)
{
        return strlen(lit) == s.len && memcmp(s.p, lit, s.len) == 0;
}

/* Split @line (length @len, no '\n') at single spaces into at most @max fields. */
static size_t split_fields(const char *line, size_t len, Span *f, size_t max, bool *overflowp)
{
        size_t n = 0, i = 0;

        *overflowp = false;
        while (i < len) {
                size_t start = i;

                while (i < len && line[i] != ' ')
                        i++;
                if (i > start) {
                        if (n == max) {
                                *overflowp = true;
                                return n;
                        }
                        f[n].p = line + start;
                        f[n].len = i - start;
                        n++;
                }
                i++;
        }
        return n;
}

static bool is_odigit(char c)
{
        return c >= '0' && c <= '7';
}

/* Copy with \NNN octal escapes decoded. */
static int unescape(Span s, char *out, size_t n)
{
        size_t o = 0;

        for (size_t i = 0; i < s.len; i++) {
                char c = s.p[i];

                if (c == '\\' && i + 3 < s.len && is_odigit(s.p[i + 1]) &&
                    is_odigit(s.p[i + 2]) && is_odigit(s.p[i + 3])) {
                        c = (char)(((s.p[i + 1] - '0') << 6) | ((s.p[i + 2] - '0') << 3) |
                                   (s.p[i + 3] - '0'));
                        i += 3;
                }
                if (c == '\0')
                        return -EINVAL;
                if (o + 1 >= n)
                        return -ENAMETOOLONG;
                out[o++] = c;
        }
        out[o] = '\0';
        return 0;
}

static bool is_non_controller(Span opt)
{
        if (opt.len >= 14 && memcmp(opt.p, "release_agent=", 14) == 0)
                return true;
        for (size_t i = 0; i < sizeof(non_controllers) / sizeof(non_controllers[0]); i++)
                if (span_eq(opt, non_controllers[i]))
                        return true;
        return false;
}

/* Controllers from v1 super options "rw,cpu,cpuacct" -> "cpu,cpuacct". */
static int v1_controllers(Span opts, char *out, size_t n)
{
        size_t o = 0, i = 0;

        out[0] = '\0';
        while (i <= opts.len) {
                size_t start = i;
                Span opt;

                while (i < opts.len && opts.p[i] != ',')
                        i++;
                opt.p = opts.p + start;
                opt.len = i - start;
                i++;
                if (opt.len == 0 || is_non_controller(opt))
                        continue;
                if (o + (o ? 1 : 0) + opt.len + 1 > n)
                        return -ENAMETOOLONG;
                if (o)
                        out[o++] = ',';
                memcpy(out + o, opt.p, opt.len);
                o += opt.len;
                out[o] = '\0';
        }
        return 0;
}

/* Maximum fields on one line: 6 fixed, optional fields, "-", 3 after. */
#define FIELDS_MAX 64

static int parse_line(const char *line, size_t len, MountedHierarchy *h, bool *is_cgroupp)
{
        Span f[FIELDS_MAX];
        bool overflow;
        size_t n = split_fields(line, len, f, FIELDS_MAX, &overflow), sep;
        int r;

        *is_cgroupp = false;
        if (overflow || n < 9)
                return -EINVAL;
        for (sep = 6; sep < n; sep++)
                if (span_eq(f[sep], "-"))
                        break;
        /* The separator, then fstype, source and super options. An empty source prints as
         * nothing at all, so the super options are taken from the end. */
        if (sep == n || (n - sep != 4 && n - sep != 3))
                return -EINVAL;

        Span fstype = f[sep + 1];

        if (!span_eq(fstype, "cgroup") && !span_eq(fstype, "cgroup2"))
                return 0;
        memset(h, 0, sizeof(*h));
        h->is_v2 = span_eq(fstype, "cgroup2");
        r = unescape(f[3], h->root, sizeof(h->root));
        if (r < 0)
                return r;
        r = unescape(f[4], h->mount_point, sizeof(h->mount_point));
        if (r < 0)
                return r;
        if (h->mount_point[0] != '/' || h->root[0] != '/')
                return -EINVAL;
        if (!h->is_v2) {
                r = v1_controllers(f[n - 1], h->controllers, sizeof(h->controllers));
                if (r < 0)
                        return r;
        }
        *is_cgroupp = true;
        return 0;
}

/**
 * mountinfo_parse_cgroups() - the cgroup and cgroup2 mounts listed in mountinfo @text
 * @text:  contents of /proc/self/mountinfo
 * @out:   array of @max entries
 * @max:   size of @out
 * @n_out: number found
 *
 * The first mount of each hierarchy is kept, in the order of @text: later cgroup2 mounts and
 * later v1 mounts with the same controller list are bind mounts or remounts of the same
 * hierarchy. A v1 mount whose super options name no controller at all (only possible with
 * "none" and no "name=") is kept with an empty list.
 *
 * Return: 0; -EINVAL for malformed text; -ENAMETOOLONG when a cgroup mount's path or
 * controller list does not fit its field; -E2BIG when more than @max hierarchies are mounted.
 * On failure *@n_out is 0.
 */
int mountinfo_parse_cgroups(const char *text, MountedHierarchy *out, size_t max, size_t *n_out)
{
        size_t n = 0;
        const char *p = text;

        if (n_out)
                *n_out = 0;
        if (!text || !n_out || (!out && max > 0))
                return -EINVAL;
        while (*p) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                MountedHierarchy h;
                bool is_cgroup, dup = false;
                int r;

                if (len > 0) {
                        r = parse_line(p, len, &h, &is_cgroup);
                        if (r < 0)
                                return r;
                        if (is_cgroup) {
                                for (size_t i = 0; i < n && !dup; i++)
                                        dup = out[i].is_v2 == h.is_v2 &&
                                              (h.is_v2 ||
                                               strcmp(out[i].controllers, h.controllers) == 0);
                                if (!dup) {
                                        if (n == max)
                                                return -E2BIG;
                                        out[n++] = h;
                                }
                        }
                }
                p += len;
                if (*p == '\n')
                        p++;
        }
        *n_out = n;
        return 0;
}

static bool list_has(const char *list, size_t len, const char *name)
{
        size_t nl = strlen(name), i = 0;

        while (i <= len) {
                size_t start = i;

                while (i < len && list[i] != ',')
                        i++;
                if (i - start == nl && memcmp(list + start, name, nl) == 0)
                        return true;
                i++;
        }
        return false;
}

/**
 * proc_cgroup_lookup() - path of one hierarchy in /proc/PID/cgroup @text
 * @text:       contents of /proc/PID/cgroup
 * @controller: "" for the v2 line, a v1 controller ("memory") or a named hierarchy
 *              ("name=systemd")
 * @path:       receives the path, e.g. "/user.slice/x"
 * @path_size:  size of @path
 *
 * Every line is checked, so malformed text is refused even after a match; the first match
 * wins.
 *
 * Return: 0; -ENOENT when no line matches; -EINVAL for malformed text; -ENAMETOOLONG when the
 * path does not fit.
 */
int proc_cgroup_lookup(const char *text, const char *controller, char *path, size_t path_size)
{
        const char *p = text, *found = NULL;
        size_t found_len = 0;

        if (path && path_size > 0)
                path[0] = '\0';
        if (!text || !controller || !path || path_size == 0)
                return -EINVAL;
        while (*p) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                const char *c1, *c2, *end = p + len;

                if (len > 0) {
                        c1 = memchr(p, ':', len);
                        if (!c1 || c1 == p)
                                return -EINVAL;
                        for (const char *d = p; d < c1; d++)
                                if (*d < '0' || *d > '9')
                                        return -EINVAL;
                        c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
                        if (!c2 || c2 + 1 >= end || c2[1] != '/')
                                return -EINVAL;
                        if (!found) {
                                size_t clen = (size_t)(c2 - c1 - 1);
                                bool match = controller[0] == '\0'
                                                     ? clen == 0
                                                     : list_has(c1 + 1, clen, controller);

                                if (match) {
                                        found = c2 + 1;
                                        found_len = (size_t)(end - found);
                                }
                        }
                }
                p = end;
                if (*p == '\n')
                        p++;
        }
        if (!found)
                return -ENOENT;
        if (found_len >= path_size)
                return -ENAMETOOLONG;
        memcpy(path, found, found_len);
        path[found_len] = '\0';
        return 0;
}
