/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_cgm return codes without a working daemon, in Linux-PAM's tst-*-retval manner */

/*
 * Every case writes a service file into a private directory and runs it through
 * pam_start_confdir(), so the host's /etc/pam.d is never read or touched, and the module is
 * named by its absolute path. No case needs a running cgmd: the daemon is either absent (a
 * socket path that does not exist, or a socket nobody listens on) or a fake one this test
 * creates itself: one that takes connections and never answers, one that never accepts, one
 * whose listen queue is full, and a scripted one that speaks the protocol (libdbus marshals its
 * replies) and answers late, refuses, or opens a session. With those, what can be checked is
 * exactly what the login must survive: the return code for each fail= mode and user, that
 * nothing costs more than the timeout (connect, handshake and call together), and that the
 * module leaves nothing behind in the caller: no fd, no output on stderr, no changed signal
 * disposition, also when several threads log in at once.
 *
 * A directory service that stopped answering (LDAP down) is simulated with libnss_stall.so.2,
 * whose lookups sleep for a minute: those cases re-run this program in a mount namespace of
 * its own with an nsswitch.conf that asks it first (run_stalled()), so the host's
 * /etc/nsswitch.conf is never touched. That needs root or unprivileged user namespaces; without
 * either those checks are skipped.
 *
 * Output is TAP, one line per check. The module comes from argv[1], else $PAM_CGM_MODULE,
 * else the path the build compiled in.
 */

#undef NDEBUG

#include <dbus/dbus.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
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
#ifndef NSS_STALL_DIR
#define NSS_STALL_DIR "tests/pam"
#endif

extern char **environ;

/* The modules get timeout=300. A hook must return within the timeout plus SLACK_MS (a loaded
 * machine, a sanitizer build); one that takes BOUND_MS is killed as hung. */
#define TIMEOUT_MS 300
#define SLACK_MS 500
#define BOUND_MS 3000
/* The cases with a scripted daemon that answers late: long enough that its delays are not
 * lost in scheduling noise. */
#define LONG_TIMEOUT_MS 1000
/* A user no NSS source knows: with the stalled directory, looking it up hangs. */
#define STALLED_USER "pam-cgm-test-stalled"
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
        char session[80];     /* CGM_SESSION in the PAM environment after open */
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
        snprintf(r->session, sizeof(r->session), "%s",
                 pam_getenv(pamh, "CGM_SESSION") ? pam_getenv(pamh, "CGM_SESSION") : "");
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
 * child_result() - the result a child writes to @fd, waiting at most @ms for it
 *
 * Return: 1 with @size bytes in @buf; 0 when the child hung (it is killed) or died without a
 * result; -1 when it exited with 77 without one: it could not set up its environment (skip).
 */
static int child_result(pid_t pid, int fd, void *buf, size_t size, int ms)
{
        struct pollfd pfd = { fd, POLLIN, 0 };
        ssize_t n = -1;
        int status = 0;

        if (poll(&pfd, 1, ms) == 1)
                n = read(fd, buf, size);
        if (n != (ssize_t)size)
                kill(pid, SIGKILL);
        close(fd);
        if (waitpid(pid, &status, 0) < 0)
                bail("waitpid");
        if (n == (ssize_t)size)
                return 1;
        return n == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 77 ? -1 : 0;
}

static void run_hung(struct run *r)
{
        r->hung = true;
        r->open_rc = r->close_rc = -1;
        r->open_ms = r->close_ms = BOUND_MS + 2000;
}

/*
 * run_bounded() - run() in a child that is killed when it takes much longer than BOUND_MS
 *
 * For the cases where the module could hang: a hang then fails those checks (r->hung) instead
 * of the whole test. The child's results come back through a pipe.
 */
static void run_bounded(struct run *r, const char *service)
{
        int p[2];
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
        if (child_result(pid, p[0], r, sizeof(*r), BOUND_MS + 2000) != 1)
                run_hung(r);
}

/* ---- a stalled directory ----------------------------------------------------------------- */

