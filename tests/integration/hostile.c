/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostile: the D-Bus client of the adversarial suite (test-hostile.sh)
 *
 * cgm and libcgm check their arguments before they send them, and libdbus refuses to put
 * invalid UTF-8 on the wire, so neither can say what a hostile client says. This helper can:
 *
 *   hostile call [-F FDSPEC]... [-r] [-t MS] METHOD SIG [ARG...]
 *       One method call on a fresh connection ($CGM_SOCKET). Arguments follow SIG the way
 *       busctl takes them: an array is a count and then its elements, a dict a count and then
 *       key, value pairs, `h` the index of an -F fd. Arguments may hold \xNN, \t, \n and \\
 *       escapes; a string that is not valid UTF-8 (or holds a NUL) is sent raw: the message is
 *       marshalled with a placeholder and the bytes are patched in, after a SASL handshake of
 *       our own. Prints `OK` and the reply's values one per line, `ERROR NAME MESSAGE`, `DROP`
 *       (the daemon closed the connection) or `TIMEOUT`; exits 0, 1, 3, 4 (2: setup failed).
 *       Bytes outside printable ASCII are printed as \xNN.
 *   hostile batch -d PID [-B DIR]... [-w PID]... [-s START] [-R KIB] < CASES
 *       As root: one call per line of CASES (UID TAB EXPECT TAB DESC TAB FLAGS TAB METHOD TAB
 *       SIG TAB ARG...), each from a child that drops to UID, and after each the invariants:
 *       the daemon PID is alive and answers Ping, its fd count and RSS are bounded, the trees
 *       below the DIRs (directories and limit files) and the cgroups and states of the victim
 *       pids are what they were. Prints one TAP line (without number) per case and `# `
 *       diagnostics; `DEAD N` and exit 3 when the daemon died at line N.
 *   hostile snapshot [-B DIR]... [-w PID]...       the state the batch compares, on stdout
 *   hostile flood NCONN SECONDS GRACE
 *       NCONN connections that pipeline Introspect calls for SECONDS and never read a reply;
 *       then up to GRACE more seconds for the daemon to drop them. Prints
 *       `connected=N dropped=N bytes=N`.
 *   hostile sanitized
 *       Exits 0 when this helper is built with ASan: a fork then costs ~20 ms (the batch forks
 *       once per case), so the suite thins its lists as in the VM.
 *   hostile session USER
 *       OpenSession(USER) and then CloseSession of its id, from one process (as pam_cgm does);
 *       prints both results as `call` does.
 *   hostile orphan-whoami UID PROCS...
 *       As root: a process P enters the cgroup.procs files PROCS, becomes UID, connects, hands
 *       the connection to a child and exits; P's pid is then given to a new root process (clone3
 *       set_tid) and the child calls WhoAmI. Prints `reused=0|1 pid=N rcgroup=PATH`, then the
 *       call's result as `call` does.
 *
 * FDSPECs: pid:N (a pidfd), file:PATH, procdir:N (/proc/N, not a pidfd), socket, self,
 * thread (a pidfd of one of our threads, PIDFD_THREAD), zombie (an unreaped child), dead (a
 * reaped child), reused (a dead pidfd whose pid a new root process now holds; root only).
 * Batch FLAGS (comma-separated, or -): raw, fd=SPEC, cg=PROCSFILE (enter before the call, as
 * root), iface=NAME, path=OBJPATH, timeout=MS.
 * EXPECT: ok, drop, err (any error), any (anything but a dead daemon), okerr (a reply of
 * either kind), or error names without the org.cgm.Error. prefix separated by '|'.
 */
#include <dbus/dbus.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

#define OBJ "/org/cgm/Manager"
#define IFACE "org.cgm.Manager1"
#define ARGS_MAX 2048
#define FDS_MAX 80
#define DEFAULT_TIMEOUT_MS 10000

enum { RES_OK, RES_ERROR, RES_DROP, RES_TIMEOUT, RES_SETUP };

typedef struct Arg {
        char *s;
        size_t len;
} Arg;

typedef struct Call {
        const char *method, *sig, *iface, *path;
        Arg *args;
        int n_args;
        const char *fdspecs[FDS_MAX];
        int n_fdspecs;
        bool raw;
        int timeout_ms;
} Call;

typedef struct Result {
        int kind;
        char name[256];
        char msg[8192];
        size_t msg_len;
        DBusMessage *reply;
} Result;

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *sock_path(void)
{
        const char *s = getenv("CGM_SOCKET");
        return s && *s ? s : "/run/cgm/cgm.sock";
}

/* ---- escapes ------------------------------------------------------------------------- */

static Arg unescape(const char *in)
{
        size_t n = strlen(in), o = 0;
        char *out = malloc(n + 1);

        if (!out)
                abort();
        for (size_t i = 0; i < n; i++) {
                if (in[i] != '\\' || i + 1 >= n) {
                        out[o++] = in[i];
                        continue;
                }
                switch (in[i + 1]) {
                case '\\': out[o++] = '\\'; i++; break;
                case 't': out[o++] = '\t'; i++; break;
                case 'n': out[o++] = '\n'; i++; break;
                case 'x':
                        if (i + 3 < n + 1 && in[i + 2] && in[i + 3]) {
                                char hex[3] = { in[i + 2], in[i + 3], 0 };
                                out[o++] = (char)strtoul(hex, NULL, 16);
                                i += 3;
                                break;
                        }
                        /* fall through */
                default: out[o++] = in[i]; break;
                }
        }
        out[o] = '\0';
        return (Arg){ out, o };
}

static void put_escaped(FILE *f, const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c < 0x20 || c >= 0x7f || c == '\\')
                        fprintf(f, "\\x%02x", c);
                else
                        fputc(c, f);
        }
}

static bool has_control(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return true;
        return false;
}

static bool valid_utf8(const char *s, size_t len)
{
        if (memchr(s, '\0', len))
                return false;
        return dbus_validate_utf8(s, NULL);
}

/* ---- fds ------------------------------------------------------------------------------ */

static int pidfd_open(pid_t pid, unsigned flags)
{
        return (int)syscall(SYS_pidfd_open, pid, flags);
}

static int thread_pipe[2] = { -1, -1 };

static void *thread_main(void *arg)
{
        char c;
        pid_t *tid = arg;
        *tid = (pid_t)syscall(SYS_gettid);
        (void)read(thread_pipe[0], &c, 1);
        return NULL;
}

struct cgm_clone_args {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
                set_tid, set_tid_size, cgroup;
};

/* A new process with pid @pid (the pid just freed): it waits until killed. */
static pid_t clone_with_pid(pid_t pid)
{
        pid_t want = pid;
        struct cgm_clone_args a = { .exit_signal = SIGCHLD, .set_tid = (uintptr_t)&want,
                                    .set_tid_size = 1 };
        long r = syscall(SYS_clone3, &a, sizeof(a));

        if (r == 0) {
                /* Hold no pipe of ours open: the batch reads its child's output to EOF. */
                (void)syscall(SYS_close_range, 3, ~0U, 0);
                for (;;)
                        pause();
        }
        return (pid_t)r;
}

static pid_t reused_pid = -1;
static char reused_cgroup[4096];

static void read_cgroup(pid_t pid, char *buf, size_t n)
{
        char path[64];
        ssize_t l;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
        buf[0] = '\0';
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        l = read(fd, buf, n - 1);
        close(fd);
        buf[l > 0 ? l : 0] = '\0';
}

