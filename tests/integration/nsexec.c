/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsexec: run a command in new namespaces, with uid/gid maps written by the parent
 *
 *   nsexec [OPTION]... -- COMMAND [ARG]...
 *
 * A test tool for tests/integration/test-namespaces.sh: what a container runtime does, in a
 * few hundred lines and with nothing but libc. The command always runs in a new user
 * namespace; the other namespaces are optional:
 *
 *   --map IN:OUT:COUNT     one line of the uid map (repeatable). OUT is in the ids of the user
 *                          namespace nsexec runs in, so a namespace root can run nsexec again
 *                          for a nested level with a subset of its own ids.
 *   --gidmap IN:OUT:COUNT  one line of the gid map (repeatable); default: the uid map's lines.
 *   --late-map-fd N        start the command with empty maps (it runs with its ids unmapped)
 *                          and write the maps only when a byte arrives on fd N; then write
 *                          "mapped" to the --ready-fd. Not with --uid, --gid or mounts.
 *   --pid                  new pid namespace: the command is its pid 1, with a fresh /proc
 *                          (implies --mount).
 *   --mount                new mount namespace, every mount made private first.
 *   --tmpfs DIR            mount a tmpfs on DIR (implies --mount).
 *   --bind SRC:DST         bind-mount SRC (a directory) on DST, creating DST when missing
 *                          (implies --mount). Mounts are made in the order given, as the
 *                          namespace's root.
 *   --cgroup               new cgroup namespace, rooted at the cgroup the command's process is
 *                          in at that moment: after --wait-fd, right before the exec.
 *   --uid N, --gid N       ids inside the namespace to run the command as (default 0; --gid
 *                          defaults to --uid). The namespace operations are done as uid 0
 *                          inside before that.
 *   --ready-fd N           write "PID\n" on fd N when the command's process exists (its pid
 *                          in nsexec's pid namespace), before --wait-fd.
 *   --wait-fd N            the command's process waits for one byte on fd N before it
 *                          unshares the cgroup namespace and execs, so that the test can first
 *                          place it in a cgroup. End of file there aborts (exit 125).
 *
 * Three processes: the parent P stays in nsexec's namespaces, writes the maps (as host root,
 * or as a namespace root for a nested level: it needs CAP_SETUID/CAP_SETGID over the new
 * namespace, which the creator's namespace root has) and reports; the child C unshares and
 * sets up; with --pid, C forks the pid 1 G, which mounts /proc and execs. Each step waits on a
 * pipe for the one before it, never on time. C and G get SIGKILL when their parent dies, so
 * killing P by pid ends them all. setgroups is set to "deny" only when the kernel requires it
 * for the gid map (an unprivileged P mapping its own gid).
 *
 * Exit status: the command's, 128+N when signal N ended it, 125 when nsexec itself failed
 * (the message says which step).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_NSEXEC 125
#define MAX_LINES 32  /* the kernel takes at most 340 lines per map; tests need a few */
#define MAX_MOUNTS 16

typedef struct {
        char kind; /* 't' tmpfs, 'b' bind */
        char src[PATH_MAX];
        const char *dst;
} Mount;

typedef struct {
        char uid_map[MAX_LINES * 40];
        char gid_map[MAX_LINES * 40];
        bool gid_given;
        bool pid, mount, cgroup;
        Mount mounts[MAX_MOUNTS];
        int n_mounts;
        long uid, gid;
        bool uid_given, gid_id_given;
        int ready_fd, wait_fd, late_map_fd;
        char **argv;
} Options;

static void die(const char *fmt, ...)
{
        va_list ap;

        fputs("nsexec: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        _exit(EXIT_NSEXEC);
}

static void usage(void)
{
        fputs("usage: nsexec [--map IN:OUT:COUNT]... [--gidmap IN:OUT:COUNT]... [--late-map-fd N]\n"
              "              [--pid] [--mount] [--tmpfs DIR]... [--bind SRC:DST]... [--cgroup]\n"
              "              [--uid N] [--gid N] [--ready-fd N] [--wait-fd N] -- COMMAND [ARG]...\n",
              stderr);
        _exit(EXIT_NSEXEC);
}

static long parse_num(const char *s, const char *what, long max)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < 0 || v > max)
                die("%s: `%s` is not a number in 0..%ld", what, s, max);
        return v;
}

/* "IN:OUT:COUNT" -> "IN OUT COUNT\n" appended to @map */
static void add_map_line(char *map, size_t size, const char *arg, const char *opt)
{
        unsigned long in, out, count;
        char extra;
        size_t len = strlen(map);

        if (sscanf(arg, "%lu:%lu:%lu%c", &in, &out, &count, &extra) != 3 || count == 0 ||
            in > UINT_MAX || out > UINT_MAX || count > UINT_MAX)
                die("%s `%s`: want INSIDE:OUTSIDE:COUNT", opt, arg);
        if (snprintf(map + len, size - len, "%lu %lu %lu\n", in, out, count) >= (int)(size - len))
                die("%s: too many map lines", opt);
}

