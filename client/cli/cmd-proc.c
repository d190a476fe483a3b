/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgm move, procs, cgroup, kill, freeze, thaw: the processes in a cgroup */

/*
 * Pids given on the command line are numbers in the caller's pid namespace; libcgm turns each
 * into a pidfd before anything is sent, so a pid that is reused between parsing and the move
 * cannot redirect it. `move` sends as many pids per call as one message may carry
 * (CGM_FDS_PER_MESSAGE_MAX) and stops at the first refusal, saying which batch failed when
 * there was more than one.
 *
 * Signal names are looked up in a table of our own rather than with sigabbrev_np(), which
 * only newer glibc has.
 */

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "json.h"
#include "protocol.h"

static const struct {
        const char *name;
        int number;
} signals[] = {
        { "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT },     { "ILL", SIGILL },
        { "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "IOT", SIGABRT },      { "BUS", SIGBUS },
        { "FPE", SIGFPE },   { "KILL", SIGKILL }, { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },
        { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },     { "TERM", SIGTERM },
        { "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },     { "TSTP", SIGTSTP },
        { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "URG", SIGURG },       { "XCPU", SIGXCPU },
        { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
        { "IO", SIGIO },     { "POLL", SIGPOLL }, { "PWR", SIGPWR },       { "SYS", SIGSYS },
};

/* "KILL", "kill", "SIGKILL", "9", "RTMIN+3"; returns 0 or -EINVAL. */
static int parse_signal(const char *s, int *sigp)
{
        unsigned long long v;

        if (isdigit((unsigned char)s[0])) {
                if (cli_parse_uint(s, 64, &v) < 0 || v == 0)
                        return -EINVAL;
                *sigp = (int)v;
                return 0;
        }
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < ELEMENTSOF(signals); i++)
                if (strcasecmp(s, signals[i].name) == 0) {
                        *sigp = signals[i].number;
                        return 0;
                }
        if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
                bool min = toupper((unsigned char)s[3]) == 'I';
                int base = min ? SIGRTMIN : SIGRTMAX;

                v = 0;
                if (s[5] && ((min && s[5] != '+') || (!min && s[5] != '-')))
                        return -EINVAL;
                if (s[5] && cli_parse_uint(s + 6, (unsigned)(SIGRTMAX - SIGRTMIN), &v) < 0)
                        return -EINVAL;
                *sigp = min ? base + (int)v : base - (int)v;
                return 0;
        }
        return -EINVAL;
}

/* One PATH operand, no options but --help/--json: freeze, thaw. */
static int path_command(Cli *cli, int argc, char **argv, int (*fn)(cgm *h, const char *path))
{
        _cleanup_(cgm_freep) cgm *h = NULL;
        const char *path;
        int code, opt, r;

        while ((opt = cli_getopt(cli, argc, argv, "", NULL, &code)) != -1)
                if (opt == CLI_OPT_STOP)
                        return code;
        if (optind >= argc)
                return cli_usage_error(cli, "missing PATH");
        path = argv[optind++];
        if (optind < argc)
                return cli_usage_error(cli, "unexpected argument `%s`", argv[optind]);

        code = cli_connect(cli, &h);
        if (code)
                return code;
        r = fn(h, path);
        if (r < 0)
                return cli_fail(cli, h, r, path);
        return CLI_EXIT_OK;
}

int cmd_freeze(Cli *cli, int argc, char **argv)
{
        return path_command(cli, argc, argv, cgm_freeze);
}

int cmd_thaw(Cli *cli, int argc, char **argv)
{
        return path_command(cli, argc, argv, cgm_thaw);
}

int cmd_kill(Cli *cli, int argc, char **argv)
{
        static const struct option options[] = {
                { "signal", required_argument, NULL, 's' },
                {},
        };
        _cleanup_(cgm_freep) cgm *h = NULL;
        unsigned n_signalled = 0;
        int sig = SIGKILL;
        const char *path;
        int code, opt, r;

        while ((opt = cli_getopt(cli, argc, argv, "s:", options, &code)) != -1) {
                if (opt == CLI_OPT_STOP)
                        return code;
                if (opt == 's' && parse_signal(optarg, &sig) < 0)
                        return cli_usage_error(cli, "`%s` is not a signal name or number", optarg);
        }
        if (optind >= argc)
                return cli_usage_error(cli, "missing PATH");
        path = argv[optind++];
        if (optind < argc)
                return cli_usage_error(cli, "unexpected argument `%s`", argv[optind]);

        code = cli_connect(cli, &h);
        if (code)
                return code;
        r = cgm_kill(h, path, sig, &n_signalled);
        if (r < 0)
                return cli_fail(cli, h, r, path);
        if (cli->json)
                printf("{\"signalled\":%u}\n", n_signalled);
        else
                printf("signalled %u process%s\n", n_signalled, n_signalled == 1 ? "" : "es");
        return CLI_EXIT_OK;
}

int cmd_move(Cli *cli, int argc, char **argv)
{
        _cleanup_(cgm_freep) cgm *h = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        const char *path;
        size_t n;
        int code, opt, r;

        while ((opt = cli_getopt(cli, argc, argv, "", NULL, &code)) != -1)
                if (opt == CLI_OPT_STOP)
                        return code;
        if (optind >= argc)
                return cli_usage_error(cli, "missing PATH");
        path = argv[optind++];
        n = (size_t)(argc - optind);
        if (n == 0)
                return cli_usage_error(cli, "missing PID");
        pids = calloc(n, sizeof(*pids));
        if (!pids) {
                cli_warn(cli, "out of memory");
                return CLI_EXIT_FAILURE;
        }
        for (size_t i = 0; i < n; i++)
                if (cli_parse_pid(argv[optind + i], &pids[i]) < 0)
                        return cli_usage_error(cli, "`%s` is not a process id",
                                               argv[optind + i]);

        code = cli_connect(cli, &h);
        if (code)
                return code;
        for (size_t done = 0; done < n; done += CGM_FDS_PER_MESSAGE_MAX) {
                size_t batch = n - done < CGM_FDS_PER_MESSAGE_MAX ? n - done
                                                                  : CGM_FDS_PER_MESSAGE_MAX;

                r = cgm_move(h, path, pids + done, batch);
                if (r < 0) {
                        code = cli_fail(cli, h, r, path);
                        if (done > 0)
                                fprintf(stderr, "cgm: hint: the first %zu processes were moved\n",
                                        done);
                        return code;
                }
        }
        return CLI_EXIT_OK;
}

int cmd_procs(Cli *cli, int argc, char **argv)
{
        static const struct option options[] = {
                { "recursive", no_argument, NULL, 'r' },
                {},
        };
        _cleanup_(cgm_freep) cgm *h = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        bool recursive = false;
        const char *path = "";
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
        r = cgm_procs(h, path, recursive, &pids, &n);
        if (r < 0)
                return cli_fail(cli, h, r, path);
        if (cli->json) {
                putchar('[');
                for (size_t i = 0; i < n; i++)
                        printf("%s%d", i > 0 ? "," : "", (int)pids[i]);
                puts("]");
        } else {
                for (size_t i = 0; i < n; i++)
                        printf("%d\n", (int)pids[i]);
        }
        return CLI_EXIT_OK;
}

int cmd_cgroup(Cli *cli, int argc, char **argv)
{
        _cleanup_(cgm_freep) cgm *h = NULL;
        _cleanup_free_ char *path = NULL;
        pid_t pid;
        int code, opt, r;

        while ((opt = cli_getopt(cli, argc, argv, "", NULL, &code)) != -1)
                if (opt == CLI_OPT_STOP)
                        return code;
        if (argc - optind != 1)
                return cli_usage_error(cli, optind >= argc ? "missing PID" : "too many operands");
        if (cli_parse_pid(argv[optind], &pid) < 0)
                return cli_usage_error(cli, "`%s` is not a process id", argv[optind]);

        code = cli_connect(cli, &h);
        if (code)
                return code;
        r = cgm_proc_cgroup(h, pid, &path);
        if (r < 0)
                return cli_fail(cli, h, r, argv[optind]);
        if (cli->json) {
                printf("{\"pid\":%d,\"cgroup\":", (int)pid);
                json_string(stdout, path);
                puts("}");
        } else {
                puts(path);
        }
        return CLI_EXIT_OK;
}
