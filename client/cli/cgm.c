/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgm: command-line client for cgmd */

/*
 * main() parses the global options, looks the command up in one table and hands it the rest of
 * the command line, the command name being its argv[0]. Each command lives in a cmd-<group>.c
 * file, speaks to the daemon only through libcgm, and returns the exit code itself; nothing
 * below main() calls exit(), except the child half of `cgm run`, which must _exit().
 *
 * Exit codes are one per class of failure (cli.h, and the --help text below):
 *   0 ok, 1 other failure, 2 usage error, 3 permission denied, 4 not found, 5 invalid name,
 *   value or argument, 6 busy, 7 limit exceeded, 8 not supported, 9 exists, 10 cannot reach
 *   the daemon, 11 no such process.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "policy.h"
#include "protocol.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static int cmd_help(Cli *cli, int argc, char **argv);

/* Summaries stay within 44 columns so that `cgm --help` fits 80; details say the rest. */
static const CliCommand commands[] = {
        { "ping", cmd_ping, "", "check that cgmd answers", NULL },
        { "version", cmd_version, "", "versions of cgm and cgmd, cgmd's features", NULL },
        { "whoami", cmd_whoami, "", "your uid, home, current cgroup and limits", NULL },
        { "ls", cmd_ls, "[-r] [PATH]", "list the child cgroups of PATH",
          "  -r, --recursive   list all descendants\n" },
        { "tree", cmd_tree, "[PATH]", "PATH and its descendants as a tree",
          "Each line shows memory.max, pids.max and cpu.max where they are set.\n" },
        { "create", cmd_create, "PATH [KEY=VALUE...]", "create a cgroup with initial settings",
          "Prints the absolute path of the new cgroup.\n" },
        { "set", cmd_set, "PATH KEY=VALUE...", "set resource keys, e.g. memory.max=2G", NULL },
        { "get", cmd_get, "PATH [KEY...]", "print KEY=VALUE lines (default: every key)",
          NULL },
        { "move", cmd_move, "PATH PID...", "move processes into PATH", NULL },
        { "procs", cmd_procs, "[-r] [PATH]", "list the processes in PATH",
          "  -r, --recursive   include the processes of all descendants\n" },
        { "cgroup", cmd_cgroup, "PID", "print the cgroup a process is in", NULL },
        { "kill", cmd_kill, "[-s SIGNAL] PATH", "signal every process in PATH and below",
          "Prints how many processes were signalled (--json: {\"signalled\":N}).\n"
          "  -s, --signal SIGNAL   name (KILL, TERM, SIGTERM, ...) or number; default KILL\n" },
        { "freeze", cmd_freeze, "PATH", "freeze every process in PATH and below", NULL },
        { "thaw", cmd_thaw, "PATH", "thaw PATH and below", NULL },
        { "rm", cmd_rm, "[-r] [-k] PATH", "remove a cgroup",
          "  -r, --recursive   remove its descendants first\n"
          "  -k, --kill        kill its processes first\n" },
        { "stat", cmd_stat, "[-r] [PATH]", "usage counters (memory, cpu, pids, ...)",
          "  -r, --recursive   PATH and every cgroup below it, one block each\n"
          "On a terminal, bytes are rounded (37.6M) and cpu.usage_usec is shown in seconds;\n"
          "--raw prints the counters as the kernel gives them.\n" },
        { "watch", cmd_watch, "[-q] [PATH] [--kinds K,...]", "print events of PATH as they happen",
          "One line per event: TIME PATH KIND [count=N total=N]. Kinds: populated, empty,\n"
          "oom, oom_kill, memory_high, memory_max, pids_max, frozen, thawed, removed; lost\n"
          "says how many were dropped while cgm did not read. Ends with exit 0 after the\n"
          "cgroup's `removed` (always watched), 10 when cgmd goes away.\n"
          "  -k, --kinds K,...   only these kinds (default: all the host can report)\n"
          "  -q, --quiet         no `Watching PATH.` on stderr once subscribed\n"
          "      --json          one JSON object per line: time, id, path, kind, count, total\n" },
        { "top", cmd_top, "[-b] [-n N] [-d SECS] [-s KEY] [--depth N] [PATH]",
          "live CPU, memory, pids and io of a subtree",
          "One row per cgroup of PATH's subtree (root: every home), refreshed every\n"
          "second; q or Ctrl-C quits. CPU% is the rate between refreshes, 100 = one CPU.\n"
          "  -b, --batch         plain snapshots on stdout instead of the live screen\n"
          "  -n, --iterations N  stop after N snapshots (default: 1 with -b, else forever)\n"
          "  -d, --delay SECS    seconds between snapshots (default 1; 0.1 to 3600)\n"
          "  -s, --sort KEY      cpu (default), mem, pids, io or path\n"
          "      --depth N       only N levels below PATH (0: PATH alone)\n"
          "      --json          one JSON document per snapshot and line, raw numbers\n" },
        { "chown", cmd_chown, "PATH USER|UID",
          "delegate PATH to a user (root; in a container, its root)",
          "PATH becomes that user's home.\n" },
        { "run", cmd_run, "[-n NAME] [-p KEY=VALUE]... -- CMD [ARGS...]",
          "run CMD in a new cgroup below your home",
          "Waits for CMD, removes the cgroup (killing what is left in it) and exits with\n"
          "CMD's exit status, or 128+N when signal N killed it; 126/127 when CMD cannot be\n"
          "executed or found.\n"
          "  -n, --name NAME              name of the cgroup (default: run-PID)\n"
          "  -p, --property KEY=VALUE     a setting for it, e.g. -p memory.max=4G\n" },
        { "sessions", cmd_sessions, "", "open login sessions (root, admin group)",
          "Columns: ID USER UID PATH POPULATED; POPULATED says whether processes are still\n"
          "in the session's cgroup (a closed session's leaf stays until it is empty).\n" },
        { "users", cmd_users, "", "users with a home (root, admin group)",
          "Columns: UID NAME HOME SESSIONS LINGER; NAME is - when NSS does not know the\n"
          "uid, LINGER says whether the home outlives the user's last session.\n" },
        { "policy", cmd_policy, "explain USER | check [FILE]", "show or validate the login policy",
          "  explain USER   every effective value for USER (limits and options) with the\n"
          "                 file:line it came from; asks cgmd (root, admin group)\n"
          "  check [FILE]   validate FILE alone or, without FILE, the configuration cgmd\n"
          "                 reads (" POLICY_DEFAULT_PATH " and its .d/*.conf); cgmd is not\n"
          "                 needed. Prints `FILE: OK (N sections)`, or `FILE:LINE: problem`\n"
          "                 and exits 5\n"
          "`cgm policy COMMAND --help` shows one of them.\n" },
        { "reload", cmd_reload, "", "make cgmd re-read its policy",
          "For root and the admin group. Prints nothing on success. On a bad file cgmd\n"
          "keeps the policy it had, and the message names FILE:LINE (exit 5); test a file\n"
          "first with `cgm policy check FILE`.\n" },
        { "help", cmd_help, "[COMMAND]", "help for cgm or for one command", NULL },
};

