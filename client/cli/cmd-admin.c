/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgm sessions, users, policy explain|check, reload: administration */

/*
 * Everything here but `policy check` asks cgmd, which answers root and the members of the
 * policy's admin group and refuses everyone else with PermissionDenied (cli_fail() then says
 * who may). `policy check` needs no daemon: it links the daemon's own parser (daemon/policy.c),
 * so a file it accepts is a file cgmd accepts, and it can be run before a reload or on a
 * machine where cgmd is not running at all.
 *
 * `policy` is a command with subcommands. cmd_policy() takes the global options, looks the
 * subcommand up in its own small table and runs it with that table's entry as cli->command, so
 * that messages, usage and --help name "policy explain" or "policy check" rather than "policy".
 *
 * Tables are sorted (sessions by uid then id, users by uid) because the daemon's order is that
 * of its own bookkeeping; columns are padded to the widest cell, the last one is not padded.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "json.h"
#include "policy.h"
#include "protocol.h"

static int out_of_memory(const Cli *cli)
{
        cli_warn(cli, "out of memory");
        return CLI_EXIT_FAILURE;
}

/* ---- tables ----------------------------------------------------------------------------- */

#define TABLE_COLUMNS_MAX 5

typedef struct Table {
        size_t n_columns;
        const char *header[TABLE_COLUMNS_MAX];
        char **cells; /* row-major, n_rows * n_columns, owned */
        size_t n_rows;
} Table;

static void table_free(Table *t)
{
        for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
                free(t->cells[i]);
        free(t->cells);
}

static int table_alloc(Table *t, size_t n_rows)
{
        t->cells = calloc(n_rows * t->n_columns + 1, sizeof(*t->cells));
        if (!t->cells)
                return -ENOMEM;
        t->n_rows = n_rows;
        return 0;
}

