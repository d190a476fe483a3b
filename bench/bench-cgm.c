/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-cgm: latency of libcgm requests beside the raw cgroupfs floor of the same operation */

/*
 * What it measures. For each operation the program times N calls (after a warm-up) on one
 * persistent libcgm connection, then N runs of the system calls that do the same thing on
 * cgroupfs directly, in the same process and the same run, so that the ratio between the two
 * medians is meaningful on any machine even though absolute times are not (spec §12: a request
 * on a persistent connection should stay within 3x the floor). One line per operation:
 *
 *     NAME median_us=M p99_us=P floor_us=F ratio=M/F
 *
 * The floor is what the daemon cannot avoid: for Get the open+read+close of the one file, for
 * Set the open+write+close, for Create+Remove a mkdir+rmdir in every hierarchy the daemon
 * mirrors its tree into, for MoveSelf a write of our pid into cgroup.procs in every hierarchy.
 * Ping has no floor; its line shows what a round trip through libdbus and the daemon's loop
 * costs by itself.
 *
 * Where the floor works. The daemon is asked for nothing about its layout; the caller (run.sh)
 * passes the real directories of the daemon's base, one -d per hierarchy, and --pids-dir for
 * the one whose pids.max the daemon reads and writes. Those directories are only ever touched
 * below names this program created through the daemon ("bench", "m1", "m2") or the short-lived
 * "cr", so the floor never reaches outside the daemon's own base.
 *
 * MoveSelf moves the process that opened the connection, which then sits in m1 or m2. To be
 * able to remove both at the end, that part runs in a forked child with its own connection
 * (libcgm: "after fork(), a child must open its own handle"); once the child is reaped its
 * cgroups are empty and the parent removes everything it created. Removal of a just-emptied
 * cgroup can briefly fail with EBUSY, so it is retried a bounded number of times.
 *
 * Any failure prints the daemon's message and exits 1; this is a tool, not a library.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgm.h"

#define BENCH_WARMUP 100
#define BENCH_DEFAULT_N 2000
/* More hierarchies than cgmd can use (cgroup2 plus eight v1 controllers). */
#define BENCH_MAX_DIRS 16
/* Bounded retry of a remove right after the last process left: 100 x 10 ms. */
#define BENCH_REMOVE_TRIES 100

typedef struct Bench {
        cgm *h;
        const char *socket;
        const char *dirs[BENCH_MAX_DIRS];
        size_t n_dirs;
        const char *pids_dir;
        char pids_max[4096]; /* <pids_dir>/bench/pids.max */
        unsigned iter;       /* alternates Set values and MoveSelf targets */
} Bench;

/* One operation: the daemon's side and, unless NULL, the floor. Both return 0 or exit. */
typedef struct BenchOp {
        const char *name;
        void (*daemon)(Bench *b);
        void (*floor)(Bench *b);
} BenchOp;

static void die(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "bench-cgm: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(1);
}

static void check_cgm(Bench *b, int r, const char *what)
{
        if (r < 0)
                die("%s: %s (%s)", what, cgm_error_message(b->h) ?: strerror(-r),
                    cgm_error_name(b->h) ?: "no D-Bus error");
}

static void check_sys(int r, const char *what, const char *path)
{
        if (r < 0)
                die("%s `%s`: %s", what, path, strerror(errno));
}

static double now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void path_in(char *buf, size_t n, const char *dir, const char *rel)
{
        if ((size_t)snprintf(buf, n, "%s/%s", dir, rel) >= n)
                die("path too long: %s/%s", dir, rel);
}

/* ---- the daemon's side ---- */

static void op_ping(Bench *b)
{
        check_cgm(b, cgm_ping(b->h), "Ping");
}

static void op_get(Bench *b)
{
        static const char *const keys[] = { "pids.max", NULL };
        cgm_kv *kv = NULL;
        size_t n = 0;

        check_cgm(b, cgm_get(b->h, "bench", keys, &kv, &n), "Get bench pids.max");
        if (n != 1)
                die("Get bench pids.max: %zu values back, want 1", n);
        cgm_kv_free(kv, n);
}

static void op_set(Bench *b)
{
        cgm_kv kv = { .key = (char *)"pids.max", .value = (char *)(b->iter++ % 2 ? "1001" : "1000") };

        check_cgm(b, cgm_set(b->h, "bench", &kv, 1), "Set bench pids.max");
}

static void op_create_remove(Bench *b)
{
        check_cgm(b, cgm_create(b->h, "cr", NULL, 0, NULL), "Create cr");
        check_cgm(b, cgm_remove(b->h, "cr", 0), "Remove cr");
}

