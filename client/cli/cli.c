/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgm CLI: option parsing, error reporting and exit codes shared by every command */

/*
 * A failed command prints exactly one line on stderr, `cgm: COMMAND PATH: MESSAGE`, where
 * MESSAGE is the daemon's own sentence (or libcgm's, when the daemon was never reached), and at
 * most one more line, `cgm: hint: ...`, when there is something useful to do next. Control
 * characters in a message are replaced, so a message can never break that shape.
 *
 * The exit code tells the class of failure (see cli.h). A "not found" from the daemon and a
 * socket that is not there both come back as ENOENT; cgm_error_name() is set only when the
 * daemon answered, which is how the two are told apart: a failure without a name is a failure
 * to reach the daemon.
 *
 * Commands parse their own options with cli_getopt(), which adds -h/--help, --json and --raw
 * to each, so `cgm ls --json` works as well as `cgm --json ls`.
 *
 * Values get units ("1.5G", "150%") only on a terminal (cli_human()): what existing scripts
 * read through a pipe stays the kernel's numbers, and --raw asks for those on a terminal too.
 */

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "protocol.h"
#include "units.h"

#define LONGOPTS_MAX 16
/* --raw's getopt value: above every character, so no command's short option can clash. */
#define OPT_RAW 0x100

bool cli_utf8(void)
{
        const char *codeset;

        /* Only LC_CTYPE: messages and number formats stay those of the C locale. */
        if (!setlocale(LC_CTYPE, ""))
                return false;
        codeset = nl_langinfo(CODESET);
        return codeset && (strcasecmp(codeset, "UTF-8") == 0 || strcasecmp(codeset, "utf8") == 0);
}

bool cli_human(const Cli *cli)
{
        return !cli->raw && !cli->json && isatty(STDOUT_FILENO);
}

const char *cli_value(const Cli *cli, const char *key, const char *raw, char *buf, size_t n)
{
        if (!cli_human(cli)) {
                snprintf(buf, n, "%s", raw ? raw : "");
                return buf;
        }
        return cgm_format_value(key, raw, buf, n);
}

int cli_getopt(Cli *cli, int argc, char **argv, const char *optstring,
               const struct option *longopts, int *exitp)
{
        struct option all[LONGOPTS_MAX + 4] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, 'J' },
                { "raw", no_argument, NULL, OPT_RAW },
        };
        char shortopts[64];
        size_t n = 3;
        bool stop_at_operand = optstring[0] == '+';
        int c;

        for (; longopts && longopts[n - 3].name && n < LONGOPTS_MAX + 3; n++)
                all[n] = longopts[n - 3];
        /* "+" stops at the first operand, ":" reports a missing argument as ':'. */
        snprintf(shortopts, sizeof(shortopts), "%s:h%s", stop_at_operand ? "+" : "",
                 optstring + stop_at_operand);

        opterr = 0;
        c = getopt_long(argc, argv, shortopts, all, NULL);
        switch (c) {
        case 'h':
                cli_help_command(cli->command);
                *exitp = CLI_EXIT_HELP_SHOWN;
                return CLI_OPT_STOP;
        case 'J':
                cli->json = true;
                return cli_getopt(cli, argc, argv, optstring, longopts, exitp);
        case OPT_RAW:
                cli->raw = true;
                return cli_getopt(cli, argc, argv, optstring, longopts, exitp);
        case ':':
                *exitp = cli_usage_error(cli, "option `%s` needs an argument", argv[optind - 1]);
                return CLI_OPT_STOP;
        case '?':
                if (optopt)
                        *exitp = cli_usage_error(cli, "unknown option `-%c`", optopt);
                else
                        *exitp = cli_usage_error(cli, "unknown option `%s`", argv[optind - 1]);
                return CLI_OPT_STOP;
        default:
                return c;
        }
}

int cli_plain_options(Cli *cli, int argc, char **argv)
{
        int code, opt;

        while ((opt = cli_getopt(cli, argc, argv, "", NULL, &code)) != -1)
                if (opt == CLI_OPT_STOP)
                        return code;
        return 0;
}