/* Make the fd an FDSPEC names; -1 with a reason in @why when it cannot be made here. */
static int fd_make(const char *spec, char *why, size_t wn)
{
        if (strncmp(spec, "pid:", 4) == 0) {
                int fd = pidfd_open((pid_t)atoi(spec + 4), 0);
                if (fd < 0)
                        snprintf(why, wn, "pidfd_open(%s): %m", spec + 4);
                return fd;
        }
        if (strncmp(spec, "dup:", 4) == 0)
                return atoi(spec + 4); /* made earlier, before the uid was dropped */
        if (strncmp(spec, "file:", 5) == 0) {
                int fd = open(spec + 5, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        snprintf(why, wn, "open(%s): %m", spec + 5);
                return fd;
        }
        if (strncmp(spec, "procdir:", 8) == 0) {
                char p[64];
                int fd;
                snprintf(p, sizeof(p), "/proc/%s", spec + 8);
                fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        snprintf(why, wn, "open(%s): %m", p);
                return fd;
        }
        if (strcmp(spec, "socket") == 0) {
                int sv[2];
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                        snprintf(why, wn, "socketpair: %m");
                        return -1;
                }
                return sv[0];
        }
        if (strcmp(spec, "self") == 0)
                return pidfd_open(getpid(), 0);
        if (strcmp(spec, "thread") == 0) {
                static pid_t tid;
                pthread_t t;
                int fd;
                if (thread_pipe[0] < 0 && pipe(thread_pipe) < 0)
                        return -1;
                if (pthread_create(&t, NULL, thread_main, &tid) != 0) {
                        snprintf(why, wn, "pthread_create failed");
                        return -1;
                }
                while (__atomic_load_n(&tid, __ATOMIC_SEQ_CST) == 0)
                        sched_yield();
                fd = pidfd_open(tid, PIDFD_THREAD);
                if (fd < 0)
                        snprintf(why, wn, "no thread pidfds here (PIDFD_THREAD, Linux 6.9): %m");
                return fd;
        }
        if (strcmp(spec, "zombie") == 0 || strcmp(spec, "dead") == 0 ||
            strcmp(spec, "reused") == 0) {
                pid_t pid = fork();
                int fd;
                if (pid == 0)
                        _exit(0);
                if (pid < 0) {
                        snprintf(why, wn, "fork: %m");
                        return -1;
                }
                fd = pidfd_open(pid, 0);
                if (fd < 0) {
                        snprintf(why, wn, "pidfd_open: %m");
                        return -1;
                }
                if (strcmp(spec, "zombie") == 0) {
                        /* Wait until it is a zombie, without reaping it. */
                        siginfo_t si;
                        (void)waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
                        return fd;
                }
                (void)waitpid(pid, NULL, 0);
                if (strcmp(spec, "reused") == 0) {
                        reused_pid = clone_with_pid(pid);
                        if (reused_pid < 0) {
                                snprintf(why, wn, "clone3 with set_tid %d: %m", (int)pid);
                                close(fd);
                                return -1;
                        }
                        read_cgroup(reused_pid, reused_cgroup, sizeof(reused_cgroup));
                }
                return fd;
        }
        snprintf(why, wn, "unknown fd spec `%s`", spec);
        return -1;
}

/* ---- building messages ------------------------------------------------------------------ */

typedef struct Patch {
        Arg orig;
} Patch;

typedef struct Builder {
        Arg *args;
        int n_args, next;
        int *fds;
        int n_fds;
        Patch patches[64];
        int n_patches;
        char err[256];
} Builder;

static const char *next_arg(Builder *b, size_t *len)
{
        if (b->next >= b->n_args) {
                snprintf(b->err, sizeof(b->err), "too few arguments for the signature");
                return NULL;
        }
        if (len)
                *len = b->args[b->next].len;
        return b->args[b->next++].s;
}

/* Length of the single complete type at @sig. */
static size_t type_len(const char *sig)
{
        if (*sig == 'a')
                return 1 + type_len(sig + 1);
        if (*sig == '(' || *sig == '{') {
                char close = *sig == '(' ? ')' : '}';
                size_t i = 1;
                while (sig[i] && sig[i] != close)
                        i += type_len(sig + i);
                return i + 1;
        }
        return 1;
}

static bool append(Builder *b, DBusMessageIter *it, const char *sig);

static bool append_basic(Builder *b, DBusMessageIter *it, char t)
{
        size_t len;
        const char *a = next_arg(b, &len);

        if (!a)
                return false;
        switch (t) {
        case 's':
        case 'o':
        case 'g': {
                const char *v = a;
                char *ph = NULL;
                bool ok;
                if (!valid_utf8(a, len)) {
                        /* The placeholder: as long as the real bytes, patched in after marshalling. */
                        if (b->n_patches >= 64)
                                return false;
                        ph = malloc(len + 1);
                        memset(ph, '~', len);
                        ph[len] = '\0';
                        b->patches[b->n_patches++] = (Patch){ { (char *)a, len } };
                        v = ph;
                }
                ok = dbus_message_iter_append_basic(it, t == 's'   ? DBUS_TYPE_STRING
                                                        : t == 'o' ? DBUS_TYPE_OBJECT_PATH
                                                                   : DBUS_TYPE_SIGNATURE,
                                                    &v);
                free(ph);
                return ok;
        }
        case 'b': {
                dbus_bool_t v = strcmp(a, "true") == 0 || strcmp(a, "1") == 0;
                return dbus_message_iter_append_basic(it, DBUS_TYPE_BOOLEAN, &v);
        }
        case 'y': {
                unsigned char v = (unsigned char)strtoul(a, NULL, 0);
                return dbus_message_iter_append_basic(it, DBUS_TYPE_BYTE, &v);
        }
        case 'n':
        case 'i':
        case 'x': {
                long long v = strtoll(a, NULL, 0);
                dbus_int16_t v16 = (dbus_int16_t)v;
                dbus_int32_t v32 = (dbus_int32_t)v;
                dbus_int64_t v64 = v;
                return t == 'n'   ? dbus_message_iter_append_basic(it, DBUS_TYPE_INT16, &v16)
                       : t == 'i' ? dbus_message_iter_append_basic(it, DBUS_TYPE_INT32, &v32)
                                  : dbus_message_iter_append_basic(it, DBUS_TYPE_INT64, &v64);
        }
        case 'q':
        case 'u':
        case 't': {
                unsigned long long v = strtoull(a, NULL, 0);
                dbus_uint16_t v16 = (dbus_uint16_t)v;
                dbus_uint32_t v32 = (dbus_uint32_t)v;
                dbus_uint64_t v64 = v;
                return t == 'q'   ? dbus_message_iter_append_basic(it, DBUS_TYPE_UINT16, &v16)
                       : t == 'u' ? dbus_message_iter_append_basic(it, DBUS_TYPE_UINT32, &v32)
                                  : dbus_message_iter_append_basic(it, DBUS_TYPE_UINT64, &v64);
        }
        case 'd': {
                double v = strtod(a, NULL);
                return dbus_message_iter_append_basic(it, DBUS_TYPE_DOUBLE, &v);
        }
        case 'h': {
                int i = atoi(a), fd;
                if (i < 0 || i >= b->n_fds) {
                        snprintf(b->err, sizeof(b->err), "no fd %d", i);
                        return false;
                }
                fd = b->fds[i];
                return dbus_message_iter_append_basic(it, DBUS_TYPE_UNIX_FD, &fd);
        }
        default:
                snprintf(b->err, sizeof(b->err), "type %c is not supported", t);
                return false;
        }
}

