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

#define EXIT_CANNOT_EXECUTE 126
#define EXIT_NOT_FOUND 127

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
        int code, opt, r, status, setup_code = 0;
        pid_t child;

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

out_remove:
        /* The command's status is what the caller asked for; a failed clean-up is reported,
         * not substituted for it. */
        run_remove(cli, &h, created);
out_mask:
        safe_close(report[0]);
        safe_close(report[1]);
        signal_fd = safe_close(signal_fd);
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        return code;
}
