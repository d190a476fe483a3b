/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_cgm return codes without a working daemon, in Linux-PAM's tst-*-retval manner */

/*
 * Every case writes a service file into a private directory and runs it through
 * pam_start_confdir(), so the host's /etc/pam.d is never read or touched, and the module is
 * named by its absolute path. No case needs a running cgmd or root: the daemon is either
 * absent (a socket path that does not exist, or a socket nobody listens on) or a fake one this
 * test creates itself, which takes connections and never answers. With those, what can be
 * checked is exactly what the login must survive: the return code for each fail= mode and
 * user, that a hung daemon costs no more than the timeout, and that the module leaves nothing
 * behind in the caller: no fd, no output on stderr, no changed signal disposition, also when
 * several threads log in at once.
 *
 * Output is TAP, one line per check. The module comes from argv[1], else $PAM_CGM_MODULE,
 * else the path the build compiled in.
 */

#undef NDEBUG

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#ifndef PAM_CGM_MODULE
#define PAM_CGM_MODULE "pam_cgm/.libs/pam_cgm.so"
#endif

/* The modules get timeout=300; a call that takes longer than this was not bounded by it. */
#define TIMEOUT_MS 300
#define BOUND_MS 3000
/* Threads that log in at once against the hung daemon. */
#define N_THREADS 8
/* The whole test is killed after this long instead of hanging `make check`. */
#define WATCHDOG_S 120

static const char *module;
static char dir[256];
static char absent_socket[300];
static const char *other_user; /* a non-root user NSS knows */
static int n_tests;
static int n_failed;

static void ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ok(bool cond, const char *fmt, ...)
{
        va_list ap;

        printf("%sok %d - ", cond ? "" : "not ", ++n_tests);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
        if (!cond)
                n_failed++;
}

static void bail(const char *what)
{
        printf("Bail out! %s: %s\n", what, strerror(errno));
        exit(99);
}

static long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        int n = 0;

        if (!d)
                bail("opendir /proc/self/fd");
        while ((e = readdir(d)))
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1; /* the directory's own fd */
}

/* ---- PAM application side ---------------------------------------------------------------- */

struct conv_log {
        int n_error;
        int n_other;
};

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
        struct conv_log *log = data;
        struct pam_response *r = calloc((size_t)n, sizeof(*r));

        if (!r)
                return PAM_BUF_ERR;
        for (int i = 0; i < n; i++) {
                if (msg[i]->msg_style == PAM_ERROR_MSG)
                        log->n_error++;
                else
                        log->n_other++;
        }
        *resp = r;
        return PAM_SUCCESS;
}

static void write_service(const char *name, const char *args)
{
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        if (!f)
                bail("write service file");
        fprintf(f, "session required %s %s\n", module, args);
        if (fclose(f) != 0)
                bail("write service file");
}

struct run {
        const char *user;
        int flags;
        const char *env;      /* put into the PAM environment before open, may be NULL */
        bool skip_open;       /* only close (with @env naming a session) */
        int open_rc;
        int close_rc;
        long open_ms;
        long close_ms;
        int fds_in_session;   /* fds after open minus fds before it */
        int fds_leaked;       /* fds after pam_end minus fds before pam_start */
        bool signals_changed; /* a signal disposition differs after pam_end */
        bool hung;            /* run_bounded() had to kill it */
        struct conv_log log;
};

static void dispositions(struct sigaction *sa)
{
        for (int i = 1; i < NSIG; i++)
                if (sigaction(i, NULL, &sa[i]) < 0)
                        sa[i].sa_handler = SIG_ERR;
}

static bool dispositions_differ(const struct sigaction *a, const struct sigaction *b)
{
        bool differ = false;

        for (int i = 1; i < NSIG; i++)
                if (a[i].sa_handler != b[i].sa_handler) {
                        printf("# signal %d (%s): disposition changed\n", i, strsignal(i));
                        differ = true;
                }
        return differ;
}

