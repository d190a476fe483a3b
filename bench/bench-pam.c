/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-pam: time a PAM login (open+close) with pam_cgm against the same stack without it */

/*
 *     bench-pam [-m fork|loop|spaced] [-g GAP_MS] [-d DIR]... CONFDIR SERVICE_CGM
 *               SERVICE_PLAIN USER [N [LIVE]]
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
 * Modes (-m). `fork`, the default, is the above: one child per login, as sshd does, back to
 * back. `loop` runs every login of the measurement in one child, back to back
 * (pam_start -> open -> close -> end, again and again in the same process). `spaced` is fork
 * with GAP_MS (default 250) of sleep before every login, as people log in: the kernel then
 * meets each login after an idle spell. The lines of loop and spaced are named
 * PamLogin/loop and PamLogin/spaced; fork keeps the name PamLogin.
 *
 * With -d (one per hierarchy: the daemon's base in each), two more kinds join the rotation,
 * in the same mode and conditions as the logins:
 *
 *   - the raw floor: the login's cgroup work as bare system calls, mkdir of
 *     cgm-bench-raw-PID-K in every hierarchy, the write of the process's own pid into each
 *     one's cgroup.procs, and the rmdir of the previous raw login's directories (K-1; empty,
 *     since that login's process has left it, by exit or by a later move), in reverse order.
 *     One mkdir, one move, one rmdir per hierarchy per login;
 *   - the kernel-wait probe: the write of the process's own pid into cgm-bench-raw-PID-a's
 *     cgroup.procs in the first hierarchy (timed: the first cgroup.procs write after whatever
 *     came before, which in spaced mode is the idle spell), then at once into
 *     cgm-bench-raw-PID-b's (timed: a write that follows a write). The difference is the
 *     kernel's wait for the first write of a burst (percpu_down_write on the cgroup
 *     threadgroup rwsem -> rcu_sync_enter -> an RCU grace period), the second write's time
 *     the write's own cost.
 *
 * and the mode prints three more lines:
 *
 *     RawLogin/MODE median_us=R p99_us=.. hierarchies=H mkdir_us=.. move_us=.. rmdir_us=..
 *     KernelWait/MODE median_us=K p99_us=.. first_us=.. second_us=..
 *     CgmOwn/MODE added_us=M-F kernel_wait_us=K own_us=M-F-K
 *
 * K being the median of the per-probe differences, and own_us what is left of pam_cgm's
 * added time once the kernel's wait is taken out. Every directory is below the daemon's base
 * and named for this process; the parent removes the last ones at the end.
 *
 * Every pam_cgm login is checked: pam_open_session must succeed and leave CGM_SESSION set
 * (run.sh also passes fail=closed), and the first warm-up login checks /proc/self/cgroup for
 * its session leaf, so a silently skipped pam_cgm (fail=open) cannot pass for a fast one.
 * Any failure prints a message and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#define BENCH_DEFAULT_N 1000
#define BENCH_WARMUP 20
/* Spaced logins cost GAP_MS each: a short warm-up (the first one checks the session leaf). */
#define BENCH_WARMUP_SPACED 2
#define BENCH_DEFAULT_GAP_MS 250
#define BENCH_MAX_GAP_MS 60000
/* More hierarchies than cgmd can use (cgroup2 plus eight v1 controllers). */
#define BENCH_MAX_DIRS 16
/* Bounded retry of an rmdir right after the last process left: 100 x 1 ms. */
#define BENCH_RMDIR_TRIES 100
#define BENCH_MAX_N 1000000
#define BENCH_MAX_LIVE 100000
/* Bounded waits: one login (child) and all holders being ready. */
#define BENCH_CHILD_TIMEOUT_MS 30000
#define BENCH_HOLDERS_TIMEOUT_MS 300000

typedef enum Mode {
        MODE_FORK,
        MODE_LOOP,
        MODE_SPACED,
} Mode;

static const char *const mode_names[] = { [MODE_FORK] = "fork", [MODE_LOOP] = "loop",
                                          [MODE_SPACED] = "spaced" };

/* What one iteration does, in this order; RAW and PROBE only with -d. */
typedef enum Kind {
        KIND_PLAIN,
        KIND_CGM,
        KIND_RAW,
        KIND_PROBE,
        _KIND_MAX,
} Kind;