static bool append(Builder *b, DBusMessageIter *it, const char *sig)
{
        if (*sig == 'a') {
                char elem[256];
                size_t el = type_len(sig + 1);
                const char *cs = next_arg(b, NULL);
                long count;
                DBusMessageIter sub;
                if (!cs || el >= sizeof(elem))
                        return false;
                count = strtol(cs, NULL, 10);
                memcpy(elem, sig + 1, el);
                elem[el] = '\0';
                if (!dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, elem, &sub))
                        return false;
                for (long i = 0; i < count; i++) {
                        if (elem[0] == '{') {
                                DBusMessageIter e;
                                const char *p = elem + 1;
                                dbus_message_iter_open_container(&sub, DBUS_TYPE_DICT_ENTRY, NULL,
                                                                 &e);
                                while (*p && *p != '}') {
                                        if (!append(b, &e, p))
                                                return false;
                                        p += type_len(p);
                                }
                                dbus_message_iter_close_container(&sub, &e);
                        } else if (!append(b, &sub, elem)) {
                                return false;
                        }
                }
                return dbus_message_iter_close_container(it, &sub);
        }
        if (*sig == '(') {
                DBusMessageIter sub;
                const char *p = sig + 1;
                dbus_message_iter_open_container(it, DBUS_TYPE_STRUCT, NULL, &sub);
                while (*p && *p != ')') {
                        if (!append(b, &sub, p))
                                return false;
                        p += type_len(p);
                }
                return dbus_message_iter_close_container(it, &sub);
        }
        if (*sig == 'v') {
                DBusMessageIter sub;
                const char *inner = next_arg(b, NULL);
                if (!inner)
                        return false;
                dbus_message_iter_open_container(it, DBUS_TYPE_VARIANT, inner, &sub);
                if (!append(b, &sub, inner))
                        return false;
                return dbus_message_iter_close_container(it, &sub);
        }
        return append_basic(b, it, *sig);
}

static DBusMessage *build(const Call *c, Builder *b)
{
        DBusMessage *m = dbus_message_new_method_call(NULL, c->path, c->iface, c->method);
        DBusMessageIter it;

        if (!m) {
                snprintf(b->err, sizeof(b->err), "bad object path, interface or method name");
                return NULL;
        }
        dbus_message_iter_init_append(m, &it);
        for (const char *p = c->sig; *p; p += type_len(p))
                if (!append(b, &it, p)) {
                        if (!b->err[0])
                                snprintf(b->err, sizeof(b->err), "cannot append the arguments");
                        dbus_message_unref(m);
                        return NULL;
                }
        if (b->next != b->n_args) {
                snprintf(b->err, sizeof(b->err), "%d arguments left over", b->n_args - b->next);
                dbus_message_unref(m);
                return NULL;
        }
        return m;
}

/* ---- a raw connection: our own SASL, marshalled bytes ---------------------------------- */

static int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t w = write(fd, p, len);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return -1;
                p += w;
                len -= (size_t)w;
        }
        return 0;
}

static int read_line(int fd, char *buf, size_t n, int timeout_ms)
{
        size_t o = 0;
        int64_t end = now_ms() + timeout_ms;

        while (o + 1 < n) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int left = (int)(end - now_ms());
                ssize_t r;
                if (left <= 0 || poll(&p, 1, left) <= 0)
                        return -1;
                r = read(fd, buf + o, 1);
                if (r <= 0)
                        return -1;
                if (buf[o] == '\n') {
                        buf[o + 1] = '\0';
                        return 0;
                }
                o++;
        }
        return -1;
}

/* Connect and authenticate; -1 when the daemon refused or is gone. */
static int raw_connect(int timeout_ms)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char uid[32], line[512], hex[80];
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -1;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path());
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                close(fd);
                return -1;
        }
        snprintf(uid, sizeof(uid), "%u", (unsigned)geteuid());
        for (size_t i = 0; uid[i]; i++)
                sprintf(hex + 2 * i, "%02x", (unsigned char)uid[i]);
        snprintf(line, sizeof(line), "AUTH EXTERNAL %s\r\n", hex);
        if (write_all(fd, "", 1) < 0 || write_all(fd, line, strlen(line)) < 0 ||
            read_line(fd, line, sizeof(line), timeout_ms) < 0 || strncmp(line, "OK ", 3) != 0 ||
            write_all(fd, "BEGIN\r\n", 7) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* Marshal @m with serial @serial and patch the placeholders of @b in. */
static int marshal(DBusMessage *m, dbus_uint32_t serial, const Builder *b, char **out, int *len)
{
        size_t from = 16;

        dbus_message_set_serial(m, serial);
        if (!dbus_message_marshal(m, out, len))
                return -1;
        for (int i = 0; i < b->n_patches; i++) {
                const Arg *o = &b->patches[i].orig;
                size_t pl = 4 + o->len + 1;
                char *pat = malloc(pl);
                bool found = false;
                uint32_t l32 = (uint32_t)o->len;
                memcpy(pat, &l32, 4); /* libdbus marshals in host byte order */
                memset(pat + 4, '~', o->len);
                pat[4 + o->len] = '\0';
                for (size_t at = from; at + pl <= (size_t)*len; at++)
                        if (memcmp(*out + at, pat, pl) == 0) {
                                memcpy(*out + at + 4, o->s, o->len);
                                from = at + pl;
                                found = true;
                                break;
                        }
                free(pat);
                if (!found)
                        return -1;
        }
        return 0;
}

static void result_from_message(DBusMessage *m, Result *res)
{
        if (dbus_message_get_type(m) == DBUS_MESSAGE_TYPE_ERROR) {
                const char *text = "";
                res->kind = RES_ERROR;
                snprintf(res->name, sizeof(res->name), "%s", dbus_message_get_error_name(m));
                (void)dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID);
                res->msg_len = strlen(text) < sizeof(res->msg) - 1 ? strlen(text)
                                                                    : sizeof(res->msg) - 1;
                memcpy(res->msg, text, res->msg_len);
                res->msg[res->msg_len] = '\0';
                dbus_message_unref(m);
        } else {
                res->kind = RES_OK;
                res->reply = m;
        }
}

static void raw_call(DBusMessage *m, const Builder *b, int timeout_ms, Result *res)
{
        char *bytes = NULL, *in = NULL;
        int len = 0, fd;
        size_t have = 0, cap = 65536;
        int64_t end = now_ms() + timeout_ms;

        if (marshal(m, 1, b, &bytes, &len) < 0) {
                res->kind = RES_SETUP;
                snprintf(res->msg, sizeof(res->msg), "cannot marshal and patch the message");
                return;
        }
        fd = raw_connect(timeout_ms);
        if (fd < 0) {
                res->kind = RES_DROP;
                free(bytes);
                return;
        }
        signal(SIGPIPE, SIG_IGN);
        if (write_all(fd, bytes, (size_t)len) < 0) {
                res->kind = RES_DROP;
                goto out;
        }
        in = malloc(cap);
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int left = (int)(end - now_ms());
                ssize_t r;
                if (left <= 0 || poll(&p, 1, left) == 0) {
                        res->kind = RES_TIMEOUT;
                        break;
                }
                if (have == cap)
                        in = realloc(in, cap *= 2);
                r = read(fd, in + have, cap - have);
                if (r <= 0) {
                        res->kind = RES_DROP;
                        break;
                }
                have += (size_t)r;
                if (have >= 16) {
                        int need = dbus_message_demarshal_bytes_needed(in, (int)have);
                        if (need < 0) {
                                res->kind = RES_SETUP;
                                snprintf(res->msg, sizeof(res->msg), "the daemon sent garbage");
                                break;
                        }
                        if (need > 0 && (size_t)need <= have) {
                                DBusError e = DBUS_ERROR_INIT;
                                DBusMessage *reply = dbus_message_demarshal(in, need, &e);
                                if (!reply) {
                                        res->kind = RES_SETUP;
                                        snprintf(res->msg, sizeof(res->msg),
                                                 "the daemon's reply does not parse: %s",
                                                 e.message);
                                        dbus_error_free(&e);
                                } else {
                                        result_from_message(reply, res);
                                }
                                break;
                        }
                }
        }
out:
        free(in);
        free(bytes);
        close(fd);
}

/* ---- a call ------------------------------------------------------------------------------ */