static void run(struct run *r, const char *service)
{
        struct sigaction before[NSIG], after[NSIG];
        struct pam_conv c = { conv, &r->log };
        pam_handle_t *pamh = NULL;
        int fds, fds_start, rc;
        long t;

        dispositions(before);
        fds_start = count_fds();
        rc = pam_start_confdir(service, r->user, &c, dir, &pamh);
        if (rc != PAM_SUCCESS) {
                printf("Bail out! pam_start_confdir: %s\n", pam_strerror(NULL, rc));
                exit(99);
        }
        if (r->env)
                pam_putenv(pamh, r->env);
        fds = count_fds();
        if (!r->skip_open) {
                t = now_ms();
                r->open_rc = pam_open_session(pamh, r->flags);
                r->open_ms = now_ms() - t;
        }
        r->fds_in_session = count_fds() - fds;
        t = now_ms();
        r->close_rc = pam_close_session(pamh, r->flags);
        r->close_ms = now_ms() - t;
        pam_end(pamh, r->close_rc);
        r->fds_leaked = count_fds() - fds_start;
        dispositions(after);
        r->signals_changed = dispositions_differ(before, after);
}

/*
 * run_bounded() - run() in a child that is killed when it takes much longer than BOUND_MS
 *
 * For the cases where the module could hang: a hang then fails those checks (r->hung) instead
 * of the whole test. The child's results come back through a pipe.
 */
static void run_bounded(struct run *r, const char *service)
{
        struct pollfd pfd;
        int p[2], status;
        ssize_t n = -1;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                bail("pipe2");
        fflush(stdout);
        pid = fork();
        if (pid < 0)
                bail("fork");
        if (pid == 0) {
                close(p[0]);
                run(r, service);
                _exit(write(p[1], r, sizeof(*r)) == (ssize_t)sizeof(*r) ? 0 : 1);
        }
        close(p[1]);
        pfd = (struct pollfd){ p[0], POLLIN, 0 };
        if (poll(&pfd, 1, BOUND_MS + 2000) == 1)
                n = read(p[0], r, sizeof(*r));
        if (n != (ssize_t)sizeof(*r)) {
                r->hung = true;
                r->open_rc = r->close_rc = -1;
                r->open_ms = r->close_ms = BOUND_MS + 2000;
                kill(pid, SIGKILL);
        }
        close(p[0]);
        waitpid(pid, &status, 0);
}

/* ---- fake daemons ------------------------------------------------------------------------ */

struct server {
        char path[300];
        int fd;
        bool accepting;
        int stop[2];
        pthread_t thread;
        int conns[256];
        int n_conns;
};

/* Takes every connection and never reads from it. */
static void *server_loop(void *p)
{
        struct server *s = p;

        for (;;) {
                struct pollfd pfd[2] = { { s->fd, POLLIN, 0 }, { s->stop[0], POLLIN, 0 } };

                if (poll(pfd, 2, -1) < 0 && errno != EINTR)
                        break;
                if (pfd[1].revents)
                        break;
                if (pfd[0].revents & POLLIN) {
                        int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
                        if (c >= 0 && s->n_conns < (int)(sizeof(s->conns) / sizeof(s->conns[0])))
                                s->conns[s->n_conns++] = c;
                        else if (c >= 0)
                                close(c);
                }
        }
        return NULL;
}

static void server_start(struct server *s, const char *name, bool accepting, int backlog)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        memset(s, 0, sizeof(*s));
        snprintf(s->path, sizeof(s->path), "%s/%s", dir, name);
        if (strlen(s->path) >= sizeof(sa.sun_path)) {
                errno = ENAMETOOLONG;
                bail("fake server socket path");
        }
        memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
        s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(s->fd, backlog) < 0)
                bail("fake server socket");
        s->accepting = accepting;
        if (accepting) {
                if (pipe2(s->stop, O_CLOEXEC) < 0)
                        bail("pipe2");
                if (pthread_create(&s->thread, NULL, server_loop, s) != 0)
                        bail("pthread_create");
        }
}

static void server_stop(struct server *s)
{
        if (s->accepting) {
                if (write(s->stop[1], "x", 1) != 1)
                        bail("stop server");
                pthread_join(s->thread, NULL);
                close(s->stop[0]);
                close(s->stop[1]);
        }
        for (int i = 0; i < s->n_conns; i++)
                close(s->conns[i]);
        close(s->fd);
        unlink(s->path);
}

