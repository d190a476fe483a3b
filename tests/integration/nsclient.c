/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsclient: a libcgm client that changes its namespaces between requests
 *
 *   nsclient STEP...
 *
 * The one thing `cgm` cannot do for test-namespaces.sh: keep one connection while the process
 * behind it leaves its namespaces, or while its user namespace gets a uid map, and then ask
 * again. Steps run in order on one connection (opened by the first request, on $CGM_SOCKET or
 * the default socket):
 *
 *   ping                    Ping
 *   whoami                  WhoAmI: "whoami: ok uid=U home=H cgroup=C"
 *   create:PATH             Create: "create: ok PATH" (the path the reply names)
 *   unshare:user|cgroup     unshare(2) a new user or cgroup namespace
 *   setns:FILE              setns(2) into the namespace FILE (/proc/PID/ns/...)
 *   signal:FD               write one byte on fd FD
 *   wait:FD                 read one byte from fd FD (end of file is an error)
 *
 * A request that fails prints "NAME: error ERROR-NAME: MESSAGE" and the steps go on.
 * Output is line-buffered. Exit status: 0 when every request succeeded, 1 when one failed,
 * 2 when a step of its own (connect, unshare, setns, a fd) failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgm.h"

static cgm *h;
static int failed;

static void fail_local(const char *step, int err)
{
        printf("%s: failed: %s\n", step, strerror(err));
        exit(2);
}

static int open_connection(void)
{
        int r;

        if (h)
                return 0;
        r = cgm_connect(&h, NULL);
        if (r < 0) {
                printf("connect: error %s: %s\n", h && cgm_error_name(h) ? cgm_error_name(h) : "-",
                       h && cgm_error_message(h) ? cgm_error_message(h) : strerror(-r));
                exit(2);
        }
        return 0;
}

static void report(const char *name, int r)
{
        const char *en = cgm_error_name(h), *em = cgm_error_message(h);

        failed = 1;
        printf("%s: error %s: %s\n", name, en ? en : "-", em && em[0] ? em : strerror(-r));
}

static int parse_fd(const char *s, const char *step)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < 0 || v > 1024) {
                printf("%s: `%s` is not a fd\n", step, s);
                exit(2);
        }
        return (int)v;
}

static void step(const char *s)
{
        const char *arg = strchr(s, ':');
        int r;

        arg = arg ? arg + 1 : "";
        if (strcmp(s, "ping") == 0) {
                open_connection();
                r = cgm_ping(h);
                if (r < 0)
                        report("ping", r);
                else
                        printf("ping: ok\n");
        } else if (strcmp(s, "whoami") == 0) {
                char *home = NULL, *cg = NULL;
                uid_t uid;

                open_connection();
                r = cgm_whoami(h, &uid, &home, &cg, NULL, NULL);
                if (r < 0)
                        report("whoami", r);
                else
                        printf("whoami: ok uid=%u home=%s cgroup=%s\n", (unsigned)uid, home, cg);
                free(home);
                free(cg);
        } else if (strncmp(s, "create:", 7) == 0) {
                char *created = NULL;

                open_connection();
                r = cgm_create(h, arg, NULL, 0, &created);
                if (r < 0)
                        report("create", r);
                else
                        printf("create: ok %s\n", created);
                free(created);
        } else if (strncmp(s, "unshare:", 8) == 0) {
                int flag = strcmp(arg, "user") == 0     ? CLONE_NEWUSER
                           : strcmp(arg, "cgroup") == 0 ? CLONE_NEWCGROUP
                                                        : 0;

                if (!flag) {
                        printf("%s: unknown namespace\n", s);
                        exit(2);
                }
                if (unshare(flag) < 0)
                        fail_local(s, errno);
                printf("%s: ok\n", s);
        } else if (strncmp(s, "setns:", 6) == 0) {
                int fd = open(arg, O_RDONLY | O_CLOEXEC);

                if (fd < 0 || setns(fd, 0) < 0)
                        fail_local(s, errno);
                close(fd);
                printf("%s: ok\n", s);
        } else if (strncmp(s, "signal:", 7) == 0) {
                if (write(parse_fd(arg, s), "x", 1) != 1)
                        fail_local(s, errno);
        } else if (strncmp(s, "wait:", 5) == 0) {
                char c;
                ssize_t n;

                do
                        n = read(parse_fd(arg, s), &c, 1);
                while (n < 0 && errno == EINTR);
                if (n != 1)
                        fail_local(s, n < 0 ? errno : EPIPE);
        } else {
                printf("%s: unknown step\n", s);
                exit(2);
        }
}

int main(int argc, char **argv)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc < 2) {
                fputs("usage: nsclient STEP... (see the comment at the top of nsclient.c)\n", stderr);
                return 2;
        }
        for (int i = 1; i < argc; i++)
                step(argv[i]);
        cgm_free(h);
        return failed;
}