typedef struct Bench {
        const char *confdir, *user;
        const char *svc_cgm, *svc_plain;
        const char *peer; /* --peer: SERVICE_CGM is another module's stack, named so */
        const char *dirs[BENCH_MAX_DIRS];
        size_t n_dirs;
        pid_t self;          /* names the raw directories */
        unsigned long raw_k; /* the next raw login's number */
} Bench;

/* What a timed login reports: the probe's second write in us2, a raw login's phases (mkdir,
 * move, rmdir) in phase. */
typedef struct Report {
        double us, us2;
        double phase[3];
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

/* ---- the raw floor and the kernel-wait probe: bare cgroupfs calls ---- */

static void raw_path(char *buf, size_t n, const Bench *b, size_t h, const char *suffix,
                     unsigned long k)
{
        int l = suffix ? snprintf(buf, n, "%s/cgm-bench-raw-%d-%s", b->dirs[h], (int)b->self,
                                  suffix)
                       : snprintf(buf, n, "%s/cgm-bench-raw-%d-%lu", b->dirs[h], (int)b->self, k);

        if (l < 0 || (size_t)l >= n) {
                fprintf(stderr, "bench-pam: path too long below `%s`\n", b->dirs[h]);
                _exit(1);
        }
}

/* Write our pid into DIR/cgroup.procs; 0 or -errno. */
static int move_self(const char *dir)
{
        char p[4096 + 16], pid[32];
        int fd, l = snprintf(pid, sizeof(pid), "%d", (int)getpid());
        ssize_t k;

        snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
        fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        k = write(fd, pid, (size_t)l);
        if (k < 0)
                k = -errno;
        close(fd);
        return k < 0 ? (int)k : 0;
}

/* rmdir, retried a bounded number of times while the kernel still counts a leaver; 0 or -errno. */
static int rmdir_retrying(const char *p)
{
        for (int i = 0; i < BENCH_RMDIR_TRIES; i++) {
                if (rmdir(p) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        return -errno;
                usleep(1000);
        }
        return -EBUSY;
}

static void raw_fail(const char *what, const char *p, int r)
{
        fprintf(stderr, "bench-pam: raw floor: %s `%s`: %s\n", what, p, strerror(-r));
        _exit(1);
}

/*
 * One raw login, number @k, in this process: mkdir + move self + rmdir of K-1, everywhere;
 * @phase gets the time of each of the three.
 */
static void raw_login(const Bench *b, unsigned long k, double phase[3])
{
        char p[4096];
        double t0 = now_us(), t1, t2;
        int r;

        for (size_t h = 0; h < b->n_dirs; h++) {
                raw_path(p, sizeof(p), b, h, NULL, k);
                if (mkdir(p, 0755) < 0)
                        raw_fail("mkdir", p, -errno);
        }
        t1 = now_us();
        for (size_t h = 0; h < b->n_dirs; h++) {
                raw_path(p, sizeof(p), b, h, NULL, k);
                r = move_self(p);
                if (r < 0)
                        raw_fail("move into", p, r);
        }
        t2 = now_us();
        for (size_t h = b->n_dirs; k > 0 && h-- > 0;) {
                raw_path(p, sizeof(p), b, h, NULL, k - 1);
                r = rmdir_retrying(p);
                if (r < 0)
                        raw_fail("rmdir", p, r);
        }
        phase[0] = t1 - t0;
        phase[1] = t2 - t1;
        phase[2] = now_us() - t2;
}

/* The probe: two moves in the first hierarchy; @rep gets the time of each. */
static void probe(const Bench *b, Report *rep)
{
        char a[4096], c[4096];
        double t0, t1, t2;
        int r;

        raw_path(a, sizeof(a), b, 0, "a", 0);
        raw_path(c, sizeof(c), b, 0, "b", 0);
        t0 = now_us();
        r = move_self(a);
        t1 = now_us();
        if (r < 0)
                raw_fail("move into", a, r);
        r = move_self(c);
        t2 = now_us();
        if (r < 0)
                raw_fail("move into", c, r);
        rep->us = t1 - t0;
        rep->us2 = t2 - t1;
}

/* The probe's two leaves, before anything runs; and at the end, every directory left. */
static void raw_setup(const Bench *b)
{
        char p[4096];

        for (size_t i = 0; i < 2; i++) {
                raw_path(p, sizeof(p), b, 0, i ? "b" : "a", 0);
                if (mkdir(p, 0755) < 0)
                        die("mkdir `%s`: %s", p, strerror(errno));
        }
}

static void raw_teardown(const Bench *b)
{
        char p[4096];
        int r;

        if (b->raw_k > 0) {
                for (size_t h = b->n_dirs; h-- > 0;) {
                        raw_path(p, sizeof(p), b, h, NULL, b->raw_k - 1);
                        if ((r = rmdir_retrying(p)) < 0)
                                die("rmdir `%s`: %s", p, strerror(-r));
                }
        }
        for (size_t i = 0; i < 2; i++) {
                raw_path(p, sizeof(p), b, 0, i ? "b" : "a", 0);
                if ((r = rmdir_retrying(p)) < 0)
                        die("rmdir `%s`: %s", p, strerror(-r));
        }
}

/*
 * One iteration's @kind in this process, timed; @verify: check, after the timed region, that
 * a pam_cgm login sat in a session leaf.
 */
static void run_kind(const Bench *b, Kind kind, unsigned long raw_k, bool verify, Report *rep)
{
        const char *service = kind == KIND_CGM ? b->svc_cgm : b->svc_plain;
        pam_handle_t *pamh;
        double t0;

        *rep = (Report){ .ok = 1 };
        switch (kind) {
        case KIND_PLAIN:
        case KIND_CGM:
                t0 = now_us();
                pamh = login_open(b, service, kind == KIND_CGM && !b->peer);
                login_close(pamh, service);
                rep->us = now_us() - t0;
                if (verify && !b->peer && !in_session_leaf()) {
                        fprintf(stderr, "bench-pam: %s: the login was not in a session leaf\n",
                                service);
                        _exit(1);
                }
                break;
        case KIND_RAW:
                t0 = now_us();
                raw_login(b, raw_k, rep->phase);
                rep->us = now_us() - t0;
                break;
        case KIND_PROBE:
                probe(b, rep);
                break;
        default:
                _exit(1);
        }
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

/* @kind in a child of its own (fork and spaced modes); @rep gets what the child timed. */
static void one_login(const Bench *b, Kind kind, bool verify, Report *rep)
{
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                die("pipe: %s", strerror(errno));
        fflush(NULL);
        pid = fork();
        if (pid < 0)
                die("fork: %s", strerror(errno));
        if (pid == 0) {
                close(p[0]);
                run_kind(b, kind, b->raw_k, verify, rep);
                if (write(p[1], rep, sizeof(*rep)) != (ssize_t)sizeof(*rep))
                        _exit(1);
                _exit(0);
        }
        close(p[1]);
        *rep = (Report){ 0 };
        if (!read_full(p[0], rep, sizeof(*rep), BENCH_CHILD_TIMEOUT_MS)) {
                kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
                die("the login child (pid %d) reported nothing within %d ms", (int)pid,
                    BENCH_CHILD_TIMEOUT_MS);
        }
        close(p[0]);
        reap(pid, "a login child");
        if (!rep->ok)
                die("the login child failed");
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

static void sleep_ms(unsigned ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Timed results, one array per kind; the probe's second writes in probe2, its waits in wait. */
typedef struct Results {
        double *t[_KIND_MAX];
        double *probe2, *wait;
        double *phase[3];
} Results;

/*
 * warmup + n iterations of every kind in @kinds, in the mode's way; results of the timed
 * ones in @res. Loop mode: one child does all of them and reports each through a pipe.
 */
static void run_mode(Bench *b, Mode mode, unsigned gap_ms, size_t warmup, size_t n,
                     Kind n_kinds, Results *res)
{
        int p[2] = { -1, -1 };
        pid_t loop_pid = 0;

        if (mode == MODE_LOOP) {
                if (pipe2(p, O_CLOEXEC) < 0)
                        die("pipe: %s", strerror(errno));
                fflush(NULL);
                loop_pid = fork();
                if (loop_pid < 0)
                        die("fork: %s", strerror(errno));
                if (loop_pid == 0) {
                        close(p[0]);
                        for (size_t i = 0; i < warmup + n; i++)
                                for (Kind k = 0; k < n_kinds; k++) {
                                        Report rep;

                                        run_kind(b, k, b->raw_k, i == 0 && k == KIND_CGM, &rep);
                                        if (k == KIND_RAW)
                                                b->raw_k++;
                                        if (write(p[1], &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
                                                _exit(1);
                                }
                        _exit(0);
                }
                close(p[1]);
        }
        for (size_t i = 0; i < warmup + n; i++)
                for (Kind k = 0; k < n_kinds; k++) {
                        Report rep = { 0 };

                        if (mode == MODE_LOOP) {
                                if (!read_full(p[0], &rep, sizeof(rep), BENCH_CHILD_TIMEOUT_MS)) {
                                        kill(loop_pid, SIGKILL);
                                        (void)waitpid(loop_pid, NULL, 0);
                                        die("the loop child (pid %d) reported nothing within "
                                            "%d ms", (int)loop_pid, BENCH_CHILD_TIMEOUT_MS);
                                }
                        } else {
                                if (mode == MODE_SPACED)
                                        sleep_ms(gap_ms);
                                one_login(b, k, i == 0 && k == KIND_CGM, &rep);
                        }
                        if (k == KIND_RAW)
                                b->raw_k++;
                        if (i < warmup)
                                continue;
                        res->t[k][i - warmup] = rep.us;
                        if (k == KIND_PROBE)
                                res->probe2[i - warmup] = rep.us2;
                        if (k == KIND_RAW)
                                for (int j = 0; j < 3; j++)
                                        res->phase[j][i - warmup] = rep.phase[j];
                }
        if (mode == MODE_LOOP) {
                close(p[0]);
                reap(loop_pid, "the loop child");
        }
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "mode", required_argument, NULL, 'm' },
                { "gap-ms", required_argument, NULL, 'g' },
                { "dir", required_argument, NULL, 'd' },
                { "peer", required_argument, NULL, 'P' },
                {},
        };
        Bench b = { 0 };
        size_t n = BENCH_DEFAULT_N, live = 0, warmup;
        double med, fmed, wp99;
        Mode mode = MODE_FORK;
        unsigned gap_ms = BENCH_DEFAULT_GAP_MS;
        Kind n_kinds;
        Results res = { 0 };
        Holders h = { 0 };
        char name[96];
        char pre[64] = ""; /* Peer/NAME/ with --peer */
        const char *own = "CgmOwn";
        int opt;

        while ((opt = getopt_long(argc, argv, "m:g:d:P:", opts, NULL)) != -1) {
                switch (opt) {
                case 'm':
                        if (!strcmp(optarg, "fork"))
                                mode = MODE_FORK;
                        else if (!strcmp(optarg, "loop"))
                                mode = MODE_LOOP;
                        else if (!strcmp(optarg, "spaced"))
                                mode = MODE_SPACED;
                        else
                                die("bad mode `%s` (fork, loop or spaced)", optarg);
                        break;
                case 'g':
                        gap_ms = (unsigned)parse_count(optarg, "gap", 0, BENCH_MAX_GAP_MS);
                        break;
                case 'P':
                        b.peer = optarg;
                        break;
                case 'd':
                        if (b.n_dirs == BENCH_MAX_DIRS)
                                die("more than %d hierarchy directories", BENCH_MAX_DIRS);
                        b.dirs[b.n_dirs++] = optarg;
                        break;
                default:
                        argc = 0; /* usage below */
                }
        }
        argc -= optind;
        argv += optind;
        if (argc < 4 || argc > 6) {
                fprintf(stderr,
                        "Usage: bench-pam [-m fork|loop|spaced] [-g GAP_MS] [-d DIR]... [-P NAME] "
                        "CONFDIR "
                        "SERVICE_CGM SERVICE_PLAIN USER [N [LIVE]]\n"
                        "  -m    fork: a child per login (default); loop: all logins in one "
                        "child; spaced: fork with GAP_MS before each login\n"
                        "  -g    the gap of spaced mode (default %d ms)\n"
                        "  -d    the daemon's base in one hierarchy (repeat for each): adds the "
                        "raw floor and the kernel-wait probe\n"
                        "  -P    SERVICE_CGM is another module's stack (a peer): no check for "
                        "pam_cgm's session; lines are named Peer/NAME/...\n"
                        "  N     timed logins with each service (default %d, after %d warm-up, "
                        "%d when spaced)\n"
                        "  LIVE  sessions held open by other processes while measuring "
                        "(default 0)\n",
                        BENCH_DEFAULT_GAP_MS, BENCH_DEFAULT_N, BENCH_WARMUP,
                        BENCH_WARMUP_SPACED);
                return 2;
        }
        b.confdir = argv[0];
        b.svc_cgm = argv[1];
        b.svc_plain = argv[2];
        b.user = argv[3];
        b.self = getpid();
        if (argc > 4)
                n = parse_count(argv[4], "N", 1, BENCH_MAX_N);
        if (argc > 5)
                live = parse_count(argv[5], "LIVE", 0, BENCH_MAX_LIVE);
        if (geteuid() != 0)
                die("needs root: pam_cgm's OpenSession for another user is root's");
        /* A reader that goes away must not kill us in the middle of holding sessions. */
        signal(SIGPIPE, SIG_IGN);

        n_kinds = b.n_dirs > 0 ? _KIND_MAX : KIND_RAW;
        for (Kind k = 0; k < n_kinds; k++)
                if (!(res.t[k] = calloc(n, sizeof(double))))
                        die("out of memory");
        if (!(res.probe2 = calloc(n, sizeof(double))) || !(res.wait = calloc(n, sizeof(double))))
                die("out of memory");
        for (int j = 0; j < 3; j++)
                if (!(res.phase[j] = calloc(n, sizeof(double))))
                        die("out of memory");
        if (b.n_dirs > 0)
                raw_setup(&b);

        if (live > 0)
                holders_start(&b, b.svc_cgm, live, &h);

        warmup = mode == MODE_SPACED ? BENCH_WARMUP_SPACED : BENCH_WARMUP;
        run_mode(&b, mode, gap_ms, warmup, n, n_kinds, &res);

        if (live > 0)
                holders_release(&h);
        if (b.n_dirs > 0)
                raw_teardown(&b);

        fmed = median(res.t[KIND_PLAIN], n);
        med = median(res.t[KIND_CGM], n);
        wp99 = p99(res.t[KIND_CGM], n);
        if (b.peer) {
                snprintf(pre, sizeof(pre), "Peer/%s/", b.peer);
                own = "Own";
        }
        snprintf(name, sizeof(name), "%sPamLogin%s%s", pre, mode == MODE_FORK ? "" : "/",
                 mode == MODE_FORK ? "" : mode_names[mode]);
        if (live > 0)
                snprintf(name + strlen(name), sizeof(name) - strlen(name), "+%zuLive", live);
        printf("%s median_us=%.1f p99_us=%.1f floor_us=%.1f ratio=%.2f added_us=%.1f\n", name,
               med, wp99, fmed, med / fmed, med - fmed);
        if (b.n_dirs > 0) {
                double raw, kw, first, second;

                raw = median(res.t[KIND_RAW], n);
                printf("%sRawLogin/%s median_us=%.1f p99_us=%.1f hierarchies=%zu mkdir_us=%.1f "
                       "move_us=%.1f rmdir_us=%.1f\n",
                       pre, mode_names[mode], raw,
                       p99(res.t[KIND_RAW], n), b.n_dirs,
                       median(res.phase[0], n), median(res.phase[1], n), median(res.phase[2], n));
                /* The wait of each probe is its first write less its second. */
                for (size_t i = 0; i < n; i++)
                        res.wait[i] = res.t[KIND_PROBE][i] - res.probe2[i];
                first = median(res.t[KIND_PROBE], n);
                second = median(res.probe2, n);
                kw = median(res.wait, n);
                printf("%sKernelWait/%s median_us=%.1f p99_us=%.1f first_us=%.1f "
                       "second_us=%.1f\n",
                       pre, mode_names[mode], kw, p99(res.wait, n), first, second);
                printf("%s%s/%s added_us=%.1f kernel_wait_us=%.1f own_us=%.1f\n",
                       pre, own, mode_names[mode], med - fmed, kw, med - fmed - kw);
        }
        fflush(stdout);
        for (Kind k = 0; k < n_kinds; k++)
                free(res.t[k]);
        free(res.probe2);
        free(res.wait);
        for (int j = 0; j < 3; j++)
                free(res.phase[j]);
        return 0;
}