/* ---- cases ------------------------------------------------------------------------------- */

static void test_absent(void)
{
        struct run r;

        write_service("absent-open", absent_socket);
        r = (struct run){ .user = other_user };
        run(&r, "absent-open");
        ok(r.open_rc == PAM_SUCCESS, "daemon absent, fail=open (default): open -> PAM_SUCCESS (%s)",
           pam_strerror(NULL, r.open_rc));
        ok(r.close_rc == PAM_SUCCESS, "daemon absent, no session recorded: close -> PAM_SUCCESS");
        ok(r.log.n_error == 0, "daemon absent, fail=open: nothing shown to the user");
        ok(r.fds_in_session == 0, "daemon absent: no fd left open in the session (%+d)",
           r.fds_in_session);

        char args[512];
        snprintf(args, sizeof(args), "%s fail=closed", absent_socket);
        write_service("absent-closed", args);
        r = (struct run){ .user = other_user };
        run(&r, "absent-closed");
        ok(r.open_rc == PAM_SESSION_ERR,
           "daemon absent, fail=closed, user %s: open -> PAM_SESSION_ERR (%s)", other_user,
           pam_strerror(NULL, r.open_rc));
        ok(r.log.n_error == 1, "fail=closed: the refusal is shown to the user with pam_error (%d)",
           r.log.n_error);

        r = (struct run){ .user = other_user, .flags = PAM_SILENT };
        run(&r, "absent-closed");
        ok(r.open_rc == PAM_SESSION_ERR, "fail=closed with PAM_SILENT: open -> PAM_SESSION_ERR");
        ok(r.log.n_error == 0 && r.log.n_other == 0, "PAM_SILENT: no message to the user");

        r = (struct run){ .user = "root" };
        run(&r, "absent-closed");
        ok(r.open_rc == PAM_SUCCESS, "daemon absent, fail=closed, root: open -> PAM_SUCCESS (%s)",
           pam_strerror(NULL, r.open_rc));
        ok(r.log.n_error == 0, "root is let in without a message");

        snprintf(args, sizeof(args), "%s fail=open frobnicate debug", absent_socket);
        write_service("absent-unknown", args);
        r = (struct run){ .user = other_user };
        run(&r, "absent-unknown");
        ok(r.open_rc == PAM_SUCCESS && r.close_rc == PAM_SUCCESS,
           "an unknown option is ignored: open/close -> PAM_SUCCESS");
}

/* A socket file that nobody listens on: connect() fails with ECONNREFUSED. */
static void test_refused(void)
{
        struct server s;
        char args[512];
        struct run r;

        server_start(&s, "stale.sock", false, 1);
        close(s.fd);
        s.fd = -1;
        snprintf(args, sizeof(args), "socket=%s fail=closed", s.path);
        write_service("stale", args);
        r = (struct run){ .user = other_user };
        run(&r, "stale");
        ok(r.open_rc == PAM_SESSION_ERR, "stale socket, fail=closed: open -> PAM_SESSION_ERR");
        r = (struct run){ .user = "root" };
        run(&r, "stale");
        ok(r.open_rc == PAM_SUCCESS, "stale socket, fail=closed, root: open -> PAM_SUCCESS");
        unlink(s.path);
}

/* The checks every hung-daemon run must pass besides its return code. */
static void ok_clean(const struct run *r, const char *what)
{
        ok(!r->hung && r->fds_leaked == 0 && r->fds_in_session == 0 && !r->signals_changed,
           "%s: no fd left behind, no signal disposition changed%s", what,
           r->hung ? " (hung, killed)" : "");
}

/*
 * The daemon hangs: open and close must each be bounded by timeout=300. Both kinds of hang
 * stop before the handshake: a daemon that never accepts leaves the connection in its listen
 * queue, one that accepts and never reads leaves it unanswered; either way the SASL exchange
 * never completes, which is where an unbounded wait would sit.
 */
