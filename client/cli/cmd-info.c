/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgm ping, version, whoami: what the daemon is and who the caller is */

/*
 * These commands change nothing. Each prints text for people by default and, with --json, one
 * JSON object on stdout. The text forms are `name: value` lines so that they also grep well.
 */

#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"
#include "cli.h"
#include "json.h"
#include "protocol.h"
#include "units.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

int cmd_ping(Cli *cli, int argc, char **argv)
{
        _cleanup_(cgm_freep) cgm *h = NULL;
        int code, r;

        code = cli_no_operands(cli, argc, argv);
        if (code)
                return code;
        code = cli_connect(cli, &h);
        if (code)
                return code;
        r = cgm_ping(h);
        if (r < 0)
                return cli_fail(cli, h, r, NULL);
        if (cli->json)
                printf("{\"ok\":true}\n");
        else
                printf("cgmd is alive\n");
        return CLI_EXIT_OK;
}

int cmd_version(Cli *cli, int argc, char **argv)
{
        _cleanup_(cgm_freep) cgm *h = NULL;
        _cleanup_free_ char *version = NULL;
        _cleanup_strv_ char **features = NULL;
        unsigned level = 0;
        int code, r;

        code = cli_no_operands(cli, argc, argv);
        if (code)
                return code;
        code = cli_connect(cli, &h);
        if (code)
                return code;
        r = cgm_version(h, &version, &level, &features);
        if (r < 0)
                return cli_fail(cli, h, r, NULL);

        if (cli->json) {
                printf("{\"client\":{\"version\":");
                json_string(stdout, PACKAGE_VERSION);
                printf(",\"api_level\":%d},\"daemon\":{\"version\":", CGM_API_LEVEL);
                json_string(stdout, version);
                printf(",\"api_level\":%u,\"features\":[", level);
                for (size_t i = 0; features[i]; i++) {
                        if (i > 0)
                                putchar(',');
                        json_string(stdout, features[i]);
                }
                printf("]}}\n");
                return CLI_EXIT_OK;
        }
        printf("cgm: %s (API level %d)\n", PACKAGE_VERSION, CGM_API_LEVEL);
        printf("cgmd: %s (API level %u)\n", version, level);
        printf("features:");
        for (size_t i = 0; features[i]; i++)
                printf(" %s", features[i]);
        putchar('\n');
        if (level < CGM_API_LEVEL)
                printf("note: cgmd is older than cgm; newer commands may fail with \"not "
                       "supported\"\n");
        return CLI_EXIT_OK;
}

int cmd_whoami(Cli *cli, int argc, char **argv)
{
        _cleanup_(cgm_freep) cgm *h = NULL;
        _cleanup_free_ char *home = NULL, *cgroup = NULL;
        cgm_kv *limits = NULL;
        size_t n_limits = 0;
        uid_t uid;
        int code, r;

        code = cli_no_operands(cli, argc, argv);
        if (code)
                return code;
        code = cli_connect(cli, &h);
        if (code)
                return code;
        r = cgm_whoami(h, &uid, &home, &cgroup, &limits, &n_limits);
        if (r < 0)
                return cli_fail(cli, h, r, NULL);

        if (cli->json) {
                printf("{\"uid\":%u,\"home\":", (unsigned)uid);
                json_string(stdout, home);
                printf(",\"cgroup\":");
                json_string(stdout, cgroup);
                printf(",\"limits\":");
                json_kv_object(stdout, limits, n_limits);
                printf("}\n");
        } else {
                printf("uid: %u\n", (unsigned)uid);
                printf("home: %s\n", home[0] ? home : "(none delegated)");
                printf("cgroup: %s\n", cgroup);
                printf("limits:%s\n", n_limits ? "" : " (none)");
                for (size_t i = 0; i < n_limits; i++) {
                        char buf[CGM_FORMAT_VALUE_MAX];

                        printf("  %s=%s\n", limits[i].key,
                               cli_value(cli, limits[i].key, limits[i].value, buf, sizeof(buf)));
                }
        }
        cgm_kv_free(limits, n_limits);
        return CLI_EXIT_OK;
}
