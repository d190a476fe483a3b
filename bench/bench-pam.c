/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-pam: time a PAM login (open+close) with pam_cgm against the same stack without it */

/*
 *     bench-pam CONFDIR SERVICE_CGM SERVICE_PLAIN USER [N [LIVE]]
 *
 * CONFDIR holds two PAM services that differ only in pam_cgm: SERVICE_PLAIN is the stack
 * without it (the floor), SERVICE_CGM is the same stack plus `session required pam_cgm.so`.
 * The program is a PAM application of its own, through pam_start_confdir(), so the host's
 * /etc/pam.d is never read; USER must exist in NSS (run.sh uses `nobody`).
 *
 * What one iteration times, with CLOCK_MONOTONIC, in a child forked for it:
 *
 *     pam_start_confdir(CONFDIR, SERVICE, USER) -> pam_open_session -> pam_close_session
 *     -> pam_end
 *
 * That is a whole login's session part: reading the service file, loading the modules
 * (dlopen: the parent never loads pam_cgm, so every child loads it and libdbus afresh, as a
 * real login process does after its fork+exec), and for pam_cgm two connections to cgmd
 * with an OpenSession and a CloseSession call. The fork before, the report of the duration
 * through a pipe and the exit and reaping after are outside the timed region. A child per
 * iteration is needed because pam_cgm moves the calling process into the new session leaf,
 * and cgmd removes a leaf only once it is empty: each login's leaf empties when its child
 * exits, and this parent never sits in a leaf.
 *
 * The two services alternate, one iteration each, after W warm-up iterations of each, so that
 * both see the same machine state. The line printed:
 *
 *     NAME median_us=M p99_us=P floor_us=F ratio=M/F added_us=M-F
 *
 * M and P are the median and 99th percentile with pam_cgm, F the median without it, and
 * added_us the time pam_cgm adds to a login.
 *
 * With LIVE > 0 the program first forks LIVE holders: each opens a session through
 * SERVICE_CGM as USER, reports that it is in, and waits until the parent closes a pipe;
 * then it closes its session and exits. The measurement then runs with those LIVE sessions
 * present (LIVE leaves in USER's home, LIVE sessions in the daemon's table), and then the
 * holders are released. A holder also ends when the parent dies (the pipe reaches EOF).
 *
 * Every pam_cgm login is checked: pam_open_session must succeed and leave CGM_SESSION set
 * (run.sh also passes fail=closed), and the first warm-up login checks /proc/self/cgroup for
 * its session leaf, so a silently skipped pam_cgm (fail=open) cannot pass for a fast one.
 * Any failure prints a message and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#define BENCH_DEFAULT_N 1000
#define BENCH_WARMUP 20
#define BENCH_MAX_N 1000000
#define BENCH_MAX_LIVE 100000
/* Bounded waits: one login (child) and all holders being ready. */
#define BENCH_CHILD_TIMEOUT_MS 30000
#define BENCH_HOLDERS_TIMEOUT_MS 300000

typedef struct Bench {
        const char *confdir, *user;
} Bench;

/* What a timed child reports. */
typedef struct Report {
        double us;
        int ok;
} Report;

static void die(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "bench-pam: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(1);
}

static double now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Modules may talk; nobody answers. */
static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
        struct pam_response *r = calloc((size_t)n, sizeof(*r));

        (void)data;
        if (!r)
                return PAM_BUF_ERR;
        for (int i = 0; i < n; i++)
                if (msg[i]->msg_style == PAM_ERROR_MSG)
                        fprintf(stderr, "bench-pam: module says: %s\n",
                                msg[i]->msg ? msg[i]->msg : "");
        *resp = r;
        return PAM_SUCCESS;
}

/* In a child: _exit with a message. */
static void child_fail(const char *service, const char *what, pam_handle_t *pamh, int rc)
{
        fprintf(stderr, "bench-pam: %s: %s: %s\n", service, what, pam_strerror(pamh, rc));
        _exit(1);
}

/* pam_start_confdir + pam_open_session; with @want_session, check CGM_SESSION. */
static pam_handle_t *login_open(const Bench *b, const char *service, bool want_session)
{
        static struct pam_conv c = { conv, NULL };
        pam_handle_t *pamh = NULL;
        const char *id;
        int rc;

        rc = pam_start_confdir(service, b->user, &c, b->confdir, &pamh);
        if (rc != PAM_SUCCESS)
                child_fail(service, "pam_start_confdir", NULL, rc);
        rc = pam_open_session(pamh, 0);
        if (rc != PAM_SUCCESS)
                child_fail(service, "pam_open_session", pamh, rc);
        id = pam_getenv(pamh, "CGM_SESSION");
        if (want_session && (!id || !id[0])) {
                fprintf(stderr, "bench-pam: %s: the session opened without CGM_SESSION: pam_cgm "
                                "did not run, or cgmd excluded the user\n", service);
                _exit(1);
        }
        return pamh;
}

