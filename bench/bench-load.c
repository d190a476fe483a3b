/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-load: cgmd under load, throughput with many clients and Ping beside blocking work
 *
 * Two questions about the daemon's single loop (issue 10, target 5):
 *
 *  - Throughput. Get and Set are called back to back for a fixed time by 1 client, then by
 *    8 clients at once (processes, each with its own connection and its own cgroup). The
 *    lines give operations per second and the ratio of 8 clients to 1. Get is measured twice:
 *    as libcgm does it (it reads cgroupfs itself where it may), and through the daemon
 *    (CGM_DIRECT=0), which is the loop's own throughput.
 *  - Blocking work. While another client keeps the daemon busy with kernel writes that block
 *    (lowering memory.max on a cgroup full of dirty page cache, so the write reclaims and
 *    waits for writeback; Remove(kill) of a cgroup whose processes cannot die yet, being
 *    frozen in the v1 freezer; Remove -r of a few hundred cgroups), this process pings the
 *    daemon at a steady pace. Its latencies are compared with the same pings on an idle
 *    daemon: a loop that stalls shows up as a p99 of the length of the stall.
 *
 * Everything happens below `load` in the base the runner gives cgmd (bench/run-load.sh); the
 * dirty file lives in the runner's temporary directory. Pass --freezer-dir (the base in the
 * v1 freezer hierarchy) for the frozen Remove(kill); without it that part is left out.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgm.h"

#define CLIENTS_MAX 64
#define SAMPLES_MAX 200000

typedef struct Bench {
        const char *socket;
        int duration_ms;  /* per throughput measurement */
        int clients;      /* the "many" of the throughput lines */
        int pace_us;      /* between two pings of the latency lines */
        const char *tmpdir;
        const char *freezer_dir;
        int hog_mb;
        int n_mass;       /* cgroups of the mass rmdir */
        const char *only; /* one throughput line (Get, GetViaDaemon, Set) and nothing else */
        pid_t daemon_pid; /* for its CPU time (all its threads) during the throughput lines */
} Bench;

/* CPU time (user + system, every thread) of @pid so far, in µs; 0 when unknown. */
static double cpu_us(pid_t pid)
{
        char path[64], buf[1024], *p;
        unsigned long long ut = 0, st = 0;
        FILE *f;

        if (pid <= 0)
                return 0;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return 0;
        p = fgets(buf, sizeof(buf), f);
        fclose(f);
        p = p ? strrchr(buf, ')') : NULL; /* the name may hold spaces */
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                         &st) != 2)
                return 0;
        return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fputs("bench-load: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(1);
}

