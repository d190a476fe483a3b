/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgm run: run a command in a transient cgroup */

/*
 * The sequence, and why each step is where it is:
 *
 *  1. The parent creates the cgroup, with its settings, before anything runs in it, so the
 *     command never runs unconstrained.
 *  2. It forks. The child opens a connection of its own and calls MoveSelf: the daemon takes
 *     the process from the connection's credentials, so the move is race-free and needs no
 *     pid at all. (The parent's connection belongs to the parent; a connection must never be
 *     used by two processes.) Then the child execs the command.
 *  3. The child reports a failure of its own setup through a close-on-exec pipe: end of file
 *     means exec succeeded, an int means it did not, and is the exit code to use. So the
 *     parent never mistakes "cgm could not set up" for "the command failed".
 *  4. The parent waits in a poll loop over the pipe and a signalfd. SIGINT and SIGTERM sent to
 *     cgm by another process (kill, a supervisor) are forwarded to the child. The same signals
 *     coming from the terminal are not: the child is in our process group and has already
 *     received them, and a second SIGINT makes some programs quit without cleaning up.
 *  5. Once the child is reaped the parent removes the cgroup with kill|recursive, so whatever
 *     the command left running in the background goes too. If the daemon was restarted in the
 *     meantime, the parent reconnects once.
 *  6. The exit status is the command's: its exit code, or 128+N when signal N killed it
 *     (shells do the same); 126 and 127 when it could not be executed or found.
 *  7. When a limit ended or hindered it, cgm says so on stderr, as `systemd-run --wait`
 *     does: an exit status of 137 alone does not tell an OOM kill from a `kill -9`. The
 *     cgroup's counters (Stat), read once the child is reaped and before the cgroup is
 *     removed, say it exactly, on v1 and v2 alike: memory.events.oom_kill (v1: memory.
 *     oom_control) and pids.events.max count what the kernel did, synchronously, so nothing
 *     is still on its way when the child has exited. Events would not do here: the kernel
 *     notifies pids.events only on v2, and a notification may trail the exit.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "units.h"

#define EXIT_CANNOT_EXECUTE 126
#define EXIT_NOT_FOUND 127

/* What the counters said about the limits of the command's cgroup. */
typedef struct RunLimits {
        uint64_t oom_kills;  /* memory.events oom_kill: processes the OOM killer ended */
        uint64_t pids_max;   /* pids.events max: forks refused by pids.max */
        char memory_max[32]; /* the cgroup's own limits, as read before removal ("" unknown) */
        char pids_limit[32];
} RunLimits;

/* The counters and limits of the cgroup, read once the command has ended, before removal. */
static void run_limits_read(cgm *h, RunLimits *w, const char *cgroup)
{
        static const char *const keys[] = { "memory.max", "pids.max" };
        cgm_counter *counters = NULL;
        size_t n = 0;

        if (cgm_stat(h, cgroup, &counters, &n) == 0)
                for (size_t i = 0; i < n; i++) {
                        if (strcmp(counters[i].name, "memory.events.oom_kill") == 0)
                                w->oom_kills = counters[i].value;
                        else if (strcmp(counters[i].name, "pids.events.max") == 0)
                                w->pids_max = counters[i].value;
                }
        cgm_counters_free(counters, n);
        if (w->oom_kills == 0 && w->pids_max == 0)
                return; /* the limits are only read for a message */
        /* One key per call: a key whose controller is not there must not hide the other. */
        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                const char *one[] = { keys[k], NULL };
                char *out = k == 0 ? w->memory_max : w->pids_limit;
                cgm_kv *values = NULL;

                if (cgm_get(h, cgroup, one, &values, &n) == 0 && n == 1)
                        snprintf(out, sizeof(w->memory_max), "%s", values[0].value);
                cgm_kv_free(values, n);
        }
}

/* The limit's value for a message: "32M" for a byte count, else as read ("max", "4"). */
static void limit_text(const char *raw, bool bytes, char *buf, size_t size)
{
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(raw, &end, 10);
        if (bytes && raw[0] && !*end && errno == 0)
                cgm_format_bytes(v, buf, size);
        else
                snprintf(buf, size, "%s", raw);
}