static int table_set(Table *t, size_t row, size_t column, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int table_set(Table *t, size_t row, size_t column, const char *fmt, ...)
{
        char **cell = &t->cells[row * t->n_columns + column];
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(cell, fmt, ap);
        va_end(ap);
        if (r < 0) {
                *cell = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* Cells come from the daemon (user names from NSS among them); control characters would break
 * the columns, so they are shown as '?'. */
static void print_cell(const char *s, size_t width)
{
        size_t len = strlen(s);

        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                putchar(*p < 0x20 || *p == 0x7f ? '?' : *p);
        for (; len < width; len++)
                putchar(' ');
}

static void table_print(const Table *t)
{
        size_t width[TABLE_COLUMNS_MAX];

        for (size_t c = 0; c < t->n_columns; c++) {
                width[c] = strlen(t->header[c]);
                for (size_t r = 0; r < t->n_rows; r++) {
                        size_t len = strlen(t->cells[r * t->n_columns + c]);

                        if (len > width[c])
                                width[c] = len;
                }
        }
        for (size_t r = 0; r <= t->n_rows; r++) {
                for (size_t c = 0; c < t->n_columns; c++) {
                        const char *s = r == 0 ? t->header[c] : t->cells[(r - 1) * t->n_columns + c];
                        bool last = c + 1 == t->n_columns;

                        print_cell(s, last ? 0 : width[c]);
                        fputs(last ? "\n" : "  ", stdout);
                }
        }
}

/* ---- sessions, users -------------------------------------------------------------------- */

static int session_compare(const void *a, const void *b)
{
        const cgm_session *x = a, *y = b;

        if (x->uid != y->uid)
                return x->uid < y->uid ? -1 : 1;
        /* Natural order, so that session 9 comes before session 10. */
        return strverscmp(x->id, y->id);
}

int cmd_sessions(Cli *cli, int argc, char **argv)
{
        _cleanup_(cgm_freep) cgm *h = NULL;
        cgm_session *s = NULL;
        Table t = { .n_columns = 5, .header = { "ID", "USER", "UID", "PATH", "POPULATED" } };
        size_t n = 0;
        int code, r;

        code = cli_no_operands(cli, argc, argv);
        if (code)
                return code;
        code = cli_connect(cli, &h);
        if (code)
                return code;
        r = cgm_sessions(h, &s, &n);
        if (r < 0)
                return cli_fail(cli, h, r, NULL);
        qsort(s, n, sizeof(*s), session_compare);

        if (cli->json) {
                putchar('[');
                for (size_t i = 0; i < n; i++) {
                        printf("%s{\"id\":", i > 0 ? "," : "");
                        json_string(stdout, s[i].id);
                        printf(",\"user\":");
                        json_string(stdout, s[i].user);
                        printf(",\"uid\":%u,\"path\":", (unsigned)s[i].uid);
                        json_string(stdout, s[i].path);
                        printf(",\"populated\":%s}", s[i].populated ? "true" : "false");
                }
                puts("]");
                cgm_sessions_free(s, n);
                return CLI_EXIT_OK;
        }

        code = CLI_EXIT_OK;
        if (table_alloc(&t, n) < 0) {
                cgm_sessions_free(s, n);
                return out_of_memory(cli);
        }
        for (size_t i = 0; i < n; i++)
                if (table_set(&t, i, 0, "%s", s[i].id) < 0 ||
                    table_set(&t, i, 1, "%s", s[i].user[0] ? s[i].user : "-") < 0 ||
                    table_set(&t, i, 2, "%u", (unsigned)s[i].uid) < 0 ||
                    table_set(&t, i, 3, "%s", s[i].path) < 0 ||
                    table_set(&t, i, 4, "%s", s[i].populated ? "yes" : "no") < 0) {
                        code = out_of_memory(cli);
                        break;
                }
        if (code == CLI_EXIT_OK)
                table_print(&t);
        table_free(&t);
        cgm_sessions_free(s, n);
        return code;
}

static int user_compare(const void *a, const void *b)
{
        const cgm_user *x = a, *y = b;

        return x->uid < y->uid ? -1 : x->uid > y->uid;
}

int cmd_users(Cli *cli, int argc, char **argv)
{
        _cleanup_(cgm_freep) cgm *h = NULL;
        cgm_user *u = NULL;
        Table t = { .n_columns = 5, .header = { "UID", "NAME", "HOME", "SESSIONS", "LINGER" } };
        size_t n = 0;
        int code, r;

        code = cli_no_operands(cli, argc, argv);
        if (code)
                return code;
        code = cli_connect(cli, &h);
        if (code)
                return code;
        r = cgm_users(h, &u, &n);
        if (r < 0)
                return cli_fail(cli, h, r, NULL);
        qsort(u, n, sizeof(*u), user_compare);

        if (cli->json) {
                putchar('[');
                for (size_t i = 0; i < n; i++) {
                        printf("%s{\"uid\":%u,\"name\":", i > 0 ? "," : "", (unsigned)u[i].uid);
                        json_string(stdout, u[i].name);
                        printf(",\"home\":");
                        json_string(stdout, u[i].home);
                        printf(",\"sessions\":%u,\"lingers\":%s}", u[i].n_sessions,
                               u[i].lingers ? "true" : "false");
                }
                puts("]");
                cgm_users_free(u, n);
                return CLI_EXIT_OK;
        }

        code = CLI_EXIT_OK;
        if (table_alloc(&t, n) < 0) {
                cgm_users_free(u, n);
                return out_of_memory(cli);
        }
        for (size_t i = 0; i < n; i++)
                if (table_set(&t, i, 0, "%u", (unsigned)u[i].uid) < 0 ||
                    table_set(&t, i, 1, "%s", u[i].name[0] ? u[i].name : "-") < 0 ||
                    table_set(&t, i, 2, "%s", u[i].home) < 0 ||
                    table_set(&t, i, 3, "%u", u[i].n_sessions) < 0 ||
                    table_set(&t, i, 4, "%s", u[i].lingers ? "yes" : "no") < 0) {
                        code = out_of_memory(cli);
                        break;
                }
        if (code == CLI_EXIT_OK)
                table_print(&t);
        table_free(&t);
        cgm_users_free(u, n);
        return code;
}

/* ---- policy explain --------------------------------------------------------------------- */

/* "KEY = VALUE" parts wider than this do not push the source column of every other line. */
#define EXPLAIN_ALIGN_MAX 48

static int policy_explain(Cli *cli, int argc, char **argv)
{
        _cleanup_(cgm_freep) cgm *h = NULL;
        _cleanup_strv_ char **groups = NULL;
        cgm_policy_entry *e = NULL;
        const char *user;
        size_t n = 0, width = 0;
        uid_t uid;
        int code, r;

        code = cli_plain_options(cli, argc, argv);
        if (code)
                return code;
        if (optind >= argc)
                return cli_usage_error(cli, "missing USER");
        user = argv[optind++];
        if (optind < argc)
                return cli_usage_error(cli, "unexpected argument `%s`", argv[optind]);

        code = cli_connect(cli, &h);
        if (code)
                return code;
        r = cgm_explain_policy(h, user, &uid, &groups, &e, &n);
        if (r < 0)
                return cli_fail(cli, h, r, user);

        if (cli->json) {
                printf("{\"uid\":%u,\"groups\":[", (unsigned)uid);
                for (size_t i = 0; groups[i]; i++) {
                        if (i > 0)
                                putchar(',');
                        json_string(stdout, groups[i]);
                }
                printf("],\"entries\":[");
                for (size_t i = 0; i < n; i++) {
                        printf("%s{\"key\":", i > 0 ? "," : "");
                        json_string(stdout, e[i].key);
                        printf(",\"value\":");
                        json_string(stdout, e[i].value);
                        printf(",\"source\":");
                        json_string(stdout, e[i].source);
                        putchar('}');
                }
                puts("]}");
                cgm_policy_entries_free(e, n);
                return CLI_EXIT_OK;
        }

        printf("uid: %u\n", (unsigned)uid);
        printf("groups:%s", groups[0] ? "" : " (none)");
        for (size_t i = 0; groups[i]; i++)
                printf(" %s", groups[i]);
        putchar('\n');
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(e[i].key) + 3 + strlen(e[i].value);

                if (len > width && len <= EXPLAIN_ALIGN_MAX)
                        width = len;
        }
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(e[i].key) + 3 + strlen(e[i].value);

                printf("%s = %s%*s    # %s\n", e[i].key, e[i].value,
                       len < width ? (int)(width - len) : 0, "", e[i].source);
        }
        cgm_policy_entries_free(e, n);
        return CLI_EXIT_OK;
}

/* ---- policy check ----------------------------------------------------------------------- */

DEFINE_CLEANUP(Policy *, policy_free)

/*
 * Exit code for a failure of the policy parser, or of reading a file. Whatever the parser
 * refuses is an invalid configuration, whichever errno it chose (it passes on the key
 * checker's, EPERM for a file that is never a resource key among them); only a file that
 * cannot be read at all, or memory, is another class.
 */
static int policy_exit_code(int r)
{
        switch (-r) {
        case EACCES:
                return CLI_EXIT_PERMISSION;
        case ENOENT:
        case ENOTDIR:
                return CLI_EXIT_NOT_FOUND;
        case ENOMEM:
        case EIO:
                return CLI_EXIT_FAILURE;
        default:
                return CLI_EXIT_INVALID;
        }
}

/*
 * Read @path whole, as cgmd would: at most CGM_POLICY_FILE_MAX bytes, text only. policy_parse()
 * takes a C string and so cannot see a NUL byte, which is reported here with its line.
 */
static int read_policy_file(const Cli *cli, const char *path, char **textp)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        const char *nul;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int code = -errno;

                cli_warn(cli, "%s: cannot open: %s", path, strerror(-code));
                return policy_exit_code(code);
        }
        /* One byte more than allowed, to tell a full file from a long one. */
        text = malloc(CGM_POLICY_FILE_MAX + 2);
        if (!text)
                return out_of_memory(cli);
        while (len <= CGM_POLICY_FILE_MAX) {
                ssize_t k = read(fd, text + len, CGM_POLICY_FILE_MAX + 1 - len);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int code = -errno;

                        cli_warn(cli, "%s: cannot read: %s", path, strerror(-code));
                        return policy_exit_code(code);
                }
                if (k == 0)
                        break;
                len += (size_t)k;
        }
        if (len > CGM_POLICY_FILE_MAX) {
                cli_warn(cli, "%s: the file is larger than %d bytes, the most a policy file may "
                              "hold",
                         path, CGM_POLICY_FILE_MAX);
                return CLI_EXIT_INVALID;
        }
        text[len] = '\0';
        nul = memchr(text, '\0', len);
        if (nul) {
                size_t line = 1;

                for (const char *p = text; p < nul; p++)
                        line += *p == '\n';
                cli_warn(cli, "%s:%zu: a NUL byte; a policy file must be text", path, line);
                return CLI_EXIT_INVALID;
        }
        *textp = TAKE_PTR(text);
        return 0;
}