static char nsswitch_path[300];
static char uid_map[64], gid_map[64];
static char **stall_envp;
/* This program, by path: under valgrind /proc/self/exe is valgrind itself. */
static char self_exe[4096] = "/proc/self/exe";

/*
 * stall_prepare() - the private nsswitch.conf and the environment for run_stalled()
 *
 * passwd and group ask the stalled module first, so that every lookup hangs, root's too: a
 * module that asks NSS anything at all hangs there. LD_LIBRARY_PATH makes libnss_stall.so.2
 * loadable by its soname.
 */
static bool stall_prepare(void)
{
        const char *stall_dir = getenv("NSS_STALL_DIR") ? getenv("NSS_STALL_DIR") : NSS_STALL_DIR;
        const char *old = getenv("LD_LIBRARY_PATH");
        char so[512], *var;
        size_t n = 0, i = 0;
        ssize_t len;
        FILE *f;

        len = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
        if (len > 0 && len < (ssize_t)sizeof(self_exe) - 1)
                self_exe[len] = '\0';
        else
                snprintf(self_exe, sizeof(self_exe), "/proc/self/exe");
        snprintf(so, sizeof(so), "%s/libnss_stall.so.2", stall_dir);
        if (access(so, R_OK) < 0 || access("/etc/nsswitch.conf", F_OK) < 0)
                return false;
        snprintf(nsswitch_path, sizeof(nsswitch_path), "%s/nsswitch.conf", dir);
        f = fopen(nsswitch_path, "we");
        if (!f)
                bail("write nsswitch.conf");
        fprintf(f, "passwd: stall files\ngroup: stall files\nshadow: files\n");
        if (fclose(f) != 0)
                bail("write nsswitch.conf");
        snprintf(uid_map, sizeof(uid_map), "0 %u 1\n", (unsigned)geteuid());
        snprintf(gid_map, sizeof(gid_map), "0 %u 1\n", (unsigned)getegid());

        while (environ[n])
                n++;
        stall_envp = calloc(n + 2, sizeof(*stall_envp));
        if (!stall_envp ||
            asprintf(&var, "LD_LIBRARY_PATH=%s%s%s", stall_dir, old ? ":" : "", old ? old : "") < 0)
                bail("environment");
        stall_envp[i++] = var;
        for (size_t j = 0; j < n; j++)
                if (strncmp(environ[j], "LD_LIBRARY_PATH=", 16) != 0)
                        stall_envp[i++] = environ[j];
        return true;
}

static void write_proc(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);

        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
                _exit(77);
        close(fd);
}

/*
 * stall_exec() - in a forked child: this program again, with @argv, in the stalled world
 *
 * A mount namespace of its own (in a user namespace of its own when not root), where the
 * private nsswitch.conf is bind-mounted over /etc/nsswitch.conf; exec makes the new program
 * read it and LD_LIBRARY_PATH from the start. Only async-signal-safe calls before exec: the
 * parent has threads. Exit 77 when the namespace cannot be had.
 */
static void stall_exec(int result_fd, char **argv)
{
        if (fcntl(result_fd, F_SETFD, 0) < 0)
                _exit(77);
        if (unshare(CLONE_NEWNS) < 0) {
                if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                        _exit(77);
                write_proc("/proc/self/setgroups", "deny");
                write_proc("/proc/self/uid_map", uid_map);
                write_proc("/proc/self/gid_map", gid_map);
        }
        if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount(nsswitch_path, "/etc/nsswitch.conf", "none", MS_BIND, NULL) < 0)
                _exit(77);
        execve(self_exe, argv, stall_envp);
        _exit(77);
}

/*
 * run_stalled() - run() where every NSS lookup hangs, killed when it takes much longer than
 * BOUND_MS
 *
 * Return: as child_result(); r->hung is set when it hung.
 */