/* One line per limit that ended or hindered the command, like `systemd-run --wait`. */
static void run_limits_report(const Cli *cli, const RunLimits *w, const char *cgroup,
                             const char *command, pid_t child, int status)
{
        const char *comm = strrchr(command, '/') ? strrchr(command, '/') + 1 : command;
        char limit[32];

        if (w->oom_kills > 0) {
                char what[256], why[128];

                if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
                        snprintf(what, sizeof(what), "%s (PID %d)", comm, (int)child);
                else
                        snprintf(what, sizeof(what), "%llu process%s",
                                 (unsigned long long)w->oom_kills,
                                 w->oom_kills == 1 ? "" : "es");
                limit_text(w->memory_max, true, limit, sizeof(limit));
                if (w->memory_max[0] && strcmp(w->memory_max, "max") != 0)
                        snprintf(why, sizeof(why),
                                 "memory.max (%s) was reached; raise it with -p memory.max=SIZE",
                                 limit);
                else
                        snprintf(why, sizeof(why),
                                 "the memory limit of a cgroup above it was reached (`cgm "
                                 "whoami` shows your home's)");
                cli_warn(cli, "the kernel's OOM killer killed %s in %s: %s", what, cgroup, why);
                if (w->oom_kills > 1 && WIFSIGNALED(status))
                        cli_warn(cli, "%llu processes were OOM-killed in %s in all",
                                 (unsigned long long)w->oom_kills, cgroup);
        }
        if (w->pids_max > 0) {
                limit_text(w->pids_limit, false, limit, sizeof(limit));
                if (w->pids_limit[0] && strcmp(w->pids_limit, "max") != 0)
                        cli_warn(cli, "pids.max (%s) was reached %llu time%s: forks failed", limit,
                                 (unsigned long long)w->pids_max, w->pids_max == 1 ? "" : "s");
                else
                        cli_warn(cli, "the pids limit of a cgroup above %s was reached %llu "
                                      "time%s: forks failed",
                                 cgroup, (unsigned long long)w->pids_max,
                                 w->pids_max == 1 ? "" : "s");
        }
}

/* The child half: never returns. */
static void run_child(const Cli *cli, const char *cgroup, char **command, int report_fd,
                      const sigset_t *mask)
{
        cgm *h = NULL;
        int code, r, e;

        sigprocmask(SIG_SETMASK, mask, NULL);
        r = cgm_connect(&h, cli->socket);
        if (r >= 0)
                r = cgm_move_self(h, cgroup);
        if (r < 0) {
                code = cli_fail(cli, h, r, cgroup);
                cgm_free(h);
                goto fail;
        }
        cgm_free(h);

        execvp(command[0], command);
        e = errno;
        cli_warn(cli, "%s: %s", command[0], strerror(e));
        code = e == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE;
fail:
        fflush(stderr);
        if (write(report_fd, &code, sizeof(code)) < 0) {
                /* The parent is gone; the exit code is all that is left. */
        }
        _exit(code);
}

