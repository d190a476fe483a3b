/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-scale: cgmd with 10 to 10,000 live sessions, one daemon
 *
 * Opens real sessions: each is a holder process (a child of this program) that connects,
 * calls OpenSession for one of H users (scale0 .. scale<H-1>, which NSS must know: run-scale.sh
 * makes them with libnss-extrausers in a private mount namespace) and so is moved into its
 * session leaf, and then waits. At each level of live sessions it times, on a fresh
 * connection:
 *
 *     Scale/Ping@L          median_us= p99_us= floor_us= ratio=
 *     Scale/Get@L           (Get pids.max of the probe user's home)
 *     Scale/OpenClose@L     (a probe process: OpenSession, then CloseSession of it)
 *     Scale/RawLogin@L      (the kernel's part of that, no daemon: mkdir in every hierarchy,
 *                            move a process in, rmdir the cgroups it left)
 *     Scale/SessionsPerEntry@L, Scale/UsersPerEntry@L ((a listing's time - a Ping's) / its
 *                            entries: what each entry adds)
 *     Scale/RSS@L kb=       (cgmd's VmRSS)
 *
 * floor_us is the same line at the first level and ratio = median / floor: the target is a
 * ratio within 0.9 .. 1.1 at every level. At the last level, with --restart, cgmd is killed
 * (SIGKILL, by the pid it was given) and started again with the command after `--`:
 *
 *     Scale/Restart@L ms=   (exec to the first answered Ping; it answers only after its
 *                            start-up walk) and the count of sessions it found again
 *
 * Then every holder is killed at once (SIGKILL, by pid: they are this program's children),
 * and while cgmd removes their leaves a Ping is timed back to back:
 *
 *     Scale/PingDuringLogout@L median_us= p99_us= max_us= n=
 *     Scale/Logout@L ms=    (until no session leaf is left below the base)
 *     Scale/PingWhileHomesGo@L, Scale/HomesGone@L ms= (the same, then until the homes are
 *                            gone too: after their grace, home_grace_ms)
 *
 * Usage: bench-scale -s SOCK -d BASEDIR --daemon-pid PID [-n N] [--homes H] [--levels 10,...]
 *        [--pidfile FILE --restart -- CGMD ARGS...]
 * -d BASEDIR, once per hierarchy: the base's directories (leaves are counted in the first).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgm.h"

#define HOLDERS_MAX 20000
#define IN_FLIGHT 4

static const char *sock;
static const char *base_dir;
static const char *dirs[16]; /* the base in every hierarchy (-d, repeated); dirs[0] = base_dir */
static size_t n_dirs;
static pid_t daemon_pid;
static unsigned n_calls = 500, n_homes = 1000;
static pid_t *holders;
static size_t n_holders;

#define die(...)                                                                                   \
        do {                                                                                       \
                fprintf(stderr, "bench-scale: " __VA_ARGS__);                                      \
                fputc('\n', stderr);                                                               \
                exit(1);                                                                           \
        } while (0)

static double now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static double pct(double *t, size_t n, double p)
{
        size_t i;

        if (n == 0)
                return 0;
        qsort(t, n, sizeof(*t), cmp_double);
        i = (size_t)(p * (double)(n - 1) + 0.5);
        return t[i < n ? i : n - 1];
}

static cgm *connect_or_die(void)
{
        cgm *h = NULL;
        int r = cgm_connect(&h, sock);

        if (r < 0)
                die("cannot connect to %s: %s", sock, strerror(-r));
        return h;
}

/* On any exit of the bench (die() too): no holder outlives it. */
static pid_t main_pid;

static void holders_kill(void)
{
        if (getpid() != main_pid)
                return; /* a child's exit: the holders are not its to end */
        for (size_t i = 0; i < n_holders; i++)
                if (holders[i] > 0)
                        (void)kill(holders[i], SIGKILL);
}

/* A holder: open a session for @user (moving this process into its leaf), report, wait. */
static void holder_run(const char *user, int status_fd)
{
        cgm *h = NULL;
        char *id = NULL, ok = '-';

        /* Never outlive the bench: a holder left behind would keep its leaf. */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
                _exit(1);
        if (cgm_connect(&h, sock) == 0 && cgm_open_session(h, user, NULL, 0, &id, NULL) == 0 &&
            id && *id)
                ok = '+';
        else if (h)
                fprintf(stderr, "bench-scale: OpenSession(%s): %s\n", user,
                        cgm_error_message(h) ? cgm_error_message(h) : "failed");
        free(id);
        cgm_free(h);
        (void)!write(status_fd, &ok, 1);
        close(status_fd);
        for (;;)
                pause();
}

/* Open holders until @target sessions live: IN_FLIGHT at a time. */
static void holders_grow(size_t target)
{
        int p[2];
        size_t in_flight = 0;

        if (pipe(p) < 0)
                die("pipe: %m");
        fflush(NULL);
        while (n_holders < target || in_flight) {
                char c;
                if (n_holders < target && in_flight < IN_FLIGHT) {
                        char user[32];
                        pid_t pid;
                        /* The first holder anchors the probe user's home (Get reads it). */
                        if (n_holders == 0)
                                snprintf(user, sizeof(user), "scaleprobe");
                        else
                                snprintf(user, sizeof(user), "scale%zu", (n_holders - 1) % n_homes);
                        pid = fork();
                        if (pid < 0)
                                die("fork: %m");
                        if (pid == 0) {
                                close(p[0]);
                                holder_run(user, p[1]);
                        }
                        holders[n_holders++] = pid;
                        in_flight++;
                        continue;
                }
                if (read(p[0], &c, 1) != 1)
                        die("holder status: %m");
                if (c != '+')
                        die("a holder could not open its session (see above)");
                in_flight--;
        }
        close(p[0]);
        close(p[1]);
}

typedef struct Line {
        const char *name;
        double floor; /* at the first level; 0 until then */
} Line;

static void print_line(Line *l, size_t level, double *t, size_t n)
{
        double med = pct(t, n, 0.5), p99 = pct(t, n, 0.99);

        if (l->floor == 0)
                l->floor = med;
        printf("Scale/%s@%zu median_us=%.2f p99_us=%.2f floor_us=%.2f ratio=%.2f\n", l->name,
               level, med, p99, l->floor, med / l->floor);
        fflush(stdout);
}

static long daemon_rss_kb(void)
{
        char path[64], line[256];
        long kb = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)daemon_pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
                        break;
        fclose(f);
        return kb;
}

/* The probe: N times OpenSession + CloseSession in one process; times go back by a pipe. */
static void probe_open_close(double *t, unsigned n)
{
        int p[2];
        pid_t pid;
        size_t got = 0;
        int status;

        if (pipe(p) < 0)
                die("pipe: %m");
        fflush(NULL);
        pid = fork();
        if (pid < 0)
                die("fork: %m");
        if (pid == 0) {
                cgm *h;
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                h = connect_or_die();
                close(p[0]);
                for (unsigned i = 0; i < n; i++) {
                        char *id = NULL;
                        double t0 = now_us(), dt;
                        if (cgm_open_session(h, "scaleprobe", NULL, 0, &id, NULL) < 0 ||
                            cgm_close_session(h, id) < 0) {
                                fprintf(stderr, "bench-scale: probe: %s\n", cgm_error_message(h));
                                _exit(1);
                        }
                        dt = now_us() - t0;
                        free(id);
                        if (write(p[1], &dt, sizeof(dt)) != sizeof(dt))
                                _exit(1);
                }
                cgm_free(h);
                _exit(0);
        }
        close(p[1]);
        while (got < n && read(p[0], &t[got], sizeof(*t)) == sizeof(*t))
                got++;
        close(p[0]);
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
            got != n)
                die("the OpenClose probe failed");
}

static size_t leaves_left(void);

/*
 * The kernel's part of a login, no daemon: as the probe's OpenSession + CloseSession does,
 * a new cgroup in every hierarchy, a process moved into it, and the previous one (emptied by
 * that move) removed. One child process moves; it is killed and its cgroups removed after.
 */
static void raw_floor(double *t, unsigned n)
{
        pid_t child;
        char pid[16];

        fflush(NULL);
        child = fork();
        if (child < 0)
                die("fork: %m");
        if (child == 0) {
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                for (;;)
                        pause();
        }
        snprintf(pid, sizeof(pid), "%d", (int)child);
        for (unsigned i = 0; i <= n; i++) {
                double t0 = now_us();
                for (size_t d = 0; d < n_dirs; d++) {
                        char p[4096];
                        int fd;
                        snprintf(p, sizeof(p), "%s/scale-raw-%u", dirs[d], i % 2);
                        if (i < n) {
                                if (mkdir(p, 0755) < 0)
                                        die("mkdir %s: %m", p);
                                snprintf(p, sizeof(p), "%s/scale-raw-%u/cgroup.procs", dirs[d],
                                         i % 2);
                                fd = open(p, O_WRONLY | O_CLOEXEC);
                                if (fd < 0 || write(fd, pid, strlen(pid)) < 0)
                                        die("move into %s: %m", p);
                                close(fd);
                        }
                        snprintf(p, sizeof(p), "%s/scale-raw-%u", dirs[d], (i + 1) % 2);
                        if (i > 0 && i < n && rmdir(p) < 0)
                                die("rmdir %s: %m", p);
                }
                if (i < n)
                        t[i] = now_us() - t0;
        }
        (void)kill(child, SIGKILL);
        (void)waitpid(child, NULL, 0);
        for (size_t d = 0; d < n_dirs; d++)
                for (unsigned k = 0; k < 2; k++) {
                        char p[4096];
                        snprintf(p, sizeof(p), "%s/scale-raw-%u", dirs[d], k);
                        for (int tries = 0; tries < 100 && rmdir(p) < 0 && errno == EBUSY; tries++)
                                usleep(10000); /* the killed child leaves it */
                }
}

/* Until cgmd has removed the probe's leaves: its cleanup must not run into the next lines. */
static void wait_settled(size_t level)
{
        for (int i = 0; i < 600 && leaves_left() > level + 1; i++)
                usleep(50000);
}

/* strace -c -f of cgmd into @file (a look at where a line's time goes), or -1. */
static pid_t trace_start(const char *file)
{
        char pid[16];
        pid_t tracer;

        if (!file)
                return -1;
        snprintf(pid, sizeof(pid), "%d", (int)daemon_pid);
        fflush(NULL);
        tracer = fork();
        if (tracer == 0) {
                execlp("strace", "strace", "-c", "-f", "-w", "-o", file, "-p", pid, NULL);
                _exit(127);
        }
        sleep(1);
        return tracer;
}

static void trace_stop(pid_t tracer)
{
        if (tracer > 0) {
                (void)kill(tracer, SIGINT);
                (void)waitpid(tracer, NULL, 0);
        }
}

static void measure(size_t level, Line *lines, double *t)
{
        cgm *h = connect_or_die();
        const char *keys[] = { "pids.max", NULL };
        cgm_session *ss;
        cgm_user *us;
        size_t n;
        unsigned reps = 5;
        double ping;

        for (unsigned i = 0; i < 20; i++) /* warm up */
                (void)cgm_ping(h);
        for (unsigned i = 0; i < n_calls; i++) {
                double t0 = now_us();
                if (cgm_ping(h) < 0)
                        die("Ping: %s", cgm_error_message(h));
                t[i] = now_us() - t0;
        }
        ping = pct(t, n_calls, 0.5);
        print_line(&lines[0], level, t, n_calls);
        for (unsigned i = 0; i < n_calls; i++) {
                cgm_kv *kv = NULL;
                size_t nkv = 0;
                double t0 = now_us();
                if (cgm_get(h, "user-71000", keys, &kv, &nkv) < 0)
                        die("Get: %s", cgm_error_message(h));
                t[i] = now_us() - t0;
                for (size_t k = 0; k < nkv; k++) {
                        free(kv[k].key);
                        free(kv[k].value);
                }
                free(kv);
        }
        print_line(&lines[1], level, t, n_calls);
        {
                const char *prefix = getenv("BENCH_SCALE_STRACE_OPENCLOSE");
                char file[4096];
                pid_t tracer;
                snprintf(file, sizeof(file), "%s.%zu", prefix ? prefix : "", level);
                tracer = trace_start(prefix ? file : NULL);
                probe_open_close(t, n_calls / 5 ? n_calls / 5 : 1);
                trace_stop(tracer);
        }
        print_line(&lines[2], level, t, n_calls / 5 ? n_calls / 5 : 1);
        raw_floor(t, n_calls / 5);
        print_line(&lines[5], level, t, n_calls / 5);
        wait_settled(level);
        for (unsigned i = 0; i < reps; i++) {
                double t0 = now_us();
                if (cgm_sessions(h, &ss, &n) < 0)
                        die("Sessions: %s", cgm_error_message(h));
                t[i] = (now_us() - t0 - ping) / (double)(n ? n : 1);
                cgm_sessions_free(ss, n);
                if (n < level + 1)
                        die("Sessions lists %zu sessions, %zu are live", n, level);
        }
        print_line(&lines[3], level, t, reps);
        for (unsigned i = 0; i < reps; i++) {
                double t0 = now_us();
                if (cgm_users(h, &us, &n) < 0)
                        die("Users: %s", cgm_error_message(h));
                t[i] = (now_us() - t0 - ping) / (double)(n ? n : 1);
                cgm_users_free(us, n);
        }
        print_line(&lines[4], level, t, reps);
        printf("Scale/RSS@%zu kb=%ld\n", level, daemon_rss_kb());
        fflush(stdout);
        cgm_free(h);
}

/* Session leaves below the base: directories two levels down (home/leaf). */
static size_t leaves_left(void)
{
        DIR *d = opendir(base_dir), *hd;
        struct dirent *de, *le;
        size_t n = 0;

        if (!d)
                return 0;
        while ((de = readdir(d))) {
                char p[4096];
                if (de->d_type != DT_DIR || strncmp(de->d_name, "user-", 5) != 0)
                        continue;
                snprintf(p, sizeof(p), "%s/%s", base_dir, de->d_name);
                hd = opendir(p);
                if (!hd)
                        continue;
                while ((le = readdir(hd)))
                        n += le->d_type == DT_DIR && strncmp(le->d_name, "session-", 8) == 0;
                closedir(hd);
        }
        closedir(d);
        return n;
}

/* Gone, or a zombie that its parent (run-scale.sh, waiting for us) has not reaped yet. */
static bool process_dead(pid_t pid)
{
        char path[64], buf[512], *p;
        ssize_t l;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return true;
        l = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (l <= 0)
                return true;
        buf[l] = '\0';
        p = strrchr(buf, ')');
        return p && (p[2] == 'Z' || p[2] == 'X');
}

/* Homes below the base (they go after their grace, home_grace_ms). */
static size_t homes_left(void)
{
        DIR *d = opendir(base_dir);
        struct dirent *de;
        size_t n = 0;

        if (!d)
                return 0;
        while ((de = readdir(d)))
                n += de->d_type == DT_DIR && strncmp(de->d_name, "user-", 5) == 0;
        closedir(d);
        return n;
}

static void restart(size_t level, char **argv, const char *pidfile)
{
        cgm *h = NULL;
        cgm_session *ss;
        size_t n = 0;
        double t0;
        pid_t pid;
        FILE *f;

        if (kill(daemon_pid, SIGKILL) < 0)
                die("kill %d: %m", (int)daemon_pid);
        for (int i = 0; i < 5000 && !process_dead(daemon_pid); i++)
                usleep(1000);
        if (!process_dead(daemon_pid))
                die("cgmd (pid %d) did not die of SIGKILL within 5 s", (int)daemon_pid);
        (void)unlink(sock); /* the dead daemon's socket */
        fflush(NULL);
        t0 = now_us();
        pid = fork();
        if (pid < 0)
                die("fork: %m");
        if (pid == 0) {
                const char *log = getenv("BENCH_SCALE_LOG");
                int fd = log ? open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;
                if (fd >= 0)
                        dup2(fd, 2);
                execv(argv[0], argv);
                _exit(127);
        }
        daemon_pid = pid;
        f = fopen(pidfile, "we");
        if (f) {
                fprintf(f, "%d\n", (int)pid);
                fclose(f);
        }
        for (int i = 0; i < 60000; i++) {
                if (cgm_connect(&h, sock) == 0 && cgm_ping(h) == 0)
                        break;
                cgm_free(h);
                h = NULL;
                if (waitpid(pid, NULL, WNOHANG) == pid)
                        die("the restarted cgmd exited");
                usleep(500);
        }
        if (!h)
                die("the restarted cgmd did not answer within 30 s");
        printf("Scale/Restart@%zu ms=%.1f", level, (now_us() - t0) / 1e3);
        if (cgm_sessions(h, &ss, &n) < 0)
                die("Sessions after the restart: %s", cgm_error_message(h));
        cgm_sessions_free(ss, n);
        printf(" sessions_found=%zu\n", n);
        fflush(stdout);
        if (n < level + 1)
                die("the restarted cgmd found %zu sessions of %zu", n, level);
        cgm_free(h);
}

static void mass_logout(size_t level, double *t, size_t t_max)
{
        cgm *h = connect_or_die();
        size_t n = 0, n_all = 0;
        double start, next_count, med, p99, max = 0;

        const char *trace = getenv("BENCH_SCALE_STRACE"); /* a look at where cgmd waits */
        pid_t tracer = -1;

        if (trace) {
                char pid[16];
                snprintf(pid, sizeof(pid), "%d", (int)daemon_pid);
                fflush(NULL);
                tracer = fork();
                if (tracer == 0) {
                        execlp("strace", "strace", "-T", "-tt", "-o", trace, "-p", pid, NULL);
                        _exit(127);
                }
                sleep(1);
        }
        (void)cgm_ping(h);
        start = now_us();
        for (size_t i = 0; i < n_holders; i++)
                (void)kill(holders[i], SIGKILL);
        n_holders = 0;
        next_count = now_us() + 200e3;
        for (;;) {
                double t0 = now_us(), dt;
                if (cgm_ping(h) < 0)
                        die("Ping during the logout: %s", cgm_error_message(h));
                dt = now_us() - t0;
                t[n] = dt;
                n = n + 1 < t_max ? n + 1 : n;
                n_all++;
                max = dt > max ? dt : max;
                for (int i = 0; i < 64 && waitpid(-1, NULL, WNOHANG) > 0; i++)
                        ; /* reap the holders as they go */
                if (t0 >= next_count) {
                        if (leaves_left() == 0)
                                break;
                        if (t0 - start > 120e6)
                                die("leaves still there after 120 s");
                        next_count = now_us() + 200e3;
                }
        }
        if (tracer > 0) {
                (void)kill(tracer, SIGINT);
                (void)waitpid(tracer, NULL, 0);
        }
        med = pct(t, n, 0.5);
        p99 = pct(t, n, 0.99);
        printf("Scale/PingDuringLogout@%zu median_us=%.1f p99_us=%.1f max_us=%.1f n=%zu\n", level,
               med, p99, max, n_all);
        printf("Scale/Logout@%zu ms=%.0f\n", level, (now_us() - start) / 1e3);
        fflush(stdout);
        /* Then the homes, after their grace: pinged the same way until the last is gone. */
        n = 0;
        n_all = 0;
        max = 0;
        start = now_us();
        next_count = start + 200e3;
        for (;;) {
                double t0 = now_us(), dt;
                if (cgm_ping(h) < 0)
                        die("Ping while the homes go: %s", cgm_error_message(h));
                dt = now_us() - t0;
                t[n] = dt;
                n = n + 1 < t_max ? n + 1 : n;
                n_all++;
                max = dt > max ? dt : max;
                if (t0 >= next_count) {
                        if (homes_left() == 0)
                                break;
                        if (t0 - start > 120e6)
                                die("homes still there 120 s after their last session");
                        next_count = now_us() + 200e3;
                }
        }
        printf("Scale/PingWhileHomesGo@%zu median_us=%.1f p99_us=%.1f max_us=%.1f n=%zu\n",
               level, pct(t, n, 0.5), pct(t, n, 0.99), max, n_all);
        printf("Scale/HomesGone@%zu ms=%.0f\n", level, (now_us() - start) / 1e3);
        fflush(stdout);
        cgm_free(h);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "socket", required_argument, NULL, 's' },
                { "dir", required_argument, NULL, 'd' },
                { "calls", required_argument, NULL, 'n' },
                { "homes", required_argument, NULL, 'H' },
                { "levels", required_argument, NULL, 'l' },
                { "daemon-pid", required_argument, NULL, 'p' },
                { "pidfile", required_argument, NULL, 'P' },
                { "restart", no_argument, NULL, 'r' },
                {},
        };
        Line lines[] = { { "Ping", 0 },  { "Get", 0 },           { "OpenClose", 0 },
                         { "SessionsPerEntry", 0 }, { "UsersPerEntry", 0 },
                         { "RawLogin", 0 } };
        const char *levels = "10,100,1000,10000", *pidfile = NULL;
        bool do_restart = false;
        size_t level = 0, t_max = 1000000;
        double *t;
        int c;

        while ((c = getopt_long(argc, argv, "s:d:n:", opts, NULL)) >= 0)
                switch (c) {
                case 's': sock = optarg; break;
                case 'd':
                        if (n_dirs < 16)
                                dirs[n_dirs++] = optarg;
                        base_dir = dirs[0];
                        break;
                case 'n': n_calls = (unsigned)strtoul(optarg, NULL, 10); break;
                case 'H': n_homes = (unsigned)strtoul(optarg, NULL, 10); break;
                case 'l': levels = optarg; break;
                case 'p': daemon_pid = (pid_t)strtol(optarg, NULL, 10); break;
                case 'P': pidfile = optarg; break;
                case 'r': do_restart = true; break;
                default: die("bad usage (see the header of bench/bench-scale.c)");
                }
        if (!sock || !base_dir || daemon_pid <= 0 || n_calls < 5 || n_homes == 0 ||
            (do_restart && (!pidfile || optind >= argc)))
                die("bad usage (see the header of bench/bench-scale.c)");
        main_pid = getpid();
        atexit(holders_kill);
        holders = calloc(HOLDERS_MAX, sizeof(*holders));
        t = calloc(t_max, sizeof(*t));
        if (!holders || !t)
                die("out of memory");
        signal(SIGPIPE, SIG_IGN);
        for (const char *p = levels; *p;) {
                char *end;
                level = strtoul(p, &end, 10);
                if (end == p || level == 0 || level > HOLDERS_MAX)
                        die("bad --levels `%s`", levels);
                p = *end == ',' ? end + 1 : end;
                if (level + 1 < n_holders)
                        die("--levels must grow");
                {
                        double t0 = now_us();
                        holders_grow(level + 1); /* and the anchor */
                        printf("# %zu sessions live (%.1f s to open)\n", level,
                               (now_us() - t0) / 1e6);
                }
                measure(level, lines, t);
        }
        if (do_restart)
                restart(level, argv + optind, pidfile);
        mass_logout(level, t, t_max);
        return 0;
}