static void test_hung(const char *what, bool accepting)
{
        struct server s;
        char args[512], title[200];
        struct run r;

        server_start(&s, "hung.sock", accepting, 64);

        snprintf(args, sizeof(args), "socket=%s timeout=%d", s.path, TIMEOUT_MS);
        write_service("hung-open", args);
        r = (struct run){ .user = other_user };
        run_bounded(&r, "hung-open");
        ok(r.open_rc == PAM_SUCCESS, "%s, fail=open: open -> PAM_SUCCESS (%d)", what, r.open_rc);
        ok(r.open_ms >= TIMEOUT_MS - 50 && r.open_ms < BOUND_MS,
           "%s, fail=open: open returned after the timeout, within %d ms (%ld ms)", what,
           BOUND_MS, r.open_ms);
        snprintf(title, sizeof(title), "%s, fail=open", what);
        ok_clean(&r, title);

        snprintf(args, sizeof(args), "socket=%s timeout=%d fail=closed", s.path, TIMEOUT_MS);
        write_service("hung-closed", args);
        r = (struct run){ .user = other_user, .flags = PAM_SILENT };
        run_bounded(&r, "hung-closed");
        ok(r.open_rc == PAM_SESSION_ERR, "%s, fail=closed: open -> PAM_SESSION_ERR (%d)", what,
           r.open_rc);
        ok(r.open_ms < BOUND_MS, "%s, fail=closed: open returned within %d ms (%ld ms)", what,
           BOUND_MS, r.open_ms);
        r = (struct run){ .user = "root" };
        run_bounded(&r, "hung-closed");
        ok(r.open_rc == PAM_SUCCESS && r.open_ms < BOUND_MS,
           "%s, fail=closed, root: open -> PAM_SUCCESS within %d ms (%ld ms)", what, BOUND_MS,
           r.open_ms);

        /* close of a session named in the environment (as after open on another handle) */
        r = (struct run){ .user = other_user, .env = "CGM_SESSION=c42", .skip_open = true };
        run_bounded(&r, "hung-open");
        ok(r.close_rc == PAM_SUCCESS && r.close_ms < BOUND_MS,
           "%s, fail=open: close of CGM_SESSION -> PAM_SUCCESS within %d ms (%ld ms)", what,
           BOUND_MS, r.close_ms);
        r = (struct run){ .user = other_user, .env = "CGM_SESSION=c42", .skip_open = true };
        run_bounded(&r, "hung-closed");
        ok(r.close_rc == PAM_SESSION_ERR && r.close_ms < BOUND_MS,
           "%s, fail=closed: close of CGM_SESSION -> PAM_SESSION_ERR within %d ms (%ld ms)",
           what, BOUND_MS, r.close_ms);
        snprintf(title, sizeof(title), "%s, close", what);
        ok_clean(&r, title);

        server_stop(&s);
}

/*
 * A daemon that stopped accepting long enough for its listen queue to fill: connect(2) on a
 * Unix socket then blocks until the daemon accepts. libdbus connects with a blocking socket,
 * so this is bounded only once libcgm connects without blocking (TODO until then).
 */
static void test_backlog_full(void)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fillers[64], n_fillers = 0;
        struct server s;
        char args[512];
        struct run r;

        server_start(&s, "full.sock", false, 0);
        memcpy(sa.sun_path, s.path, strlen(s.path) + 1);
        while (n_fillers < (int)(sizeof(fillers) / sizeof(fillers[0]))) {
                int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

                if (c < 0)
                        bail("socket");
                if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                        close(c);
                        break;
                }
                fillers[n_fillers++] = c;
        }
        snprintf(args, sizeof(args), "socket=%s timeout=%d", s.path, TIMEOUT_MS);
        write_service("full", args);
        r = (struct run){ .user = other_user };
        run_bounded(&r, "full");
        printf("%sok %d - listen queue full, fail=open: open -> PAM_SUCCESS within %d ms (%ld "
               "ms) # TODO libcgm: cgm_connect() blocks in connect(2)\n",
               r.open_rc == PAM_SUCCESS && r.open_ms < BOUND_MS ? "" : "not ", ++n_tests,
               BOUND_MS, r.open_ms);
        for (int i = 0; i < n_fillers; i++)
                close(fillers[i]);
        server_stop(&s);
}