int cli_no_operands(Cli *cli, int argc, char **argv)
{
        int code = cli_plain_options(cli, argc, argv);

        if (code)
                return code;
        if (optind < argc)
                return cli_usage_error(cli, "unexpected argument `%s`", argv[optind]);
        return 0;
}

void cli_help_command(const CliCommand *c)
{
        printf("Usage: cgm [GLOBAL OPTIONS] %s %s\n\n%c%s.\n", c->name, c->args,
               toupper((unsigned char)c->summary[0]), c->summary + 1);
        if (c->details)
                printf("\n%s", c->details);
        printf("\nSee `cgm --help` for global options and exit codes.\n");
}

int cli_usage_error(const Cli *cli, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "cgm: %s: ", cli->command ? cli->command->name : "usage");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        if (cli->command)
                fprintf(stderr, "\nUsage: cgm %s %s (see `cgm %s --help`)\n", cli->command->name,
                        cli->command->args, cli->command->name);
        else
                fputs("\nSee `cgm --help`.\n", stderr);
        return CLI_EXIT_USAGE;
}

/* Print @s with control characters replaced, so that one message stays one line. */
static void print_line_safe(FILE *f, const char *s)
{
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, f);
}

void cli_warn(const Cli *cli, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        fprintf(stderr, "cgm: %s: ", cli->command ? cli->command->name : "error");
        if (r < 0) {
                msg = NULL;
                fputs("out of memory\n", stderr);
                return;
        }
        print_line_safe(stderr, msg);
        fputc('\n', stderr);
}

const char *cli_socket_path(const Cli *cli)
{
        const char *s = cli->socket;

        if (!s || !s[0])
                s = getenv("CGM_SOCKET");
        if (!s || !s[0])
                s = CGM_DEFAULT_SOCKET;
        return s;
}

static bool is_unreachable(const cgm *h, int r)
{
        if (cgm_error_name(h))
                return false;
        switch (-r) {
        case ENOENT:       /* no socket there */
        case ECONNREFUSED: /* nobody listening */
        case EACCES:       /* no permission on the socket */
        case ECONNRESET:   /* the daemon went away */
        case ETIMEDOUT:    /* the daemon does not answer */
        case ENOTCONN:
        case EPIPE:
                return true;
        default:
                return false;
        }
}

int cli_exit_code(const cgm *h, int r)
{
        if (r >= 0)
                return CLI_EXIT_OK;
        if (is_unreachable(h, r))
                return CLI_EXIT_UNREACHABLE;
        switch (-r) {
        case EACCES:
        case EPERM:
                return CLI_EXIT_PERMISSION;
        case ENOENT:
                return CLI_EXIT_NOT_FOUND;
        case EINVAL:
        case ERANGE:
        case ENAMETOOLONG:
        case E2BIG:
        case EBADF:
                return CLI_EXIT_INVALID;
        case EBUSY:
                return CLI_EXIT_BUSY;
        case EDQUOT:
        case EAGAIN:
        case ENOSPC:
        case EUSERS:
                return CLI_EXIT_LIMIT;
        case EOPNOTSUPP:
        case ENOSYS:
                return CLI_EXIT_NOT_SUPPORTED;
        case EEXIST:
                return CLI_EXIT_EXISTS;
        case ESRCH:
                return CLI_EXIT_NO_PROCESS;
        default:
                return CLI_EXIT_FAILURE;
        }
}

/* Commands that write; a refusal on the home itself means "use a child instead". */
static bool command_writes(const Cli *cli)
{
        static const char *const writers[] = { "create", "set",  "rm",   "kill",
                                               "freeze", "thaw", "move", "run" };

        for (size_t i = 0; i < ELEMENTSOF(writers); i++)
                if (cli->command && strcmp(cli->command->name, writers[i]) == 0)
                        return true;
        return false;
}

/* Commands for root and the policy's admin group (cmd-admin.c); "policy" covers its
 * subcommands, which run as "policy explain" and "policy check". */
