/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OOM notices on a login session's terminal
 *
 * When the kernel OOM-kills a process, the shell of the user who started it prints "Killed",
 * and nothing says why. cgm knows more: the session's leaf, the limits above it, and the
 * kernel's own record of the kill in its log. So for every session whose login named a
 * terminal (PAM_TTY, sent by pam_cgm at OpenSession and kept on the leaf as trusted.cgm.tty,
 * which survives a restart), cgmd listens for EVENT_OOM_KILL on the leaf (events.c; the
 * kernel's counter is hierarchical, so the leaf's watch covers everything below it) and
 * writes one line on that terminal:
 *
 *   cgm: the kernel killed python3 (pid 1234) in /cgm/user-1000/session-5: memory.max 32M of
 *   /cgm/user-1000 reached; see: cgm stat /cgm/user-1000
 *
 * What was killed, and which cgroup's limit was reached, come from the kernel's `oom-kill:`
 * line in /dev/kmsg (opened once at start, before the capabilities are dropped, and read
 * from its end); when the log has no such line (the kernel rate-limits it) the notice says
 * "a process" and names the nearest cgroup from the leaf up to the home that has a memory.max.
 *
 * An ssh login names no terminal at OpenSession (OpenSSH opens the PAM session before it
 * allocates the pty, with PAM_TTY "ssh"): for such a session the terminal is looked up when a
 * notice is due, as the pty that a process of the leaf has as its controlling terminal, and
 * the same checks below apply to it (plus: the device opened is that process's).
 *
 * cgmd is root and writes to a device a user's login named, so the write is done as wall(1)
 * and write(1) do it, and stricter: only a plain terminal name is accepted (pts/N, ttyXN);
 * it is resolved below /dev with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), first as
 * O_PATH, and opened for writing only when that is a character device other than the VT and
 * /dev/tty family, owned by the session's uid (the terminal is still the user's: login chowns
 * it to the user and back at logout); the write open (O_NOCTTY | O_NONBLOCK) must be the same
 * device and a tty; one write(), never waiting (EAGAIN drops the line), then close. Every byte
 * of text a user controls (a process's name, a cgroup's name) is escaped, so no terminal
 * escape sequence gets through. A session gets at most one line per 10 s (the kills between
 * are counted into the next line), the host at most NOTIFY_TTY_PER_SECOND, and the policy's
 * oom_notice (global, [group:], [user:]) turns it off.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "events.h"
#include "home.h"
#include "log.h"
#include "notify-tty.h"
#include "policy.h"
#include "session.h"
#include "units.h"
#include "utf8.h"

/* The kernel's oom-kill lines kept for a moment: an event for one session may read the line
 * of another's kill, which must still be there when that one's event comes. */
#define NOTIFY_RECENT 8
/* An event whose line is not in the log yet (cgroup v1 signals before the kill) waits this
 * long for it, then the notice goes out without it. */
#define NOTIFY_WAIT_NS (300ULL * 1000000ULL)
/* Records read from kmsg per look: the log of a busy host must not hold the loop. */
#define NOTIFY_KMSG_BUDGET 2048

typedef struct Recent {
        OomRecord rec;
        bool used;
} Recent;

struct NotifyTty {
        Manager *manager;
        int dev_fd;  /* O_PATH of /dev */
        int kmsg_fd; /* /dev/kmsg, O_RDONLY | O_NONBLOCK, -1 without */
        int mem_h;   /* the hierarchy of the memory controller, -1 */
        Recent recent[NOTIFY_RECENT];
        size_t next; /* slot for the next record */
        uint64_t window_ns; /* the host-wide rate limit's current second ... */
        unsigned window_lines; /* ... and the lines written in it */
        LoopSource timer;      /* notices waiting for their kmsg line */
        bool timer_armed;
        bool warned_watches;   /* fs.inotify.max_user_watches was reached: said once */
};

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static bool all_digits(const char *s, size_t min, size_t max)
{
        size_t l = strspn(s, "0123456789");

        return s[l] == '\0' && l >= min && l <= max;
}