struct threads_result {
        bool all_ok;
        bool clean;
        long ms;
};

static void *thread_login(void *p)
{
        struct run *r = p;

        run(r, "hung-threads");
        return NULL;
}

/* In the child of test_threads(): N_THREADS logins at once, half of them root. */
static void threads_child(int fd)
{
        struct run r[N_THREADS];
        pthread_t t[N_THREADS];
        struct threads_result res = { .all_ok = true, .clean = true };
        int fds = count_fds();
        long start = now_ms();

        for (int i = 0; i < N_THREADS; i++) {
                r[i] = (struct run){ .user = i % 2 ? "root" : other_user, .flags = PAM_SILENT };
                if (pthread_create(&t[i], NULL, thread_login, &r[i]) != 0)
                        _exit(1);
        }
        for (int i = 0; i < N_THREADS; i++) {
                pthread_join(t[i], NULL);
                res.all_ok = res.all_ok && r[i].open_rc == (i % 2 ? PAM_SUCCESS : PAM_SESSION_ERR);
        }
        res.ms = now_ms() - start;
        res.clean = count_fds() == fds;
        _exit(write(fd, &res, sizeof(res)) == (ssize_t)sizeof(res) ? 0 : 1);
}

/* Several threads of one process log in at once: each call has its own handle and state. */
static void test_threads(void)
{
        struct threads_result res = { 0 };
        struct pollfd pfd;
        struct server s;
        char args[512];
        int p[2], status;
        ssize_t n = -1;
        pid_t pid;

        server_start(&s, "threads.sock", true, 64);
        snprintf(args, sizeof(args), "socket=%s timeout=%d fail=closed", s.path, TIMEOUT_MS);
        write_service("hung-threads", args);
        if (pipe2(p, O_CLOEXEC) < 0)
                bail("pipe2");
        fflush(stdout);
        pid = fork();
        if (pid < 0)
                bail("fork");
        if (pid == 0) {
                close(p[0]);
                threads_child(p[1]);
        }
        close(p[1]);
        pfd = (struct pollfd){ p[0], POLLIN, 0 };
        if (poll(&pfd, 1, BOUND_MS + 2000) == 1)
                n = read(p[0], &res, sizeof(res));
        if (n != (ssize_t)sizeof(res)) {
                kill(pid, SIGKILL);
                res = (struct threads_result){ .ms = BOUND_MS + 2000 };
        }
        close(p[0]);
        waitpid(pid, &status, 0);

        ok(res.all_ok, "%d threads at once, fail=closed: root gets PAM_SUCCESS, %s PAM_SESSION_ERR",
           N_THREADS, other_user);
        ok(res.ms < BOUND_MS && res.clean,
           "%d threads at once: all returned within %d ms (%ld ms), no fd left behind", N_THREADS,
           BOUND_MS, res.ms);
        server_stop(&s);
}

static void test_bad_options(void)
{
        static const char *const bad[] = {
                "timeout=abc", "timeout=",        "timeout=0",  "timeout=-5",
                "timeout=10x", "timeout=9999999", "fail=maybe", "fail=",
                "socket=",     "socket=relative", NULL,
        };
        bool all_ok = true;

        for (const char *const *b = bad; *b; b++) {
                struct run r = { .user = other_user };

                write_service("bad", *b);
                run(&r, "bad");
                if (r.open_rc != PAM_SERVICE_ERR || r.close_rc != PAM_SERVICE_ERR) {
                        printf("# `%s`: open %d, close %d\n", *b, r.open_rc, r.close_rc);
                        all_ok = false;
                }
        }
        ok(all_ok, "malformed option values -> PAM_SERVICE_ERR on open and close");

        char args[512];
        char longpath[200];
        memset(longpath, 'a', sizeof(longpath) - 1);
        longpath[0] = '/';
        longpath[sizeof(longpath) - 1] = '\0';
        snprintf(args, sizeof(args), "socket=%s", longpath);
        write_service("bad", args);
        struct run r = { .user = other_user };
        run(&r, "bad");
        ok(r.open_rc == PAM_SERVICE_ERR, "a socket path too long for sun_path -> PAM_SERVICE_ERR");
}