static int run_stalled(struct run *r, const char *service)
{
        char fd_arg[16], flags_arg[16];
        int p[2], res;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                bail("pipe2");
        snprintf(fd_arg, sizeof(fd_arg), "%d", p[1]);
        snprintf(flags_arg, sizeof(flags_arg), "%d", r->flags);
        char *argv[] = { "test-pam-retval", "--stalled-run", fd_arg,          (char *)module, dir,
                         (char *)service,   (char *)r->user, flags_arg,
                         (char *)(r->env ? r->env : ""), r->skip_open ? "1" : "0", NULL };
        fflush(stdout);
        pid = fork();
        if (pid < 0)
                bail("fork");
        if (pid == 0) {
                close(p[0]);
                stall_exec(p[1], argv);
        }
        close(p[1]);
        res = child_result(pid, p[0], r, sizeof(*r), BOUND_MS + 2000);
        if (res != 1)
                run_hung(r);
        return res;
}

/* The program run by run_stalled(): argv as built there. */
static int stalled_run_main(char **argv)
{
        struct run r = { .user = argv[6], .flags = atoi(argv[7]),
                         .env = argv[8][0] ? argv[8] : NULL, .skip_open = argv[9][0] == '1' };
        int fd = atoi(argv[2]);

        module = argv[3];
        snprintf(dir, sizeof(dir), "%s", argv[4]);
        run(&r, argv[5]);
        return write(fd, &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1;
}

/* In the stalled world: getpwnam(argv[3]), and one byte to fd argv[2] once it returns. */
static int stalled_getpwnam_main(char **argv)
{
        (void)getpwnam(argv[3]);
        return write(atoi(argv[2]), "x", 1) == 1 ? 0 : 1;
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

/*
 * A scripted daemon: it speaks the protocol (the SASL lines by hand, messages marshalled by
 * libdbus), one connection at a time, and does what the case asks: leave each connection in
 * its listen queue for a while, answer each call late, refuse OpenSession with an error, or
 * open session "c7". It records what it was sent.
 */
struct fake {
        char path[300];
        int fd;
        int stop[2];
        pthread_t thread;
        int accept_delay_ms;
        int reply_delay_ms;
        const char *open_error; /* D-Bus error name for OpenSession, NULL: open "c7" */
        pthread_mutex_t lock;   /* guards what follows: what the daemon was sent */
        int n_open, n_close;
        char user[64], timeout_ms[16], closed_id[80];
        bool no_nul; /* a connection did not begin with the credentials byte */
};

/* Wait @ms unless the fake is being stopped. Return: true when it is. */
static bool fake_wait(struct fake *f, int ms)
{
        struct pollfd pfd = { f->stop[0], POLLIN, 0 };

        return poll(&pfd, 1, ms) != 0;
}

static void send_all(int fd, const void *p, size_t n)
{
        while (n > 0) {
                ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return; /* the client gave up: nothing to do */
                p = (const char *)p + w;
                n -= (size_t)w;
        }
}

static void fake_answer(struct fake *f, int c, DBusMessage *m, dbus_uint32_t *serial)
{
        static const char *id = "c7", *path = "/cgm/user-1/session-c7";
        const char *member = dbus_message_get_member(m);
        DBusMessage *reply = NULL;
        DBusMessageIter it, arr, entry;
        const char *s;
        char *data;
        int n;

        if (dbus_message_get_type(m) != DBUS_MESSAGE_TYPE_METHOD_CALL || !member)
                return;
        pthread_mutex_lock(&f->lock);
        if (strcmp(member, "OpenSession") == 0 && dbus_message_has_signature(m, "sa{ss}")) {
                f->n_open++;
                dbus_message_iter_init(m, &it);
                dbus_message_iter_get_basic(&it, &s);
                snprintf(f->user, sizeof(f->user), "%s", s);
                dbus_message_iter_next(&it);
                dbus_message_iter_recurse(&it, &arr);
                for (; dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY;
                     dbus_message_iter_next(&arr)) {
                        const char *k, *v;

                        dbus_message_iter_recurse(&arr, &entry);
                        dbus_message_iter_get_basic(&entry, &k);
                        dbus_message_iter_next(&entry);
                        dbus_message_iter_get_basic(&entry, &v);
                        if (strcmp(k, "timeout_ms") == 0)
                                snprintf(f->timeout_ms, sizeof(f->timeout_ms), "%s", v);
                }
                if (f->open_error)
                        reply = dbus_message_new_error(m, f->open_error, "scripted refusal");
                else if ((reply = dbus_message_new_method_return(m)))
                        dbus_message_append_args(reply, DBUS_TYPE_STRING, &id, DBUS_TYPE_STRING,
                                                 &path, DBUS_TYPE_INVALID);
        } else if (strcmp(member, "CloseSession") == 0 && dbus_message_has_signature(m, "s")) {
                f->n_close++;
                dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &s, DBUS_TYPE_INVALID);
                snprintf(f->closed_id, sizeof(f->closed_id), "%s", s);
                reply = dbus_message_new_method_return(m);
        } else {
                reply = dbus_message_new_method_return(m); /* Ping, ... */
        }
        pthread_mutex_unlock(&f->lock);
        if (!reply)
                bail("fake daemon: reply");
        if (!f->reply_delay_ms || !fake_wait(f, f->reply_delay_ms)) {
                dbus_message_set_serial(reply, (*serial)++);
                if (!dbus_message_marshal(reply, &data, &n))
                        bail("fake daemon: marshal");
                send_all(c, data, (size_t)n);
                dbus_free(data);
        }
        dbus_message_unref(reply);
}

/* One connection, until the client closes it. */
static void fake_serve(struct fake *f, int c)
{
        static const char ok[] = "OK 0123456789abcdef0123456789abcdef\r\n";
        static char buf[65536];
        dbus_uint32_t serial = 1;
        bool begun = false, first = true;
        size_t len = 0;

        for (;;) {
                struct pollfd pfd[2] = { { c, POLLIN, 0 }, { f->stop[0], POLLIN, 0 } };
                ssize_t n;

                if (poll(pfd, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                if (pfd[1].revents)
                        return;
                n = read(c, buf + len, sizeof(buf) - len);
                if (n <= 0)
                        return;
                len += (size_t)n;
                if (first) {
                        first = false;
                        if (buf[0] != '\0') {
                                pthread_mutex_lock(&f->lock);
                                f->no_nul = true;
                                pthread_mutex_unlock(&f->lock);
                                return;
                        }
                        memmove(buf, buf + 1, --len);
                }
                while (!begun) {
                        char *eol = memmem(buf, len, "\r\n", 2);
                        size_t used;

                        if (!eol)
                                break;
                        *eol = '\0';
                        if (strncmp(buf, "AUTH ", 5) == 0)
                                send_all(c, ok, strlen(ok));
                        else if (strcmp(buf, "NEGOTIATE_UNIX_FD") == 0)
                                send_all(c, "AGREE_UNIX_FD\r\n", 15);
                        else if (strcmp(buf, "BEGIN") == 0)
                                begun = true;
                        else
                                send_all(c, "ERROR\r\n", 7);
                        used = (size_t)(eol - buf) + 2;
                        memmove(buf, buf + used, len - used);
                        len -= used;
                }
                while (begun && len >= 16) {
                        DBusError e = DBUS_ERROR_INIT;
                        int need = dbus_message_demarshal_bytes_needed(buf, (int)len);
                        DBusMessage *m;

                        if (need < 0 || (size_t)need > sizeof(buf))
                                return;
                        if (need == 0 || (size_t)need > len)
                                break;
                        m = dbus_message_demarshal(buf, need, &e);
                        memmove(buf, buf + need, len - (size_t)need);
                        len -= (size_t)need;
                        if (!m) {
                                dbus_error_free(&e);
                                return;
                        }
                        fake_answer(f, c, m, &serial);
                        dbus_message_unref(m);
                }
        }
}

static void *fake_loop(void *p)
{
        struct fake *f = p;

        for (;;) {
                struct pollfd pfd[2] = { { f->fd, POLLIN, 0 }, { f->stop[0], POLLIN, 0 } };
                int c;

                if (poll(pfd, 2, -1) < 0 && errno != EINTR)
                        break;
                if (pfd[1].revents)
                        break;
                if (!(pfd[0].revents & POLLIN))
                        continue;
                if (f->accept_delay_ms && fake_wait(f, f->accept_delay_ms))
                        break;
                c = accept4(f->fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0)
                        continue;
                fake_serve(f, c);
                close(c);
        }
        return NULL;
}

static void fake_start(struct fake *f, const char *name, int accept_delay_ms, int reply_delay_ms,
                       const char *open_error)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        memset(f, 0, sizeof(*f));
        snprintf(f->path, sizeof(f->path), "%s/%s", dir, name);
        memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
        f->accept_delay_ms = accept_delay_ms;
        f->reply_delay_ms = reply_delay_ms;
        f->open_error = open_error;
        pthread_mutex_init(&f->lock, NULL);
        f->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (f->fd < 0 || bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(f->fd, 16) < 0)
                bail("fake daemon socket");
        if (pipe2(f->stop, O_CLOEXEC) < 0)
                bail("pipe2");
        if (pthread_create(&f->thread, NULL, fake_loop, f) != 0)
                bail("pthread_create");
}

static void fake_stop(struct fake *f)
{
        if (write(f->stop[1], "x", 1) != 1)
                bail("stop fake daemon");
        pthread_join(f->thread, NULL);
        close(f->stop[0]);
        close(f->stop[1]);
        close(f->fd);
        unlink(f->path);
        pthread_mutex_destroy(&f->lock);
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

/* Within the timeout: not before it (it waited), not much after it. */
static bool timely(long ms)
{
        return ms >= TIMEOUT_MS - 50 && ms < TIMEOUT_MS + SLACK_MS;
}

/*
 * The daemon hangs: open and close must each be bounded by timeout=300, and by nothing
 * longer. A daemon that never accepts leaves the connection in its listen queue, one that
 * accepts and never reads leaves it unanswered: either way the SASL exchange never completes.
 * One whose listen queue is full (it stopped accepting long enough) leaves connect(2) itself
 * waiting, which libdbus would do for good.
 */
static void test_hung(const char *what, bool accepting, bool full)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fillers[64], n_fillers = 0;
        struct server s;
        char args[512], title[200];
        struct run r;

        server_start(&s, "hung.sock", accepting, full ? 0 : 64);
        /* Fill the queue: non-blocking connects until the kernel says it is full. */
        memcpy(sa.sun_path, s.path, strlen(s.path) + 1);
        while (full) {
                int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

                if (c < 0)
                        bail("socket");
                if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                        if (errno != EAGAIN)
                                bail("fill the listen queue");
                        close(c);
                        break;
                }
                if (n_fillers == (int)(sizeof(fillers) / sizeof(fillers[0]))) {
                        errno = ENOSPC;
                        bail("fill the listen queue");
                }
                fillers[n_fillers++] = c;
        }

        snprintf(args, sizeof(args), "socket=%s timeout=%d", s.path, TIMEOUT_MS);
        write_service("hung-open", args);
        r = (struct run){ .user = other_user };
        run_bounded(&r, "hung-open");
        ok(r.open_rc == PAM_SUCCESS, "%s, fail=open: open -> PAM_SUCCESS (%d)", what, r.open_rc);
        ok(timely(r.open_ms),
           "%s, fail=open: open returned after the timeout (%d ms), within %d ms more (%ld ms)",
           what, TIMEOUT_MS, SLACK_MS, r.open_ms);
        snprintf(title, sizeof(title), "%s, fail=open", what);
        ok_clean(&r, title);

        snprintf(args, sizeof(args), "socket=%s timeout=%d fail=closed", s.path, TIMEOUT_MS);
        write_service("hung-closed", args);
        r = (struct run){ .user = other_user, .flags = PAM_SILENT };
        run_bounded(&r, "hung-closed");
        ok(r.open_rc == PAM_SESSION_ERR, "%s, fail=closed: open -> PAM_SESSION_ERR (%d)", what,
           r.open_rc);
        ok(timely(r.open_ms), "%s, fail=closed: open returned within the timeout (%ld ms)", what,
           r.open_ms);
        r = (struct run){ .user = "root" };
        run_bounded(&r, "hung-closed");
        ok(r.open_rc == PAM_SUCCESS && timely(r.open_ms),
           "%s, fail=closed, root: open -> PAM_SUCCESS within the timeout (%ld ms)", what,
           r.open_ms);

        /* close of a session named in the environment (as after open on another handle) */
        r = (struct run){ .user = other_user, .env = "CGM_SESSION=c42", .skip_open = true };
        run_bounded(&r, "hung-open");
        ok(r.close_rc == PAM_SUCCESS && timely(r.close_ms),
           "%s, fail=open: close of CGM_SESSION -> PAM_SUCCESS within the timeout (%ld ms)", what,
           r.close_ms);
        r = (struct run){ .user = other_user, .env = "CGM_SESSION=c42", .skip_open = true };
        run_bounded(&r, "hung-closed");
        ok(r.close_rc == PAM_SESSION_ERR && timely(r.close_ms),
           "%s, fail=closed: close of CGM_SESSION -> PAM_SESSION_ERR within the timeout (%ld ms)",
           what, r.close_ms);
        snprintf(title, sizeof(title), "%s, close", what);
        ok_clean(&r, title);

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

/*
 * A daemon that answers. The session it opens is recorded and closed again; the connection
 * libcgm handed to libdbus carried the whole handshake from its first byte, the credentials
 * nul (so libdbus wrote nothing to the socket it connected itself); and the module told the
 * daemon how long it would wait.
 */
static void test_answering(void)
{
        struct fake f;
        char args[512];
        struct run r;
        long t;

        fake_start(&f, "fake.sock", 0, 0, NULL);
        snprintf(args, sizeof(args), "socket=%s timeout=%d", f.path, LONG_TIMEOUT_MS);
        write_service("fake", args);
        r = (struct run){ .user = other_user };
        run_bounded(&r, "fake");
        fake_stop(&f);
        ok(r.open_rc == PAM_SUCCESS && strcmp(r.session, "c7") == 0,
           "a daemon that opens session c7: open -> PAM_SUCCESS, CGM_SESSION=c7 (%d, `%s`)",
           r.open_rc, r.session);
        ok(f.n_open == 1 && strcmp(f.user, other_user) == 0 && !f.no_nul,
           "it got one OpenSession for %s, on a connection that began with the credentials byte "
           "(%d, `%s`)",
           other_user, f.n_open, f.user);
        t = strtol(f.timeout_ms, NULL, 10);
        ok(t > 0 && t <= LONG_TIMEOUT_MS,
           "OpenSession carries timeout_ms, what is left of timeout=%d (`%s`)", LONG_TIMEOUT_MS,
           f.timeout_ms);
        ok(r.close_rc == PAM_SUCCESS && f.n_close == 1 && strcmp(f.closed_id, "c7") == 0,
           "close -> PAM_SUCCESS after CloseSession of c7 (%d, `%s`)", r.close_rc, f.closed_id);
        ok_clean(&r, "a daemon that answers");
}

/*
 * The daemon refuses. NotFound is its answer for a user NSS does not know, the one question
 * the module leaves to it: PAM_USER_UNKNOWN whatever fail= says, as when the module asked NSS
 * itself, but never for root. Any other refusal is a failure as fail= says.
 */
static void test_refusing(void)
{
        struct fake f;
        char args[512];
        struct run r;

        fake_start(&f, "fake.sock", 0, 0, "org.cgm.Error.NotFound");
        snprintf(args, sizeof(args), "socket=%s timeout=%d", f.path, LONG_TIMEOUT_MS);
        write_service("fake-open", args);
        snprintf(args, sizeof(args), "socket=%s timeout=%d fail=closed", f.path, LONG_TIMEOUT_MS);
        write_service("fake-closed", args);
        r = (struct run){ .user = "pam-cgm-test-no-such-user" };
        run_bounded(&r, "fake-open");
        ok(r.open_rc == PAM_USER_UNKNOWN, "unknown user (NotFound), fail=open: open -> "
                                          "PAM_USER_UNKNOWN (%s)", pam_strerror(NULL, r.open_rc));
        r = (struct run){ .user = "pam-cgm-test-no-such-user", .flags = PAM_SILENT };
        run_bounded(&r, "fake-closed");
        ok(r.open_rc == PAM_USER_UNKNOWN, "unknown user (NotFound), fail=closed: open -> "
                                          "PAM_USER_UNKNOWN (%s)", pam_strerror(NULL, r.open_rc));
        r = (struct run){ .user = "root" };
        run_bounded(&r, "fake-closed");
        ok(r.open_rc == PAM_SUCCESS, "NotFound for root, fail=closed: open -> PAM_SUCCESS (%s)",
           pam_strerror(NULL, r.open_rc));
        fake_stop(&f);

        fake_start(&f, "fake.sock", 0, 0, "org.cgm.Error.Busy");
        r = (struct run){ .user = other_user, .flags = PAM_SILENT };
        run_bounded(&r, "fake-closed");
        ok(r.open_rc == PAM_SESSION_ERR, "Busy, fail=closed: open -> PAM_SESSION_ERR (%s)",
           pam_strerror(NULL, r.open_rc));
        r = (struct run){ .user = other_user };
        run_bounded(&r, "fake-open");
        ok(r.open_rc == PAM_SUCCESS && !r.session[0],
           "Busy, fail=open: open -> PAM_SUCCESS without a session (%s)",
           pam_strerror(NULL, r.open_rc));
        fake_stop(&f);
}

/*
 * One deadline for the whole hook: a daemon that takes 90% of the timeout to accept and as
 * long again to answer gets no session opened, however much each step alone would fit.
 */
static void test_one_deadline(void)
{
        const int delay = LONG_TIMEOUT_MS * 9 / 10;
        struct fake f;
        char args[512];
        struct run r;

        fake_start(&f, "slow.sock", delay, delay, NULL);
        snprintf(args, sizeof(args), "socket=%s timeout=%d fail=closed", f.path, LONG_TIMEOUT_MS);
        write_service("slow-closed", args);
        r = (struct run){ .user = other_user, .flags = PAM_SILENT };
        run_bounded(&r, "slow-closed");
        ok(r.open_rc == PAM_SESSION_ERR && !r.session[0],
           "a daemon slow to accept and slow to answer, fail=closed: open -> PAM_SESSION_ERR "
           "(%s, session `%s`)",
           pam_strerror(NULL, r.open_rc), r.session);
        ok(r.open_ms >= LONG_TIMEOUT_MS - 50 && r.open_ms < LONG_TIMEOUT_MS + SLACK_MS,
           "... after the timeout (%d ms): connect, handshake and call share it (%ld ms)",
           LONG_TIMEOUT_MS, r.open_ms);
        fake_stop(&f);
}

/*
 * The directory hangs (every NSS lookup sleeps a minute, root's too): the module asks NSS
 * nothing, so a login costs no more than it does without the directory. First, that the
 * simulation holds: a getpwnam() there does hang, else these checks would prove nothing.
 */
static void test_stalled_nss(void)
{
        static const char *const checks[] = {
                "stalled directory: getpwnam() there hangs",
                "stalled directory, hung daemon, fail=open: open -> PAM_SUCCESS within the timeout",
                "stalled directory, hung daemon, fail=closed: open -> PAM_SESSION_ERR within "
                "the timeout",
                "stalled directory, hung daemon, fail=closed, root: open -> PAM_SUCCESS within "
                "the timeout",
                "stalled directory, no daemon, fail=open: open -> PAM_SUCCESS at once",
                "stalled directory, a daemon that answers: session opened and closed at once",
        };
        char fd_arg[16], args[512];
        struct server s;
        struct fake f;
        struct run r;
        int p[2], res = -1;
        char byte;
        pid_t pid;

        if (stall_prepare()) {
                if (pipe2(p, O_CLOEXEC) < 0)
                        bail("pipe2");
                snprintf(fd_arg, sizeof(fd_arg), "%d", p[1]);
                char *argv[] = { "test-pam-retval", "--stalled-getpwnam", fd_arg,
                                 STALLED_USER, NULL };
                fflush(stdout);
                pid = fork();
                if (pid < 0)
                        bail("fork");
                if (pid == 0) {
                        close(p[0]);
                        stall_exec(p[1], argv);
                }
                close(p[1]);
                res = child_result(pid, p[0], &byte, 1, 1500);
        }
        if (res < 0) {
                for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
                        printf("ok %d - %s # SKIP needs a mount namespace (root or user "
                               "namespaces) and libnss_stall.so.2\n",
                               ++n_tests, checks[i]);
                return;
        }
        ok(res == 0, "%s: no answer for %s within 1500 ms", checks[0], STALLED_USER);

        server_start(&s, "hung.sock", true, 64);
        snprintf(args, sizeof(args), "socket=%s timeout=%d", s.path, TIMEOUT_MS);
        write_service("stall-open", args);
        snprintf(args, sizeof(args), "socket=%s timeout=%d fail=closed", s.path, TIMEOUT_MS);
        write_service("stall-closed", args);
        r = (struct run){ .user = STALLED_USER };
        run_stalled(&r, "stall-open");
        ok(r.open_rc == PAM_SUCCESS && timely(r.open_ms), "%s (%d, %ld ms)", checks[1], r.open_rc,
           r.open_ms);
        r = (struct run){ .user = STALLED_USER, .flags = PAM_SILENT };
        run_stalled(&r, "stall-closed");
        ok(r.open_rc == PAM_SESSION_ERR && timely(r.open_ms), "%s (%d, %ld ms)", checks[2],
           r.open_rc, r.open_ms);
        r = (struct run){ .user = "root" };
        run_stalled(&r, "stall-closed");
        ok(r.open_rc == PAM_SUCCESS && timely(r.open_ms), "%s (%d, %ld ms)", checks[3], r.open_rc,
           r.open_ms);
        server_stop(&s);

        snprintf(args, sizeof(args), "%s timeout=%d", absent_socket, TIMEOUT_MS);
        write_service("stall-absent", args);
        r = (struct run){ .user = STALLED_USER };
        run_stalled(&r, "stall-absent");
        ok(r.open_rc == PAM_SUCCESS && r.open_ms < SLACK_MS, "%s (%d, %ld ms)", checks[4],
           r.open_rc, r.open_ms);

        fake_start(&f, "fake.sock", 0, 0, NULL);
        snprintf(args, sizeof(args), "socket=%s timeout=%d", f.path, TIMEOUT_MS);
        write_service("stall-fake", args);
        r = (struct run){ .user = STALLED_USER };
        run_stalled(&r, "stall-fake");
        fake_stop(&f);
        ok(r.open_rc == PAM_SUCCESS && strcmp(r.session, "c7") == 0 &&
                   r.close_rc == PAM_SUCCESS && f.n_close == 1 && r.open_ms < SLACK_MS &&
                   r.close_ms < SLACK_MS,
           "%s (%d/%d, %ld/%ld ms)", checks[5], r.open_rc, r.close_rc, r.open_ms, r.close_ms);
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

        /* run_stalled() and test_stalled_nss() run this program again for one case. */
        if (argc == 10 && strcmp(argv[1], "--stalled-run") == 0)
                return stalled_run_main(argv);
        if (argc == 4 && strcmp(argv[1], "--stalled-getpwnam") == 0)
                return stalled_getpwnam_main(argv);

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
        test_hung("fake daemon that never accepts", false, false);
        test_hung("fake daemon that accepts and never reads", true, false);
        test_hung("fake daemon whose listen queue is full", false, true);
        test_threads();
        test_bad_options();
        test_answering();
        test_refusing();
        test_one_deadline();
        test_stalled_nss();

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
