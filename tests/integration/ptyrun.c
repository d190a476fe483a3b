/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ptyrun: run a command on a new pseudo-terminal and keep what the terminal shows
 *
 *     ptyrun [--owner UID] [--quiet-ms MS] OUTFILE -- CMD [ARG...]
 *
 * For the OOM notice test (test-notify-tty.sh): a login needs a terminal that cgmd may write
 * to, and the test needs to see what was written there. ptyrun opens a new pty
 * (posix_openpt), gives the slave to UID when asked (as login(1) does for the user: the
 * terminal is then "owned by the session's user"), puts the slave in raw mode so the file
 * shows the bytes exactly as written, and runs CMD in a new session with the slave as its
 * controlling terminal and stdio, its name in the environment as PTYRUN_TTY (/dev/pts/N).
 * Everything the pty shows is appended to OUTFILE as it arrives (the test may wait for a
 * line there while CMD runs). ptyrun ends when CMD has exited and the pty has been quiet for
 * --quiet-ms (300 by default), or after 10 minutes in any case; its exit status is CMD's
 * (128+N for a signal), 125 for its own errors.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define TOTAL_MS (10 * 60 * 1000)

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int usage(void)
{
        fprintf(stderr, "usage: ptyrun [--owner UID] [--quiet-ms MS] OUTFILE -- CMD [ARG...]\n");
        return 125;
}

int main(int argc, char **argv)
{
        long owner = -1, quiet_ms = 300;
        const char *outfile;
        struct termios tio;
        int master, slave, out, status = 0, i = 1;
        bool exited = false;
        long long last, start;
        char *name;
        pid_t pid;

        for (; i < argc && strncmp(argv[i], "--", 2) == 0 && argv[i][2]; i += 2) {
                if (i + 1 >= argc)
                        return usage();
                if (strcmp(argv[i], "--owner") == 0)
                        owner = strtol(argv[i + 1], NULL, 10);
                else if (strcmp(argv[i], "--quiet-ms") == 0)
                        quiet_ms = strtol(argv[i + 1], NULL, 10);
                else
                        return usage();
        }
        if (i + 2 >= argc || strcmp(argv[i + 1], "--") != 0)
                return usage();
        outfile = argv[i];
        argv += i + 2;

        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
            !(name = ptsname(master))) {
                perror("ptyrun: posix_openpt");
                return 125;
        }
        name = strdup(name);
        if (!name)
                return 125;
        if (owner >= 0 && chown(name, (uid_t)owner, (gid_t)-1) < 0) {
                perror("ptyrun: chown");
                return 125;
        }
        /* Held open here too, so the pty stays up after CMD has closed its side. */
        slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0 || tcgetattr(slave, &tio) < 0) {
                perror("ptyrun: slave");
                return 125;
        }
        cfmakeraw(&tio);
        (void)tcsetattr(slave, TCSANOW, &tio);
        out = open(outfile, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
        if (out < 0) {
                perror("ptyrun: OUTFILE");
                return 125;
        }

        pid = fork();
        if (pid < 0)
                return 125;
        if (pid == 0) {
                int fd;
                if (setsid() < 0)
                        _exit(125);
                fd = open(name, O_RDWR); /* the session leader's first tty: its controlling one */
                if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0)
                        _exit(125);
                if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                        _exit(125);
                if (fd > 2)
                        close(fd);
                setenv("PTYRUN_TTY", name, 1);
                execvp(argv[0], argv);
                _exit(127);
        }

        start = last = now_ms();
        for (;;) {
                struct pollfd pf = { .fd = master, .events = POLLIN };
                char buf[4096];
                long long t = now_ms();
                int wait_ms;
                if (!exited && waitpid(pid, &status, WNOHANG) == pid)
                        exited = true;
                if ((exited && t - last >= quiet_ms) || t - start >= TOTAL_MS)
                        break;
                wait_ms = exited ? (int)(quiet_ms - (t - last)) : 50;
                if (wait_ms < 1)
                        wait_ms = 1;
                if (poll(&pf, 1, wait_ms) > 0 && (pf.revents & POLLIN)) {
                        ssize_t l = read(master, buf, sizeof(buf));
                        if (l > 0) {
                                if (write(out, buf, (size_t)l) != l)
                                        return 125;
                                last = now_ms();
                        }
                }
        }
        if (!exited) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                fprintf(stderr, "ptyrun: gave up after %d s\n", TOTAL_MS / 1000);
                return 125;
        }
        close(out);
        close(slave);
        close(master);
        free(name);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