static void add_mount(Options *o, char kind, const char *src, size_t src_len, const char *dst)
{
        Mount *m;

        if (o->n_mounts == MAX_MOUNTS)
                die("too many mounts (at most %d)", MAX_MOUNTS);
        m = &o->mounts[o->n_mounts];
        if (dst[0] != '/')
                die("mount point `%s` is not absolute", dst);
        if (src_len >= sizeof(m->src))
                die("bind source is too long");
        m->kind = kind;
        memcpy(m->src, src, src_len);
        m->src[src_len] = '\0';
        m->dst = dst;
        o->n_mounts++;
        o->mount = true;
}

static void parse_options(Options *o, int argc, char **argv)
{
        int i;

        *o = (Options){ .ready_fd = -1, .wait_fd = -1, .late_map_fd = -1 };
        for (i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;
                bool takes = true;

                if (strcmp(a, "--") == 0) {
                        i++;
                        break;
                } else if (strcmp(a, "--pid") == 0) {
                        o->pid = o->mount = true;
                        takes = false;
                } else if (strcmp(a, "--mount") == 0) {
                        o->mount = true;
                        takes = false;
                } else if (strcmp(a, "--cgroup") == 0) {
                        o->cgroup = true;
                        takes = false;
                } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                        usage();
                } else if (!v) {
                        die("option `%s` needs an argument, or is unknown", a);
                } else if (strcmp(a, "--map") == 0) {
                        add_map_line(o->uid_map, sizeof(o->uid_map), v, a);
                } else if (strcmp(a, "--gidmap") == 0) {
                        add_map_line(o->gid_map, sizeof(o->gid_map), v, a);
                        o->gid_given = true;
                } else if (strcmp(a, "--tmpfs") == 0) {
                        add_mount(o, 't', "", 0, v);
                } else if (strcmp(a, "--bind") == 0) {
                        const char *colon = strchr(v, ':');

                        if (!colon || colon == v || !colon[1])
                                die("--bind `%s`: want SRC:DST", v);
                        add_mount(o, 'b', v, (size_t)(colon - v), colon + 1);
                } else if (strcmp(a, "--uid") == 0) {
                        o->uid = parse_num(v, a, (long)UINT_MAX - 1);
                        o->uid_given = true;
                } else if (strcmp(a, "--gid") == 0) {
                        o->gid = parse_num(v, a, (long)UINT_MAX - 1);
                        o->gid_id_given = true;
                } else if (strcmp(a, "--ready-fd") == 0) {
                        o->ready_fd = (int)parse_num(v, a, INT_MAX);
                } else if (strcmp(a, "--wait-fd") == 0) {
                        o->wait_fd = (int)parse_num(v, a, INT_MAX);
                } else if (strcmp(a, "--late-map-fd") == 0) {
                        o->late_map_fd = (int)parse_num(v, a, INT_MAX);
                } else {
                        die("unknown option `%s`", a);
                }
                if (takes)
                        i++;
        }
        if (i >= argc)
                usage();
        o->argv = argv + i;
        if (!o->uid_map[0])
                die("no --map: the command would run with no uid mapped");
        if (!o->gid_given)
                memcpy(o->gid_map, o->uid_map, sizeof(o->gid_map));
        if (!o->gid_id_given)
                o->gid = o->uid;
        if (o->late_map_fd >= 0 && (o->uid_given || o->gid_id_given || o->mount))
                die("--late-map-fd: the command runs unmapped, so --uid, --gid, --pid and mounts "
                    "cannot be used with it");
}

static void write_all(int fd, const void *buf, size_t len, const char *what)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        die("%s: %s", what, n < 0 ? strerror(errno) : "short write");
                p += n;
                len -= (size_t)n;
        }
}

/* One byte from @fd; false at end of file. */
static bool read_byte(int fd, char *c, const char *what)
{
        for (;;) {
                ssize_t n = read(fd, c, 1);

                if (n == 1)
                        return true;
                if (n == 0)
                        return false;
                if (errno != EINTR)
                        die("%s: %s", what, strerror(errno));
        }
}

/* Write @content into /proc/PID/NAME in one write(), as the kernel requires. */
static int write_proc(pid_t pid, const char *name, const char *content)
{
        char path[64];
        int fd, r = 0;

        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, content, strlen(content)) != (ssize_t)strlen(content))
                r = -errno ? -errno : -EIO;
        close(fd);
        return r;
}

