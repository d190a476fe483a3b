/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgm create, set, get, rm, stat, chown: one cgroup and its keys */

/*
 * Thin commands: parse, make one call, print. Settings are given as KEY=VALUE words and sent
 * as they are; units ("2G", "150%") and the choice of keys are the daemon's business, so that
 * the CLI and the daemon can never disagree on what a value means. `create` prints the
 * absolute path the daemon created, which is what a script wants to keep.
 *
 * On a terminal `get` prints values with units (cli_value()), in a form that sets the same
 * value again when pasted into `cgm set`; `stat` rounds its counters instead, since they are
 * read, not set. Pipes, --raw and --json get the kernel's numbers.
 */

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "units.h"

/* create PATH [KEY=VALUE...] and set PATH KEY=VALUE... */
static int create_or_set(Cli *cli, int argc, char **argv, bool create)
{
        _cleanup_(cgm_freep) cgm *h = NULL;
        _cleanup_free_ char *created = NULL;
        cgm_kv *settings = NULL;
        const char *path;
        size_t n;
        int code, r;

        code = cli_plain_options(cli, argc, argv);
        if (code)
                return code;
        if (optind >= argc)
                return cli_usage_error(cli, "missing PATH");
        path = argv[optind++];
        n = (size_t)(argc - optind);
        if (!create && n == 0)
                return cli_usage_error(cli, "missing KEY=VALUE");
        code = cli_parse_settings(cli, argv + optind, n, &settings);
        if (code)
                return code;

        code = cli_connect(cli, &h);
        if (code == 0) {
                if (create)
                        r = cgm_create(h, path, settings, n, &created);
                else
                        r = cgm_set(h, path, settings, n);
                if (r < 0)
                        code = cli_fail(cli, h, r, path);
                else if (created)
                        puts(created);
        }
        cgm_kv_free(settings, n);
        return code;
}

int cmd_create(Cli *cli, int argc, char **argv)
{
        return create_or_set(cli, argc, argv, true);
}

int cmd_set(Cli *cli, int argc, char **argv)
{
        return create_or_set(cli, argc, argv, false);
}

int cmd_get(Cli *cli, int argc, char **argv)
{
        _cleanup_(cgm_freep) cgm *h = NULL;
        const char *const *keys;
        const char *path = "";
        cgm_kv *values = NULL;
        size_t n = 0;
        int code, r;

        code = cli_plain_options(cli, argc, argv);
        if (code)
                return code;
        if (optind < argc)
                path = argv[optind++];
        /* argv is NULL-terminated, and so the remaining operands are a key list. */
        keys = (const char *const *)(argv + optind);

        code = cli_connect(cli, &h);
        if (code)
                return code;
        r = cgm_get(h, path, keys, &values, &n);
        if (r < 0)
                return cli_fail(cli, h, r, path);
        if (cli->json) {
                json_kv_object(stdout, values, n);
                putchar('\n');
        } else {
                char buf[CGM_FORMAT_VALUE_MAX];

                for (size_t i = 0; i < n; i++)
                        printf("%s=%s\n", values[i].key,
                               cli_value(cli, values[i].key, values[i].value, buf, sizeof(buf)));
        }
        cgm_kv_free(values, n);
        return CLI_EXIT_OK;
}

int cmd_rm(Cli *cli, int argc, char **argv)
{
        static const struct option options[] = {
                { "recursive", no_argument, NULL, 'r' },
                { "kill", no_argument, NULL, 'k' },
                {},
        };
        _cleanup_(cgm_freep) cgm *h = NULL;
        unsigned flags = 0;
        const char *path;
        int code, opt, r;

        while ((opt = cli_getopt(cli, argc, argv, "rk", options, &code)) != -1) {
                if (opt == CLI_OPT_STOP)
                        return code;
                if (opt == 'r')
                        flags |= CGM_REMOVE_RECURSIVE;
                else if (opt == 'k')
                        flags |= CGM_REMOVE_KILL;
        }
        if (optind >= argc)
                return cli_usage_error(cli, "missing PATH");
        path = argv[optind++];
        if (optind < argc)
                return cli_usage_error(cli, "unexpected argument `%s`", argv[optind]);

        code = cli_connect(cli, &h);
        if (code)
                return code;
        r = cgm_remove(h, path, flags);
        if (r < 0)
                return cli_fail(cli, h, r, path);
        return CLI_EXIT_OK;
}

/* One counter, rounded on a terminal: bytes as 37.6M, CPU time in seconds. */
static void stat_print_counter(const Cli *cli, const cgm_counter *c, const char *indent)
{
        char buf[CGM_FORMAT_BYTES_MAX];
        const char *name = c->name;
        size_t len = strlen(name);

        if (!cli_human(cli)) {
                printf("%s%s %" PRIu64 "\n", indent, name, c->value);
        } else if (strcmp(name, "cpu.usage_usec") == 0) {
                printf("%s%s %" PRIu64 ".%03" PRIu64 "s\n", indent, name, c->value / 1000000,
                       c->value % 1000000 / 1000);
        } else if (strcmp(name, "memory.current") == 0 || strcmp(name, "memory.peak") == 0 ||
                   (strncmp(name, "io.", 3) == 0 && len > 5 &&
                    strcmp(name + len - 5, "bytes") == 0)) {
                cgm_format_bytes_short(c->value, buf, sizeof(buf));
                printf("%s%s %s\n", indent, name, buf);
        } else {
                printf("%s%s %" PRIu64 "\n", indent, name, c->value);
        }
}

