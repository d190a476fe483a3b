/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Policy: cgm.conf and cgm.conf.d — global options and per-user limits
 *
 * The administrator's policy is a small INI dialect read from /etc/cgm/cgm.conf and then, in
 * lexical order, every *.conf in /etc/cgm/cgm.conf.d/. Global options sit before any section
 * or in [global]; limits sit in [default], [group:NAME] and [user:NAME] and are resource keys
 * with values, checked exactly as Set checks them (keys.c), so a policy that loads is a policy
 * that can be applied.
 *
 * Everything is validated before the daemon uses any of it: a problem is reported as
 * FILE:LINE: what, and nothing of a file with an error is kept. The daemon refuses to start on
 * one and, on reload, keeps the old policy. Each value remembers where it came from, which is
 * what `cgm policy explain` shows.
 *
 * Precedence for one user: [user:NAME] over [group:NAME] over [default]. Among the groups the
 * user belongs to, the section that comes later wins, key by key: later in file order, files
 * read in the order above. That is the usual drop-in rule (a later file overrides an earlier
 * one), and it is predictable where "the most generous value" would not be for cpusets or
 * io.max lines.
 *
 * The parser is pure (no NSS, no cgroupfs) so that `cgm policy check` runs it without the
 * daemon, and so that the unit tests and tests/fuzz/fuzz-policy.c can feed it hostile text.
 * A message quotes the file's text only through cgm_quote(): it is logged, and it is the text
 * of the Reload error on D-Bus, which must be UTF-8 and cannot carry a forged log line.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "keys.h"
#include "policy.h"
#include "protocol.h"
#include "text.h"
#include "units.h"

#define POLICY_LINE_MAX 4096
#define POLICY_QUOTE_MAX 100 /* a quoted piece of the file in a message, "..." when cut */

/* @s made printable for a message (cgm_quote into @buf of POLICY_QUOTE_MAX bytes). */
static const char *q(const char *s, char *buf)
{
        return cgm_quote(s, SIZE_MAX, buf, POLICY_QUOTE_MAX);
}

typedef enum OptionType { OPT_STRING, OPT_BOOL, OPT_UINT, OPT_NAMES } OptionType;

typedef struct OptionDef {
        const char *name;
        size_t offset;
        OptionType type;
        unsigned min, max;
        const char *fallback;
} OptionDef;

#define OPT(n, t, lo, hi, d) { #n, offsetof(Policy, n), t, lo, hi, d }
static const OptionDef option_defs[] = {
        OPT(base, OPT_STRING, 0, 0, CGM_DEFAULT_BASE),
        OPT(socket, OPT_STRING, 0, 0, CGM_DEFAULT_SOCKET),
        OPT(kill_on_logout, OPT_BOOL, 0, 0, "no"),
        OPT(kill_exempt, OPT_NAMES, 0, 0, "root"),
        OPT(linger, OPT_NAMES, 0, 0, ""),
        /* A home a login made stays this long after its last session (as logind keeps
         * user@.service for UserStopDelaySec), so a user who logs in again soon finds it
         * there instead of waiting while it is rebuilt in every hierarchy; 0 removes it at
         * once. At most a day. */
        OPT(home_grace_ms, OPT_UINT, 0, 86400000, "10000"),
        /* root's logins get no session cgroup and no limits unless the admin says otherwise:
         * root is never locked out, not even by a tight [default]. */
        OPT(exclude, OPT_NAMES, 0, 0, "root"),
        OPT(admin_group, OPT_STRING, 0, 0, ""),
        OPT(max_cgroups_per_user, OPT_UINT, 1, 1000000, "1000"),
        OPT(requests_per_second, OPT_UINT, 1, 1000000, "1000"),
        OPT(creates_per_second, OPT_UINT, 1, 1000000, "100"),
        OPT(connections_per_uid, OPT_UINT, 1, 65536, "64"),
        OPT(nss_timeout_ms, OPT_UINT, 100, 600000, "10000"),
        /* Who places logins on a host: cgm (its own session leaves) or systemd-logind (cgm
         * then sets the policy on user-UID.slice, daemon/systemd.c); auto picks systemd where
         * systemd is PID 1. */
        OPT(session_manager, OPT_STRING, 0, 0, "auto"),
        /* A line on a login's terminal when the kernel OOM-kills one of its processes
         * (daemon/notify-tty.c); `oom_notice = no` in [group:] or [user:] for some only. */
        OPT(oom_notice, OPT_BOOL, 0, 0, "yes"),
};

static PolicyOption *option_at(Policy *p, const OptionDef *d)
{
        return (PolicyOption *)((char *)p + d->offset);
}