static void write_maps(const Options *o, pid_t child)
{
        int r;

        r = write_proc(child, "uid_map", o->uid_map);
        if (r < 0)
                die("writing /proc/%d/uid_map (%s): %s", (int)child, o->uid_map, strerror(-r));
        r = write_proc(child, "gid_map", o->gid_map);
        if (r == -EPERM) {
                /* Without CAP_SETGID over the parent namespace, the kernel lets a process map
                 * its own gid only once setgroups is denied (CVE-2014-8989). */
                r = write_proc(child, "setgroups", "deny");
                if (r < 0)
                        die("writing /proc/%d/setgroups: %s", (int)child, strerror(-r));
                r = write_proc(child, "gid_map", o->gid_map);
        }
        if (r < 0)
                die("writing /proc/%d/gid_map (%s): %s", (int)child, o->gid_map, strerror(-r));
}

/* Become @uid/@gid inside the namespace: gid first, then the groups, then the uid. */
static void switch_ids(long uid, long gid)
{
        if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0)
                die("setresgid(%ld) inside the namespace: %s%s", gid, strerror(errno),
                    errno == EINVAL ? " (gid not mapped)" : "");
        /* setgroups is denied when the map was written without CAP_SETGID: then the process
         * has no supplementary groups to drop that the namespace could use. */
        if (setgroups(0, NULL) < 0 && errno != EPERM)
                die("setgroups: %s", strerror(errno));
        if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
                die("setresuid(%ld) inside the namespace: %s%s", uid, strerror(errno),
                    errno == EINVAL ? " (uid not mapped)" : "");
}

/* Die with the parent: a credential change clears the setting, so it is set again after
 * one, and a parent that is already gone is noticed. */