static void help(FILE *f)
{
        fprintf(f,
                "Usage: cgm [-s|--socket PATH] [--json] [--raw] [-h|--help] [--version]\n"
                "           COMMAND [ARGS]\n"
                "\n"
                "Client for cgmd, the cgroup manager. Relative paths (and \"\" or none) are\n"
                "below your home cgroup; absolute paths are as your cgroup namespace shows them.\n"
                "\n"
                "Global options:\n"
                "  -s, --socket PATH   cgmd's socket (default: $CGM_SOCKET, else %s)\n"
                "      --json          JSON on stdout for version, whoami, ls, tree, get, procs,\n"
                "                      stat, top, cgroup, sessions, users and policy explain\n"
                "      --raw           numbers as the kernel writes them; units (1.5G, 150%%)\n"
                "                      are shown only on a terminal, never with --json\n"
                "  -h, --help          this help; `cgm COMMAND --help` for one command\n"
                "      --version       print cgm's version\n"
                "\n"
                "Commands:\n",
                CGM_DEFAULT_SOCKET);
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                const CliCommand *c = &commands[i];
                int width = (int)(strlen(c->name) + 1 + strlen(c->args));

                /* The summary beside the synopsis, or below a long one. */
                if (width <= 30)
                        fprintf(f, "  %s %s%*s  %s\n", c->name, c->args, 30 - width, "",
                                c->summary);
                else
                        fprintf(f, "  %s %s\n  %30s  %s\n", c->name, c->args, "", c->summary);
        }
        fputs("\n"
              "Exit codes:\n"
              "   0 success                     6 busy\n"
              "   1 other failure               7 limit exceeded\n"
              "   2 usage error                 8 not supported\n"
              "   3 permission denied           9 already exists\n"
              "   4 not found                  10 cannot reach cgmd\n"
              "   5 invalid name, value or     11 no such process\n"
              "     argument\n",
              f);
}

static const CliCommand *command_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

static int cmd_help(Cli *cli, int argc, char **argv)
{
        const CliCommand *c;
        int code, opt;

        while ((opt = cli_getopt(cli, argc, argv, "", NULL, &code)) != -1)
                if (opt == CLI_OPT_STOP)
                        return code;
        if (optind >= argc) {
                help(stdout);
                return CLI_EXIT_OK;
        }
        if (argc - optind > 1)
                return cli_usage_error(cli, "unexpected argument `%s`", argv[optind + 1]);
        c = command_find(argv[optind]);
        if (!c)
                return cli_usage_error(cli, "unknown command `%s`", argv[optind]);
        cli_help_command(c);
        return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },
                { "json", no_argument, NULL, 'J' },
                { "raw", no_argument, NULL, 'R' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        Cli cli = {};
        int c, code;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:s:h", options, NULL)) != -1) {
                switch (c) {
                case 's':
                        cli.socket = optarg;
                        break;
                case 'J':
                        cli.json = true;
                        break;
                case 'R':
                        cli.raw = true;
                        break;
                case 'h':
                        help(stdout);
                        return CLI_EXIT_OK;
                case 'V':
                        printf("cgm %s (API level %d)\n", PACKAGE_VERSION, CGM_API_LEVEL);
                        return CLI_EXIT_OK;
                case ':':
                        return cli_usage_error(&cli, "option `%s` needs an argument",
                                               argv[optind - 1]);
                default:
                        if (optopt)
                                return cli_usage_error(&cli, "unknown option `-%c`", optopt);
                        return cli_usage_error(&cli, "unknown option `%s`", argv[optind - 1]);
                }
        }
        if (optind >= argc) {
                help(stderr);
                return CLI_EXIT_USAGE;
        }
        cli.command = command_find(argv[optind]);
        if (!cli.command)
                return cli_usage_error(&cli, "unknown command `%s`", argv[optind]);

        argc -= optind;
        argv += optind;
        optind = 0; /* getopt starts afresh for the command's options */
        code = cli.command->run(&cli, argc, argv);
        if (code == CLI_EXIT_HELP_SHOWN)
                code = CLI_EXIT_OK;

        /* Output that did not reach its destination is a failure, as in coreutils. */
        if (fflush(stdout) != 0 || ferror(stdout)) {
                cli_warn(&cli, "cannot write the output");
                if (code == CLI_EXIT_OK)
                        code = CLI_EXIT_FAILURE;
        }
        return code;
}