static void check(int r, const char *what)
{
        if (r < 0)
                die("%s: %s", what, strerror(-r));
}

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_us(long us)
{
        struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static cgm *connect_or_die(const Bench *b)
{
        cgm *h;

        check(cgm_connect(&h, b->socket), "connect");
        cgm_set_timeout(h, 60000);
        return h;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static double percentile(double *v, size_t n, double p)
{
        size_t i;

        if (n == 0)
                return 0;
        qsort(v, n, sizeof(*v), cmp_double);
        i = (size_t)(p * (double)(n - 1) + 0.5);
        return v[i < n ? i : n - 1];
}

/* ---- throughput ------------------------------------------------------------------------ */

/* Get as libcgm does it (reading cgroupfs itself where it can), Get through the daemon, Set. */
typedef enum Op { OP_GET, OP_GET_DAEMON, OP_SET, OP__MAX } Op;

static const char *const op_names[] = { "Get", "GetViaDaemon", "Set" };

/* One client: connect, wait for the start, call @op until @deadline; returns the count. */
static long client_run(const Bench *b, Op op, int index, int go_fd, uint64_t duration_ns)
{
        cgm *h;
        char path[64], c;
        static const char *const keys[] = { "pids.max", NULL };

        if (op == OP_GET_DAEMON)
                setenv("CGM_DIRECT", "0", 1); /* libcgm's switch for its own reads */
        h = connect_or_die(b);
        long n = 0;
        uint64_t end;

        snprintf(path, sizeof(path), "load/c%d", index);
        if (read(go_fd, &c, 1) != 1)
                _exit(1);
        end = now_ns() + duration_ns;
        while (now_ns() < end) {
                if (op != OP_SET) {
                        cgm_kv *kv = NULL;
                        size_t nkv = 0;
                        check(cgm_get(h, path, keys, &kv, &nkv), "Get");
                        cgm_kv_free(kv, nkv);
                } else {
                        cgm_kv kv = { .key = (char *)"pids.max",
                                      .value = (char *)(n % 2 ? "1001" : "1000") };
                        check(cgm_set(h, path, &kv, 1), "Set");
                }
                n++;
        }
        cgm_free(h);
        return n;
}

/* @n clients at once for the duration; returns operations per second, all together, and
 * the daemon's CPU time per operation in *@cpu_per_op (µs; 0 without --daemon-pid). */
static double throughput(const Bench *b, Op op, int n, double *cpu_per_op)
{
        double cpu0;
        int go[2], res[2];
        pid_t pids[CLIENTS_MAX];
        long total = 0;
        uint64_t duration_ns = (uint64_t)b->duration_ms * 1000000ULL;

        if (pipe(go) < 0 || pipe(res) < 0)
                die("pipe: %m");
        for (int i = 0; i < n; i++) {
                pids[i] = fork();
                if (pids[i] < 0)
                        die("fork: %m");
                if (pids[i] == 0) {
                        long count;
                        close(go[1]);
                        close(res[0]);
                        count = client_run(b, op, i, go[0], duration_ns);
                        if (write(res[1], &count, sizeof(count)) != sizeof(count))
                                _exit(1);
                        _exit(0);
                }
        }
        close(go[0]);
        close(res[1]);
        sleep_us(200000); /* let every client connect before the start */
        cpu0 = cpu_us(b->daemon_pid);
        for (int i = 0; i < n; i++)
                if (write(go[1], "g", 1) != 1)
                        die("write: %m");
        close(go[1]);
        for (int i = 0; i < n; i++) {
                long count;
                if (read(res[0], &count, sizeof(count)) != sizeof(count))
                        die("a client failed");
                total += count;
        }
        *cpu_per_op = total > 0 ? (cpu_us(b->daemon_pid) - cpu0) / (double)total : 0;
        close(res[0]);
        for (int i = 0; i < n; i++) {
                int st;
                if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                        die("client %d failed", i);
        }
        return (double)total * 1e9 / (double)duration_ns;
}

/* ---- Ping beside blocking work ---------------------------------------------------------- */

/* Ping at the bench's pace until @stop_fd is readable (or @max samples); latencies in µs. */
static size_t ping_until(const Bench *b, cgm *h, int stop_fd, double *out, size_t max)
{
        size_t n = 0;

        while (n < max) {
                struct pollfd p = { .fd = stop_fd, .events = POLLIN };
                uint64_t t0;
                if (stop_fd >= 0 && poll(&p, 1, 0) > 0)
                        break;
                t0 = now_ns();
                check(cgm_ping(h), "Ping");
                out[n++] = (double)(now_ns() - t0) / 1e3;
                sleep_us(b->pace_us);
        }
        return n;
}

static void write_file(const char *path, const char *value)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);

        if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value))
                die("cannot write %s to %s: %m", value, path);
        close(fd);
}

/* A child that moves itself into @cg, fills @file with @mb MiB of dirty page cache, reports
 * on @ready and waits to be killed. */
static pid_t spawn_dirtier(const Bench *b, const char *cg, const char *file, int mb, int ready)
{
        pid_t pid = fork();

        if (pid < 0)
                die("fork: %m");
        if (pid == 0) {
                static char buf[1 << 20];
                cgm *h = connect_or_die(b);
                int fd;
                check(cgm_move_self(h, cg), "MoveSelf");
                cgm_free(h);
                fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (fd < 0)
                        _exit(1);
                memset(buf, 0x5a, sizeof(buf));
                for (int i = 0; i < mb; i++)
                        if (write(fd, buf, sizeof(buf)) != sizeof(buf))
                                _exit(1);
                close(fd);
                if (write(ready, "r", 1) != 1)
                        _exit(1);
                pause();
                _exit(0);
        }
        return pid;
}