bool notify_tty_name_ok(const char *tty, const char **namep)
{
        const char *n = tty;
        size_t letters;

        if (!tty)
                return false;
        if (strcmp(n, NOTIFY_TTY_REMOTE) == 0) {
                if (namep)
                        *namep = n;
                return true;
        }
        if (strncmp(n, "/dev/", 5) == 0)
                n += 5;
        if (strncmp(n, "pts/", 4) == 0) {
                if (!all_digits(n + 4, 1, 7) || (n[4] == '0' && n[5]))
                        return false;
        } else if (strncmp(n, "tty", 3) == 0) {
                for (letters = 0; isalpha((unsigned char)n[3 + letters]) && letters < 6; letters++)
                        ;
                if (!all_digits(n + 3 + letters, 1, 5))
                        return false;
        } else
                return false;
        if (namep)
                *namep = n;
        return true;
}

const char *notify_tty_sanitize(const char *s, char *buf, size_t n)
{
        size_t o = 0, len = strlen(s);

        if (n == 0)
                return buf;
        for (size_t i = 0; i < len;) {
                size_t cl = cgm_utf8_char_len(s + i, len - i);
                const unsigned char *c = (const unsigned char *)s + i;
                bool escape = cl == 0 || *c < 0x20 || *c == 0x7f ||
                              (cl == 2 && c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f);
                size_t step = cl ? cl : 1;
                if (escape) {
                        if (o + 4 * step + 1 > n)
                                break;
                        for (size_t k = 0; k < step; k++)
                                o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c[k]);
                } else {
                        if (o + step + 1 > n)
                                break;
                        memcpy(buf + o, c, step);
                        o += step;
                }
                i += step;
        }
        buf[o] = '\0';
        return buf;
}

/* The last occurrence of @needle in the first @len bytes of @s, or NULL. */
static const char *find_last(const char *s, size_t len, const char *needle)
{
        size_t nl = strlen(needle);

        for (size_t i = len >= nl ? len - nl + 1 : 0; i-- > 0;)
                if (memcmp(s + i, needle, nl) == 0)
                        return s + i;
        return NULL;
}

static const char *find_first(const char *s, size_t len, const char *needle)
{
        size_t nl = strlen(needle);

        for (size_t i = 0; i + nl <= len; i++)
                if (memcmp(s + i, needle, nl) == 0)
                        return s + i;
        return NULL;
}

static void copy_span(char *out, size_t n, const char *from, const char *to)
{
        size_t l = (size_t)(to - from);

        if (l >= n)
                l = n - 1;
        memcpy(out, from, l);
        out[l] = '\0';
}

static int parse_decimal(const char *from, const char *to, long long *v)
{
        char buf[24], *end;

        if (to - from < 1 || to - from >= (long)sizeof(buf))
                return -EINVAL;
        copy_span(buf, sizeof(buf), from, to);
        errno = 0;
        *v = strtoll(buf, &end, 10);
        return errno || *end ? -EINVAL : 0;
}

/*
 * oom-kill:constraint=C,nodemask=N,cpuset=NAME,mems_allowed=M,oom_memcg=PATH,
 * task_memcg=PATH,task=COMM,pid=PID,uid=UID  (or global_oom in place of oom_memcg=PATH)
 *
 * The cpuset's name, both paths and COMM are text users choose (and may contain ",task=" or
 * ",pid="). The kernel's numbers end the line, so uid and pid are read from the right; the
 * caller only believes a record whose uid is the session's, so a user's odd names can only
 * confuse notices about the user's own processes.
 */
int notify_tty_parse_oom(const char *msg, size_t len, OomRecord *out)
{
        const char *uid, *pid, *task, *tm, *om, *end = msg + len;
        long long v;

        *out = (OomRecord){ 0 };
        if (len < 9 || memcmp(msg, "oom-kill:", 9) != 0)
                return -EINVAL;
        uid = find_last(msg, len, ",uid=");
        if (!uid || parse_decimal(uid + 5, end, &v) < 0 || v < 0)
                return -EINVAL;
        out->uid = (uid_t)v;
        pid = find_last(msg, (size_t)(uid - msg), ",pid=");
        if (!pid || parse_decimal(pid + 5, uid, &v) < 0 || v <= 0)
                return -EINVAL;
        out->pid = (pid_t)v;
        tm = find_first(msg, (size_t)(pid - msg), ",task_memcg=");
        if (!tm)
                return -EINVAL;
        task = find_first(tm + 12, (size_t)(pid - tm - 12), ",task=");
        if (!task)
                return -EINVAL;
        copy_span(out->comm, sizeof(out->comm), task + 6, pid);
        copy_span(out->task_memcg, sizeof(out->task_memcg), tm + 12, task);
        om = find_first(msg, (size_t)(tm - msg), ",oom_memcg=");
        if (om)
                copy_span(out->oom_memcg, sizeof(out->oom_memcg), om + 11, tm);
        else if (find_first(msg, (size_t)(tm - msg), ",global_oom"))
                out->global = true;
        else
                return -EINVAL;
        return 0;
}

