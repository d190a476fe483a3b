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
 * Reads. libcgm answers Get, Stat, List, Procs and WhoAmI from cgroupfs itself where it can
 * (client/direct.c), so their lines compare libcgm's direct read with the raw read of the same
 * files: Get the one pids.max; Stat each file cg_stat() reads for the cgroup, once; List an
 * opendir+readdir of the cgroup (three children) in the primary hierarchy; Procs its
 * cgroup.procs; WhoAmI, for root (no limits to show), /proc/self/cgroup. `Get/daemon` is Get on
 * a second handle opened with CGM_DIRECT=0, the daemon's path, against the same floor. The
 * target (issue 10) is a ratio of at most 1.5 for the direct lines.
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
 * Placement (issue 10's targets for the daemon's path). After the lines above, the same run
 * measures a raw AF_UNIX round trip (200 bytes each way over a socketpair to a forked echo
 * child) and then Ping and Set again, with the CPU placement pinned by sched_setaffinity: this
 * process on one CPU, the peer (the echo child, or every thread of cgmd, whose pid run.sh
 * passes with --daemon-pid) on the same CPU, then on another one. Each placement prints
 *
 *     RawRTT/PLACE median_us=R p99_us=.. floor_us=- ratio=-
 *     Ping/PLACE   median_us=Q p99_us=.. floor_us=R ratio=Q/R
 *     Set/PLACE    median_us=S p99_us=.. floor_us=W ratio=S/W ping_us=Q minus_ping_us=S-Q
 *                  over_2floor=(S-Q)/(2W)
 *
 * with PLACE `same-CPU` or `cross-CPU` (one token, so that the first field stays the name), W
 * the open+write+close floor of Set measured with this process on the same CPU. The targets
 * are Ping's ratio <= 1.5 and Set's over_2floor <= 1 (Set <= Ping + 2 x the write floor).
 * cross-CPU needs two usable CPUs; without --daemon-pid only the RawRTT lines are printed.
 * The affinity of this process and of cgmd's threads is put back afterwards.
 *
 * Any failure prints the daemon's message and exits 1; this is a tool, not a library.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>

#include "cgm.h"

#define BENCH_WARMUP 100
#define BENCH_DEFAULT_N 2000
/* More hierarchies than cgmd can use (cgroup2 plus eight v1 controllers). */
#define BENCH_MAX_DIRS 16
/* Bounded retry of a remove right after the last process left: 100 x 10 ms. */
#define BENCH_REMOVE_TRIES 100
/* The uid of the Set/direct line: a home is delegated to it for the run (no account needed). */
#define BENCH_USER_UID 61099
/* The raw round trip's message, each way: about a small D-Bus method call or reply. */
#define BENCH_RTT_BYTES 200