static void do_call(const Call *c, Result *res)
{
        Builder b = { .args = c->args, .n_args = c->n_args };
        int fds[FDS_MAX];
        DBusMessage *m;
        DBusConnection *conn;
        DBusError e = DBUS_ERROR_INIT;
        char addr[200];
        int64_t end;

        memset(res, 0, sizeof(*res));
        for (int i = 0; i < c->n_fdspecs; i++) {
                char why[256] = "";
                fds[i] = fd_make(c->fdspecs[i], why, sizeof(why));
                if (fds[i] < 0) {
                        res->kind = RES_SETUP;
                        snprintf(res->msg, sizeof(res->msg), "%s", why[0] ? why : "no fd");
                        return;
                }
        }
        b.fds = fds;
        b.n_fds = c->n_fdspecs;
        m = build(c, &b);
        if (!m) {
                res->kind = RES_SETUP;
                snprintf(res->msg, sizeof(res->msg), "%s", b.err);
                return;
        }
        if (c->raw || b.n_patches > 0) {
                raw_call(m, &b, c->timeout_ms, res);
                dbus_message_unref(m);
                return;
        }
        snprintf(addr, sizeof(addr), "unix:path=%s", sock_path());
        conn = dbus_connection_open_private(addr, &e);
        if (!conn) {
                res->kind = RES_DROP;
                snprintf(res->msg, sizeof(res->msg), "%s", e.message);
                dbus_error_free(&e);
                dbus_message_unref(m);
                return;
        }
        dbus_connection_set_exit_on_disconnect(conn, FALSE);
        end = now_ms() + c->timeout_ms;
        while (!dbus_connection_get_is_authenticated(conn) && dbus_connection_get_is_connected(conn) &&
               now_ms() < end)
                (void)dbus_connection_read_write(conn, (int)(end - now_ms()));
        if (!dbus_connection_get_is_authenticated(conn)) {
                res->kind = dbus_connection_get_is_connected(conn) ? RES_TIMEOUT : RES_DROP;
        } else if (c->n_fdspecs > 0 && !dbus_connection_can_send_type(conn, DBUS_TYPE_UNIX_FD)) {
                res->kind = RES_SETUP;
                snprintf(res->msg, sizeof(res->msg), "the connection cannot pass fds");
        } else {
                DBusMessage *reply;
                if (c->n_fdspecs > 0) {
                        /* libdbus's client may send BEGIN and the next message in one go; the
                         * server reads BEGIN without a control buffer and would lose the fds
                         * (libcgm's authenticate() explains it): one round trip first. */
                        DBusMessage *ping = dbus_message_new_method_call(NULL, OBJ, IFACE, "Ping");
                        reply = dbus_connection_send_with_reply_and_block(conn, ping,
                                                                          c->timeout_ms, NULL);
                        dbus_message_unref(ping);
                        if (reply)
                                dbus_message_unref(reply);
                }
                reply = dbus_connection_send_with_reply_and_block(conn, m, c->timeout_ms, &e);
                if (reply) {
                        result_from_message(reply, res);
                        /* An error reply comes back as the DBusError instead. */
                } else if (!dbus_connection_get_is_connected(conn)) {
                        res->kind = RES_DROP;
                        if (getenv("HOSTILE_DEBUG"))
                                snprintf(res->msg, sizeof(res->msg), "%s after %lld ms (%s)",
                                         e.name, (long long)(now_ms() - end + c->timeout_ms),
                                         e.message);
                } else if (dbus_error_has_name(&e, DBUS_ERROR_NO_REPLY)) {
                        res->kind = RES_TIMEOUT;
                } else {
                        res->kind = RES_ERROR;
                        snprintf(res->name, sizeof(res->name), "%s", e.name);
                        res->msg_len = strlen(e.message) < sizeof(res->msg) - 1
                                               ? strlen(e.message)
                                               : sizeof(res->msg) - 1;
                        memcpy(res->msg, e.message, res->msg_len);
                        res->msg[res->msg_len] = '\0';
                }
                dbus_error_free(&e);
        }
        dbus_message_unref(m);
        dbus_connection_close(conn);
        dbus_connection_unref(conn);
}

static void print_value(FILE *f, DBusMessageIter *it)
{
        int t = dbus_message_iter_get_arg_type(it);

        if (t == DBUS_TYPE_ARRAY || t == DBUS_TYPE_STRUCT || t == DBUS_TYPE_VARIANT) {
                DBusMessageIter sub;
                dbus_message_iter_recurse(it, &sub);
                while (dbus_message_iter_get_arg_type(&sub) != DBUS_TYPE_INVALID) {
                        print_value(f, &sub);
                        dbus_message_iter_next(&sub);
                }
                return;
        }
        if (t == DBUS_TYPE_DICT_ENTRY) {
                DBusMessageIter sub;
                const char *k;
                dbus_message_iter_recurse(it, &sub);
                if (dbus_message_iter_get_arg_type(&sub) == DBUS_TYPE_STRING) {
                        dbus_message_iter_get_basic(&sub, &k);
                        put_escaped(f, k, strlen(k));
                        fputc('=', f);
                        dbus_message_iter_next(&sub);
                        if (dbus_message_iter_get_arg_type(&sub) == DBUS_TYPE_STRING) {
                                const char *v;
                                dbus_message_iter_get_basic(&sub, &v);
                                put_escaped(f, v, strlen(v));
                                fputc('\n', f);
                        } else {
                                print_value(f, &sub);
                        }
                        return;
                }
                while (dbus_message_iter_get_arg_type(&sub) != DBUS_TYPE_INVALID) {
                        print_value(f, &sub);
                        dbus_message_iter_next(&sub);
                }
                return;
        }
        if (t == DBUS_TYPE_STRING || t == DBUS_TYPE_OBJECT_PATH || t == DBUS_TYPE_SIGNATURE) {
                const char *s;
                dbus_message_iter_get_basic(it, &s);
                put_escaped(f, s, strlen(s));
                fputc('\n', f);
                return;
        }
        if (t == DBUS_TYPE_UINT32 || t == DBUS_TYPE_INT32 || t == DBUS_TYPE_BOOLEAN) {
                dbus_uint32_t v;
                dbus_message_iter_get_basic(it, &v);
                if (t == DBUS_TYPE_INT32)
                        fprintf(f, "%d\n", (int)v);
                else
                        fprintf(f, "%u\n", (unsigned)v);
                return;
        }
        if (t == DBUS_TYPE_UINT64 || t == DBUS_TYPE_INT64) {
                dbus_uint64_t v;
                dbus_message_iter_get_basic(it, &v);
                fprintf(f, "%llu\n", (unsigned long long)v);
                return;
        }
        fprintf(f, "(type %c)\n", t);
}

/* Print a result the way `call` documents it; returns the exit code. */
static int print_result(FILE *f, Result *res)
{
        switch (res->kind) {
        case RES_OK: {
                DBusMessageIter it;
                fprintf(f, "OK\n");
                if (dbus_message_iter_init(res->reply, &it))
                        do
                                print_value(f, &it);
                        while (dbus_message_iter_next(&it));
                return 0;
        }
        case RES_ERROR:
                fprintf(f, "ERROR %s ", res->name);
                put_escaped(f, res->msg, res->msg_len);
                fputc('\n', f);
                if (has_control(res->msg, res->msg_len))
                        fprintf(f, "CONTROL-BYTES-IN-MESSAGE\n");
                return 1;
        case RES_DROP:
                fprintf(f, "DROP%s%s\n", res->msg[0] ? " " : "", res->msg);
                return 3;
        case RES_TIMEOUT:
                fprintf(f, "TIMEOUT\n");
                return 4;
        default:
                fprintf(f, "SETUP %s\n", res->msg);
                return 2;
        }
}

static void check_reused(FILE *f)
{
        char now[4096];

        if (reused_pid <= 0)
                return;
        read_cgroup(reused_pid, now, sizeof(now));
        if (strcmp(now, reused_cgroup) != 0) {
                fprintf(f, "REUSED-PID-MOVED %d from ", (int)reused_pid);
                put_escaped(f, reused_cgroup, strlen(reused_cgroup));
                fprintf(f, " to ");
                put_escaped(f, now, strlen(now));
                fputc('\n', f);
        }
        kill(reused_pid, SIGKILL);
        (void)waitpid(reused_pid, NULL, 0);
}