static bool command_is_admin(const Cli *cli)
{
        static const char *const admin[] = { "sessions", "users", "policy", "reload" };
        const char *name = cli->command ? cli->command->name : "";

        for (size_t i = 0; i < ELEMENTSOF(admin); i++) {
                size_t len = strlen(admin[i]);

                if (strncmp(name, admin[i], len) == 0 && (name[len] == '\0' || name[len] == ' '))
                        return true;
        }
        return false;
}

static bool path_is_within(const char *path, const char *ancestor)
{
        size_t len = strlen(ancestor);

        while (len > 0 && ancestor[len - 1] == '/')
                len--;
        return strncmp(path, ancestor, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

static void hint_permission(const Cli *cli, cgm *h, const char *path)
{
        _cleanup_free_ char *home = NULL;
        uid_t uid;

        /* A second call to phrase the hint; if it fails too, the first line said enough. */
        if (!h || cgm_whoami(h, &uid, &home, NULL, NULL, NULL) < 0)
                return;
        if (!home[0])
                fprintf(stderr,
                        "cgm: hint: no cgroup is delegated to uid %u; log in through pam_cgm or "
                        "ask an administrator for a home\n",
                        (unsigned)uid);
        else if (command_writes(cli) && (!path || !path[0] || strcmp(path, home) == 0))
                fprintf(stderr,
                        "cgm: hint: the limits of your home %s are set from above it (by the "
                        "administrator's policy, or in a container by whoever made it); create "
                        "a child below it (cgm create NAME KEY=VALUE...) and act on that\n",
                        home);
        else if (path && path[0] == '/' && !path_is_within(path, home))
                fprintf(stderr,
                        "cgm: hint: you may act only on your home %s and below it (relative paths "
                        "start there)\n",
                        home);
}

int cli_fail(const Cli *cli, cgm *h, int r, const char *path)
{
        const char *msg = cgm_error_message(h);
        const char *name = cgm_error_name(h);
        int code = cli_exit_code(h, r);

        fprintf(stderr, "cgm: %s%s", cli->command ? cli->command->name : "error",
                path && path[0] ? " " : "");
        if (path && path[0])
                print_line_safe(stderr, path);
        fputs(": ", stderr);
        print_line_safe(stderr, msg && msg[0] ? msg : strerror(-r));
        fputc('\n', stderr);

        if (code == CLI_EXIT_UNREACHABLE) {
                const char *source = cli->socket && cli->socket[0] ? "from -s"
                                     : getenv("CGM_SOCKET") && getenv("CGM_SOCKET")[0]
                                             ? "from $CGM_SOCKET"
                                             : "the default";

                fprintf(stderr, "cgm: hint: the socket was %s (%s); %s\n", cli_socket_path(cli),
                        source,
                        -r == EACCES ? "ask an administrator for access, or use another with -s"
                                     : "if cgmd listens elsewhere, pass -s PATH or set CGM_SOCKET");
        } else if (name && strcmp(name, CGM_ERR_PERMISSION_DENIED) == 0) {
                if (command_is_admin(cli))
                        fputs("cgm: hint: these commands are for root and the admin group set by "
                              "admin_group in cgm.conf\n",
                              stderr);
                else
                        hint_permission(cli, h, path);
        } else if (name && strcmp(name, CGM_ERR_NOT_FOUND) == 0 && command_is_admin(cli)) {
                /* What was not found is a user (or a session), not a cgroup path. */
                if (path && path[0]) {
                        fputs("cgm: hint: users are looked up through NSS on cgmd's host; "
                              "`getent passwd ",
                              stderr);
                        print_line_safe(stderr, path);
                        fputs("` there shows whether it knows the name\n", stderr);
                }
        } else if (name && strcmp(name, CGM_ERR_NOT_FOUND) == 0 && path && path[0] != '/') {
                fputs("cgm: hint: relative paths start at your home; `cgm ls -r` lists what is "
                      "there\n",
                      stderr);
        } else if (code == CLI_EXIT_BUSY && cli->command &&
                   strcmp(cli->command->name, "rm") == 0) {
                fputs("cgm: hint: it still holds processes or children; -k kills the processes "
                      "first, -r removes the children\n",
                      stderr);
        }
        return code;
}

int cli_connect(const Cli *cli, cgm **hp)
{
        cgm *h = NULL;
        int r;

        r = cgm_connect(&h, cli->socket);
        if (r < 0) {
                int code = cli_fail(cli, h, r, NULL);

                cgm_free(h);
                return code;
        }
        *hp = h;
        return 0;
}

int cli_parse_settings(const Cli *cli, char *const *args, size_t n, cgm_kv **settingsp)
{
        cgm_kv *kv;

        kv = calloc(n + 1, sizeof(*kv));
        if (!kv) {
                cli_warn(cli, "out of memory");
                return CLI_EXIT_FAILURE;
        }
        for (size_t i = 0; i < n; i++) {
                const char *eq = strchr(args[i], '=');

                if (!eq || eq == args[i]) {
                        cgm_kv_free(kv, n);
                        return cli_usage_error(cli, "`%s` is not KEY=VALUE", args[i]);
                }
                kv[i].key = strndup(args[i], (size_t)(eq - args[i]));
                kv[i].value = strdup(eq + 1);
                if (!kv[i].key || !kv[i].value) {
                        cgm_kv_free(kv, n);
                        cli_warn(cli, "out of memory");
                        return CLI_EXIT_FAILURE;
                }
        }
        *settingsp = kv;
        return 0;
}

int cli_parse_uint(const char *s, unsigned long long max, unsigned long long *valuep)
{
        unsigned long long v;
        char *end;

        /* strtoull accepts leading blanks and a sign; a number here is digits only. */
        if (!s || s[0] < '0' || s[0] > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (*end)
                return -EINVAL;
        if (errno == ERANGE || v > max)
                return -ERANGE;
        *valuep = v;
        return 0;
}

int cli_parse_pid(const char *s, pid_t *pidp)
{
        unsigned long long v;
        int r;

        /* 2^22 is the kernel's PID_MAX_LIMIT; pid_t is int. */
        r = cli_parse_uint(s, 0x7fffffff, &v);
        if (r < 0)
                return r;
        if (v == 0)
                return -EINVAL;
        *pidp = (pid_t)v;
        return 0;
}

/* Drop empty and "." components, so "a//b/./" and "a/b" compare equal. */
static void path_normalize(char *p)
{
        char *out = p, *in = p;
        bool absolute = p[0] == '/';

        while (*in) {
                char *end;
                size_t len;

                while (*in == '/')
                        in++;
                end = strchrnul(in, '/');
                len = (size_t)(end - in);
                if (len == 0 || (len == 1 && in[0] == '.')) {
                        in = end;
                        continue;
                }
                if (out != p || absolute)
                        *out++ = '/';
                memmove(out, in, len);
                out += len;
                in = end;
        }
        if (out == p && absolute)
                *out++ = '/';
        *out = '\0';
}

int cli_absolute_path(const Cli *cli, cgm *h, const char *path, char **absp)
{
        _cleanup_free_ char *home = NULL;
        char *abs;
        int r;

        if (path[0] == '/') {
                abs = strdup(path);
        } else {
                r = cgm_whoami(h, NULL, &home, NULL, NULL, NULL);
                if (r < 0)
                        return cli_fail(cli, h, r, path);
                if (!home[0]) {
                        cli_warn(cli, "no cgroup is delegated to you, so `%s` names nothing; give "
                                      "an absolute path",
                                 path);
                        return CLI_EXIT_NOT_FOUND;
                }
                if (asprintf(&abs, "%s/%s", home, path) < 0)
                        abs = NULL;
        }
        if (!abs) {
                cli_warn(cli, "out of memory");
                return CLI_EXIT_FAILURE;
        }
        path_normalize(abs);
        *absp = abs;
        return 0;
}