typedef enum Work { WORK_MEMORY, WORK_KILL_FROZEN, WORK_MASS_RMDIR, WORK__MAX } Work;

static const char *const work_names[] = { "MemoryMax", "RemoveKillFrozen", "RemoveMass" };

/*
 * The blocking client, in its own process: does @w on its own connection and reports on
 * @done_fd how long the blocking request took (µs, a double). Everything it needs is set up
 * before it writes "s" on @started_fd, so the pings measure only the blocking request.
 */
static void blocker_run(const Bench *b, Work w, int started_fd, int done_fd)
{
        cgm *h = connect_or_die(b);
        double us = 0;
        uint64_t t0;
        int r;

        if (w == WORK_MEMORY) {
                char file[4096];
                int ready[2];
                pid_t hog;
                cgm_kv max = { .key = (char *)"memory.max", .value = (char *)"max" };
                cgm_kv low = { .key = (char *)"memory.max", .value = (char *)"16M" };
                char c;
                check(cgm_create(h, "load/hog", NULL, 0, NULL), "Create load/hog");
                snprintf(file, sizeof(file), "%s/load-dirty", b->tmpdir);
                if (pipe(ready) < 0)
                        die("pipe: %m");
                hog = spawn_dirtier(b, "load/hog", file, b->hog_mb, ready[1]);
                if (read(ready[0], &c, 1) != 1)
                        die("the dirtier failed");
                if (write(started_fd, "s", 1) != 1)
                        _exit(1);
                t0 = now_ns();
                /* Reclaim down to 16M: the dirty pages must be written back first. */
                r = cgm_set(h, "load/hog", &low, 1);
                us = (double)(now_ns() - t0) / 1e3;
                if (r < 0 && r != -EBUSY)
                        fprintf(stderr, "bench-load: Set memory.max: %s\n", strerror(-r));
                (void)cgm_set(h, "load/hog", &max, 1);
                kill(hog, SIGKILL);
                waitpid(hog, NULL, 0);
                unlink(file);
                check(cgm_remove(h, "load/hog", 0), "Remove load/hog");
        } else if (w == WORK_KILL_FROZEN) {
                char state[4096];
                pid_t kids[16];
                check(cgm_create(h, "load/frozen", NULL, 0, NULL), "Create load/frozen");
                for (size_t i = 0; i < 16; i++) {
                        kids[i] = fork();
                        if (kids[i] == 0) {
                                cgm *k = connect_or_die(b);
                                check(cgm_move_self(k, "load/frozen"), "MoveSelf");
                                cgm_free(k);
                                for (;;)
                                        pause();
                        }
                }
                snprintf(state, sizeof(state), "%s/load/frozen/freezer.state", b->freezer_dir);
                /* Every child must be in before the freeze (MoveSelf answered). */
                for (int tries = 0; tries < 500; tries++) {
                        pid_t *pids = NULL;
                        size_t n = 0;
                        check(cgm_procs(h, "load/frozen", false, &pids, &n), "Procs");
                        free(pids);
                        if (n == 16)
                                break;
                        sleep_us(10000);
                }
                write_file(state, "FROZEN");
                if (write(started_fd, "s", 1) != 1)
                        _exit(1);
                t0 = now_ns();
                /* SIGKILL does not end a task frozen by the v1 freezer: cgmd waits its 2 s
                 * and answers Busy. */
                r = cgm_remove(h, "load/frozen", 3);
                us = (double)(now_ns() - t0) / 1e3;
                if (r != -EBUSY)
                        fprintf(stderr, "bench-load: Remove(kill) of frozen: %s (want Busy)\n",
                                strerror(-r));
                write_file(state, "THAWED");
                for (size_t i = 0; i < 16; i++)
                        waitpid(kids[i], NULL, 0);
                check(cgm_remove(h, "load/frozen", 3), "Remove load/frozen");
        } else {
                check(cgm_create(h, "load/mass", NULL, 0, NULL), "Create load/mass");
                for (int i = 0; i < b->n_mass; i++) {
                        char p[64];
                        snprintf(p, sizeof(p), "load/mass/m%d", i);
                        check(cgm_create(h, p, NULL, 0, NULL), "Create load/mass/m");
                }
                if (write(started_fd, "s", 1) != 1)
                        _exit(1);
                t0 = now_ns();
                check(cgm_remove(h, "load/mass", 1), "Remove -r load/mass");
                us = (double)(now_ns() - t0) / 1e3;
        }
        cgm_free(h);
        if (write(done_fd, &us, sizeof(us)) != sizeof(us))
                _exit(1);
        _exit(0);
}

