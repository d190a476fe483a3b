/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* faulthelper: small programs tests/fault/test-fault.sh needs and the shell lacks
 *
 *   faulthelper deadlog PATH N
 *       Bind a Unix datagram socket at PATH (mode 0666), print "ready", print the first N
 *       datagrams it receives (one line each) and then never read again: a syslog daemon that
 *       hangs. Its queue fills after net.unix.max_dgram_qlen more lines, and a blocking sender
 *       then blocks. Runs until killed.
 *
 *   faulthelper hold SOCKET TIMEOUT_MS
 *       A client that keeps one connection to cgmd: connect and Ping, print "ready" (or
 *       "error NAME: MESSAGE" and exit 1), then Ping once for every line read on stdin and
 *       print "ok" or "error NAME: MESSAGE" for it. Exits 0 at end of input.
 *
 *   faulthelper raw SOCKET
 *       Connect a plain stream socket to SOCKET without waiting (the listen backlog may be
 *       full) and say nothing on it: print "connected" or "refused ERRNO-TEXT", then wait for
 *       the end of stdin. A client that occupies a connection and never authenticates.
 *
 *   faulthelper login SOCKET USER XDG_ID
 *       A login as pam_cgm makes it: OpenSession for USER with xdg_session_id XDG_ID, which
 *       moves this process into the new session leaf; print "ready ID PATH" (or "error NAME:
 *       MESSAGE" and exit 1), then for every line read on stdin CloseSession and print "ok" or
 *       "error NAME: MESSAGE" for it. Exits 0 at end of input.
 *
 * Output is line-buffered so the test can wait for a line.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cgm.h"

static int deadlog(const char *path, int n)
{
        char buf[2048];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "deadlog: path too long\n");
                return 1;
        }
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0) {
                fprintf(stderr, "deadlog: %s: %s\n", path, strerror(errno));
                return 1;
        }
        printf("ready\n");
        for (int i = 0; i < n; i++) {
                ssize_t l = recv(fd, buf, sizeof(buf) - 1, 0);
                if (l < 0)
                        return 1;
                buf[l] = '\0';
                buf[strcspn(buf, "\n")] = '\0';
                printf("%s\n", buf);
        }
        for (;;)
                pause();
}

static int raw(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char line[64];
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path))
                return 2;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                printf("refused %s\n", strerror(errno));
                return 1;
        }
        printf("connected\n");
        while (fgets(line, sizeof(line), stdin))
                ;
        close(fd);
        return 0;
}

static void print_error(cgm *h, int r)
{
        const char *name = cgm_error_name(h), *msg = cgm_error_message(h);

        printf("error %s: %s\n", name ? name : "(none)", msg && *msg ? msg : strerror(-r));
}

static int hold(const char *socket, int timeout_ms)
{
        cgm *h = NULL;
        char line[256];
        int r;

        r = cgm_connect(&h, socket);
        if (r < 0) {
                print_error(h, r);
                cgm_free(h);
                return 1;
        }
        cgm_set_timeout(h, timeout_ms);
        r = cgm_ping(h);
        if (r < 0) {
                print_error(h, r);
                cgm_free(h);
                return 1;
        }
        printf("ready\n");
        while (fgets(line, sizeof(line), stdin)) {
                r = cgm_ping(h);
                if (r < 0)
                        print_error(h, r);
                else
                        printf("ok\n");
        }
        cgm_free(h);
        return 0;
}

static int login(const char *socket, const char *user, const char *xdg_id)
{
        char key[] = "xdg_session_id", *value = (char *)xdg_id, *id = NULL, *path = NULL;
        cgm_kv info = { .key = key, .value = value };
        cgm *h = NULL;
        char line[256];
        int r;

        r = cgm_connect(&h, socket);
        if (r == 0)
                r = cgm_open_session(h, user, &info, 1, &id, &path);
        if (r < 0) {
                print_error(h, r);
                cgm_free(h);
                return 1;
        }
        printf("ready %s %s\n", id, path);
        while (fgets(line, sizeof(line), stdin)) {
                r = cgm_close_session(h, id);
                if (r < 0)
                        print_error(h, r);
                else
                        printf("ok\n");
        }
        free(id);
        free(path);
        cgm_free(h);
        return 0;
}

int main(int argc, char **argv)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        signal(SIGPIPE, SIG_IGN);
        if (argc == 4 && strcmp(argv[1], "deadlog") == 0)
                return deadlog(argv[2], atoi(argv[3]));
        if (argc == 4 && strcmp(argv[1], "hold") == 0)
                return hold(argv[2], atoi(argv[3]));
        if (argc == 3 && strcmp(argv[1], "raw") == 0)
                return raw(argv[2]);
        if (argc == 5 && strcmp(argv[1], "login") == 0)
                return login(argv[2], argv[3], argv[4]);
        fprintf(stderr, "usage: faulthelper deadlog PATH N | hold SOCKET TIMEOUT_MS | "
                        "raw SOCKET | login SOCKET USER XDG_ID\n");
        return 2;
}