int policy_new(Policy **policyp)
{
        Policy *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(option_defs); i++) {
                PolicyOption *o = option_at(p, &option_defs[i]);
                snprintf(o->value, sizeof(o->value), "%s", option_defs[i].fallback);
                snprintf(o->source, sizeof(o->source), "default");
        }
        *policyp = p;
        return 0;
}

void policy_free(Policy *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n_sections; i++)
                free(p->sections[i].values);
        free(p->sections);
        for (size_t i = 0; i < p->n_files; i++)
                free(p->files[i]);
        free(p->files);
        free(p);
}

static char *trim(char *s)
{
        char *end;

        while (isspace((unsigned char)*s))
                s++;
        end = s + strlen(s);
        while (end > s && isspace((unsigned char)end[-1]))
                *--end = '\0';
        return s;
}

/* User and group names as NSS may hand them out: printable, no blanks, no brackets. */
static bool name_ok(const char *n)
{
        size_t l = strlen(n);

        if (l == 0 || l > 255)
                return false;
        for (; *n; n++)
                if ((unsigned char)*n <= ' ' || *n == 0x7f || *n == '[' || *n == ']' || *n == '#')
                        return false;
        return true;
}

static int option_set(Policy *p, const OptionDef *d, const char *value, const char *where,
                      CgmError *e)
{
        PolicyOption *o = option_at(p, d);
        uint64_t v;
        char why[160], qb[POLICY_QUOTE_MAX];

        switch (d->type) {
        case OPT_BOOL:
                if (strcmp(value, "yes") && strcmp(value, "no") && strcmp(value, "true") &&
                    strcmp(value, "false") && strcmp(value, "1") && strcmp(value, "0"))
                        return cgm_error_set(e, -EINVAL, NULL, "%s: %s takes yes or no, not `%s`",
                                             where, d->name, q(value, qb));
                value = (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1"))
                                ? "yes"
                                : "no";
                break;
        case OPT_UINT:
                if (cgm_parse_uint(value, d->min, d->max, false, &v, why, sizeof(why)) < 0)
                        return cgm_error_set(e, -EINVAL, NULL, "%s: %s: %s", where, d->name, why);
                break;
        case OPT_NAMES: {
                char copy[sizeof(o->value)], *save = NULL;
                if (strlen(value) >= sizeof(copy))
                        return cgm_error_set(e, -E2BIG, NULL, "%s: %s: list too long", where,
                                             d->name);
                snprintf(copy, sizeof(copy), "%s", value);
                for (char *n = strtok_r(copy, " \t,", &save); n; n = strtok_r(NULL, " \t,", &save))
                        if (strcmp(n, "*") != 0 && !name_ok(n))
                                return cgm_error_set(e, -EINVAL, NULL, "%s: %s: bad user name `%s`",
                                                     where, d->name, q(n, qb));
                break;
        }
        case OPT_STRING:
                if (strcmp(d->name, "socket") == 0 &&
                    (value[0] != '/' || strlen(value) >= 108))
                        return cgm_error_set(e, -EINVAL, NULL,
                                             "%s: socket must be an absolute path shorter than 108 "
                                             "bytes",
                                             where);
                if (strcmp(d->name, "base") == 0 && value[0] != '/' && strncmp(value, "self:", 5))
                        return cgm_error_set(e, -EINVAL, NULL,
                                             "%s: base must be an absolute cgroup path or "
                                             "self:NAME",
                                             where);
                if (strcmp(d->name, "session_manager") == 0 && strcmp(value, "auto") &&
                    strcmp(value, "cgm") && strcmp(value, "systemd"))
                        return cgm_error_set(e, -EINVAL, NULL,
                                             "%s: session_manager takes auto, cgm or systemd, not "
                                             "`%s`",
                                             where, q(value, qb));
                if (strcmp(d->name, "admin_group") == 0 && *value && !name_ok(value))
                        return cgm_error_set(e, -EINVAL, NULL, "%s: bad group name `%s`", where,
                                             q(value, qb));
                if (strlen(value) >= sizeof(o->value))
                        return cgm_error_set(e, -E2BIG, NULL, "%s: %s is too long", where,
                                             d->name);
                break;
        }
        snprintf(o->value, sizeof(o->value), "%s", value);
        snprintf(o->source, sizeof(o->source), "%s", where);
        return 0;
}

static PolicySection *section_find(Policy *p, PolicySectionKind kind, const char *name)
{
        for (size_t i = 0; i < p->n_sections; i++)
                if (p->sections[i].kind == kind && strcmp(p->sections[i].name, name) == 0)
                        return &p->sections[i];
        return NULL;
}

static int section_open(Policy *p, const char *header, const char *where, unsigned file_index,
                        PolicySection **sp, CgmError *e)
{
        PolicySectionKind kind;
        const char *name = "";
        PolicySection *s;
        char qb[POLICY_QUOTE_MAX];

        if (strcmp(header, "default") == 0)
                kind = POLICY_DEFAULT;
        else if (strncmp(header, "group:", 6) == 0)
                kind = POLICY_GROUP, name = header + 6;
        else if (strncmp(header, "user:", 5) == 0)
                kind = POLICY_USER, name = header + 5;
        else
                return cgm_error_set(e, -EINVAL, NULL,
                                     "%s: unknown section `[%s]` (known: global, default, "
                                     "group:NAME, user:NAME)",
                                     where, q(header, qb));
        if (kind != POLICY_DEFAULT && !name_ok(name))
                return cgm_error_set(e, -EINVAL, NULL, "%s: bad name in `[%s]`", where,
                                     q(header, qb));
        s = section_find(p, kind, name);
        if (s && s->file_index == file_index)
                return cgm_error_set(e, -EINVAL, NULL,
                                     "%s: section `[%s]` is already defined at %s; merge the two",
                                     where, q(header, qb), s->source);
        if (!s) {
                if (p->n_sections >= CGM_POLICY_SECTIONS_MAX)
                        return cgm_error_set(e, -E2BIG, NULL,
                                             "%s: more than %d sections; use [group:NAME] "
                                             "sections for many users",
                                             where, CGM_POLICY_SECTIONS_MAX);
                s = realloc(p->sections, (p->n_sections + 1) * sizeof(*s));
                if (!s)
                        return cgm_error_set(e, -ENOMEM, NULL, "out of memory");
                p->sections = s;
                s = &p->sections[p->n_sections++];
                *s = (PolicySection){ .kind = kind };
                snprintf(s->name, sizeof(s->name), "%s", name);
        }
        snprintf(s->source, sizeof(s->source), "%s", where);
        s->file_index = file_index;
        *sp = s;
        return 0;
}

static int section_set(PolicySection *s, const char *key, const char *value, const char *where,
                       CgmError *e)
{
        char canon[256], why[256], qb[POLICY_QUOTE_MAX];
        PolicyValue *v = NULL;
        int r;

        if (strcmp(key, "oom_notice") == 0) {
                /* The one setting of a section that is not a resource key (notify-tty.c). */
                bool yes = !strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1");
                if (!yes && strcmp(value, "no") && strcmp(value, "false") && strcmp(value, "0"))
                        return cgm_error_set(e, -EINVAL, NULL,
                                             "%s: oom_notice takes yes or no, not `%s`", where,
                                             q(value, qb));
                snprintf(canon, sizeof(canon), "%s", yes ? "yes" : "no");
        } else {
                r = key_parse(key, value, canon, sizeof(canon), why, sizeof(why));
                if (r < 0)
                        return cgm_error_set(e, -EINVAL, NULL, "%s: %s", where, why);
        }
        for (size_t i = 0; i < s->n_values; i++)
                if (strcmp(s->values[i].key, key) == 0)
                        v = &s->values[i];
        if (v) {
                /* The same key again: an error within one file, an override from a later one. */
                const char *colon = strrchr(v->source, ':');
                const char *wcolon = strrchr(where, ':');
                if (colon && wcolon && colon - v->source == wcolon - where &&
                    strncmp(v->source, where, (size_t)(colon - v->source)) == 0)
                        return cgm_error_set(e, -EINVAL, NULL, "%s: `%s` is already set at %s",
                                             where, q(key, qb), v->source);
        } else {
                PolicyValue *nv;
                if (s->n_values >= 64)
                        return cgm_error_set(e, -E2BIG, NULL, "%s: too many keys in one section",
                                             where);
                nv = realloc(s->values, (s->n_values + 1) * sizeof(*nv));
                if (!nv)
                        return cgm_error_set(e, -ENOMEM, NULL, "out of memory");
                s->values = nv;
                v = &s->values[s->n_values++];
                snprintf(v->key, sizeof(v->key), "%s", key);
        }
        snprintf(v->value, sizeof(v->value), "%s", canon);
        snprintf(v->source, sizeof(v->source), "%s", where);
        return 0;
}

int policy_parse(Policy *p, const char *name, const char *text, CgmError *e)
{
        PolicySection *section = NULL;
        unsigned lineno = 0, file_index;
        const char *t = text;
        char **files;
        int r;

        if (p->n_files >= CGM_POLICY_FILES_MAX)
                return cgm_error_set(e, -E2BIG, NULL, "%s: more than %d policy files", name,
                                     CGM_POLICY_FILES_MAX);
        files = realloc(p->files, (p->n_files + 1) * sizeof(char *));
        if (!files)
                return cgm_error_set(e, -ENOMEM, NULL, "out of memory");
        p->files = files;
        p->files[p->n_files] = strdup(name);
        if (!p->files[p->n_files])
                return cgm_error_set(e, -ENOMEM, NULL, "out of memory");
        file_index = (unsigned)p->n_files++;

        while (*t) {
                char buf[POLICY_LINE_MAX + 1], where[POLICY_SOURCE_MAX], *line, *eq, *key, *value;
                char qb[POLICY_QUOTE_MAX];
                size_t l = strcspn(t, "\n");

                lineno++;
                snprintf(where, sizeof(where), "%s:%u", name, lineno);
                if (l > POLICY_LINE_MAX)
                        return cgm_error_set(e, -E2BIG, NULL, "%s: line longer than %d bytes",
                                             where, POLICY_LINE_MAX);
                memcpy(buf, t, l);
                buf[l] = '\0';
                t += l + (t[l] == '\n');
                line = trim(buf);
                if (!*line || *line == '#' || *line == ';')
                        continue;
                if (*line == '[') {
                        char *close = strchr(line, ']');
                        if (!close || *trim(close + 1))
                                return cgm_error_set(e, -EINVAL, NULL,
                                                     "%s: malformed section header `%s`", where,
                                                     q(line, qb));
                        *close = '\0';
                        line = trim(line + 1);
                        if (strcmp(line, "global") == 0) {
                                section = NULL;
                                continue;
                        }
                        r = section_open(p, line, where, file_index, &section, e);
                        if (r < 0)
                                return r;
                        continue;
                }
                eq = strchr(line, '=');
                if (!eq)
                        return cgm_error_set(e, -EINVAL, NULL,
                                             "%s: expected `key = value`, got `%s`", where,
                                             q(line, qb));
                *eq = '\0';
                key = trim(line);
                value = trim(eq + 1);
                if (!*key)
                        return cgm_error_set(e, -EINVAL, NULL, "%s: a key is missing before `=`",
                                             where);
                if (section) {
                        r = section_set(section, key, value, where, e);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = -ENOENT;
                for (size_t i = 0; i < ELEMENTSOF(option_defs); i++)
                        if (strcmp(option_defs[i].name, key) == 0) {
                                r = option_set(p, &option_defs[i], value, where, e);
                                break;
                        }
                if (r == -ENOENT)
                        return cgm_error_set(e, -EINVAL, NULL,
                                             "%s: unknown option `%s` (options: base, socket, "
                                             "kill_on_logout, kill_exempt, linger, home_grace_ms, "
                                             "exclude, "
                                             "admin_group, max_cgroups_per_user, "
                                             "requests_per_second, creates_per_second, "
                                             "connections_per_uid, nss_timeout_ms, "
                                             "session_manager, oom_notice; limits go in "
                                             "[default], [group:NAME] or [user:NAME])",
                                             where, cgm_quote(key, SIZE_MAX, qb, 48));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int policy_read_file(Policy *p, const char *path, CgmError *e)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *text = NULL;
        size_t n;

        if (!f)
                return cgm_error_set(e, -errno, NULL, "%s: cannot read: %m", path);
        text = malloc(CGM_POLICY_FILE_MAX + 1);
        if (!text)
                return cgm_error_set(e, -ENOMEM, NULL, "out of memory");
        n = fread(text, 1, CGM_POLICY_FILE_MAX + 1, f);
        if (ferror(f))
                return cgm_error_set(e, -EIO, NULL, "%s: read error", path);
        if (n > CGM_POLICY_FILE_MAX)
                return cgm_error_set(e, -EFBIG, NULL, "%s: larger than %d bytes", path,
                                     CGM_POLICY_FILE_MAX);
        if (memchr(text, '\0', n))
                return cgm_error_set(e, -EINVAL, NULL, "%s: contains a NUL byte", path);
        text[n] = '\0';
        return policy_parse(p, path, text, e);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int policy_load(Policy **policyp, const char *path, CgmError *e)
{
        Policy *p = NULL;
        char dir[1100];
        DIR *d;
        int r;

        r = policy_new(&p);
        if (r < 0)
                return cgm_error_set(e, r, NULL, "out of memory");
        if (!path) {
                path = POLICY_DEFAULT_PATH;
                if (access(path, F_OK) < 0 && errno == ENOENT) {
                        *policyp = p;
                        return 0;
                }
        }
        r = policy_read_file(p, path, e);
        if (r < 0)
                goto fail;

        snprintf(dir, sizeof(dir), "%s.d", path);
        d = opendir(dir);
        if (d) {
                char **names = NULL;
                size_t n = 0;
                struct dirent *de;
                while ((de = readdir(d))) {
                        size_t l = strlen(de->d_name);
                        char **nn;
                        if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".conf"))
                                continue;
                        if (n >= CGM_POLICY_FILES_MAX) {
                                for (size_t i = 0; i < n; i++)
                                        free(names[i]);
                                free(names);
                                closedir(d);
                                r = cgm_error_set(e, -E2BIG, NULL,
                                                  "%s: more than %d drop-in files", dir,
                                                  CGM_POLICY_FILES_MAX - 1);
                                goto fail;
                        }
                        nn = realloc(names, (n + 1) * sizeof(char *));
                        if (!nn || !(nn[n] = strdup(de->d_name))) {
                                free(nn ? nn : names);
                                closedir(d);
                                r = cgm_error_set(e, -ENOMEM, NULL, "out of memory");
                                goto fail;
                        }
                        names = nn;
                        n++;
                }
                closedir(d);
                qsort(names, n, sizeof(char *), cmp_str);
                for (size_t i = 0; i < n; i++) {
                        char file[1400];
                        snprintf(file, sizeof(file), "%s/%s", dir, names[i]);
                        if (r == 0)
                                r = policy_read_file(p, file, e);
                        free(names[i]);
                }
                free(names);
                if (r < 0)
                        goto fail;
        }
        *policyp = p;
        return 0;
fail:
        policy_free(p);
        return r;
}

static void limits_put(PolicyLimits *out, const PolicyValue *v)
{
        for (size_t i = 0; i < out->n; i++)
                if (strcmp(out->values[i]->key, v->key) == 0) {
                        out->values[i] = v;
                        return;
                }
        if (out->n < ELEMENTSOF(out->values))
                out->values[out->n++] = v;
}

void policy_resolve(const Policy *p, const char *user, const char *const *groups,
                    size_t n_groups, PolicyLimits *out)
{
        out->n = 0;
        for (size_t i = 0; i < p->n_sections; i++)
                if (p->sections[i].kind == POLICY_DEFAULT)
                        for (size_t k = 0; k < p->sections[i].n_values; k++)
                                limits_put(out, &p->sections[i].values[k]);
        /* Groups in section order, so a later section overrides an earlier one. */
        for (size_t i = 0; i < p->n_sections; i++) {
                const PolicySection *s = &p->sections[i];
                bool member = false;
                if (s->kind != POLICY_GROUP)
                        continue;
                for (size_t g = 0; g < n_groups && !member; g++)
                        member = strcmp(groups[g], s->name) == 0;
                if (member)
                        for (size_t k = 0; k < s->n_values; k++)
                                limits_put(out, &s->values[k]);
        }
        for (size_t i = 0; i < p->n_sections; i++)
                if (p->sections[i].kind == POLICY_USER && strcmp(p->sections[i].name, user) == 0)
                        for (size_t k = 0; k < p->sections[i].n_values; k++)
                                limits_put(out, &p->sections[i].values[k]);
        /* oom_notice came along as a value: it is the user's setting, not a limit. */
        out->oom_notice = policy_bool(&p->oom_notice);
        out->oom_notice_source = p->oom_notice.source;
        for (size_t i = 0; i < out->n; i++)
                if (strcmp(out->values[i]->key, "oom_notice") == 0) {
                        out->oom_notice = strcmp(out->values[i]->value, "yes") == 0;
                        out->oom_notice_source = out->values[i]->source;
                        memmove(&out->values[i], &out->values[i + 1],
                                (out->n - i - 1) * sizeof(out->values[0]));
                        out->n--;
                        break;
                }
}

bool policy_list_has(const PolicyOption *o, const char *user)
{
        char copy[sizeof(o->value)], *save = NULL;

        snprintf(copy, sizeof(copy), "%s", o->value);
        for (char *n = strtok_r(copy, " \t,", &save); n; n = strtok_r(NULL, " \t,", &save))
                if (strcmp(n, "*") == 0 || strcmp(n, user) == 0)
                        return true;
        return false;
}

bool policy_bool(const PolicyOption *o)
{
        return strcmp(o->value, "yes") == 0;
}

unsigned policy_uint(const PolicyOption *o)
{
        return (unsigned)strtoul(o->value, NULL, 10);
}