static void test_unknown_user(void)
{
        struct run r = { .user = "pam-cgm-test-no-such-user" };

        write_service("absent-open", absent_socket);
        run(&r, "absent-open");
        ok(r.open_rc == PAM_USER_UNKNOWN, "unknown user: open -> PAM_USER_UNKNOWN (%s)",
           pam_strerror(NULL, r.open_rc));
}

/* ---- main -------------------------------------------------------------------------------- */

static void find_other_user(void)
{
        struct passwd *pw = getpwnam("nobody");

        if (pw && pw->pw_uid != 0) {
                other_user = "nobody";
                return;
        }
        setpwent();
        while ((pw = getpwent()))
                if (pw->pw_uid != 0) {
                        other_user = strdup(pw->pw_name);
                        break;
                }
        endpwent();
}

int main(int argc, char **argv)
{
        struct sigaction before[NSIG], after[NSIG];
        char errpath[300];
        struct stat st;
        int fds, saved_stderr, errfd;
        bool same = true;

        alarm(WATCHDOG_S);
        module = argc > 1 ? argv[1] : getenv("PAM_CGM_MODULE");
        if (!module || !module[0])
                module = PAM_CGM_MODULE;
        if (access(module, R_OK) < 0) {
                printf("1..0 # SKIP %s: %s\n", module, strerror(errno));
                return 77;
        }
        find_other_user();
        if (!other_user) {
                printf("1..0 # SKIP no non-root user in NSS\n");
                return 77;
        }

        snprintf(dir, sizeof(dir), "%s/pam-cgm-test.XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(dir))
                bail("mkdtemp");
        snprintf(absent_socket, sizeof(absent_socket), "socket=%s/absent.sock", dir);

        /* Everything the module might write to stderr lands in this file, which must stay empty. */
        snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
        errfd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        saved_stderr = fcntl(2, F_DUPFD_CLOEXEC, 3);
        if (errfd < 0 || saved_stderr < 0 || dup2(errfd, 2) < 0)
                bail("redirect stderr");
        close(errfd);

        /* One run first, so that what the process keeps open for good (the syslog socket that
         * pam_syslog opens on first use) is in the baseline. */
        {
                struct run r = { .user = other_user };
                write_service("absent-open", absent_socket);
                run(&r, "absent-open");
        }
        signal(SIGPIPE, SIG_DFL);
        dispositions(before);
        fds = count_fds();

        test_absent();
        test_refused();
        test_hung("fake daemon that never accepts", false);
        test_hung("fake daemon that accepts and never reads", true);
        test_threads();
        test_backlog_full();
        test_bad_options();
        test_unknown_user();

        ok(count_fds() == fds, "no fd leaked over all cases (%d before, %d after)", fds,
           count_fds());
        dispositions(after);
        for (int i = 1; i < NSIG; i++)
                if (before[i].sa_handler != after[i].sa_handler) {
                        printf("# signal %d (%s): disposition changed\n", i, strsignal(i));
                        same = false;
                }
        ok(same, "no signal disposition changed (SIGPIPE still SIG_DFL)");

        dup2(saved_stderr, 2);
        close(saved_stderr);
        if (stat(errpath, &st) < 0)
                bail("stat stderr file");
        ok(st.st_size == 0, "nothing was written to stderr (%lld bytes)", (long long)st.st_size);
        if (st.st_size > 0) {
                char buf[512];
                FILE *f = fopen(errpath, "re");
                while (f && fgets(buf, sizeof(buf), f))
                        printf("# stderr: %s", buf);
                if (f)
                        fclose(f);
        }

        /* Clean up only what this test made. */
        {
                DIR *d = opendir(dir);
                struct dirent *e;
                char path[600];
                while (d && (e = readdir(d)))
                        if (e->d_name[0] != '.') {
                                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                                unlink(path);
                        }
                if (d)
                        closedir(d);
                rmdir(dir);
        }
        printf("1..%d\n", n_tests);
        return n_failed ? 1 : 0;
}