static int parse_call(Call *c, int argc, char **argv, int i)
{
        if (i + 2 > argc)
                return -1;
        c->method = argv[i++];
        c->sig = argv[i++];
        c->args = calloc(ARGS_MAX, sizeof(Arg));
        for (; i < argc && c->n_args < ARGS_MAX; i++)
                c->args[c->n_args++] = unescape(argv[i]);
        return 0;
}

static int cmd_call(int argc, char **argv)
{
        Call c = { .iface = IFACE, .path = OBJ, .timeout_ms = DEFAULT_TIMEOUT_MS };
        Result res;
        int i = 2, rc;

        for (; i < argc && argv[i][0] == '-'; i++) {
                if (strcmp(argv[i], "-F") == 0 && i + 1 < argc && c.n_fdspecs < FDS_MAX)
                        c.fdspecs[c.n_fdspecs++] = argv[++i];
                else if (strcmp(argv[i], "-r") == 0)
                        c.raw = true;
                else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
                        c.timeout_ms = atoi(argv[++i]);
                else if (strcmp(argv[i], "-i") == 0 && i + 1 < argc)
                        c.iface = argv[++i];
                else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
                        c.path = argv[++i];
                else
                        return 2;
        }
        if (parse_call(&c, argc, argv, i) < 0)
                return 2;
        do_call(&c, &res);
        rc = print_result(stdout, &res);
        check_reused(stdout);
        for (int k = 0; k < c.n_args; k++)
                free(c.args[k].s);
        free(c.args);
        return rc;
}

/* ---- the state the batch guards ------------------------------------------------------------ */

static const char *const watched_files[] = {
        "pids.max", "memory.max", "memory.high", "memory.low", "memory.min", "memory.swap.max",
        "memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes",
        "cpu.max", "cpu.weight", "cpu.max.burst", "cpu.cfs_quota_us", "cpu.cfs_period_us",
        "cpu.shares", "cgroup.max.descendants", "cgroup.max.depth", "cgroup.procs",
        "cgroup.subtree_control", "cgroup.freeze", "cgroup.type", "freezer.state",
        "notify_on_release", "io.max", "io.weight", "cpuset.cpus", "cpuset.mems",
        "blkio.bfq.weight", "memory.oom.group", NULL,
};

typedef struct Lines {
        char **v;
        size_t n, cap;
} Lines;

static void lines_add(Lines *l, const char *prefix, const char *a, size_t al, const char *b,
                      size_t bl)
{
        char *s;
        size_t sz;
        FILE *f = open_memstream(&s, &sz);

        fputs(prefix, f);
        put_escaped(f, a, al);
        if (b) {
                fputc(' ', f);
                put_escaped(f, b, bl);
        }
        fclose(f);
        if (l->n == l->cap) {
                l->cap = l->cap ? 2 * l->cap : 256;
                l->v = realloc(l->v, l->cap * sizeof(char *));
        }
        l->v[l->n++] = s;
}

static void lines_free(Lines *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        *l = (Lines){ 0 };
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool watched(const char *name)
{
        for (size_t i = 0; watched_files[i]; i++)
                if (strcmp(name, watched_files[i]) == 0)
                        return true;
        return false;
}

/* Directories and watched files below @path: readdir's d_type only, no stat (a v1 memory
 * cgroup has dozens of files, and cgroupfs stats are not free). */
static void walk(Lines *l, const char *path, int depth)
{
        DIR *d = opendir(path);
        struct dirent *de;

        lines_add(l, "D ", path, strlen(path), NULL, 0);
        if (!d)
                return;
        while ((de = readdir(d))) {
                char p[4400], buf[4096];
                ssize_t r;
                int fd;

                if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
                        continue;
                if ((size_t)snprintf(p, sizeof(p), "%s/%s", path, de->d_name) >= sizeof(p))
                        continue;
                if (de->d_type == DT_DIR) {
                        if (depth < 64)
                                walk(l, p, depth + 1);
                        continue;
                }
                if (!watched(de->d_name))
                        continue;
                fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                if (fd < 0)
                        continue;
                r = read(fd, buf, sizeof(buf));
                close(fd);
                lines_add(l, "F ", p, strlen(p), buf, r > 0 ? (size_t)r : 0);
        }
        closedir(d);
}

static void proc_state(pid_t pid, char *state)
{
        char p[64], buf[1024], *e;
        ssize_t r;
        int fd;

        *state = '-';
        snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        r = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (r <= 0)
                return;
        buf[r] = '\0';
        e = strrchr(buf, ')');
        if (e && e[1] == ' ')
                *state = e[2];
}

static void snapshot(Lines *l, char **dirs, int n_dirs, pid_t *victims, int n_victims)
{
        *l = (Lines){ 0 };
        for (int i = 0; i < n_dirs; i++)
                walk(l, dirs[i], 0);
        for (int i = 0; i < n_victims; i++) {
                char cg[4096], st[8], label[32];
                read_cgroup(victims[i], cg, sizeof(cg));
                proc_state(victims[i], &st[0]);
                /* Running and sleeping are the same to us; stopped, traced, zombie, gone are not. */
                if (st[0] == 'R' || st[0] == 'D' || st[0] == 'I')
                        st[0] = 'S';
                st[1] = '\0';
                snprintf(label, sizeof(label), "V %d ", (int)victims[i]);
                lines_add(l, label, st, 1, cg, strlen(cg));
        }
        qsort(l->v, l->n, sizeof(char *), cmp_str);
}

/* Print up to @max differences of @b against @a as diagnostics; 0 when equal. */
static int lines_diff(const Lines *a, const Lines *b, FILE *f, int max)
{
        size_t i = 0, j = 0;
        int n = 0;

        while (i < a->n || j < b->n) {
                int c = i >= a->n ? 1 : j >= b->n ? -1 : strcmp(a->v[i], b->v[j]);
                if (c == 0) {
                        i++, j++;
                        continue;
                }
                if (n++ < max)
                        fprintf(f, "#   %s %.300s\n", c < 0 ? "was:" : "now:",
                                c < 0 ? a->v[i] : b->v[j]);
                if (c < 0)
                        i++;
                else
                        j++;
        }
        return n;
}

static long proc_rss_kib(pid_t pid)
{
        char p[64], line[256];
        long v = -1;
        FILE *f;

        snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
        f = fopen(p, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "VmRSS:", 6) == 0)
                        v = strtol(line + 6, NULL, 10);
        fclose(f);
        return v;
}

