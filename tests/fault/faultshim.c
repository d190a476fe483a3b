/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* faultshim: an LD_PRELOAD library that makes chosen cgroupfs calls of cgmd fail
 *
 * tests/fault/test-fault.sh starts cgmd with this library preloaded (CGMD_WRAPPER of
 * tests/integration/lib.sh) and arms failures the kernel can return but a test cannot provoke
 * on demand: EBUSY, ENOSPC or ENOMEM from a cgroupfs write, a mkdir or rmdir that is refused.
 *
 * Configuration, from the environment:
 *
 *   CGM_FAULT       rules, separated by ';' or newlines
 *   CGM_FAULT_FILE  a file holding rules in the same form; it is looked at on every call the
 *                   shim intercepts and read again when it changed (inode, size or mtime), so a
 *                   test can arm and disarm faults in a running daemon. Replace it with mv(1)
 *                   to change it atomically. Counters (nth=) restart with every change.
 *   CGM_FAULT_LOG   a file to which each injected failure is appended as "OP PATH ERRNO", so a
 *                   test can prove that the fault it armed was hit
 *
 * A rule is OP:PATTERN:ERRNO[:nth=N]
 *
 *   OP       write  write(2) to a file (the path is found through /proc/self/fd)
 *            open   openat2(2) (through syscall(2), as daemon/cgfs.c calls it) and openat(2)
 *            mkdir  mkdirat(2) and mkdir(2)
 *            rmdir  unlinkat(2) with AT_REMOVEDIR and rmdir(2)
 *   PATTERN  an fnmatch(3) glob. A relative one is matched against as many trailing
 *            components of the path as it has, and `*` stays within one name: "memory.max"
 *            and "cgroup.procs" match that file in any cgroup, "c1/pids.max" only c1's,
 *            "cgm-test-*" any directory so named, "*" everything. An absolute one is matched
 *            against the whole path, and there `*` also matches '/': an exact file, or every
 *            file of one hierarchy (its mount point followed by a `*`).
 *   ERRNO    a name (EBUSY, ENOSPC, ENOMEM, EIO, EACCES, EPERM, EINVAL, ENOENT, EAGAIN, EEXIST,
 *            EMFILE, ENFILE, EROFS, EINTR, ESRCH) or a number
 *   nth=N    fail only the Nth call that matches the rule (counting from 1); without it,
 *            every matching call fails
 *
 * Example: CGM_FAULT="write:memory.limit_in_bytes:EBUSY;mkdir:*:ENOSPC:nth=3"
 *
 * Paths of relative calls are the directory fd's path (readlink of /proc/self/fd/N) joined
 * with the name. A failing call does nothing and returns -1 with errno set, as the kernel's
 * refusal would. Only calls made through the dynamic symbol table are seen; calls glibc makes
 * internally (fopen, syslog) are not, nor are pwrite(2), open(2) or sendmsg(2).
 */
#define _GNU_SOURCE
/* The fortified inline openat() of <fcntl.h> would clash with the definition below. */
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RULES_MAX 16

typedef enum Op { OP_WRITE, OP_OPEN, OP_MKDIR, OP_RMDIR, OP_N } Op;

static const char *const op_names[OP_N] = { "write", "open", "mkdir", "rmdir" };

typedef struct Rule {
        Op op;
        char pattern[256];
        int errnum;
        unsigned long nth; /* 0: every call */
        unsigned long seen;
} Rule;

static struct {
        pthread_mutex_t lock;
        Rule rules[RULES_MAX];
        size_t n;
        struct stat file_st; /* of CGM_FAULT_FILE when last read */
        bool file_read;
        ssize_t (*write)(int, const void *, size_t);
        long (*syscall)(long, long, long, long, long, long, long);
        int (*openat)(int, const char *, int, ...);
        int (*mkdirat)(int, const char *, mode_t);
        int (*mkdir)(const char *, mode_t);
        int (*unlinkat)(int, const char *, int);
        int (*rmdir)(const char *);
} shim = { .lock = PTHREAD_MUTEX_INITIALIZER };

static const struct {
        const char *name;
        int errnum;
} errno_names[] = {
        { "EBUSY", EBUSY },   { "ENOSPC", ENOSPC }, { "ENOMEM", ENOMEM }, { "EIO", EIO },
        { "EACCES", EACCES }, { "EPERM", EPERM },   { "EINVAL", EINVAL }, { "ENOENT", ENOENT },
        { "EAGAIN", EAGAIN }, { "EEXIST", EEXIST }, { "EMFILE", EMFILE }, { "ENFILE", ENFILE },
        { "EROFS", EROFS },   { "EINTR", EINTR },   { "ESRCH", ESRCH },
};

static void shim_complain(const char *what, const char *rule)
{
        char line[512];
        int l = snprintf(line, sizeof(line), "faultshim: ignoring rule `%s`: %s\n", rule, what);

        if (l > 0 && shim.write)
                (void)shim.write(STDERR_FILENO, line, (size_t)l < sizeof(line) ? (size_t)l : sizeof(line) - 1);
}

