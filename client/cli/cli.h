/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgm CLI: the command table, shared options, error reporting and exit codes */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgm.h"
#include "cleanup.h"

/*
 * Exit codes, one per class of failure, so that scripts can branch without parsing messages.
 * They are listed in `cgm --help` too; keep both in step.
 */
enum {
        CLI_EXIT_OK = 0,
        CLI_EXIT_FAILURE = 1,     /* anything not listed below */
        CLI_EXIT_USAGE = 2,       /* bad command line */
        CLI_EXIT_PERMISSION = 3,  /* EACCES, EPERM */
        CLI_EXIT_NOT_FOUND = 4,   /* the daemon's NotFound (ENOENT) */
        CLI_EXIT_INVALID = 5,     /* invalid name, value or argument (EINVAL, ERANGE, ...) */
        CLI_EXIT_BUSY = 6,        /* EBUSY */
        CLI_EXIT_LIMIT = 7,       /* limit exceeded (EDQUOT, EAGAIN) */
        CLI_EXIT_NOT_SUPPORTED = 8, /* EOPNOTSUPP */
        CLI_EXIT_EXISTS = 9,      /* EEXIST */
        CLI_EXIT_UNREACHABLE = 10, /* the daemon cannot be reached */
        CLI_EXIT_NO_PROCESS = 11, /* ESRCH */
        /* Not an exit code: --help was printed, stop and exit 0. Non-zero so that every
         * `if (code) return code;` stops the command; main() turns it into 0. */
        CLI_EXIT_HELP_SHOWN = 256,
};

DEFINE_CLEANUP(cgm *, cgm_free)

typedef struct CliCommand CliCommand;

typedef struct Cli {
        const char *socket; /* -s, or NULL for $CGM_SOCKET / the default */
        bool json;
        bool raw;           /* --raw: numbers as the kernel writes them (cli_human()) */
        const CliCommand *command;
} Cli;

struct CliCommand {
        const char *name;
        int (*run)(Cli *cli, int argc, char **argv);
        const char *args;    /* e.g. "[-r] [PATH]" */
        const char *summary; /* one line */
        const char *details; /* options, may be NULL */
};

/* Returned by cli_getopt() when the command must stop: *exitp holds the exit code. */
#define CLI_OPT_STOP (-2)

/* Commands, one file per group (cmd-*.c). Each returns an exit code. */
int cmd_ping(Cli *cli, int argc, char **argv);
int cmd_version(Cli *cli, int argc, char **argv);
int cmd_whoami(Cli *cli, int argc, char **argv);
int cmd_ls(Cli *cli, int argc, char **argv);
int cmd_tree(Cli *cli, int argc, char **argv);
int cmd_create(Cli *cli, int argc, char **argv);
int cmd_set(Cli *cli, int argc, char **argv);
int cmd_get(Cli *cli, int argc, char **argv);
int cmd_rm(Cli *cli, int argc, char **argv);
int cmd_stat(Cli *cli, int argc, char **argv);
int cmd_top(Cli *cli, int argc, char **argv);
int cmd_chown(Cli *cli, int argc, char **argv);
int cmd_move(Cli *cli, int argc, char **argv);
int cmd_procs(Cli *cli, int argc, char **argv);
int cmd_cgroup(Cli *cli, int argc, char **argv);
int cmd_kill(Cli *cli, int argc, char **argv);
int cmd_freeze(Cli *cli, int argc, char **argv);
int cmd_thaw(Cli *cli, int argc, char **argv);
int cmd_run(Cli *cli, int argc, char **argv);
int cmd_sessions(Cli *cli, int argc, char **argv);
int cmd_users(Cli *cli, int argc, char **argv);
int cmd_policy(Cli *cli, int argc, char **argv);
int cmd_reload(Cli *cli, int argc, char **argv);
int cmd_watch(Cli *cli, int argc, char **argv);

/**
 * cli_human() - print values with units ("1.5G", "150%", "max")?
 *
 * Only when stdout is a terminal and neither --raw nor --json was given: scripts, pipes and
 * JSON get the numbers as the kernel writes them.
 */
bool cli_human(const Cli *cli);