/* Read what the kernel logged since the last look; keep its oom-kill lines. */
static void kmsg_drain(NotifyTty *n)
{
        char rec[8192];

        if (n->kmsg_fd < 0)
                return;
        for (unsigned i = 0; i < NOTIFY_KMSG_BUDGET; i++) {
                ssize_t l = read(n->kmsg_fd, rec, sizeof(rec) - 1);
                const char *msg, *nl;
                OomRecord r;
                if (l < 0 && errno == EPIPE)
                        continue; /* overwritten before we read it: go on with the next */
                if (l <= 0)
                        break; /* EAGAIN: all read */
                rec[l] = '\0';
                msg = strchr(rec, ';');
                if (!msg)
                        continue;
                msg++;
                nl = strchr(msg, '\n');
                if (notify_tty_parse_oom(msg, nl ? (size_t)(nl - msg) : strlen(msg), &r) < 0)
                        continue;
                n->recent[n->next].rec = r;
                n->recent[n->next].used = false;
                n->next = (n->next + 1) % NOTIFY_RECENT;
        }
}

/* Where @path (as the kernel prints a cgroup: from its hierarchy's root) holds @want (a base
 * path and a rel): the rest after it ("" or "/..."), or NULL. A cgroup namespace of cgmd's
 * would put more in front, so @want may start anywhere at a '/'. */
static const char *kernel_path_in(const char *path, const char *want)
{
        size_t wl = strlen(want);

        if (wl == 0)
                return path;
        for (const char *p = path; (p = strstr(p, want)); p++)
                if ((p[wl] == '\0' || p[wl] == '/') && (p == path || *want == '/'))
                        return p + wl;
        return NULL;
}