static int parse_errno(const char *s)
{
        char *end;
        long v;

        for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
                if (strcmp(s, errno_names[i].name) == 0)
                        return errno_names[i].errnum;
        v = strtol(s, &end, 10);
        return *s && !*end && v > 0 && v < 4096 ? (int)v : -1;
}

/* One rule "OP:PATTERN:ERRNO[:nth=N]"; @s is modified. */
static void parse_rule(char *s)
{
        char copy[512], *f[4] = { NULL }, *save = NULL;
        size_t nf = 0;
        Rule r = { 0 };

        while (*s == ' ' || *s == '\t')
                s++;
        if (!*s || *s == '#')
                return;
        snprintf(copy, sizeof(copy), "%s", s);
        for (char *t = strtok_r(s, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
                if (nf == 4)
                        return shim_complain("too many fields", copy);
                f[nf++] = t;
        }
        if (nf < 3)
                return shim_complain("want OP:PATTERN:ERRNO[:nth=N]", copy);
        for (r.op = 0; r.op < OP_N && strcmp(f[0], op_names[r.op]) != 0; r.op++)
                ;
        if (r.op == OP_N)
                return shim_complain("OP is not write, open, mkdir or rmdir", copy);
        snprintf(r.pattern, sizeof(r.pattern), "%s", f[1]);
        r.errnum = parse_errno(f[2]);
        if (r.errnum < 0)
                return shim_complain("unknown errno", copy);
        if (nf == 4) {
                char *end;
                if (strncmp(f[3], "nth=", 4) != 0 || !(r.nth = strtoul(f[3] + 4, &end, 10)) || *end)
                        return shim_complain("the fourth field must be nth=N, N >= 1", copy);
        }
        if (shim.n == RULES_MAX)
                return shim_complain("too many rules", copy);
        shim.rules[shim.n++] = r;
}

static void parse_rules(char *text)
{
        char *save = NULL;

        for (char *r = strtok_r(text, ";\n", &save); r; r = strtok_r(NULL, ";\n", &save))
                parse_rule(r);
}

static void load_env_rules(void)
{
        const char *env = getenv("CGM_FAULT");
        char buf[4096];

        shim.n = 0;
        if (env) {
                snprintf(buf, sizeof(buf), "%s", env);
                parse_rules(buf);
        }
}

/* With shim.lock held: read CGM_FAULT_FILE again if it changed. */
static void refresh_file_rules(void)
{
        const char *path = getenv("CGM_FAULT_FILE");
        struct stat st;
        char buf[4096];
        ssize_t l = 0;
        int fd;

        if (!path)
                return;
        if (stat(path, &st) < 0)
                memset(&st, 0, sizeof(st));
        if (shim.file_read && st.st_ino == shim.file_st.st_ino && st.st_size == shim.file_st.st_size &&
            st.st_mtim.tv_sec == shim.file_st.st_mtim.tv_sec &&
            st.st_mtim.tv_nsec == shim.file_st.st_mtim.tv_nsec)
                return;
        shim.file_st = st;
        shim.file_read = true;
        load_env_rules();
        fd = (int)shim.syscall(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC, 0, 0, 0);
        if (fd < 0)
                return;
        l = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (l <= 0)
                return;
        buf[l] = '\0';
        parse_rules(buf);
}

static void __attribute__((constructor)) shim_init(void)
{
        shim.write = dlsym(RTLD_NEXT, "write");
        shim.syscall = dlsym(RTLD_NEXT, "syscall");
        shim.openat = dlsym(RTLD_NEXT, "openat");
        shim.mkdirat = dlsym(RTLD_NEXT, "mkdirat");
        shim.mkdir = dlsym(RTLD_NEXT, "mkdir");
        shim.unlinkat = dlsym(RTLD_NEXT, "unlinkat");
        shim.rmdir = dlsym(RTLD_NEXT, "rmdir");
        if (!shim.write || !shim.syscall || !shim.openat || !shim.mkdirat || !shim.mkdir ||
            !shim.unlinkat || !shim.rmdir)
                abort();
        load_env_rules();
}

/* The path of @dirfd joined with @name (or @name alone when it is absolute or @dirfd is
 * AT_FDCWD and there is nothing better). */
static void full_path(int dirfd, const char *name, char *out, size_t n)
{
        char link[64];
        ssize_t l;

        if (name && name[0] == '/') {
                snprintf(out, n, "%s", name);
                return;
        }
        if (dirfd == AT_FDCWD)
                snprintf(link, sizeof(link), "/proc/self/cwd");
        else
                snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
        l = readlink(link, out, n - 1);
        if (l < 0)
                l = 0;
        out[l] = '\0';
        if (name && *name && strcmp(name, ".") != 0)
                snprintf(out + l, n - (size_t)l, "%s%s", l > 0 ? "/" : "", name);
}

/* Match @pattern against the whole @path when it is absolute, else against the last components
 * of @path, as many as @pattern has. */
static bool pattern_matches(const char *pattern, const char *path)
{
        size_t n = 1;
        const char *tail = path + strlen(path);

        if (pattern[0] == '/')
                return fnmatch(pattern, path, 0) == 0;
        for (const char *p = pattern; *p; p++)
                n += *p == '/';
        while (tail > path && n > 0) {
                tail--;
                if (*tail == '/' && --n == 0) {
                        tail++;
                        break;
                }
        }
        return fnmatch(pattern, tail, FNM_PATHNAME) == 0;
}

static void log_hit(Op op, const char *path, int errnum)
{
        const char *log = getenv("CGM_FAULT_LOG");
        char line[4200];
        const char *en = NULL;
        int fd, l;

        if (!log)
                return;
        for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
                if (errno_names[i].errnum == errnum)
                        en = errno_names[i].name;
        l = en ? snprintf(line, sizeof(line), "%s %s %s\n", op_names[op], path, en)
               : snprintf(line, sizeof(line), "%s %s %d\n", op_names[op], path, errnum);
        fd = (int)shim.syscall(SYS_openat, AT_FDCWD, (long)log,
                               O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644, 0, 0);
        if (fd < 0)
                return;
        (void)shim.write(fd, line, (size_t)l < sizeof(line) ? (size_t)l : sizeof(line) - 1);
        close(fd);
}

/* Should this call fail? Returns the errno to fail with, or 0. @dirfd and @name give the
 * path; for OP_WRITE @dirfd is the fd written to and @name is NULL. */
static int shim_decide(Op op, int dirfd, const char *name)
{
        char path[4096];
        bool have_path = false;
        int fail = 0;

        pthread_mutex_lock(&shim.lock);
        refresh_file_rules();
        for (size_t i = 0; i < shim.n && !fail; i++) {
                Rule *r = &shim.rules[i];
                if (r->op != op)
                        continue;
                if (!have_path) {
                        full_path(dirfd, name, path, sizeof(path));
                        have_path = true;
                }
                if (!pattern_matches(r->pattern, path))
                        continue;
                r->seen++;
                if (r->nth == 0 || r->seen == r->nth)
                        fail = r->errnum;
        }
        pthread_mutex_unlock(&shim.lock);
        if (fail)
                log_hit(op, path, fail);
        return fail;
}

static bool shim_has_rules(void)
{
        /* A cheap test before the locked path: no rules and no file means nothing to do. */
        return shim.n > 0 || getenv("CGM_FAULT_FILE");
}

ssize_t write(int fd, const void *buf, size_t count)
{
        int e;

        /* stdout and stderr are never cgroupfs; skipping them keeps logging cheap. */
        if (fd > STDERR_FILENO && shim_has_rules() && (e = shim_decide(OP_WRITE, fd, NULL))) {
                errno = e;
                return -1;
        }
        return shim.write(fd, buf, count);
}

long syscall(long number, ...)
{
        long a[6];
        va_list ap;
        int e;

        /* syscall(2) takes up to six word-sized arguments; reading six is what glibc's own
         * implementation does too, whatever the call. */
        va_start(ap, number);
        for (int i = 0; i < 6; i++)
                a[i] = va_arg(ap, long);
        va_end(ap);
#ifdef SYS_openat2
        if (number == SYS_openat2 && shim_has_rules() &&
            (e = shim_decide(OP_OPEN, (int)a[0], (const char *)a[1]))) {
                errno = e;
                return -1;
        }
#else
        (void)e;
#endif
        return shim.syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static int shim_openat(int dirfd, const char *path, int flags, mode_t mode)
{
        int e;

        if (shim_has_rules() && (e = shim_decide(OP_OPEN, dirfd, path))) {
                errno = e;
                return -1;
        }
        return shim.openat(dirfd, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
        mode_t mode = 0;

        if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
                va_list ap;
                va_start(ap, flags);
                mode = va_arg(ap, mode_t);
                va_end(ap);
        }
        return shim_openat(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
        mode_t mode = 0;

        if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
                va_list ap;
                va_start(ap, flags);
                mode = va_arg(ap, mode_t);
                va_end(ap);
        }
        return shim_openat(dirfd, path, flags, mode);
}

int mkdirat(int dirfd, const char *path, mode_t mode)
{
        int e;

        if (shim_has_rules() && (e = shim_decide(OP_MKDIR, dirfd, path))) {
                errno = e;
                return -1;
        }
        return shim.mkdirat(dirfd, path, mode);
}

int mkdir(const char *path, mode_t mode)
{
        int e;

        if (shim_has_rules() && (e = shim_decide(OP_MKDIR, AT_FDCWD, path))) {
                errno = e;
                return -1;
        }
        return shim.mkdir(path, mode);
}

int unlinkat(int dirfd, const char *path, int flags)
{
        int e;

        if ((flags & AT_REMOVEDIR) && shim_has_rules() && (e = shim_decide(OP_RMDIR, dirfd, path))) {
                errno = e;
                return -1;
        }
        return shim.unlinkat(dirfd, path, flags);
}

int rmdir(const char *path)
{
        int e;

        if (shim_has_rules() && (e = shim_decide(OP_RMDIR, AT_FDCWD, path))) {
                errno = e;
                return -1;
        }
        return shim.rmdir(path);
}