static int proc_fd_count(pid_t pid)
{
        char p[64];
        int n = 0;
        struct dirent *de;
        DIR *d;

        snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
        d = opendir(p);
        if (!d)
                return -1;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static bool daemon_alive(pid_t pid)
{
        char st;
        if (kill(pid, 0) < 0)
                return false;
        proc_state(pid, &st);
        return st != 'Z' && st != 'X' && st != '-';
}

/* Ping, as whoever we are, on a connection kept for it (a new one when it was lost). */
static bool daemon_pings(int timeout_ms)
{
        static DBusConnection *conn;
        DBusMessage *m, *reply;
        char addr[200];
        int64_t end = now_ms() + timeout_ms;

        if (conn && !dbus_connection_get_is_connected(conn)) {
                dbus_connection_close(conn);
                dbus_connection_unref(conn);
                conn = NULL;
        }
        if (!conn) {
                snprintf(addr, sizeof(addr), "unix:path=%s", sock_path());
                conn = dbus_connection_open_private(addr, NULL);
                if (!conn)
                        return false;
                dbus_connection_set_exit_on_disconnect(conn, FALSE);
        }
        m = dbus_message_new_method_call(NULL, OBJ, IFACE, "Ping");
        reply = dbus_connection_send_with_reply_and_block(conn, m, (int)(end - now_ms()), NULL);
        dbus_message_unref(m);
        if (!reply)
                return false;
        if (dbus_message_get_type(reply) != DBUS_MESSAGE_TYPE_METHOD_RETURN) {
                dbus_message_unref(reply);
                return false;
        }
        dbus_message_unref(reply);
        return true;
}

/* ---- batch ----------------------------------------------------------------------------------- */

typedef struct Case {
        uid_t uid;
        char *expect, *desc;
        Call call;
        char *cgs[8];
        int n_cgs;
} Case;

static int split_tabs(char *line, char **f, int max)
{
        int n = 0;
        char *save = NULL;

        for (char *t = strtok_r(line, "\t", &save); t && n < max; t = strtok_r(NULL, "\t", &save))
                f[n++] = t;
        return n;
}

/* Fields are unescaped; "-" stands for an empty argument (strtok drops empty fields). */
static int parse_case(char *line, Case *k)
{
        char *f[ARGS_MAX + 8];
        int n = split_tabs(line, f, ARGS_MAX + 8);
        char *save = NULL;

        if (n < 6)
                return -1;
        *k = (Case){ .call = { .iface = IFACE, .path = OBJ, .timeout_ms = DEFAULT_TIMEOUT_MS } };
        k->uid = (uid_t)strtoul(f[0], NULL, 10);
        k->expect = f[1];
        k->desc = unescape(f[2]).s;
        if (strcmp(f[3], "-") != 0)
                for (char *t = strtok_r(f[3], ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                        if (strcmp(t, "raw") == 0)
                                k->call.raw = true;
                        else if (strncmp(t, "fd=", 3) == 0 && k->call.n_fdspecs < FDS_MAX)
                                k->call.fdspecs[k->call.n_fdspecs++] = t + 3;
                        else if (strncmp(t, "cg=", 3) == 0 && k->n_cgs < 8)
                                k->cgs[k->n_cgs++] = t + 3;
                        else if (strncmp(t, "iface=", 6) == 0)
                                k->call.iface = t + 6;
                        else if (strncmp(t, "path=", 5) == 0)
                                k->call.path = t + 5;
                        else if (strncmp(t, "timeout=", 8) == 0)
                                k->call.timeout_ms = atoi(t + 8);
                        else
                                return -1;
                }
        k->call.method = f[4];
        k->call.sig = strcmp(f[5], "-") == 0 ? "" : f[5];
        k->call.args = calloc(ARGS_MAX, sizeof(Arg));
        for (int i = 6; i < n; i++)
                k->call.args[k->call.n_args++] = strcmp(f[i], "-") == 0 ? unescape("")
                                                                          : unescape(f[i]);
        return 0;
}

static bool expect_matches(const char *expect, const Result *res, const char *name)
{
        char buf[512], *save = NULL;

        if (strcmp(expect, "any") == 0)
                return res->kind != RES_SETUP;
        if (strcmp(expect, "ok") == 0)
                return res->kind == RES_OK;
        if (strcmp(expect, "drop") == 0)
                return res->kind == RES_DROP;
        if (strcmp(expect, "okerr") == 0)
                return res->kind == RES_OK || res->kind == RES_ERROR;
        if (res->kind != RES_ERROR)
                return false;
        if (strcmp(expect, "err") == 0)
                return true;
        snprintf(buf, sizeof(buf), "%s", expect);
        for (char *t = strtok_r(buf, "|", &save); t; t = strtok_r(NULL, "|", &save)) {
                char full[300];
                snprintf(full, sizeof(full), "%s%s", strchr(t, '.') ? "" : "org.cgm.Error.", t);
                if (strcmp(full, name) == 0)
                        return true;
        }
        return false;
}

static int write_file(const char *path, const char *s)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ssize_t w;

        if (fd < 0)
                return -1;
        w = write(fd, s, strlen(s));
        close(fd);
        return w == (ssize_t)strlen(s) ? 0 : -1;
}

/* In a child: enter the cgroups, make root's fds, drop to the uid, make the rest, call. */
static void run_case_child(Case *k, int out)
{
        FILE *f = fdopen(out, "w");
        char pid[32];
        Result res;
        Call c = k->call;
        int root_fds = 0;

        setpgid(0, 0);
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        for (int i = 0; i < k->n_cgs; i++)
                if (write_file(k->cgs[i], pid) < 0) {
                        fprintf(f, "SETUP cannot enter %s: %m\n", k->cgs[i]);
                        fclose(f);
                        _exit(2);
                }
        /* "reused" needs root (clone3 with set_tid): make those fds first. */
        for (int i = 0; i < c.n_fdspecs; i++)
                if (strcmp(c.fdspecs[i], "reused") == 0)
                        root_fds++;
        if (root_fds > 1) {
                fprintf(f, "SETUP one reused fd per case\n");
                fclose(f);
                _exit(2);
        }
        if (root_fds) {
                /* do_call makes the fds in order; make the reused one now and pass it by pid. */
                char why[256] = "", spec[64];
                int fd = fd_make("reused", why, sizeof(why));
                if (fd < 0) {
                        fprintf(f, "SETUP %s\n", why);
                        fclose(f);
                        _exit(2);
                }
                for (int i = 0; i < c.n_fdspecs; i++)
                        if (strcmp(c.fdspecs[i], "reused") == 0) {
                                snprintf(spec, sizeof(spec), "dup:%d", fd);
                                c.fdspecs[i] = strdup(spec);
                        }
        }
        if (k->uid != 0 && (setgroups(0, NULL) < 0 || setresgid(k->uid, k->uid, k->uid) < 0 ||
                            setresuid(k->uid, k->uid, k->uid) < 0)) {
                fprintf(f, "SETUP cannot become uid %u: %m\n", (unsigned)k->uid);
                fclose(f);
                _exit(2);
        }
        do_call(&c, &res);
        (void)print_result(f, &res);
        if (reused_pid > 0) {
                /* As the dropped uid we cannot kill the root process: the parent does. */
                char now[4096];
                read_cgroup(reused_pid, now, sizeof(now));
                if (strcmp(now, reused_cgroup) != 0) {
                        fprintf(f, "REUSED-PID-MOVED %d from ", (int)reused_pid);
                        put_escaped(f, reused_cgroup, strlen(reused_cgroup));
                        fprintf(f, " to ");
                        put_escaped(f, now, strlen(now));
                        fputc('\n', f);
                }
        }
        fclose(f);
        _exit(0);
}

static int cmd_batch(int argc, char **argv)
{
        char *dirs[64];
        pid_t victims[64];
        int n_dirs = 0, n_victims = 0, start = 0, lineno = 0, failed = 0;
        pid_t dpid = 0;
        bool timing = getenv("HOSTILE_TIMING") != NULL;
        long rss_slack = 32768, rss0, fds0;
        Lines base;
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;

        for (int i = 2; i < argc; i++) {
                if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
                        dpid = (pid_t)atoi(argv[++i]);
                else if (strcmp(argv[i], "-B") == 0 && i + 1 < argc && n_dirs < 64)
                        dirs[n_dirs++] = argv[++i];
                else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc && n_victims < 64)
                        victims[n_victims++] = (pid_t)atoi(argv[++i]);
                else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
                        start = atoi(argv[++i]);
                else if (strcmp(argv[i], "-R") == 0 && i + 1 < argc)
                        rss_slack = atol(argv[++i]);
                else
                        return 2;
        }
        if (dpid <= 0 || geteuid() != 0)
                return 2;
        signal(SIGPIPE, SIG_IGN);
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        (void)daemon_pings(10000); /* its connection stays open: count it in the baseline */
        rss0 = proc_rss_kib(dpid);
        fds0 = proc_fd_count(dpid);
        snapshot(&base, dirs, n_dirs, victims, n_victims);
        setvbuf(stdout, NULL, _IOLBF, 0);

        while ((len = getline(&line, &cap, stdin)) >= 0) {
                Case k;
                int p[2], st, fails = 0;
                pid_t child;
                char out[16384];
                size_t o = 0;
                FILE *dg;
                char *d = NULL;
                size_t dl = 0;
                Result res = { 0 };
                Lines now;
                long rss;
                int fds;
                bool moved_reused;
                int64_t t_start, t_call, t_ping;
                char desc[1024];

                lineno++;
                if (len > 0 && line[len - 1] == '\n')
                        line[--len] = '\0';
                if (lineno <= start || !*line || line[0] == '#')
                        continue;
                if (parse_case(line, &k) < 0) {
                        printf("not ok - malformed case at line %d\n", lineno);
                        failed++;
                        continue;
                }
                {
                        /* Descriptions may hold any byte: shown escaped, on one line. */
                        FILE *df = fmemopen(desc, sizeof(desc) - 1, "w");
                        put_escaped(df, k.desc, strlen(k.desc));
                        fclose(df);
                        desc[sizeof(desc) - 1] = '\0';
                }
                t_start = now_ms();
                if (pipe2(p, O_CLOEXEC) < 0)
                        return 2;
                child = fork();
                if (child == 0) {
                        close(p[0]);
                        run_case_child(&k, p[1]);
                }
                close(p[1]);
                for (;;) {
                        ssize_t r = read(p[0], out + o, sizeof(out) - 1 - o);
                        if (r <= 0)
                                break;
                        o += (size_t)r;
                }
                out[o] = '\0';
                close(p[0]);
                /* Kill what is left in the child's process group (the process holding a
                 * reused pid) while the child, unreaped, still pins the group's id; then reap
                 * everything, orphans included (we are their subreaper). */
                {
                        siginfo_t si;
                        (void)waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT);
                }
                kill(-child, SIGKILL);
                while (waitpid(-1, &st, 0) > 0 || errno == EINTR)
                        ;

                /* The child's first line is the result. */
                if (strncmp(out, "OK", 2) == 0)
                        res.kind = RES_OK;
                else if (strncmp(out, "ERROR ", 6) == 0) {
                        char *sp = strchr(out + 6, ' ');
                        res.kind = RES_ERROR;
                        if (sp)
                                snprintf(res.name, sizeof(res.name), "%.*s", (int)(sp - out - 6),
                                         out + 6);
                } else if (strncmp(out, "DROP", 4) == 0)
                        res.kind = RES_DROP;
                else if (strncmp(out, "TIMEOUT", 7) == 0)
                        res.kind = RES_TIMEOUT;
                else
                        res.kind = RES_SETUP;
                moved_reused = strstr(out, "REUSED-PID-MOVED") != NULL;

                dg = open_memstream(&d, &dl);
                if (res.kind == RES_SETUP) {
                        /* The helper could not build this case here (e.g. no thread pidfds). */
                        char *nl = strchr(out, '\n');
                        if (nl)
                                *nl = '\0';
                        fclose(dg);
                        free(d);
                        printf("ok - %s # SKIP %s\n", desc, *out ? out : "the child failed");
                        continue;
                }
                if (!expect_matches(k.expect, &res, res.name)) {
                        fails++;
                        fprintf(dg, "# wanted %s\n", k.expect);
                }
                if (strstr(out, "CONTROL-BYTES-IN-MESSAGE")) {
                        fails++;
                        fprintf(dg, "# the error message holds raw control bytes\n");
                }
                if (moved_reused) {
                        fails++;
                        fprintf(dg, "# a process that took over the dead pid was moved\n");
                }
                if (!daemon_alive(dpid)) {
                        fprintf(dg, "# cgmd (pid %d) is gone\n", (int)dpid);
                        fclose(dg);
                        printf("not ok - %s\n", desc);
                        printf("#   got: %.2000s", out);
                        fputs(d, stdout);
                        free(d);
                        printf("DEAD %d\n", lineno);
                        return 3;
                }
                t_call = now_ms();
                if (!daemon_pings(10000)) {
                        fails++;
                        fprintf(dg, "# cgmd does not answer Ping within 10 s\n");
                }
                fds = proc_fd_count(dpid);
                if (fds > fds0 + 16) {
                        fails++;
                        fprintf(dg, "# cgmd holds %d fds, %ld at the start\n", fds, fds0);
                }
                rss = proc_rss_kib(dpid);
                if (rss > rss0 + rss_slack) {
                        fails++;
                        fprintf(dg, "# cgmd's RSS is %ld KiB, %ld KiB at the start\n", rss, rss0);
                }
                t_ping = now_ms();
                snapshot(&now, dirs, n_dirs, victims, n_victims);
                if (timing)
                        fprintf(dg, "# %lld ms: call %lld, ping %lld, snapshot %lld\n",
                                (long long)(now_ms() - t_start), (long long)(t_call - t_start),
                                (long long)(t_ping - t_call), (long long)(now_ms() - t_ping));
                if (lines_diff(&base, &now, dg, 0) > 0) {
                        fails++;
                        fprintf(dg, "# the cgroup trees or the victims changed:\n");
                        (void)lines_diff(&base, &now, dg, 6);
                        /* Compare the next cases with the new state, not all against the first. */
                        lines_free(&base);
                        base = now;
                } else {
                        lines_free(&now);
                }
                fclose(dg);
                if (fails) {
                        failed++;
                        printf("not ok - %s\n#   got: %.2000s%s", desc, out,
                               o && out[o - 1] == '\n' ? "" : "\n");
                        fputs(d, stdout);
                } else {
                        printf("ok - %s\n", desc);
                        if (timing)
                                fputs(d, stdout);
                }
                free(d);
        }
        free(line);
        lines_free(&base);
        return failed ? 1 : 0;
}