static void login_close(pam_handle_t *pamh, const char *service)
{
        int rc = pam_close_session(pamh, 0);

        if (rc != PAM_SUCCESS)
                child_fail(service, "pam_close_session", pamh, rc);
        pam_end(pamh, rc);
}

/* True when a line of /proc/self/cgroup names a session leaf (.../session-ID). */
static bool in_session_leaf(void)
{
        char line[4096];
        bool found = false;
        FILE *f = fopen("/proc/self/cgroup", "re");

        if (!f)
                return false;
        while (fgets(line, sizeof(line), f))
                if (strstr(line, "/session-"))
                        found = true;
        fclose(f);
        return found;
}

static bool read_full(int fd, void *buf, size_t n, int timeout_ms)
{
        char *p = buf;

        while (n > 0) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                ssize_t k;
                int r = poll(&pfd, 1, timeout_ms);

                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return false;
                k = read(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return false;
                p += k;
                n -= (size_t)k;
        }
        return true;
}

static void reap(pid_t pid, const char *what)
{
        int status;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        die("waitpid %s: %s", what, strerror(errno));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                die("%s (pid %d) failed (%s %d)", what, (int)pid,
                    WIFEXITED(status) ? "exit" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

/*
 * One login in a child of its own; returns the child's timed duration in µs. @verify: also
 * check, outside the timed region, that the child sat in a session leaf.
 */
static double one_login(const Bench *b, const char *service, bool with_cgm, bool verify)
{
        int p[2];
        pid_t pid;
        Report rep = { 0 };

        if (pipe2(p, O_CLOEXEC) < 0)
                die("pipe: %s", strerror(errno));
        fflush(NULL);
        pid = fork();
        if (pid < 0)
                die("fork: %s", strerror(errno));
        if (pid == 0) {
                pam_handle_t *pamh;
                double t0, t1;

                close(p[0]);
                t0 = now_us();
                pamh = login_open(b, service, with_cgm);
                login_close(pamh, service);
                t1 = now_us();
                if (verify && !in_session_leaf()) {
                        fprintf(stderr, "bench-pam: %s: the login was not in a session leaf\n",
                                service);
                        _exit(1);
                }
                rep.us = t1 - t0;
                rep.ok = 1;
                if (write(p[1], &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
                        _exit(1);
                _exit(0);
        }
        close(p[1]);
        if (!read_full(p[0], &rep, sizeof(rep), BENCH_CHILD_TIMEOUT_MS)) {
                kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
                die("%s: the login child (pid %d) reported nothing within %d ms", service,
                    (int)pid, BENCH_CHILD_TIMEOUT_MS);
        }
        close(p[0]);
        reap(pid, "a login child");
        if (!rep.ok)
                die("%s: the login child failed", service);
        return rep.us;
}

/* ---- holders of live sessions ---- */

typedef struct Holders {
        pid_t *pids;
        size_t n;
        int release; /* write end: closing it lets every holder go */
} Holders;

static void holders_release(Holders *h)
{
        close(h->release);
        for (size_t i = 0; i < h->n; i++)
                reap(h->pids[i], "a holder");
        free(h->pids);
        h->pids = NULL;
        h->n = 0;
}

/* After a failure: end every holder (SIGKILL is bounded; their leaves empty and go). */
static void holders_kill(Holders *h)
{
        close(h->release);
        for (size_t i = 0; i < h->n; i++)
                kill(h->pids[i], SIGKILL);
        for (size_t i = 0; i < h->n; i++)
                (void)waitpid(h->pids[i], NULL, 0);
        h->n = 0;
}

/*
 * Holders are started one at a time, each after the previous one is in: @n logins at once
 * would measure a burst (and could run into pam_cgm's timeout), not @n sessions present.
 */
static void holders_start(const Bench *b, const char *service, size_t n, Holders *h)
{
        int ready[2], rel[2];
        double t0 = now_us();

        h->pids = calloc(n, sizeof(*h->pids));
        if (!h->pids)
                die("out of memory");
        if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(rel, O_CLOEXEC) < 0)
                die("pipe: %s", strerror(errno));
        h->release = rel[1];
        for (h->n = 0; h->n < n; h->n++) {
                pid_t pid;
                char c;

                fflush(NULL);
                pid = fork();
                if (pid < 0)
                        die("fork of holder %zu: %s", h->n, strerror(errno));
                if (pid == 0) {
                        pam_handle_t *pamh;

                        close(ready[0]);
                        close(rel[1]);
                        pamh = login_open(b, service, true);
                        c = 1;
                        if (write(ready[1], &c, 1) != 1)
                                _exit(1);
                        close(ready[1]);
                        while (read(rel[0], &c, 1) < 0 && errno == EINTR)
                                ;
                        login_close(pamh, service);
                        _exit(0);
                }
                h->pids[h->n] = pid;
                /* Every holder keeps ready[1] open, so a dead one shows as a timeout. */
                if (!read_full(ready[0], &c, 1, BENCH_CHILD_TIMEOUT_MS)) {
                        h->n++;
                        holders_kill(h);
                        die("holder %zu (pid %d) did not open its session within %d ms", h->n,
                            (int)pid, BENCH_CHILD_TIMEOUT_MS);
                }
        }
        close(ready[0]);
        close(ready[1]);
        close(rel[0]);
        printf("# live=%zu sessions opened one after another by holders in %.1f s\n", n,
               (now_us() - t0) / 1e6);
        fflush(stdout);
}

/* ---- statistics ---- */

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

static double median(double *t, size_t n)
{
        qsort(t, n, sizeof(*t), cmp_double);
        return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* Nearest rank: ceil(0.99 n); @t sorted. */
static double p99(const double *t, size_t n)
{
        return t[(size_t)((n * 99ull + 99) / 100) - 1];
}

static unsigned long parse_count(const char *s, const char *what, unsigned long lo,
                                 unsigned long hi)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v < lo || v > hi)
                die("bad %s `%s` (%lu to %lu)", what, s, lo, hi);
        return v;
}

int main(int argc, char **argv)
{
        Bench b;
        const char *svc_cgm, *svc_plain;
        size_t n = BENCH_DEFAULT_N, live = 0;
        double *with, *without, med, fmed, wp99;
        Holders h = { 0 };
        char name[64];

        if (argc < 5 || argc > 7) {
                fprintf(stderr,
                        "Usage: bench-pam CONFDIR SERVICE_CGM SERVICE_PLAIN USER [N [LIVE]]\n"
                        "  N     timed logins with each service (default %d, after %d warm-up)\n"
                        "  LIVE  sessions held open by other processes while measuring "
                        "(default 0)\n",
                        BENCH_DEFAULT_N, BENCH_WARMUP);
                return 2;
        }
        b.confdir = argv[1];
        svc_cgm = argv[2];
        svc_plain = argv[3];
        b.user = argv[4];
        if (argc > 5)
                n = parse_count(argv[5], "N", 1, BENCH_MAX_N);
        if (argc > 6)
                live = parse_count(argv[6], "LIVE", 0, BENCH_MAX_LIVE);
        if (geteuid() != 0)
                die("needs root: pam_cgm's OpenSession for another user is root's");
        /* A reader that goes away must not kill us in the middle of holding sessions. */
        signal(SIGPIPE, SIG_IGN);

        with = calloc(n, sizeof(*with));
        without = calloc(n, sizeof(*without));
        if (!with || !without)
                die("out of memory");

        if (live > 0)
                holders_start(&b, svc_cgm, live, &h);

        for (int i = 0; i < BENCH_WARMUP; i++) {
                (void)one_login(&b, svc_plain, false, false);
                (void)one_login(&b, svc_cgm, true, i == 0);
        }
        for (size_t i = 0; i < n; i++) {
                without[i] = one_login(&b, svc_plain, false, false);
                with[i] = one_login(&b, svc_cgm, true, false);
        }

        if (live > 0)
                holders_release(&h);

        fmed = median(without, n);
        med = median(with, n);
        wp99 = p99(with, n);
        if (live > 0)
                snprintf(name, sizeof(name), "PamLogin+%zuLive", live);
        else
                snprintf(name, sizeof(name), "PamLogin");
        printf("%s median_us=%.1f p99_us=%.1f floor_us=%.1f ratio=%.2f added_us=%.1f\n", name,
               med, wp99, fmed, med / fmed, med - fmed);
        fflush(stdout);
        free(with);
        free(without);
        return 0;
}