typedef struct Bench {
        cgm *h;
        cgm *hd;             /* a second handle with direct reads off: the daemon's path */
        const char *socket;
        const char *dirs[BENCH_MAX_DIRS];
        size_t n_dirs;
        const char *pids_dir;
        char pids_max[4096]; /* <pids_dir>/bench/pids.max */
        char primary[4096];  /* bench in the hierarchy whose paths the API shows */
        char stat_files[16][4096]; /* the files Stat reads for bench, for its floor */
        size_t n_stat_files;
        unsigned iter;       /* alternates Set values and MoveSelf targets */
        pid_t daemon_pid;    /* cgmd, for the pinned lines; 0: not given */
        int rtt_fd;          /* the raw round trip's end of the socketpair */
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

/* Get through the daemon: the same call on the handle opened with CGM_DIRECT=0. */
static void op_get_daemon(Bench *b)
{
        static const char *const keys[] = { "pids.max", NULL };
        cgm_kv *kv = NULL;
        size_t n = 0;

        check_cgm(b, cgm_get(b->hd, "bench", keys, &kv, &n), "Get bench pids.max (daemon)");
        if (n != 1)
                die("Get bench pids.max: %zu values back, want 1", n);
        cgm_kv_free(kv, n);
}

static void op_stat(Bench *b)
{
        cgm_counter *c = NULL;
        size_t n = 0;

        check_cgm(b, cgm_stat(b->h, "bench", &c, &n), "Stat bench");
        cgm_counters_free(c, n);
}

static void op_list(Bench *b)
{
        char **v = NULL;

        check_cgm(b, cgm_list(b->h, "bench", false, &v), "List bench");
        cgm_strv_free(v);
}

static void op_procs(Bench *b)
{
        pid_t *p = NULL;
        size_t n = 0;

        check_cgm(b, cgm_procs(b->h, "bench", false, &p, &n), "Procs bench");
        free(p);
}

static void op_whoami(Bench *b)
{
        char *home = NULL, *cgroup = NULL;
        cgm_kv *kv = NULL;
        size_t n = 0;
        uid_t uid;

        check_cgm(b, cgm_whoami(b->h, &uid, &home, &cgroup, &kv, &n), "WhoAmI");
        free(home);
        free(cgroup);
        cgm_kv_free(kv, n);
}

/* A user's Set below its home: one core v2 key, which libcgm writes itself. */
static void op_user_set(Bench *b)
{
        cgm_kv kv = { .key = (char *)"cgroup.max.descendants",
                      .value = (char *)(b->iter++ % 2 ? "1001" : "1000") };

        check_cgm(b, cgm_set(b->h, "u", &kv, 1), "Set user/u cgroup.max.descendants");
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

/* open+read+close of one file, as Get's floor does. */
static void read_one(const char *path)
{
        char buf[4096];
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        check_sys(fd, "open", path);
        check_sys((int)read(fd, buf, sizeof(buf)), "read", path);
        close(fd);
}

static void floor_stat(Bench *b)
{
        for (size_t i = 0; i < b->n_stat_files; i++)
                read_one(b->stat_files[i]);
}

static void floor_list(Bench *b)
{
        DIR *d = opendir(b->primary);

        if (!d)
                die("opendir `%s`: %s", b->primary, strerror(errno));
        while (readdir(d))
                ;
        closedir(d);
}

static void floor_procs(Bench *b)
{
        char p[4096 + 16];

        snprintf(p, sizeof(p), "%s/cgroup.procs", b->primary);
        read_one(p);
}

/* Root's WhoAmI shows no limits (its home is the base): what is left is its own cgroup. */
static void floor_whoami(Bench *b)
{
        (void)b;
        read_one("/proc/self/cgroup");
}

/* Set/direct's floor: the same values into the same file (b->pids_max points there). */
static void floor_set_value(Bench *b)
{
        const char *v = b->iter++ % 2 ? "1001" : "1000";
        int fd = open(b->pids_max, O_WRONLY | O_CLOEXEC);

        check_sys(fd, "open", b->pids_max);
        check_sys((int)write(fd, v, strlen(v)), "write", b->pids_max);
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

/* ---- placement: the raw AF_UNIX round trip, and Ping and Set pinned the same way ---- */

static void io_full(int fd, char *buf, size_t n, bool do_write)
{
        while (n > 0) {
                ssize_t k = do_write ? write(fd, buf, n) : read(fd, buf, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        die("raw round trip: %s", k < 0 ? strerror(errno) : "peer gone");
                buf += k;
                n -= (size_t)k;
        }
}

static void op_raw_rtt(Bench *b)
{
        char buf[BENCH_RTT_BYTES];

        memset(buf, 'x', sizeof(buf));
        io_full(b->rtt_fd, buf, sizeof(buf), true);
        io_full(b->rtt_fd, buf, sizeof(buf), false);
}

static void pin_task(pid_t tid, int cpu)
{
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(tid, sizeof(set), &set) < 0)
                die("sched_setaffinity(%d, CPU %d): %s", (int)tid, cpu, strerror(errno));
}

/*
 * Every thread of cgmd onto @cpu, or back to @mask when @cpu < 0. A thread that ends meanwhile
 * is skipped; threads started later inherit the affinity of the thread that starts them.
 */
static void daemon_set_affinity(pid_t pid, int cpu, const cpu_set_t *mask)
{
        char dir[64];
        struct dirent *de;
        DIR *d;

        snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
        d = opendir(dir);
        if (!d)
                die("`%s`: %s", dir, strerror(errno));
        while ((de = readdir(d))) {
                pid_t tid = (pid_t)atoi(de->d_name);

                if (tid <= 0)
                        continue;
                if (cpu >= 0)
                        pin_task(tid, cpu);
                else if (sched_setaffinity(tid, sizeof(*mask), mask) < 0 && errno != ESRCH)
                        die("sched_setaffinity(%d): %s", (int)tid, strerror(errno));
        }
        closedir(d);
}

/* The echo child: pinned to @cpu, answers each BENCH_RTT_BYTES with as many, until EOF. */
static pid_t echo_start(Bench *b, int cpu)
{
        int sv[2];
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                die("socketpair: %s", strerror(errno));
        fflush(stdout);
        pid = fork();
        if (pid < 0)
                die("fork: %s", strerror(errno));
        if (pid == 0) {
                char buf[BENCH_RTT_BYTES];

                close(sv[0]);
                pin_task(0, cpu);
                for (;;) {
                        size_t got = 0;

                        while (got < sizeof(buf)) {
                                ssize_t k = read(sv[1], buf + got, sizeof(buf) - got);

                                if (k < 0 && errno == EINTR)
                                        continue;
                                if (k <= 0)
                                        _exit(0);
                                got += (size_t)k;
                        }
                        io_full(sv[1], buf, sizeof(buf), true);
                }
        }
        close(sv[1]);
        b->rtt_fd = sv[0];
        return pid;
}

static void echo_stop(Bench *b, pid_t pid)
{
        int status;

        close(b->rtt_fd);
        b->rtt_fd = -1;
        if (waitpid(pid, &status, 0) < 0)
                die("waitpid: %s", strerror(errno));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                die("the echo child failed");
}

/* One placement: this process on @cpu_self, the echo child and cgmd on @cpu_peer. */
static void run_placement(Bench *b, const char *place, int cpu_self, int cpu_peer, unsigned n,
                          const cpu_set_t *daemon_mask)
{
        double rtt, rtt99, ping, ping99, set, set99, wfloor, wfloor99;
        pid_t echo;

        pin_task(0, cpu_self);
        echo = echo_start(b, cpu_peer);
        measure(b, op_raw_rtt, n, &rtt, &rtt99);
        echo_stop(b, echo);
        printf("RawRTT/%s median_us=%.1f p99_us=%.1f floor_us=- ratio=-\n", place, rtt, rtt99);
        fflush(stdout);
        if (!b->daemon_pid)
                return;

        daemon_set_affinity(b->daemon_pid, cpu_peer, NULL);
        measure(b, op_ping, n, &ping, &ping99);
        b->iter = 0;
        measure(b, op_set, n, &set, &set99);
        daemon_set_affinity(b->daemon_pid, -1, daemon_mask);
        b->iter = 0;
        measure(b, floor_set, n, &wfloor, &wfloor99);
        printf("Ping/%s median_us=%.1f p99_us=%.1f floor_us=%.1f ratio=%.2f\n", place, ping,
               ping99, rtt, ping / rtt);
        printf("Set/%s median_us=%.1f p99_us=%.1f floor_us=%.1f ratio=%.2f ping_us=%.1f "
               "minus_ping_us=%.1f over_2floor=%.2f\n",
               place, set, set99, wfloor, set / wfloor, ping, set - ping,
               (set - ping) / (2 * wfloor));
        fflush(stdout);
}

/* Both placements, then this process and cgmd get their affinity back. */
static void run_placements(Bench *b, unsigned n)
{
        cpu_set_t self_mask, daemon_mask;
        int cpus[2], n_cpus = 0;

        if (sched_getaffinity(0, sizeof(self_mask), &self_mask) < 0)
                die("sched_getaffinity: %s", strerror(errno));
        if (b->daemon_pid && sched_getaffinity(b->daemon_pid, sizeof(daemon_mask), &daemon_mask) < 0)
                die("sched_getaffinity(cgmd %d): %s", (int)b->daemon_pid, strerror(errno));
        for (int c = 0; c < CPU_SETSIZE && n_cpus < 2; c++)
                if (CPU_ISSET(c, &self_mask) && (!b->daemon_pid || CPU_ISSET(c, &daemon_mask)))
                        cpus[n_cpus++] = c;
        if (n_cpus == 0)
                die("no CPU that both this process and cgmd may run on");
        if (n_cpus == 2)
                printf("# placement: this process on CPU %d, the peer on CPU %d (same-CPU) or CPU "
                       "%d (cross-CPU); RawRTT: %d bytes each way, AF_UNIX socketpair%s\n",
                       cpus[0], cpus[0], cpus[1], BENCH_RTT_BYTES,
                       b->daemon_pid ? "" : "; no --daemon-pid: no pinned Ping or Set");
        else
                printf("# placement: this process and the peer on CPU %d; one usable CPU: no "
                       "cross-CPU lines%s\n",
                       cpus[0], b->daemon_pid ? "" : "; no --daemon-pid: no pinned Ping or Set");
        run_placement(b, "same-CPU", cpus[0], cpus[0], n, &daemon_mask);
        if (n_cpus == 2)
                run_placement(b, "cross-CPU", cpus[0], cpus[1], n, &daemon_mask);
        if (sched_setaffinity(0, sizeof(self_mask), &self_mask) < 0)
                die("sched_setaffinity: %s", strerror(errno));
}

/*
 * The raw floors of the reads: the primary hierarchy's bench (the cgroup2 one where there is
 * one: it has cgroup.controllers), and the files Stat reads there and in the v1 hierarchies,
 * each once (cgread.c's cg_stat(): memory, cpu usage from cpuacct on v1 else cpu.stat, pids
 * and pids.events, io from io.stat or the v1 blkio.throttle.io_service_bytes, and
 * populated/frozen from cgroup.events, or from the v1 freezer without cgroup2).
 */
static void find_read_floors(Bench *b)
{
        static const char *const files[] = { "memory.current", "memory.peak", "memory.events",
                                              "memory.usage_in_bytes", "memory.max_usage_in_bytes",
                                              "memory.oom_control", "cpuacct.usage", "cpu.stat",
                                              "pids.current", "pids.max", "pids.events",
                                              "io.stat", "blkio.throttle.io_service_bytes",
                                              "cgroup.events", "freezer.state" };
        char p[4096 + 64];
        bool have_cpuacct = false, have_events = false;

        path_in(b->primary, sizeof(b->primary), b->dirs[0], "bench");
        for (size_t i = 0; i < b->n_dirs; i++) {
                path_in(p, sizeof(p), b->dirs[i], "bench/cgroup.controllers");
                if (access(p, F_OK) == 0) {
                        path_in(b->primary, sizeof(b->primary), b->dirs[i], "bench");
                        break;
                }
        }
        for (size_t i = 0; i < b->n_dirs; i++)
                for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
                        snprintf(p, sizeof(p), "%s/bench/%s", b->dirs[i], files[f]);
                        if (access(p, R_OK) < 0 || b->n_stat_files == 16)
                                continue;
                        have_cpuacct |= strcmp(files[f], "cpuacct.usage") == 0;
                        have_events |= strcmp(files[f], "cgroup.events") == 0;
                        snprintf(b->stat_files[b->n_stat_files++], sizeof(b->stat_files[0]), "%s",
                                 p);
                }
        /* What cg_stat() reads only in the absence of the other. */
        for (size_t i = 0; i < b->n_stat_files;) {
                const char *name = strrchr(b->stat_files[i], '/') + 1;
                if ((have_cpuacct && strcmp(name, "cpu.stat") == 0) ||
                    (have_events && strcmp(name, "freezer.state") == 0)) {
                        memmove(b->stat_files[i], b->stat_files[b->n_stat_files - 1],
                                sizeof(b->stat_files[0]));
                        b->n_stat_files--;
                } else
                        i++;
        }
        printf("# read floors: List and Procs in %s; Stat reads %zu files\n", b->primary,
               b->n_stat_files);
}

/*
 * Set/direct: a user's Set in its own delegated cgroup v2 subtree, which libcgm writes itself
 * (client/direct.c), beside the same user's open+write+close of the file. Root delegates
 * "user" to BENCH_USER_UID; a child takes that uid, creates "user/u" through the daemon and
 * times Set of cgroup.max.descendants there (a core v2 key: served by cgroup2 on every layout
 * that has it). Without cgroup2 there is nothing to write directly and no line.
 */
static void run_user_set(Bench *b, unsigned n)
{
        char file[4096 + 64];
        pid_t pid;
        int status;

        if (access(b->primary, F_OK) < 0)
                return;
        path_in(file, sizeof(file), b->primary, "cgroup.controllers");
        if (access(file, F_OK) < 0) {
                printf("# Set/direct: no cgroup2 hierarchy, nothing a user writes directly\n");
                return;
        }
        check_cgm(b, cgm_create(b->h, "user", NULL, 0, NULL), "Create user");
        check_cgm(b, cgm_chown(b->h, "user", BENCH_USER_UID), "Chown user");
        fflush(stdout);
        pid = fork();
        if (pid < 0)
                die("fork: %s", strerror(errno));
        if (pid == 0) {
                double med, p99, fmed, fp99;

                b->h = NULL;
                b->hd = NULL;
                if (setgroups(0, NULL) < 0 || setgid(BENCH_USER_UID) < 0 ||
                    setuid(BENCH_USER_UID) < 0)
                        die("cannot become uid %d: %s", BENCH_USER_UID, strerror(errno));
                connect_or_die(b);
                check_cgm(b, cgm_create(b->h, "u", NULL, 0, NULL), "Create user/u (as the user)");
                /* The floor writes the same file; primary is ".../bench": go up to the base. */
                snprintf(b->pids_max, sizeof(b->pids_max), "%.*s/user/u/cgroup.max.descendants",
                         (int)(strrchr(b->primary, '/') - b->primary), b->primary);
                b->iter = 0;
                measure(b, op_user_set, n, &med, &p99);
                b->iter = 0;
                measure(b, floor_set_value, n, &fmed, &fp99);
                printf("Set/direct median_us=%.1f p99_us=%.1f floor_us=%.1f ratio=%.2f\n", med, p99,
                       fmed, med / fmed);
                fflush(stdout);
                check_cgm(b, cgm_remove(b->h, "u", 0), "Remove user/u");
                cgm_free(b->h);
                _exit(0);
        }
        if (waitpid(pid, &status, 0) < 0)
                die("waitpid: %s", strerror(errno));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                die("the Set/direct child failed");
        check_cgm(b, cgm_remove(b->h, "user", CGM_REMOVE_RECURSIVE), "Remove user");
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
                "      --pids-dir DIR   the base in the hierarchy that holds pids.max\n"
                "      --daemon-pid PID cgmd's pid: also time Ping and Set pinned like RawRTT\n",
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
                { "daemon-pid", required_argument, NULL, 'D' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        static const BenchOp ops[] = {
                { "Ping", op_ping, NULL },
                { "Get", op_get, floor_get },
                { "Get/daemon", op_get_daemon, floor_get },
                { "Stat", op_stat, floor_stat },
                { "List", op_list, floor_list },
                { "Procs", op_procs, floor_procs },
                { "WhoAmI", op_whoami, floor_whoami },
                { "Set", op_set, floor_set },
                { "Create+Remove", op_create_remove, floor_create_remove },
        };
        static const BenchOp move_op = { "MoveSelf", op_move_self, floor_move_self };
        Bench b = { .rtt_fd = -1 };
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
                case 'D':
                        errno = 0;
                        b.daemon_pid = (pid_t)strtol(optarg, &end, 10);
                        if (errno || *end || b.daemon_pid < 1)
                                die("bad daemon pid `%s`", optarg);
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
        /* The second handle reads through the daemon (libcgm(3): CGM_DIRECT). */
        {
                cgm *h = b.h;
                setenv("CGM_DIRECT", "0", 1);
                connect_or_die(&b);
                unsetenv("CGM_DIRECT");
                b.hd = b.h;
                b.h = h;
        }
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
                for (int i = 1; i <= 3; i++) {
                        char name[16];
                        snprintf(name, sizeof(name), "bench/l%d", i);
                        check_cgm(&b, cgm_create(b.h, name, NULL, 0, NULL), "Create bench/lN");
                }
        }
        find_read_floors(&b);
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
        run_user_set(&b, n);
        run_placements(&b, n);

        check_cgm(&b, cgm_remove(b.h, "bench/l1", 0), "Remove bench/l1");
        check_cgm(&b, cgm_remove(b.h, "bench/l2", 0), "Remove bench/l2");
        check_cgm(&b, cgm_remove(b.h, "bench/l3", 0), "Remove bench/l3");
        check_cgm(&b, cgm_remove(b.h, "bench", 0), "Remove bench");
        remove_retrying(&b, "m1");
        remove_retrying(&b, "m2");
        cgm_free(b.h);
        cgm_free(b.hd);
        return 0;
}