/**
 * cli_value() - @raw, the value of @key, as cli_human() wants it: with units (exact, so that
 * it can be set again: common/units.c) or unchanged; returns @buf (CGM_FORMAT_VALUE_MAX)
 */
const char *cli_value(const Cli *cli, const char *key, const char *raw, char *buf, size_t n);

/**
 * cli_getopt() - getopt_long() for a command, with -h/--help, --json and --raw built in
 * @cli:       context (--json sets cli->json, --raw cli->raw)
 * @argc:      argument count, argv[0] being the command name
 * @argv:      arguments
 * @optstring: the command's short options ("+" first to stop at the first operand)
 * @longopts:  the command's long options, may be NULL
 * @exitp:     exit code when CLI_OPT_STOP is returned
 *
 * Return: the next option character, -1 after the last one, or CLI_OPT_STOP after --help
 * (exit 0) or a usage error (exit 2, already reported).
 */
int cli_getopt(Cli *cli, int argc, char **argv, const char *optstring,
               const struct option *longopts, int *exitp);

/**
 * cli_plain_options() - parse a command that has only the built-in options (-h, --json, --raw)
 *
 * Return: 0 to go on (operands start at optind), or the exit code to return now.
 */
int cli_plain_options(Cli *cli, int argc, char **argv);

/** cli_no_operands() - cli_plain_options(), and no operand either */
int cli_no_operands(Cli *cli, int argc, char **argv);

/** cli_usage_error() - report a bad command line; returns CLI_EXIT_USAGE */
int cli_usage_error(const Cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** cli_help_command() - print the usage of one command to stdout */
void cli_help_command(const CliCommand *c);

/** cli_socket_path() - the socket that will be used: -s, $CGM_SOCKET, or the default */
const char *cli_socket_path(const Cli *cli);

/**
 * cli_connect() - connect, reporting a failure
 * @cli: context
 * @hp:  receives the handle
 *
 * Return: 0, or the exit code after the failure has been reported.
 */
int cli_connect(const Cli *cli, cgm **hp);

/** cli_exit_code() - exit code for the failure @r (negative errno) of a call on @h */
int cli_exit_code(const cgm *h, int r);

/**
 * cli_fail() - report a failed call: one line, `cgm: COMMAND PATH: MESSAGE`, plus a hint
 * @cli:  context
 * @h:    handle the call failed on (may be NULL)
 * @r:    negative errno
 * @path: the path the call was about, NULL or "" to leave it out
 *
 * May make further calls on @h to phrase the hint.
 *
 * Return: the exit code for @r.
 */
int cli_fail(const Cli *cli, cgm *h, int r, const char *path);

/** cli_warn() - print `cgm: COMMAND: MESSAGE` with @fmt */
void cli_warn(const Cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * cli_parse_settings() - parse KEY=VALUE arguments
 * @cli:         context (for messages)
 * @args:        the arguments
 * @n:           their number
 * @settingsp:   the pairs (cgm_kv_free())
 *
 * Return: 0, or an exit code after the problem has been reported.
 */
int cli_parse_settings(const Cli *cli, char *const *args, size_t n, cgm_kv **settingsp);

/** cli_parse_pid() - a positive decimal pid; returns 0 or -EINVAL */
int cli_parse_pid(const char *s, pid_t *pidp);

/** cli_parse_uint() - a decimal number up to @max; returns 0 or -EINVAL / -ERANGE */
int cli_parse_uint(const char *s, unsigned long long max, unsigned long long *valuep);

/**
 * cli_path_compare() - qsort() order of cgroup paths (char *) in which a parent comes right
 * before its subtree and siblings are in name order: '/' ranks below every other byte
 */
int cli_path_compare(const void *a, const void *b);

/**
 * cli_utf8() - does the locale (LC_CTYPE from the environment) use UTF-8? Decides between
 * the box-drawing tree and its ASCII fallback.
 */
bool cli_utf8(void);

/**
 * cli_absolute_path() - absolute path of @path: itself when absolute, else joined to the home
 * @cli:   context
 * @h:     handle (WhoAmI is asked for the home)
 * @path:  "" or a relative or absolute path
 * @absp:  result (free())
 *
 * Return: 0, or an exit code after the failure has been reported.
 */
int cli_absolute_path(const Cli *cli, cgm *h, const char *path, char **absp);
