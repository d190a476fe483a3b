/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Configuration file: the daemon's global options
 *
 * A deliberately small INI dialect: one `key = value` per line, `#` starts a comment line,
 * sections in brackets. Every problem is reported as FILE:LINE: what, and the daemon refuses
 * to start on any of them: a half-understood configuration is worse than none. Lines are
 * bounded (4 KiB) and interior NULs are refused, since the file may come from a config
 * management tool gone wrong.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "conf.h"
#include "name.h"
#include "protocol.h"
#include "units.h"

#define CONF_LINE_MAX 4096
#define CONF_SIZE_MAX (1024 * 1024)

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

static void conf_defaults(Conf *conf)
{
        *conf = (Conf){ .requests_per_second = CGM_REQUESTS_PER_SECOND_DEFAULT,
                        .creates_per_second = CGM_CREATES_PER_SECOND_DEFAULT,
                        .connections_per_uid = CGM_CONNECTIONS_PER_UID_MAX };
        snprintf(conf->base, sizeof(conf->base), "%s", CGM_DEFAULT_BASE);
        snprintf(conf->socket, sizeof(conf->socket), "%s", CGM_DEFAULT_SOCKET);
}

static int conf_uint(const char *name, unsigned line, const char *key, const char *value,
                     unsigned *out, CgmError *e)
{
        uint64_t v;
        char why[128];

        if (cgm_parse_uint(value, 1, 1000000, false, &v, why, sizeof(why)) < 0)
                return cgm_error_set(e, -EINVAL, NULL, "%s:%u: %s: %s", name, line, key, why);
        *out = (unsigned)v;
        return 0;
}

int conf_parse(Conf *conf, const char *name, const char *text, CgmError *e)
{
        bool global = true;
        unsigned lineno = 0;
        const char *p = text;

        conf_defaults(conf);
        while (*p) {
                char buf[CONF_LINE_MAX + 1], *line, *eq, *key, *value;
                size_t l = strcspn(p, "\n");

                lineno++;
                if (l > CONF_LINE_MAX)
                        return cgm_error_set(e, -EINVAL, NULL, "%s:%u: line longer than %d bytes",
                                             name, lineno, CONF_LINE_MAX);
                memcpy(buf, p, l);
                buf[l] = '\0';
                p += l + (p[l] == '\n');
                line = trim(buf);
                if (!*line || *line == '#' || *line == ';')
                        continue;
                if (*line == '[') {
                        char *close = strchr(line, ']');
                        if (!close || trim(close + 1)[0])
                                return cgm_error_set(e, -EINVAL, NULL,
                                                     "%s:%u: malformed section header `%s`", name,
                                                     lineno, line);
                        *close = '\0';
                        line = trim(line + 1);
                        if (strcmp(line, "global") == 0)
                                global = true;
                        else if (strcmp(line, "default") == 0 || strncmp(line, "group:", 6) == 0 ||
                                 strncmp(line, "user:", 5) == 0)
                                global = false; /* policy: applied by a later version */
                        else
                                return cgm_error_set(e, -EINVAL, NULL,
                                                     "%s:%u: unknown section `[%s]` (known: "
                                                     "global, default, group:NAME, user:NAME)",
                                                     name, lineno, line);
                        continue;
                }
                eq = strchr(line, '=');
                if (!eq)
                        return cgm_error_set(e, -EINVAL, NULL,
                                             "%s:%u: expected `key = value`, got `%s`", name,
                                             lineno, line);
                *eq = '\0';
                key = trim(line);
                value = trim(eq + 1);
                if (!global)
                        continue;
                if (strcmp(key, "base") == 0) {
                        if (!*value || strlen(value) >= sizeof(conf->base))
                                return cgm_error_set(e, -EINVAL, NULL, "%s:%u: bad base", name,
                                                     lineno);
                        snprintf(conf->base, sizeof(conf->base), "%s", value);
                } else if (strcmp(key, "socket") == 0) {
                        if (value[0] != '/' || strlen(value) >= sizeof(conf->socket))
                                return cgm_error_set(e, -EINVAL, NULL,
                                                     "%s:%u: socket must be an absolute path "
                                                     "shorter than %zu bytes",
                                                     name, lineno, sizeof(conf->socket));
                        snprintf(conf->socket, sizeof(conf->socket), "%s", value);
                } else if (strcmp(key, "requests_per_second") == 0) {
                        int r = conf_uint(name, lineno, key, value, &conf->requests_per_second, e);
                        if (r < 0)
                                return r;
                } else if (strcmp(key, "creates_per_second") == 0) {
                        int r = conf_uint(name, lineno, key, value, &conf->creates_per_second, e);
                        if (r < 0)
                                return r;
                } else if (strcmp(key, "connections_per_uid") == 0) {
                        int r = conf_uint(name, lineno, key, value, &conf->connections_per_uid, e);
                        if (r < 0)
                                return r;
                } else
                        return cgm_error_set(e, -EINVAL, NULL,
                                             "%s:%u: unknown option `%s` (known: base, socket, "
                                             "requests_per_second, creates_per_second, "
                                             "connections_per_uid)",
                                             name, lineno, key);
        }
        return 0;
}

int conf_load(Conf *conf, const char *path, CgmError *e)
{
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *text = NULL;
        size_t n;

        conf_defaults(conf);
        if (!path) {
                if (access(CONF_DEFAULT_PATH, F_OK) < 0)
                        return 0;
                path = CONF_DEFAULT_PATH;
        }
        f = fopen(path, "re");
        if (!f)
                return cgm_error_set(e, -errno, NULL, "cannot read %s: %m", path);
        text = malloc(CONF_SIZE_MAX + 1);
        if (!text)
                return cgm_error_set(e, -ENOMEM, NULL, "out of memory");
        n = fread(text, 1, CONF_SIZE_MAX + 1, f);
        if (n > CONF_SIZE_MAX)
                return cgm_error_set(e, -EFBIG, NULL, "%s: larger than %d bytes", path,
                                     CONF_SIZE_MAX);
        if (memchr(text, '\0', n))
                return cgm_error_set(e, -EINVAL, NULL, "%s: contains a NUL byte", path);
        text[n] = '\0';
        return conf_parse(conf, path, text, e);
}