static int policy_check(Cli *cli, int argc, char **argv)
{
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_free_ char *text = NULL;
        CgmError e = CGM_ERROR_NULL;
        const char *file = NULL;
        int code, r;

        code = cli_plain_options(cli, argc, argv);
        if (code)
                return code;
        if (optind < argc)
                file = argv[optind++];
        if (optind < argc)
                return cli_usage_error(cli, "unexpected argument `%s`", argv[optind]);

        if (file) {
                /* This file alone: no drop-in directory, nothing else. */
                code = read_policy_file(cli, file, &text);
                if (code)
                        return code;
                r = policy_new(&p);
                if (r < 0)
                        return out_of_memory(cli);
                r = policy_parse(p, file, text, &e);
        } else {
                r = policy_load(&p, NULL, &e);
        }
        if (r < 0) {
                if (e.msg[0])
                        cli_warn(cli, "%s", e.msg);
                else
                        cli_warn(cli, "%s: %s", file ? file : POLICY_DEFAULT_PATH, strerror(-r));
                return policy_exit_code(r);
        }
        printf("%s: OK (%zu section%s)\n", file ? file : POLICY_DEFAULT_PATH, p->n_sections,
               p->n_sections == 1 ? "" : "s");
        return CLI_EXIT_OK;
}

/* ---- policy ----------------------------------------------------------------------------- */