/* Ping while the blocker does @w; returns the number of samples put at @out. */
static size_t ping_beside(const Bench *b, cgm *h, Work w, double *out, size_t max,
                          double *blocking_us)
{
        int started[2], done[2];
        pid_t pid;
        size_t n;
        char c;
        int st;

        if (pipe(started) < 0 || pipe(done) < 0)
                die("pipe: %m");
        pid = fork();
        if (pid < 0)
                die("fork: %m");
        if (pid == 0) {
                close(started[0]);
                close(done[0]);
                blocker_run(b, w, started[1], done[1]);
        }
        close(started[1]);
        close(done[1]);
        if (read(started[0], &c, 1) != 1)
                die("the %s client failed to set up", work_names[w]);
        n = ping_until(b, h, done[0], out, max);
        if (read(done[0], blocking_us, sizeof(*blocking_us)) != sizeof(*blocking_us))
                die("the %s client failed", work_names[w]);
        close(started[0]);
        close(done[0]);
        if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                die("the %s client failed", work_names[w]);
        return n;
}

static void usage(void)
{
        fprintf(stderr,
                "usage: bench-load -s SOCKET --tmpdir DIR [OPTIONS]\n"
                "  -s SOCKET            cgmd's socket (its base holds the `load` tree)\n"
                "  --tmpdir DIR         where the dirty file of the memory.max work goes\n"
                "  --freezer-dir DIR    the base in the v1 freezer hierarchy (Remove(kill))\n"
                "  --duration-ms MS     per throughput measurement (default 2000)\n"
                "  --clients N          the many clients (default 8)\n"
                "  --hog-mb MB          dirty page cache to reclaim (default 256)\n"
                "  --mass N             cgroups in the mass rmdir (default 300)\n"
                "  --only OP            only the throughput of OP (Get, GetViaDaemon, Set)\n"
                "  --daemon-pid PID     cgmd's pid, for its CPU time per operation\n");
        exit(2);
}