/* @kpath (the kernel's) as a rel below the base, or -ENOENT when it is not below it. */
static int kernel_path_rel(Manager *m, const char *kpath, char *rel, size_t n)
{
        NotifyTty *nt = m->notify_tty;
        const char *rest;

        if (nt->mem_h < 0)
                return -ENOENT;
        rest = kernel_path_in(kpath, m->cgfs.h[nt->mem_h].base_path);
        if (!rest || (*m->cgfs.h[nt->mem_h].base_path == '\0' && *kpath != '/'))
                return -ENOENT;
        while (*rest == '/')
                rest++;
        /* Split at a user's name that looked like a field: never walk out of the base. */
        for (const char *c = rest; *c;) {
                size_t l = strcspn(c, "/");
                if ((l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
                        return -ENOENT;
                c += l + (c[l] == '/');
        }
        if (strlen(rest) >= n)
                return -ENAMETOOLONG;
        snprintf(rel, n, "%s", rest);
        return 0;
}

/* The newest unused oom-kill line of @s's user for a task in @s's leaf or below. */
static Recent *recent_find(Manager *m, const Session *s)
{
        NotifyTty *nt = m->notify_tty;
        char rel[CGM_PATH_MAX + 1];
        size_t ll = strlen(s->rel);

        for (size_t k = 0; k < NOTIFY_RECENT; k++) {
                Recent *r = &nt->recent[(nt->next + NOTIFY_RECENT - 1 - k) % NOTIFY_RECENT];
                if (r->used || r->rec.pid == 0 || r->rec.uid != s->uid)
                        continue;
                if (kernel_path_rel(m, r->rec.task_memcg, rel, sizeof(rel)) < 0)
                        continue;
                if (strncmp(rel, s->rel, ll) == 0 && (rel[ll] == '\0' || rel[ll] == '/'))
                        return r;
        }
        return NULL;
}

/* The memory.max of @rel in human units into @out, or -ENOENT when it has none ("max"). */
static int limit_of(Manager *m, const char *rel, char *out, size_t n)
{
        CgmError ignored = CGM_ERROR_NULL;
        char raw[CGM_VALUE_MAX];
        uint64_t v;

        if (cg_get_one(&m->cgfs, rel, "memory.max", raw, sizeof(raw), &ignored) < 0)
                return -ENOENT;
        cg_strip_newline(raw);
        if (strcmp(raw, "max") == 0 || cgm_parse_bytes(raw, &v, NULL, 0) < 0 ||
            v == CGM_UNLIMITED)
                return -ENOENT;
        cgm_format_bytes(v, out, n);
        return 0;
}

/* The nearest cgroup from @rel up to the home of @s with a memory.max; -ENOENT for none. */
static int limit_nearest(Manager *m, const Session *s, const char *rel, char *where, size_t wn,
                         char *value, size_t vn)
{
        const char *home = home_lookup(&m->homes, s->uid);
        char cur[CGM_PATH_MAX + 1];

        snprintf(cur, sizeof(cur), "%s", rel);
        for (;;) {
                char *slash;
                if (limit_of(m, cur, value, vn) == 0) {
                        snprintf(where, wn, "%s", cur);
                        return 0;
                }
                if (!home || strcmp(cur, home) == 0 || !(slash = strrchr(cur, '/')))
                        return -ENOENT;
                *slash = '\0';
        }
}

/* Open @name below /dev, never through a symlink nor out of it. Return: an fd or -errno. */
static int dev_open(int dev_fd, const char *name, int flags)
{
        struct open_how how = { .flags = (unsigned)(flags | O_CLOEXEC),
                                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                                           RESOLVE_NO_MAGICLINKS };
        _cleanup_close_ int dir = -1;
        const char *slash;
        int fd;

        fd = (int)syscall(SYS_openat2, dev_fd, name, &how, sizeof(how));
        if (fd >= 0 || errno != ENOSYS)
                return fd < 0 ? -errno : fd;
        /* Before Linux 5.6 (and under valgrind): a component at a time, following no symlink;
         * the name has at most two, neither "." nor ".." (notify_tty_name_ok()). */
        slash = strchr(name, '/');
        if (slash) {
                char first[16];
                if ((size_t)(slash - name) >= sizeof(first))
                        return -ENAMETOOLONG;
                memcpy(first, name, (size_t)(slash - name));
                first[slash - name] = '\0';
                dir = openat(dev_fd, first, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dir < 0)
                        return -errno;
                name = slash + 1;
        }
        fd = openat(dir >= 0 ? dir : dev_fd, name, flags | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/*
 * The terminal of a remote login (NOTIFY_TTY_REMOTE): the controlling terminal of the first
 * process in @s's leaf that has one of the user's ptys as one (an ssh login's shell; sshd's
 * own process there has none). Only pts devices (major 136): a VT or serial line is never
 * found this way. tty_write() checks the device again when it opens it.
 * Return: 0 with its name below /dev in @name and its device in *@rdevp; -EPERM when the
 * ptys found are not the user's; -ENOTTY when there is none.
 */
static int remote_tty(Manager *m, const Session *s, char *name, size_t n, dev_t *rdevp)
{
        _cleanup_free_ pid_t *pids = NULL;
        CgmError e = CGM_ERROR_NULL;
        size_t np = 0;
        int r = -ENOTTY;

        if (cg_procs(&m->cgfs, s->rel, &pids, &np, &e) < 0)
                return -ENOTTY;
        for (size_t i = 0; i < np && i < 64; i++) {
                char path[32], buf[1024], *p;
                unsigned long long tty_nr;
                struct stat st;
                _cleanup_close_ int fd = -1;
                ssize_t l;

                snprintf(path, sizeof(path), "/proc/%d/stat", (int)pids[i]);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                l = read(fd, buf, sizeof(buf) - 1);
                if (l <= 0)
                        continue;
                buf[l] = '\0';
                /* "PID (COMM) STATE PPID PGRP SESSION TTY_NR ...": COMM may hold anything,
                 * so the fields are counted after its last ')'. */
                p = strrchr(buf, ')');
                if (!p || sscanf(p + 1, " %*c %*d %*d %*d %llu", &tty_nr) != 1)
                        continue;
                if (major((dev_t)tty_nr) != 136)
                        continue;
                snprintf(name, n, "pts/%u", minor((dev_t)tty_nr));
                if (fstatat(m->notify_tty->dev_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISCHR(st.st_mode) || st.st_rdev != (dev_t)tty_nr)
                        continue;
                if (st.st_uid != s->uid) {
                        r = -EPERM;
                        continue;
                }
                *rdevp = (dev_t)tty_nr;
                return 0;
        }
        return r;
}

/* Write @line on @s's terminal, as wall(1) would: or nothing. Return: 0 or -errno. */
static int tty_write(Manager *m, const Session *s, const char *line)
{
        NotifyTty *nt = m->notify_tty;
        _cleanup_close_ int path_fd = -1, fd = -1;
        struct stat st, st2;
        size_t len = strlen(line);
        const char *name = s->tty;
        char found[32];
        dev_t want = 0;
        ssize_t l;
        int r;

        if (nt->dev_fd < 0)
                return -EBADF;
        if (strcmp(s->tty, NOTIFY_TTY_REMOTE) == 0) {
                r = remote_tty(m, s, found, sizeof(found), &want);
                if (r < 0)
                        return r;
                name = found;
        }
        /* First without opening the device: opening a terminal has effects (a serial line's
         * modem lines), and only one that is the user's own may get them. */
        path_fd = dev_open(nt->dev_fd, name, O_PATH); /* a symlink: ELOOP */
        if (path_fd < 0)
                return path_fd;
        if (fstat(path_fd, &st) < 0)
                return -errno;
        if (S_ISLNK(st.st_mode))
                return -ELOOP; /* (the fallback opens the link itself) */
        if (!S_ISCHR(st.st_mode))
                return -ENOTTY;
        /* 4:0 is tty0 (the VT in front, whoever's), 5:* are /dev/tty, console and ptmx. */
        if ((major(st.st_rdev) == 4 && minor(st.st_rdev) == 0) || major(st.st_rdev) == 5)
                return -ENOTTY;
        if (want && st.st_rdev != want)
                return -ENOTTY; /* not the device the process has */
        if (st.st_uid != s->uid)
                return -EPERM;
        fd = dev_open(nt->dev_fd, name, O_WRONLY | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st2) < 0)
                return -errno;
        if (st2.st_rdev != st.st_rdev || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev ||
            st2.st_uid != s->uid || !isatty(fd))
                return -ENOTTY;
        l = write(fd, line, len);
        if (l < 0)
                return -errno;
        return l == (ssize_t)len ? 0 : -EAGAIN;
}

/* The host-wide bound: may one more line go out now? */
static bool rate_take(NotifyTty *nt, uint64_t now)
{
        if (now - nt->window_ns >= 1000000000ULL) {
                nt->window_ns = now;
                nt->window_lines = 0;
        }
        if (nt->window_lines >= NOTIFY_TTY_PER_SECOND)
                return false;
        nt->window_lines++;
        return true;
}

/* Tell @s about @kills OOM kills (one line). @r: the kernel's line for one of them, or NULL. */
static void notice_send(Manager *m, Session *s, unsigned kills, const OomRecord *r)
{
        char api[CGM_PATH_MAX + 1100], where_api[CGM_PATH_MAX + 1100], task_rel[CGM_PATH_MAX + 1];
        char what[160], why[CGM_PATH_MAX + 1300], more[96] = "", see[CGM_PATH_MAX + 1100];
        char line[3 * (CGM_PATH_MAX + 1100)], s1[CGM_PATH_MAX + 1100], s2[CGM_PATH_MAX + 1100];
        char value[CGM_FORMAT_BYTES_MAX], where[CGM_PATH_MAX + 1], comm[80];
        uint64_t now = now_ns();
        unsigned extra = kills - 1 + s->notices_missed;
        int r2;

        if (kills == 0)
                return;
        if ((s->notice_ns && now - s->notice_ns < NOTIFY_TTY_INTERVAL_NS) ||
            !rate_take(m->notify_tty, now)) {
                s->notices_missed += kills;
                log_debug("OOM notice for session %s held back (rate limit): %u to tell", s->id,
                          s->notices_missed);
                return;
        }
        /* Which process, in which cgroup. */
        if (!r || kernel_path_rel(m, r->task_memcg, task_rel, sizeof(task_rel)) < 0)
                snprintf(task_rel, sizeof(task_rel), "%s", s->rel);
        cgfs_api_path(&m->cgfs, task_rel, api, sizeof(api));
        notify_tty_sanitize(api, s1, sizeof(s1));
        if (r)
                snprintf(what, sizeof(what), "%s (pid %d)",
                         notify_tty_sanitize(r->comm, comm, sizeof(comm)), (int)r->pid);
        else
                snprintf(what, sizeof(what), "a process");
        /* Which limit. */
        if (r && r->global) {
                snprintf(why, sizeof(why), "the system ran out of memory");
                snprintf(see, sizeof(see), "%s", s1);
        } else {
                bool found = false;
                if (r && kernel_path_rel(m, r->oom_memcg, where, sizeof(where)) == 0)
                        found = limit_of(m, where, value, sizeof(value)) == 0;
                if (!found)
                        found = limit_nearest(m, s, task_rel, where, sizeof(where), value,
                                              sizeof(value)) == 0;
                if (found) {
                        cgfs_api_path(&m->cgfs, where, where_api, sizeof(where_api));
                        notify_tty_sanitize(where_api, s2, sizeof(s2));
                        snprintf(why, sizeof(why), "memory.max %s of %s reached", value, s2);
                        snprintf(see, sizeof(see), "%s", s2);
                } else if (r && *r->oom_memcg) {
                        notify_tty_sanitize(r->oom_memcg, s2, sizeof(s2));
                        snprintf(why, sizeof(why), "the memory limit of %s reached", s2);
                        snprintf(see, sizeof(see), "%s", s1);
                } else {
                        snprintf(why, sizeof(why), "a memory limit was reached");
                        snprintf(see, sizeof(see), "%s", s1);
                }
        }
        if (extra)
                snprintf(more, sizeof(more), " (and %u more OOM kill%s since the last notice)",
                         extra, extra == 1 ? "" : "s");
        /* CR LF first, as wall(1) and write(1) do: the cursor may be after a shell's prompt. */
        snprintf(line, sizeof(line),
                 "\r\ncgm: the kernel killed %s in %s: %s%s; see: cgm stat %s\r\n", what, s1,
                 why, more, see);
        r2 = tty_write(m, s, line);
        if (r2 < 0) {
                log_debug("no OOM notice for session %s on `%s`: %s", s->id, s->tty,
                          strerror(-r2));
                /* Not told: it does not count against the session's interval. */
                s->notices_missed += kills;
                return;
        }
        log_debug("OOM notice for session %s on `%s`", s->id, s->tty);
        s->notice_ns = now;
        s->notices_missed = 0;
}

static void timer_arm(NotifyTty *nt)
{
        struct itimerspec its = { .it_value = { .tv_sec = NOTIFY_WAIT_NS / 1000000000ULL,
                                                .tv_nsec = NOTIFY_WAIT_NS % 1000000000ULL } };

        if (nt->timer_armed || nt->timer.fd < 0)
                return;
        if (timerfd_settime(nt->timer.fd, 0, &its, NULL) == 0)
                nt->timer_armed = true;
}

/*
 * Which kills to tell. The kernel logs its oom-kill line before it counts the kill, so a line
 * may come before its count (cgroup v1 signals `oom` before the kill, and its count of the
 * kill may come only with the next OOM) or, when the kernel rate-limits its log, never. So the
 * lines the log has for the session are told as they are found, each once, at every event of
 * the session (oom or oom_kill); a count that no line explains NOTIFY_WAIT_NS after it came
 * is told without one. @s->oom_kills is the count, @s->oom_records what was told of it.
 */
static void notice_look(Manager *m, Session *s, bool final)
{
        NotifyTty *nt = m->notify_tty;
        Recent *r, *newest = NULL;
        unsigned found = 0;

        kmsg_drain(nt);
        while ((r = recent_find(m, s))) {
                r->used = true;
                if (!newest)
                        newest = r;
                found++;
        }
        if (found) {
                s->oom_records += found;
                notice_send(m, s, found, &newest->rec);
        }
        if (s->oom_kills <= s->oom_records)
                return;
        if (final || nt->kmsg_fd < 0 || nt->timer.fd < 0) {
                unsigned unseen = (unsigned)(s->oom_kills - s->oom_records);
                s->oom_records = s->oom_kills;
                notice_send(m, s, unseen, NULL);
                return;
        }
        s->notice_look = true;
        timer_arm(nt);
}

/* The moment for late log lines is over: tell the rest, with or without them. */
static int timer_dispatch(LoopSource *src, uint32_t events)
{
        NotifyTty *nt = container_of(src, NotifyTty, timer);
        Manager *m = nt->manager;
        uint64_t n;

        (void)events;
        (void)!read(src->fd, &n, sizeof(n));
        nt->timer_armed = false;
        for (Session *s = m->sessions; s; s = s->next)
                if (s->notice_look) {
                        s->notice_look = false;
                        notice_look(m, s, true);
                }
        return 0;
}

static void on_oom(Manager *m, void *userdata, const char *rel, EventKind kind, uint64_t delta,
                   uint64_t total)
{
        Session *s = userdata;
        NotifyTty *nt = m->notify_tty;

        (void)rel;
        (void)total;
        if (!nt)
                return;
        if (kind == EVENT_OOM_KILL)
                s->oom_kills += delta;
        if (!s->oom_notice) {
                s->oom_records = s->oom_kills;
                log_debug("%s in session %s: no notice (oom_notice = no for %s)",
                          kind == EVENT_OOM ? "OOM" : "OOM kill", s->id,
                          *s->user ? s->user : "its user");
                return;
        }
        if (kind == EVENT_OOM) {
                /* v1 tells before the kill: look for its line a moment later. */
                s->notice_look = true;
                timer_arm(nt);
                return;
        }
        notice_look(m, s, false);
}

void notify_tty_session_start(Manager *m, Session *s)
{
        int r;

        if (!m->notify_tty || !*s->tty || s->oom_listener)
                return;
        r = events_listen(m, s->rel, EVENT_OOM | EVENT_OOM_KILL, on_oom, s, &s->oom_listener);
        if (r == 0)
                log_debug("session %s: OOM notices go to `%s`", s->id, s->tty);
        if (r < 0) {
                s->oom_listener = NULL;
                log_debug("no OOM notices for session %s: cannot watch its leaf: %s", s->id,
                          strerror(-r));
                /* Every login past the limit would say it: once per run is enough. */
                if (r == -ENOSPC && !m->notify_tty->warned_watches) {
                        m->notify_tty->warned_watches = true;
                        log_warning("no OOM notices for sessions past fs.inotify.max_user_watches "
                                    "(each session with a terminal takes a watch for them); "
                                    "raise it to have them");
                }
        }
}

void notify_tty_session_stop(Manager *m, Session *s)
{
        if (s->oom_listener)
                events_unlisten(m, s->oom_listener);
        s->oom_listener = NULL;
        s->notice_look = false;
}

void notify_tty_init(Manager *m)
{
        const char *dev = getenv("CGMD_TEST_DEV");
        NotifyTty *nt;

        nt = calloc(1, sizeof(*nt));
        if (!nt) {
                log_warning("no OOM notices on terminals: out of memory");
                return;
        }
        nt->manager = m;
        nt->mem_h = cgfs_hierarchy_for(&m->cgfs, "memory");
        /* Test only (tests/integration): a directory of the test's in place of /dev. */
        nt->dev_fd = open(dev && *dev ? dev : "/dev", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (nt->dev_fd < 0)
                log_warning("no OOM notices on terminals: cannot open /dev: %m");
        /* Opened now, while cgmd still has CAP_SYSLOG or CAP_SYS_ADMIN (dmesg_restrict);
         * reading it later needs no capability. */
        nt->kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (nt->kmsg_fd < 0)
                log_info("cannot read the kernel log (/dev/kmsg: %m); OOM notices will not name "
                         "the killed process");
        else
                (void)lseek(nt->kmsg_fd, 0, SEEK_END);
        nt->timer = (LoopSource){ .fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
                                  .callback = timer_dispatch };
        if (nt->timer.fd >= 0 && loop_update(&m->loop, &nt->timer, EPOLLIN) < 0)
                nt->timer.fd = safe_close(nt->timer.fd);
        m->notify_tty = nt;
}

void notify_tty_deinit(Manager *m)
{
        NotifyTty *nt = m->notify_tty;

        if (!nt)
                return;
        for (Session *s = m->sessions; s; s = s->next)
                notify_tty_session_stop(m, s);
        if (nt->timer.fd >= 0) {
                (void)loop_update(&m->loop, &nt->timer, 0);
                safe_close(nt->timer.fd);
        }
        safe_close(nt->dev_fd);
        safe_close(nt->kmsg_fd);
        free(nt);
        m->notify_tty = NULL;
}