static const CliCommand policy_commands[] = {
        { "policy explain", policy_explain, "USER",
          "every effective value for USER with the file:line it came from",
          "Asks cgmd (root and the admin group of cgm.conf). Prints `uid: N`, then\n"
          "`groups: ...`, then one `KEY = VALUE    # SOURCE` line per limit and option;\n"
          "SOURCE is FILE:LINE, or `default` for a built-in value.\n" },
        { "policy check", policy_check, "[FILE]", "validate a policy file, without cgmd",
          "With FILE, that file alone is read (no drop-in directory). Without, the\n"
          "configuration cgmd reads: " POLICY_DEFAULT_PATH " and its .d/*.conf.\n"
          "Prints `FILE: OK (N sections)`; a problem is reported as FILE:LINE: problem,\n"
          "with exit code 5.\n" },
};

int cmd_policy(Cli *cli, int argc, char **argv)
{
        int code, opt;

        /* Options before the subcommand (--json, --help) are the command's own. */
        while ((opt = cli_getopt(cli, argc, argv, "+", NULL, &code)) != -1)
                if (opt == CLI_OPT_STOP)
                        return code;
        if (optind >= argc)
                return cli_usage_error(cli, "missing `explain` or `check`");
        for (size_t i = 0; i < ELEMENTSOF(policy_commands); i++) {
                const CliCommand *c = &policy_commands[i];

                if (strcmp(c->name + strlen("policy "), argv[optind]) != 0)
                        continue;
                cli->command = c;
                argc -= optind;
                argv += optind;
                optind = 0; /* getopt starts afresh for the subcommand's options */
                return c->run(cli, argc, argv);
        }
        return cli_usage_error(cli, "unknown policy command `%s` (explain or check)",
                               argv[optind]);
}

/* ---- reload ----------------------------------------------------------------------------- */

int cmd_reload(Cli *cli, int argc, char **argv)
{
        _cleanup_(cgm_freep) cgm *h = NULL;
        int code, r;

        code = cli_no_operands(cli, argc, argv);
        if (code)
                return code;
        code = cli_connect(cli, &h);
        if (code)
                return code;
        r = cgm_reload(h);
        if (r < 0)
                return cli_fail(cli, h, r, NULL);
        return CLI_EXIT_OK;
}