static int cmd_snapshot(int argc, char **argv)
{
        char *dirs[64];
        pid_t victims[64];
        int n_dirs = 0, n_victims = 0;
        Lines l;

        for (int i = 2; i < argc; i++) {
                if (strcmp(argv[i], "-B") == 0 && i + 1 < argc && n_dirs < 64)
                        dirs[n_dirs++] = argv[++i];
                else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc && n_victims < 64)
                        victims[n_victims++] = (pid_t)atoi(argv[++i]);
                else
                        return 2;
        }
        snapshot(&l, dirs, n_dirs, victims, n_victims);
        for (size_t i = 0; i < l.n; i++)
                puts(l.v[i]);
        lines_free(&l);
        return 0;
}

/* ---- flood ------------------------------------------------------------------------------------ */

static int cmd_flood(int argc, char **argv)
{
        int n, secs, grace, connected = 0, dropped = 0, live;
        int *fds;
        bool *gone;
        char *chunk = NULL, *one = NULL;
        int one_len = 0;
        size_t chunk_len = 0;
        unsigned long long bytes = 0;
        Builder b = { 0 };
        DBusMessage *m;
        int64_t t0, stop_writing, end, last_drop = -1;

        if (argc < 5)
                return 2;
        n = atoi(argv[2]);
        secs = atoi(argv[3]);
        grace = atoi(argv[4]);
        if (n <= 0 || n > 1024)
                return 2;
        signal(SIGPIPE, SIG_IGN);
        fds = calloc((size_t)n, sizeof(int));
        gone = calloc((size_t)n, sizeof(bool));
        /* Introspect: a reply of several KiB for a call of about a hundred bytes. */
        m = dbus_message_new_method_call(NULL, OBJ, "org.freedesktop.DBus.Introspectable",
                                         "Introspect");
        if (marshal(m, 7, &b, &one, &one_len) < 0)
                return 2;
        dbus_message_unref(m);
        chunk = malloc(64 * 1024);
        while (chunk_len + (size_t)one_len <= 64 * 1024) {
                memcpy(chunk + chunk_len, one, (size_t)one_len);
                chunk_len += (size_t)one_len;
        }
        for (int i = 0; i < n; i++) {
                fds[i] = raw_connect(5000);
                if (fds[i] < 0) {
                        gone[i] = true;
                        continue;
                }
                connected++;
                fcntl(fds[i], F_SETFL, O_NONBLOCK);
        }
        t0 = now_ms();
        stop_writing = t0 + secs * 1000LL;
        end = stop_writing + grace * 1000LL;
        live = connected;
        while (live > 0 && now_ms() < end) {
                struct pollfd *p = calloc((size_t)n, sizeof(*p));
                bool writing = now_ms() < stop_writing;
                for (int i = 0; i < n; i++)
                        p[i] = (struct pollfd){ .fd = gone[i] ? -1 : fds[i],
                                                .events = POLLRDHUP | (writing ? POLLOUT : 0) };
                if (poll(p, (nfds_t)n, 100) > 0)
                        for (int i = 0; i < n; i++) {
                                bool drop = false;
                                if (p[i].fd < 0 || !p[i].revents)
                                        continue;
                                if (p[i].revents & (POLLHUP | POLLERR | POLLRDHUP))
                                        drop = true;
                                else if (p[i].revents & POLLOUT) {
                                        ssize_t w = write(fds[i], chunk, chunk_len);
                                        if (w > 0)
                                                bytes += (unsigned long long)w;
                                        else if (w < 0 && errno != EAGAIN)
                                                drop = true;
                                }
                                if (drop) {
                                        gone[i] = true;
                                        close(fds[i]);
                                        dropped++;
                                        live--;
                                        last_drop = now_ms() - t0;
                                }
                        }
                free(p);
        }
        printf("connected=%d dropped=%d bytes=%llu last_drop_ms=%lld\n", connected, dropped, bytes,
               (long long)last_drop);
        for (int i = 0; i < n; i++)
                if (!gone[i])
                        close(fds[i]);
        return 0;
}