static void op_move_self(Bench *b)
{
        check_cgm(b, cgm_move_self(b->h, b->iter++ % 2 ? "m2" : "m1"), "MoveSelf");
}

/* ---- the floor: the same operation as plain system calls ---- */

static void floor_get(Bench *b)
{
        char buf[64];
        int fd = open(b->pids_max, O_RDONLY | O_CLOEXEC);

        check_sys(fd, "open", b->pids_max);
        check_sys((int)read(fd, buf, sizeof(buf)), "read", b->pids_max);
        close(fd);
}

static void floor_set(Bench *b)
{
        const char *v = b->iter++ % 2 ? "1001" : "1000";
        int fd = open(b->pids_max, O_WRONLY | O_CLOEXEC);

        check_sys(fd, "open", b->pids_max);
        check_sys((int)write(fd, v, strlen(v)), "write", b->pids_max);
        close(fd);
}

static void floor_create_remove(Bench *b)
{
        char p[4096];

        for (size_t i = 0; i < b->n_dirs; i++) {
                path_in(p, sizeof(p), b->dirs[i], "cr");
                check_sys(mkdir(p, 0755), "mkdir", p);
        }
        for (size_t i = b->n_dirs; i-- > 0;) {
                path_in(p, sizeof(p), b->dirs[i], "cr");
                check_sys(rmdir(p), "rmdir", p);
        }
}

static void floor_move_self(Bench *b)
{
        const char *target = b->iter++ % 2 ? "m2/cgroup.procs" : "m1/cgroup.procs";
        char p[4096], pid[32];
        int l = snprintf(pid, sizeof(pid), "%d", (int)getpid());

        for (size_t i = 0; i < b->n_dirs; i++) {
                int fd;

                path_in(p, sizeof(p), b->dirs[i], target);
                fd = open(p, O_WRONLY | O_CLOEXEC);
                check_sys(fd, "open", p);
                check_sys((int)write(fd, pid, (size_t)l), "write", p);
                close(fd);
        }
}

/* ---- timing ---- */

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

/* Time n calls of fn after a warm-up; *medianp and *p99p get the statistics in µs. */
static void measure(Bench *b, void (*fn)(Bench *), unsigned n, double *medianp, double *p99p)
{
        double *t = calloc(n, sizeof(*t));

        if (!t)
                die("out of memory");
        for (unsigned i = 0; i < BENCH_WARMUP; i++)
                fn(b);
        for (unsigned i = 0; i < n; i++) {
                double t0 = now_us();

                fn(b);
                t[i] = now_us() - t0;
        }
        qsort(t, n, sizeof(*t), cmp_double);
        *medianp = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
        *p99p = t[(size_t)((n * 99ull + 99) / 100) - 1]; /* nearest rank: ceil(0.99 n) */
        free(t);
}

static void run_op(Bench *b, const BenchOp *op, unsigned n)
{
        double med, p99, fmed, fp99;

        b->iter = 0;
        measure(b, op->daemon, n, &med, &p99);
        if (!op->floor) {
                printf("%s median_us=%.1f p99_us=%.1f floor_us=- ratio=-\n", op->name, med, p99);
        } else {
                b->iter = 0;
                measure(b, op->floor, n, &fmed, &fp99);
                printf("%s median_us=%.1f p99_us=%.1f floor_us=%.1f ratio=%.2f\n", op->name, med,
                       p99, fmed, med / fmed);
        }
        fflush(stdout);
}

static void connect_or_die(Bench *b)
{
        int r = cgm_connect(&b->h, b->socket);

        if (r < 0)
                die("connect to `%s`: %s", b->socket ? b->socket : "(default socket)",
                    b->h && cgm_error_message(b->h) ? cgm_error_message(b->h) : strerror(-r));
}

/*
 * MoveSelf in a child of its own, so that the parent never sits in m1/m2 and can remove them.
 * The child inherits the parent's Bench but drops the inherited handle without using it: a
 * libdbus connection must not be shared across fork, and MoveSelf would move the parent.
 */
static void run_move_self(Bench *b, const BenchOp *op, unsigned n)
{
        pid_t pid;
        int status;

        fflush(stdout);
        pid = fork();
        if (pid < 0)
                die("fork: %s", strerror(errno));
        if (pid == 0) {
                b->h = NULL;
                connect_or_die(b);
                run_op(b, op, n);
                cgm_free(b->h);
                _exit(0);
        }
        if (waitpid(pid, &status, 0) < 0)
                die("waitpid: %s", strerror(errno));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                die("the MoveSelf child failed");
}