/* Wait for the child, forwarding signals; returns its wait status, or -errno. */
static int run_wait(pid_t child, int signal_fd, int report_fd, int *setup_codep)
{
        struct pollfd fds[2] = {
                { .fd = signal_fd, .events = POLLIN },
                { .fd = report_fd, .events = POLLIN },
        };
        int status = 0;

        for (;;) {
                struct signalfd_siginfo si;
                nfds_t n = fds[1].fd >= 0 ? 2 : 1;

                if (poll(fds, n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 2 && fds[1].revents) {
                        int code;
                        ssize_t len = read(report_fd, &code, sizeof(code));

                        if (len == (ssize_t)sizeof(code))
                                *setup_codep = code;
                        if (len >= 0 || errno != EINTR)
                                fds[1].fd = -1; /* exec happened, or the child told us why not */
                }
                if (!(fds[0].revents & POLLIN))
                        continue;
                if (read(signal_fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
                        continue;
                if (si.ssi_signo != SIGCHLD) {
                        if (si.ssi_code != SI_KERNEL)
                                kill(child, (int)si.ssi_signo);
                        continue;
                }
                /* SIGCHLDs coalesce, so every one means "look", not "one has exited". */
                if (waitpid(child, &status, WNOHANG) == child)
                        break;
        }
        /* The child writes its report before it exits, so it is readable now if there is one. */
        if (fds[1].fd >= 0) {
                int code;

                if (read(report_fd, &code, sizeof(code)) == (ssize_t)sizeof(code))
                        *setup_codep = code;
        }
        return status;
}

static int run_remove(const Cli *cli, cgm **hp, const char *cgroup)
{
        int r;

        r = cgm_remove(*hp, cgroup, CGM_REMOVE_KILL | CGM_REMOVE_RECURSIVE);
        if (r < 0 && cli_exit_code(*hp, r) == CLI_EXIT_UNREACHABLE) {
                cgm_free(*hp);
                *hp = NULL;
                if (cli_connect(cli, hp) != 0)
                        return CLI_EXIT_UNREACHABLE;
                r = cgm_remove(*hp, cgroup, CGM_REMOVE_KILL | CGM_REMOVE_RECURSIVE);
        }
        if (r < 0)
                return cli_fail(cli, *hp, r, cgroup);
        return 0;
}

int cmd_run(Cli *cli, int argc, char **argv)
{
        static const struct option options[] = {
                { "name", required_argument, NULL, 'n' },
                { "property", required_argument, NULL, 'p' },
                {},
        };
        _cleanup_(cgm_freep) cgm *h = NULL;
        _cleanup_free_ char *created = NULL;
        _cleanup_free_ char **props = NULL;
        _cleanup_close_ int signal_fd = -1;
        int report[2] = { -1, -1 };
        cgm_kv *settings = NULL;
        sigset_t mask, old_mask, pending;
        char default_name[32];
        const char *name = NULL;
        size_t n_props = 0;
        int code, opt, r, status = 0, setup_code = 0;
        RunLimits limits = {};
        pid_t child = -1;

        props = calloc((size_t)argc + 1, sizeof(*props));
        if (!props) {
                cli_warn(cli, "out of memory");
                return CLI_EXIT_FAILURE;
        }
        while ((opt = cli_getopt(cli, argc, argv, "+n:p:", options, &code)) != -1) {
                if (opt == CLI_OPT_STOP)
                        return code;
                if (opt == 'n')
                        name = optarg;
                else if (opt == 'p')
                        props[n_props++] = optarg;
        }
        if (optind >= argc)
                return cli_usage_error(cli, "missing CMD");
        if (!name) {
                snprintf(default_name, sizeof(default_name), "run-%d", (int)getpid());
                name = default_name;
        }
        code = cli_parse_settings(cli, props, n_props, &settings);
        if (code)
                return code;

        code = cli_connect(cli, &h);
        if (code) {
                cgm_kv_free(settings, n_props);
                return code;
        }

        /* Blocked from before the cgroup exists, so that no signal can leave it behind. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, &old_mask);

        r = cgm_create(h, name, settings, n_props, &created);
        cgm_kv_free(settings, n_props);
        if (r < 0) {
                code = cli_fail(cli, h, r, name);
                goto out_mask;
        }
        if (sigpending(&pending) == 0 &&
            (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM))) {
                run_remove(cli, &h, created);
                code = 128 + (sigismember(&pending, SIGINT) ? SIGINT : SIGTERM);
                goto out_mask;
        }

        signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (signal_fd < 0 || pipe2(report, O_CLOEXEC) < 0) {
                cli_warn(cli, "cannot set up: %s", strerror(errno));
                code = CLI_EXIT_FAILURE;
                goto out_remove;
        }
        fflush(stdout);
        fflush(stderr);
        child = fork();
        if (child < 0) {
                cli_warn(cli, "cannot fork: %s", strerror(errno));
                code = CLI_EXIT_FAILURE;
                goto out_remove;
        }
        if (child == 0) {
                close(report[0]);
                close(signal_fd);
                run_child(cli, created, argv + optind, report[1], &old_mask);
        }
        report[1] = safe_close(report[1]);

        status = run_wait(child, signal_fd, report[0], &setup_code);
        if (status < 0) {
                /* poll() failing leaves no way to wait; do not leave the child unsupervised. */
                cli_warn(cli, "cannot wait for the command: %s", strerror(-status));
                kill(child, SIGKILL);
                waitpid(child, &status, 0);
                code = CLI_EXIT_FAILURE;
        } else if (setup_code) {
                code = setup_code;
        } else if (WIFEXITED(status)) {
                code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
                code = 128 + WTERMSIG(status);
        } else {
                code = CLI_EXIT_FAILURE;
        }
        if (!setup_code && status >= 0)
                run_limits_read(h, &limits, created);

out_remove:
        /* The command's status is what the caller asked for; a failed clean-up is reported,
         * not substituted for it. */
        run_remove(cli, &h, created);
        if (child > 0 && !setup_code && status >= 0)
                run_limits_report(cli, &limits, created, argv[optind], child, status);
out_mask:
        safe_close(report[0]);
        safe_close(report[1]);
        signal_fd = safe_close(signal_fd);
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        return code;
}
