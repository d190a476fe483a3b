/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgm create, set, get, rm, stat, chown: one cgroup and its keys */

/*
 * Thin commands: parse, make one call, print. Settings are given as KEY=VALUE words and sent
 * as they are; units ("2G", "150%") and the choice of keys are the daemon's business, so that
 * the CLI and the daemon can never disagree on what a value means. `create` prints the
 * absolute path the daemon created, which is what a script wants to keep.
 */

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"

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
                for (size_t i = 0; i < n; i++)
                        printf("%s=%s\n", values[i].key, values[i].value);
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

int cmd_stat(Cli *cli, int argc, char **argv)
{
        _cleanup_(cgm_freep) cgm *h = NULL;
        cgm_counter *counters = NULL;
        const char *path = "";
        size_t n = 0;
        int code, r;

        code = cli_plain_options(cli, argc, argv);
        if (code)
                return code;
        if (optind < argc)
                path = argv[optind++];
        if (optind < argc)
                return cli_usage_error(cli, "unexpected argument `%s`", argv[optind]);

        code = cli_connect(cli, &h);
        if (code)
                return code;
        r = cgm_stat(h, path, &counters, &n);
        if (r < 0)
                return cli_fail(cli, h, r, path);
        if (cli->json) {
                putchar('{');
                for (size_t i = 0; i < n; i++) {
                        if (i > 0)
                                putchar(',');
                        json_string(stdout, counters[i].name);
                        printf(":%" PRIu64, counters[i].value);
                }
                puts("}");
        } else {
                for (size_t i = 0; i < n; i++)
                        printf("%s %" PRIu64 "\n", counters[i].name, counters[i].value);
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