static void remove_retrying(Bench *b, const char *path)
{
        int r = 0;

        for (int i = 0; i < BENCH_REMOVE_TRIES; i++) {
                r = cgm_remove(b->h, path, 0);
                if (r != -EBUSY)
                        break;
                usleep(10000);
        }
        check_cgm(b, r, path);
}

static void usage(void)
{
        fprintf(stderr,
                "Usage: bench-cgm [-s SOCKET] [-n N] --pids-dir DIR -d DIR [-d DIR]...\n"
                "  -s, --socket PATH    cgmd's socket (default $CGM_SOCKET or /run/cgm/cgm.sock)\n"
                "  -n, --iterations N   timed calls per operation (default %d, after %d warm-up)\n"
                "  -d, --dir DIR        the daemon's base in one hierarchy (repeat for each)\n"
                "      --pids-dir DIR   the base in the hierarchy that holds pids.max\n",
                BENCH_DEFAULT_N, BENCH_WARMUP);
        exit(2);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "socket", required_argument, NULL, 's' },
                { "iterations", required_argument, NULL, 'n' },
                { "dir", required_argument, NULL, 'd' },
                { "pids-dir", required_argument, NULL, 'P' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        static const BenchOp ops[] = {
                { "Ping", op_ping, NULL },
                { "Get", op_get, floor_get },
                { "Set", op_set, floor_set },
                { "Create+Remove", op_create_remove, floor_create_remove },
        };
        static const BenchOp move_op = { "MoveSelf", op_move_self, floor_move_self };
        Bench b = {};
        unsigned n = BENCH_DEFAULT_N;
        char *home = NULL, *cgroup = NULL, *end, probe[4096];
        uid_t uid;
        int opt;

        while ((opt = getopt_long(argc, argv, "s:n:d:h", opts, NULL)) != -1) {
                switch (opt) {
                case 's':
                        b.socket = optarg;
                        break;
                case 'n':
                        errno = 0;
                        n = (unsigned)strtoul(optarg, &end, 10);
                        if (errno || *end || n < 1 || n > 10000000)
                                die("bad iteration count `%s`", optarg);
                        break;
                case 'd':
                        if (b.n_dirs == BENCH_MAX_DIRS)
                                die("more than %d hierarchy directories", BENCH_MAX_DIRS);
                        b.dirs[b.n_dirs++] = optarg;
                        break;
                case 'P':
                        b.pids_dir = optarg;
                        break;
                default:
                        usage();
                }
        }
        if (optind < argc || b.n_dirs == 0 || !b.pids_dir)
                usage();
        if (geteuid() != 0)
                die("needs root: the floor writes cgroupfs directly");
        path_in(b.pids_max, sizeof(b.pids_max), b.pids_dir, "bench/pids.max");

        connect_or_die(&b);
        check_cgm(&b, cgm_whoami(b.h, &uid, &home, &cgroup, NULL, NULL), "WhoAmI");
        if (uid != 0)
                die("the daemon sees uid %u, want 0", (unsigned)uid);
        printf("# base=%s iterations=%u warmup=%d hierarchies=%zu\n", home, n, BENCH_WARMUP,
               b.n_dirs);
        free(home);
        free(cgroup);

        {
                cgm_kv limit = { .key = (char *)"pids.max", .value = (char *)"1000" };

                check_cgm(&b, cgm_create(b.h, "bench", &limit, 1, NULL), "Create bench");
                check_cgm(&b, cgm_create(b.h, "m1", NULL, 0, NULL), "Create m1");
                check_cgm(&b, cgm_create(b.h, "m2", NULL, 0, NULL), "Create m2");
        }
        /* The floor must act on the very cgroups the daemon made: check that it can see them. */
        for (size_t i = 0; i < b.n_dirs; i++) {
                struct stat st;

                path_in(probe, sizeof(probe), b.dirs[i], "m1/cgroup.procs");
                if (stat(probe, &st) < 0)
                        die("`%s`: %s: is -d a directory of the daemon's base?", probe,
                            strerror(errno));
        }
        if (access(b.pids_max, R_OK | W_OK) < 0)
                die("`%s`: %s: is --pids-dir the base in the pids hierarchy?", b.pids_max,
                    strerror(errno));

        for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
                run_op(&b, &ops[i], n);
        run_move_self(&b, &move_op, n);

        check_cgm(&b, cgm_remove(b.h, "bench", 0), "Remove bench");
        remove_retrying(&b, "m1");
        remove_retrying(&b, "m2");
        cgm_free(b.h);
        return 0;
}