/* ---- WhoAmI from a connection whose opener has exited ------------------------------------------ */

static void whoami_on(DBusConnection *conn)
{
        DBusMessage *m = dbus_message_new_method_call(NULL, OBJ, IFACE, "WhoAmI"), *reply;
        DBusError e = DBUS_ERROR_INIT;
        Result res = { 0 };

        reply = dbus_connection_send_with_reply_and_block(conn, m, DEFAULT_TIMEOUT_MS, &e);
        if (reply)
                result_from_message(reply, &res);
        else if (!dbus_connection_get_is_connected(conn))
                res.kind = RES_DROP;
        else if (dbus_error_has_name(&e, DBUS_ERROR_NO_REPLY))
                res.kind = RES_TIMEOUT;
        else {
                res.kind = RES_ERROR;
                snprintf(res.name, sizeof(res.name), "%s", e.name);
                snprintf(res.msg, sizeof(res.msg), "%s", e.message);
                res.msg_len = strlen(res.msg);
        }
        (void)print_result(stdout, &res);
        fflush(stdout);
}

static int cmd_orphan_whoami(int argc, char **argv)
{
        uid_t uid;
        int go[2], ready[2], st;
        pid_t p, c = -1, r;
        char rcg[4096] = "";

        if (argc < 3 || geteuid() != 0)
                return 2;
        uid = (uid_t)strtoul(argv[2], NULL, 10);
        if (pipe(go) < 0 || pipe(ready) < 0)
                return 2;
        setvbuf(stdout, NULL, _IONBF, 0);
        /* The opener's child comes to us when the opener exits, so we can wait for it. */
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        p = fork();
        if (p == 0) {
                char pid[32], addr[200], x;
                DBusConnection *conn;
                DBusError e = DBUS_ERROR_INIT;
                pid_t child;

                close(go[1]);
                close(ready[0]);
                snprintf(pid, sizeof(pid), "%d", (int)getpid());
                for (int i = 3; i < argc; i++)
                        if (write_file(argv[i], pid) < 0)
                                _exit(10);
                if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
                    setresuid(uid, uid, uid) < 0)
                        _exit(11);
                snprintf(addr, sizeof(addr), "unix:path=%s", sock_path());
                conn = dbus_connection_open_private(addr, &e);
                if (!conn)
                        _exit(12);
                dbus_connection_set_exit_on_disconnect(conn, FALSE);
                /* Finish the handshake while the opener lives. */
                for (int i = 0; i < 100 && !dbus_connection_get_is_authenticated(conn); i++)
                        (void)dbus_connection_read_write(conn, 100);
                if (!dbus_connection_get_is_authenticated(conn))
                        _exit(13);
                child = fork();
                if (child == 0) {
                        close(ready[1]);
                        if (read(go[0], &x, 1) != 1)
                                _exit(14);
                        whoami_on(conn);
                        _exit(0);
                }
                if (child < 0 || write_all(ready[1], &child, sizeof(child)) < 0)
                        _exit(15);
                _exit(0); /* the opener exits; its child keeps the connection */
        }
        close(go[0]);
        close(ready[1]);
        if (p < 0 || read(ready[0], &c, sizeof(c)) != sizeof(c)) {
                printf("SETUP the opener failed\n");
                return 2;
        }
        (void)waitpid(p, &st, 0); /* reaped: its pid is free now */
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                printf("SETUP the opener failed (status %d)\n", st);
                kill(c, SIGKILL);
                (void)waitpid(c, NULL, 0);
                return 2;
        }
        r = clone_with_pid(p);
        if (r > 0)
                read_cgroup(r, rcg, sizeof(rcg));
        printf("reused=%d pid=%d rcgroup=", r > 0, (int)p);
        {
                /* The cgroup2 line, as WhoAmI reports a cgroup on a host with cgroup2. */
                char *l = strstr(rcg, "0::");
                if (l)
                        put_escaped(stdout, l + 3, strcspn(l + 3, "\n"));
        }
        printf("\n");
        write_all(go[1], "g", 1);
        close(go[1]);
        (void)waitpid(c, NULL, 0); /* bounded by the call's timeout */
        if (r > 0) {
                kill(r, SIGKILL);
                (void)waitpid(r, NULL, 0);
        }
        return 0;
}

/* ---- a login session, opened and closed by one process ------------------------------------- */

/* OpenSession(USER) as pam_cgm does it (the caller is moved into the new leaf), then
 * CloseSession(id) from the same process, which then exits. Prints both results. */
static int cmd_session(int argc, char **argv)
{
        Call c = { .iface = IFACE, .path = OBJ, .timeout_ms = DEFAULT_TIMEOUT_MS };
        Arg open_args[2] = { unescape(argc > 2 ? argv[2] : ""), unescape("0") };
        Arg close_args[1];
        Result res;
        DBusMessageIter it;
        const char *id = NULL;

        c.method = "OpenSession";
        c.sig = "sa{ss}";
        c.args = open_args;
        c.n_args = 2;
        do_call(&c, &res);
        if (res.kind != RES_OK) {
                print_result(stdout, &res);
                return 1;
        }
        if (dbus_message_iter_init(res.reply, &it) &&
            dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_STRING)
                dbus_message_iter_get_basic(&it, &id);
        print_result(stdout, &res);
        close_args[0] = unescape(id ? id : "");
        c.method = "CloseSession";
        c.sig = "s";
        c.args = close_args;
        c.n_args = 1;
        do_call(&c, &res);
        return print_result(stdout, &res);
}

/* A test helper that exits right after its work: in a sanitizer build, leak reports at exit
 * would only be noise on the test's stderr (the daemon is what the sanitizers are for). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
        return "detect_leaks=0";
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: hostile call|batch|snapshot|flood|session|orphan-whoami|sanitized ...\n");
                return 2;
        }
        if (strcmp(argv[1], "call") == 0)
                return cmd_call(argc, argv);
        if (strcmp(argv[1], "batch") == 0)
                return cmd_batch(argc, argv);
        if (strcmp(argv[1], "snapshot") == 0)
                return cmd_snapshot(argc, argv);
        if (strcmp(argv[1], "flood") == 0)
                return cmd_flood(argc, argv);
        if (strcmp(argv[1], "sanitized") == 0) {
#ifdef __SANITIZE_ADDRESS__
                return 0;
#else
                return 1;
#endif
        }
        if (strcmp(argv[1], "session") == 0)
                return cmd_session(argc, argv);
        if (strcmp(argv[1], "orphan-whoami") == 0)
                return cmd_orphan_whoami(argc, argv);
        fprintf(stderr, "hostile: unknown mode %s\n", argv[1]);
        return 2;
}