int main(int argc, char **argv)
{
        Bench b = { .duration_ms = 2000, .clients = 8, .pace_us = 200, .hog_mb = 256,
                    .n_mass = 300 };
        static double samples[SAMPLES_MAX];
        double idle_p99, idle_med, all_max = 0;
        size_t n_idle, n_all = 0;
        double *all;
        cgm *h;

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (!v)
                        usage();
                if (strcmp(a, "-s") == 0)
                        b.socket = v;
                else if (strcmp(a, "--tmpdir") == 0)
                        b.tmpdir = v;
                else if (strcmp(a, "--freezer-dir") == 0)
                        b.freezer_dir = v;
                else if (strcmp(a, "--duration-ms") == 0)
                        b.duration_ms = atoi(v);
                else if (strcmp(a, "--clients") == 0)
                        b.clients = atoi(v);
                else if (strcmp(a, "--hog-mb") == 0)
                        b.hog_mb = atoi(v);
                else if (strcmp(a, "--mass") == 0)
                        b.n_mass = atoi(v);
                else if (strcmp(a, "--only") == 0)
                        b.only = v;
                else if (strcmp(a, "--daemon-pid") == 0)
                        b.daemon_pid = (pid_t)atoi(v);
                else
                        usage();
                i++;
        }
        if (!b.socket || !b.tmpdir || b.duration_ms <= 0 || b.clients < 2 ||
            b.clients > CLIENTS_MAX || b.hog_mb <= 0 || b.n_mass <= 0)
                usage();
        all = calloc(SAMPLES_MAX, sizeof(*all));
        if (!all)
                die("out of memory");

        h = connect_or_die(&b);
        check(cgm_create(h, "load", NULL, 0, NULL), "Create load");
        for (int i = 0; i < b.clients; i++) {
                char p[64];
                snprintf(p, sizeof(p), "load/c%d", i);
                check(cgm_create(h, p, NULL, 0, NULL), "Create load/c");
        }

        /* Throughput: one client, then many, for each operation. */
        for (Op op = 0; op < OP__MAX; op++) {
                const char *name = op_names[op];
                double one, many, cpu1, cpun;
                if (b.only && strcmp(b.only, name) != 0)
                        continue;
                one = throughput(&b, op, 1, &cpu1);
                many = throughput(&b, op, b.clients, &cpun);
                /* daemon_us_per_op: cgmd's CPU time per operation; daemon_busy: the share of
                 * one CPU it used (1.0: its loop is the limit). */
                printf("Load/%s@1 ops_per_s=%.0f daemon_us_per_op=%.1f daemon_busy=%.2f\n", name,
                       one, cpu1, cpu1 * one / 1e6);
                printf("Load/%s@%d ops_per_s=%.0f ratio=%.2f daemon_us_per_op=%.1f "
                       "daemon_busy=%.2f\n",
                       name, b.clients, many, many / one, cpun, cpun * many / 1e6);
                fflush(stdout);
        }

        if (b.only) {
                check(cgm_remove(h, "load", 1), "Remove load");
                cgm_free(h);
                free(all);
                return 0;
        }
        /* Ping on an idle daemon, at the same pace, for the floor. */
        n_idle = ping_until(&b, h, -1, samples, 2000);
        idle_med = percentile(samples, n_idle, 0.5);
        idle_p99 = percentile(samples, n_idle, 0.99);
        printf("Load/PingIdle median_us=%.1f p99_us=%.1f n=%zu\n", idle_med, idle_p99, n_idle);

        for (Work w = 0; w < WORK__MAX; w++) {
                double blocking_us = 0, med, p99, mx;
                size_t n;
                if (w == WORK_KILL_FROZEN && !b.freezer_dir)
                        continue;
                n = ping_beside(&b, h, w, samples, SAMPLES_MAX - n_all, &blocking_us);
                memcpy(all + n_all, samples, n * sizeof(*samples));
                n_all += n;
                med = percentile(samples, n, 0.5);
                p99 = percentile(samples, n, 0.99);
                mx = n ? samples[n - 1] : 0;
                all_max = mx > all_max ? mx : all_max;
                printf("Load/PingDuring%s median_us=%.1f p99_us=%.1f floor_us=%.1f ratio=%.2f "
                       "max_us=%.0f n=%zu blocking_ms=%.1f\n",
                       work_names[w], med, p99, idle_p99, idle_p99 > 0 ? p99 / idle_p99 : 0, mx,
                       n, blocking_us / 1e3);
                fflush(stdout);
        }
        {
                double med = percentile(all, n_all, 0.5), p99 = percentile(all, n_all, 0.99);
                printf("Load/PingDuringBlocking median_us=%.1f p99_us=%.1f floor_us=%.1f "
                       "ratio=%.2f max_us=%.0f n=%zu\n",
                       med, p99, idle_p99, idle_p99 > 0 ? p99 / idle_p99 : 0, all_max, n_all);
        }
        check(cgm_remove(h, "load", 1), "Remove load");
        cgm_free(h);
        free(all);
        return 0;
}