static void stat_print_json(const cgm_counter *counters, size_t n)
{
        putchar('{');
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        putchar(',');
                json_string(stdout, counters[i].name);
                printf(":%" PRIu64, counters[i].value);
        }
        putchar('}');
}

/* stat -r: PATH and every descendant, parents before children; a cgroup removed meanwhile
 * is left out, a daemon gone away ends the command. */
static int stat_recursive(Cli *cli, cgm *h, const char *path)
{
        _cleanup_strv_ char **paths = NULL;
        _cleanup_free_ char *root = NULL;
        size_t n_paths = 0, shown = 0;
        int code, r;

        code = cli_absolute_path(cli, h, path, &root);
        if (code)
                return code;
        r = cgm_list(h, root, true, &paths);
        if (r < 0)
                return cli_fail(cli, h, r, path);
        while (paths[n_paths])
                n_paths++;
        qsort(paths, n_paths, sizeof(*paths), cli_path_compare);

        if (cli->json)
                putchar('{');
        for (size_t i = 0; i <= n_paths; i++) {
                const char *p = i == 0 ? root : paths[i - 1];
                cgm_counter *counters = NULL;
                size_t n = 0;

                r = cgm_stat(h, p, &counters, &n);
                if (r < 0) {
                        if (i > 0 && cli_exit_code(h, r) == CLI_EXIT_NOT_FOUND)
                                continue;
                        if (cli->json)
                                puts("}");
                        return cli_fail(cli, h, r, i == 0 ? path : p);
                }
                if (cli->json) {
                        if (shown > 0)
                                putchar(',');
                        json_string(stdout, p);
                        putchar(':');
                        stat_print_json(counters, n);
                } else {
                        printf("%s%s\n", shown > 0 ? "\n" : "", p);
                        for (size_t k = 0; k < n; k++)
                                stat_print_counter(cli, &counters[k], "  ");
                }
                shown++;
                cgm_counters_free(counters, n);
        }
        if (cli->json)
                puts("}");
        return CLI_EXIT_OK;
}

int cmd_stat(Cli *cli, int argc, char **argv)
{
        static const struct option options[] = {
                { "recursive", no_argument, NULL, 'r' },
                {},
        };
        _cleanup_(cgm_freep) cgm *h = NULL;
        cgm_counter *counters = NULL;
        const char *path = "";
        bool recursive = false;
        size_t n = 0;
        int code, opt, r;

        while ((opt = cli_getopt(cli, argc, argv, "r", options, &code)) != -1) {
                if (opt == CLI_OPT_STOP)
                        return code;
                if (opt == 'r')
                        recursive = true;
        }
        if (optind < argc)
                path = argv[optind++];
        if (optind < argc)
                return cli_usage_error(cli, "unexpected argument `%s`", argv[optind]);

        code = cli_connect(cli, &h);
        if (code)
                return code;
        if (recursive)
                return stat_recursive(cli, h, path);
        r = cgm_stat(h, path, &counters, &n);
        if (r < 0)
                return cli_fail(cli, h, r, path);
        if (cli->json) {
                stat_print_json(counters, n);
                putchar('\n');
        } else {
                for (size_t i = 0; i < n; i++)
                        stat_print_counter(cli, &counters[i], "");
        }
        cgm_counters_free(counters, n);
        return CLI_EXIT_OK;
}

/* A user name first, as chown(1) does; a number when no such name exists. */
static int parse_user(const char *s, uid_t *uidp)
{
        unsigned long long v;
        struct passwd *pw;

        errno = 0;
        pw = getpwnam(s);
        if (pw) {
                *uidp = pw->pw_uid;
                return 0;
        }
        if (cli_parse_uint(s, (uid_t)-1 - 1, &v) < 0)
                return -ESRCH;
        *uidp = (uid_t)v;
        return 0;
}

int cmd_chown(Cli *cli, int argc, char **argv)
{
        _cleanup_(cgm_freep) cgm *h = NULL;
        const char *path, *user;
        uid_t uid;
        int code, r;

        code = cli_plain_options(cli, argc, argv);
        if (code)
                return code;
        if (argc - optind != 2)
                return cli_usage_error(cli, argc - optind < 2 ? "missing operand"
                                                               : "too many operands");
        path = argv[optind];
        user = argv[optind + 1];
        if (parse_user(user, &uid) < 0) {
                cli_warn(cli, "no user `%s`: neither a user name nor a uid", user);
                return CLI_EXIT_INVALID;
        }

        code = cli_connect(cli, &h);
        if (code)
                return code;
        r = cgm_chown(h, path, uid);
        if (r < 0)
                return cli_fail(cli, h, r, path);
        return CLI_EXIT_OK;
}
