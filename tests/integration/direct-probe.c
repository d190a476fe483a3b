/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* direct-probe: one libcgm read, printed so that two runs can be compared byte for byte
 *
 *   direct-probe [-n COUNT] get PATH [KEY]... | stat PATH | list PATH [-r] | procs PATH [-r] |
 *                whoami | set PATH KEY=VALUE...
 *
 * A test tool for tests/integration/test-direct.sh, which runs it with CGM_DIRECT=0 (every
 * read through cgmd) and CGM_DIRECT=1 (libcgm reads cgroupfs itself where it can) and
 * compares the output: the values, or on failure the errno, the D-Bus error name and the
 * message. -n repeats the read COUNT times on one handle (printing the last answer), so that
 * a trace can tell whether the reads after the first went to the daemon.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgm.h"

static int usage(void)
{
        fprintf(stderr, "usage: direct-probe [-n COUNT] get PATH [KEY]... | stat PATH | "
                        "list PATH [-r] | procs PATH [-r] | whoami | set PATH KEY=VALUE...\n");
        return 2;
}

/* Output collects in a buffer, so that only the last of -n answers is printed. */
static char out[1 << 20];
static size_t out_len;

static void put(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void put(const char *fmt, ...)
{
        va_list ap;
        int l;

        va_start(ap, fmt);
        l = vsnprintf(out + out_len, sizeof(out) - out_len, fmt, ap);
        va_end(ap);
        if (l > 0)
                out_len += (size_t)l < sizeof(out) - out_len ? (size_t)l : 0;
}

static int once(cgm *h, int argc, char **argv)
{
        const char *op = argv[0];
        bool recursive = argc > 2 && strcmp(argv[2], "-r") == 0;
        int r;

        out_len = 0;
        out[0] = '\0';
        if (strcmp(op, "get") == 0 && argc >= 2) {
                cgm_kv *kv = NULL;
                size_t n = 0;
                r = cgm_get(h, argv[1], (const char *const *)(argc > 2 ? argv + 2 : NULL), &kv, &n);
                for (size_t i = 0; r == 0 && i < n; i++)
                        put("%s=%s\n", kv[i].key, kv[i].value);
                if (r == 0)
                        cgm_kv_free(kv, n);
        } else if (strcmp(op, "stat") == 0 && argc == 2) {
                cgm_counter *c = NULL;
                size_t n = 0;
                r = cgm_stat(h, argv[1], &c, &n);
                /* Usage moves between two runs; the names, their order and the settled
                 * values do not. */
                for (size_t i = 0; r == 0 && i < n; i++) {
                        bool settled = strcmp(c[i].name, "pids.max") == 0 ||
                                       strcmp(c[i].name, "populated") == 0 ||
                                       strcmp(c[i].name, "frozen") == 0;
                        if (settled)
                                put("%s=%llu\n", c[i].name, (unsigned long long)c[i].value);
                        else
                                put("%s\n", c[i].name);
                }
                if (r == 0)
                        cgm_counters_free(c, n);
        } else if (strcmp(op, "list") == 0 && argc >= 2) {
                char **v = NULL;
                r = cgm_list(h, argv[1], recursive, &v);
                for (size_t i = 0; r == 0 && v[i]; i++)
                        put("%s\n", v[i]);
                if (r == 0)
                        cgm_strv_free(v);
        } else if (strcmp(op, "procs") == 0 && argc >= 2) {
                pid_t *p = NULL;
                size_t n = 0;
                r = cgm_procs(h, argv[1], recursive, &p, &n);
                for (size_t i = 0; r == 0 && i < n; i++)
                        put("%d\n", (int)p[i]);
                if (r == 0)
                        free(p);
        } else if (strcmp(op, "set") == 0 && argc >= 3) {
                cgm_kv kv[32];
                size_t n = 0;
                for (int i = 2; i < argc && n < 32; i++) {
                        char *eq = strchr(argv[i], '=');
                        if (!eq)
                                return usage();
                        kv[n++] = (cgm_kv){ .key = strndup(argv[i], (size_t)(eq - argv[i])),
                                            .value = eq + 1 };
                }
                r = cgm_set(h, argv[1], kv, n);
                for (size_t i = 0; i < n; i++)
                        free(kv[i].key);
                if (r == 0)
                        put("set\n");
        } else if (strcmp(op, "whoami") == 0) {
                uid_t uid;
                char *home = NULL, *cg = NULL;
                cgm_kv *kv = NULL;
                size_t n = 0;
                r = cgm_whoami(h, &uid, &home, &cg, &kv, &n);
                if (r == 0) {
                        put("uid=%u\nhome=%s\ncgroup=%s\n", (unsigned)uid, home, cg);
                        for (size_t i = 0; i < n; i++)
                                put("limit %s=%s\n", kv[i].key, kv[i].value);
                        free(home);
                        free(cg);
                        cgm_kv_free(kv, n);
                }
        } else {
                return usage();
        }
        if (r < 0)
                put("error %d %s: %s\n", r, cgm_error_name(h) ? cgm_error_name(h) : "-",
                    cgm_error_message(h));
        return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
        cgm *h = NULL;
        long count = 1;
        int r = 0;

        if (argc > 2 && strcmp(argv[1], "-n") == 0) {
                count = strtol(argv[2], NULL, 10);
                argc -= 2;
                argv += 2;
        }
        if (argc < 2 || count < 1 || count > 100000)
                return usage();
        if (cgm_connect(&h, NULL) < 0) {
                fprintf(stderr, "direct-probe: %s\n", h ? cgm_error_message(h) : "out of memory");
                cgm_free(h);
                return 10;
        }
        for (long i = 0; i < count; i++) {
                r = once(h, argc - 1, argv + 1);
                if (r == 2)
                        break;
        }
        fputs(out, stdout);
        cgm_free(h);
        return r;
}