static void die_with_parent(pid_t parent)
{
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                die("prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
        if (getppid() != parent)
                _exit(EXIT_NSEXEC);
}

static void mkdir_p(const char *path)
{
        char buf[PATH_MAX];
        size_t len = strlen(path);

        if (len >= sizeof(buf))
                die("mount point `%s` is too long", path);
        memcpy(buf, path, len + 1);
        for (char *p = buf + 1; ; p++) {
                if (*p == '/' || *p == '\0') {
                        char c = *p;

                        *p = '\0';
                        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                                die("creating mount point %s: %s", buf, strerror(errno));
                        *p = c;
                        if (!c)
                                break;
                }
        }
}

static void setup_mounts(const Options *o)
{
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                die("making / private in the new mount namespace: %s", strerror(errno));
        for (int i = 0; i < o->n_mounts; i++) {
                const Mount *m = &o->mounts[i];

                mkdir_p(m->dst);
                if (m->kind == 't') {
                        if (mount("tmpfs", m->dst, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
                                die("mounting a tmpfs on %s: %s", m->dst, strerror(errno));
                } else if (mount(m->src, m->dst, NULL, MS_BIND | MS_REC, NULL) < 0) {
                        die("bind-mounting %s on %s: %s", m->src, m->dst, strerror(errno));
                }
        }
}

/* The command's own process, whichever it is (C, or G with --pid): wait for the test, unshare
 * the cgroup namespace where the process now is, take the final ids, exec. */
static void exec_command(const Options *o, pid_t parent)
{
        char c;

        if (o->wait_fd >= 0) {
                if (!read_byte(o->wait_fd, &c, "reading --wait-fd"))
                        die("--wait-fd %d: end of file before the go-ahead", o->wait_fd);
                close(o->wait_fd);
        }
        if (o->cgroup && unshare(CLONE_NEWCGROUP) < 0)
                die("unshare(CLONE_NEWCGROUP): %s", strerror(errno));
        if (o->late_map_fd < 0)
                switch_ids(o->uid, o->gid);
        die_with_parent(parent);
        execvp(o->argv[0], o->argv);
        die("exec %s: %s", o->argv[0], strerror(errno));
}

static int status_to_exit(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return EXIT_NSEXEC;
}

static pid_t wait_child(pid_t pid, int *statusp)
{
        for (;;) {
                pid_t r = waitpid(pid, statusp, 0);

                if (r >= 0 || errno != EINTR)
                        return r;
        }
}

/* C: runs in the new namespaces. @to_p carries "u" (user namespace made) and then the command
 * process's pid; @from_p "m" (maps written). */
static void child_main(const Options *o, pid_t parent, int to_p, int from_p)
{
        int flags = CLONE_NEWUSER | (o->mount ? CLONE_NEWNS : 0) | (o->pid ? CLONE_NEWPID : 0);
        char c, line[32];
        pid_t cmd;

        die_with_parent(parent);
        if (o->ready_fd >= 0)
                close(o->ready_fd);
        if (o->late_map_fd >= 0)
                close(o->late_map_fd);
        if (unshare(flags) < 0)
                die("unshare(%s%s%s): %s", "CLONE_NEWUSER", o->mount ? "|CLONE_NEWNS" : "",
                    o->pid ? "|CLONE_NEWPID" : "", strerror(errno));
        write_all(to_p, "u", 1, "telling the parent");
        if (o->late_map_fd < 0) {
                if (!read_byte(from_p, &c, "waiting for the maps"))
                        _exit(EXIT_NSEXEC); /* the parent said why */
                /* Root inside, so that mounts and the files they make belong to the
                 * namespace; --uid comes at the end. */
                switch_ids(0, 0);
                die_with_parent(parent);
        }
        close(from_p);
        if (o->mount)
                setup_mounts(o);

        if (!o->pid) {
                snprintf(line, sizeof(line), "%d\n", (int)getpid());
                write_all(to_p, line, strlen(line), "telling the parent");
                close(to_p);
                exec_command(o, parent);
        }

        cmd = fork();
        if (cmd < 0)
                die("fork into the new pid namespace: %s", strerror(errno));
        if (cmd == 0) {
                /* pid 1 of the new namespace: its own /proc, over the old one */
                close(to_p);
                die_with_parent(0); /* the parent is in another pid namespace: getppid() is 0 */
                if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                        die("mounting /proc for the new pid namespace: %s", strerror(errno));
                exec_command(o, 0);
        }
        snprintf(line, sizeof(line), "%d\n", (int)cmd);
        write_all(to_p, line, strlen(line), "telling the parent");
        close(to_p);
        {
                int status;

                if (wait_child(cmd, &status) < 0)
                        die("waitpid: %s", strerror(errno));
                _exit(status_to_exit(status));
        }
}

/* Read the command's pid line from C; 0 when C ended first. */
static pid_t read_pid_line(int fd)
{
        char buf[32];
        size_t n = 0;
        char c;

        while (n + 1 < sizeof(buf) && read_byte(fd, &c, "reading from the child")) {
                if (c == '\n') {
                        buf[n] = '\0';
                        return (pid_t)parse_num(buf, "pid from the child", INT_MAX);
                }
                buf[n++] = c;
        }
        return 0;
}

int main(int argc, char **argv)
{
        static Options o; /* 64 KiB of mount sources: not on the stack */
        int to_p[2], from_p[2], status;
        pid_t parent = getpid(), child, cmd;
        char c;

        parse_options(&o, argc, argv);
        if (pipe2(to_p, O_CLOEXEC) < 0 || pipe2(from_p, O_CLOEXEC) < 0)
                die("pipe: %s", strerror(errno));
        fflush(NULL);
        child = fork();
        if (child < 0)
                die("fork: %s", strerror(errno));
        if (child == 0) {
                close(to_p[0]);
                close(from_p[1]);
                child_main(&o, parent, to_p[1], from_p[0]);
        }
        close(to_p[1]);
        close(from_p[0]);
        if (o.wait_fd >= 0)
                close(o.wait_fd);

        if (!read_byte(to_p[0], &c, "waiting for the child"))
                goto wait; /* C failed before its user namespace existed; it said why */
        if (o.late_map_fd < 0) {
                write_maps(&o, child);
                write_all(from_p[1], "m", 1, "telling the child");
        }
        close(from_p[1]);
        cmd = read_pid_line(to_p[0]);
        if (cmd > 0 && o.ready_fd >= 0) {
                char line[32];

                snprintf(line, sizeof(line), "%d\n", (int)cmd);
                write_all(o.ready_fd, line, strlen(line), "writing --ready-fd");
        }
        if (cmd > 0 && o.late_map_fd >= 0) {
                /* Wait for the go-ahead, or for the command's end (its pidfd becomes
                 * readable; the pipe cannot tell, exec closed it). */
                int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
                struct pollfd p[2] = { { .fd = o.late_map_fd, .events = POLLIN },
                                       { .fd = pidfd, .events = POLLIN } };

                if (pidfd < 0)
                        die("pidfd_open: %s", strerror(errno));

                for (;;) {
                        if (poll(p, 2, -1) < 0) {
                                if (errno == EINTR)
                                        continue;
                                die("poll: %s", strerror(errno));
                        }
                        if (p[0].revents) {
                                if (!read_byte(o.late_map_fd, &c, "reading --late-map-fd"))
                                        break; /* the test gave up: leave the maps empty */
                                write_maps(&o, child);
                                if (o.ready_fd >= 0)
                                        write_all(o.ready_fd, "mapped\n", 7, "writing --ready-fd");
                                break;
                        }
                        if (p[1].revents)
                                break;
                }
                close(pidfd);
        }
wait:
        if (wait_child(child, &status) < 0)
                die("waitpid: %s", strerror(errno));
        return status_to_exit(status);
}
