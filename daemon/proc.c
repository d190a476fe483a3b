/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Processes named by pidfds: who they are, where they are, whether they still live
 *
 * The daemon never acts on a pid number that a client sent. Clients send pidfds; the daemon
 * reads the pid behind each one, does its checks and its write, and then asks the pidfd
 * whether the process is still alive. A pid stays allocated until its process is reaped, so
 * a pidfd that is still alive after the write proves the number written named that process
 * and not a recycled one.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "proc.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* PIDFD_GET_INFO from Linux 6.13 (include/uapi/linux/pidfd.h); Debian 12's headers predate it. */
struct cgm_pidfd_info {
        uint64_t mask;
        uint64_t cgroupid;
        uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
        int32_t exit_code;
        uint32_t coredump_mask;
        uint32_t pad;
};
#define CGM_PIDFD_GET_INFO _IOWR(0xFF, 11, struct cgm_pidfd_info)
#define CGM_PIDFD_INFO_PID (1ULL << 0)
#define CGM_PIDFD_INFO_CREDS (1ULL << 1)

int proc_pidfd_open(pid_t pid)
{
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        return fd < 0 ? -errno : fd;
}

int proc_pidfd_signal(int pidfd, int sig)
{
        if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                return -errno;
        return 0;
}

bool proc_pidfd_alive(int pidfd)
{
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        int r = proc_pidfd_signal(pidfd, 0);

        if (r == 0 || r == -EPERM)
                return true;
        if (r != -ENOSYS)
                return false;
        /* Without pidfd_send_signal (valgrind before 3.20 does not know it): a pidfd turns
         * readable when its process exits. */
        return poll(&p, 1, 0) == 0;
}

static int proc_status_ids(pid_t pid, const char *field, unsigned *real, unsigned *eff,
                           unsigned *saved)
{
        char path[64], line[256];
        _cleanup_fclose_ FILE *f = NULL;
        size_t fl = strlen(field);

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return -errno == -ENOENT ? -ESRCH : -errno;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, field, fl) == 0 &&
                    sscanf(line + fl, "%u %u %u", real, eff, saved) == 3)
                        return 0;
        return -EIO;
}

/* The pid a pidfd names, from fdinfo ("Pid: N"; 0 once reaped, -1 in another pid namespace). */
static int pidfd_pid(int pidfd, pid_t *pidp)
{
        char path[64], line[128];
        _cleanup_fclose_ FILE *f = NULL;
        long pid = -2;

        snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
        f = fopen(path, "re");
        if (!f)
                return -EBADF;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "Pid:", 4) == 0)
                        pid = strtol(line + 4, NULL, 10);
        if (pid == -2)
                return -EBADF; /* no "Pid:" line: not a pidfd */
        if (pid <= 0)
                return -ESRCH; /* 0 or -1: reaped (the daemon sees every pid namespace) */
        *pidp = (pid_t)pid;
        return 0;
}

int proc_pidfd_info(int pidfd, ProcInfo *info)
{
        struct cgm_pidfd_info pi = { .mask = CGM_PIDFD_INFO_PID | CGM_PIDFD_INFO_CREDS };
        unsigned ru, eu, su, rg, eg, sg;
        pid_t pid;
        int r;

        *info = (ProcInfo){ 0 };
        if (ioctl(pidfd, CGM_PIDFD_GET_INFO, &pi) == 0) {
                if (!(pi.mask & CGM_PIDFD_INFO_CREDS) || pi.pid == 0)
                        return -ESRCH;
                *info = (ProcInfo){ .pid = (pid_t)pi.pid, .ruid = pi.ruid, .euid = pi.euid,
                                    .suid = pi.suid, .rgid = pi.rgid, .egid = pi.egid };
                return 0;
        }
        if (errno != ENOTTY && errno != EINVAL)
                return errno == ESRCH ? -ESRCH : -EBADF;

        /* Before 6.13: the pid from fdinfo, the ids from /proc/PID/status. */
        r = pidfd_pid(pidfd, &pid);
        if (r < 0)
                return r;
        r = proc_status_ids(pid, "Uid:", &ru, &eu, &su);
        if (r == 0)
                r = proc_status_ids(pid, "Gid:", &rg, &eg, &sg);
        if (r < 0)
                return r;
        if (!proc_pidfd_alive(pidfd))
                return -ESRCH; /* the status we read may belong to a recycled pid */
        *info = (ProcInfo){ .pid = pid, .ruid = ru, .euid = eu, .suid = su, .rgid = rg,
                            .egid = eg };
        return 0;
}

bool proc_pidfd_exited(int pidfd)
{
        struct pollfd p = { .fd = pidfd, .events = POLLIN };

        return poll(&p, 1, 0) != 0;
}

int proc_pidfd_procdir(int pidfd, pid_t *pidp)
{
        char path[64];
        pid_t pid;
        int fd, r;

        r = pidfd_pid(pidfd, &pid);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "/proc/%d", (int)pid);
        fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        /* Still alive after the open: the number was not reused, the directory is this one's. */
        if (!proc_pidfd_alive(pidfd)) {
                close(fd);
                return -ESRCH;
        }
        if (pidp)
                *pidp = pid;
        return fd;
}

static int read_at(int dirfd, const char *file, char *buf, size_t n)
{
        _cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
        size_t o = 0;
        ssize_t l;

        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        while (o + 1 < n && (l = read(fd, buf + o, n - 1 - o)) != 0) {
                if (l < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == ESRCH ? -ESRCH : -errno;
                }
                o += (size_t)l;
        }
        buf[o] = '\0';
        return 0;
}

int proc_read_cgroup(int procdir, char *buf, size_t n)
{
        return read_at(procdir, "cgroup", buf, n);
}

unsigned long proc_userns_ino(int procdir)
{
        return proc_ns_ino(procdir, "user");
}

unsigned long proc_ns_ino(int procdir, const char *type)
{
        char path[32];
        struct stat st;

        snprintf(path, sizeof(path), "ns/%s", type);
        if (fstatat(procdir, path, &st, 0) < 0)
                return 0;
        return (unsigned long)st.st_ino;
}

int proc_read_file(int procdir, const char *file, char *buf, size_t n)
{
        return read_at(procdir, file, buf, n);
}

/* Field @want (1-based, as in proc(5)) of @procdir's stat file. */
static int stat_field(int procdir, int want, unsigned long long *v)
{
        char buf[1024], *p;
        int r = read_at(procdir, "stat", buf, sizeof(buf));

        if (r < 0)
                return r;
        /* "PID (COMM) S PPID ..." where COMM may hold spaces and parentheses: start after the
         * last ')', before field 3. */
        p = strrchr(buf, ')');
        if (!p)
                return -EIO;
        p++;
        for (int field = 3; field <= want; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return -EIO;
                p++;
        }
        *v = strtoull(p, NULL, 10);
        return 0;
}

int proc_start_time(int procdir, unsigned long long *ticksp)
{
        return stat_field(procdir, 22, ticksp);
}

int proc_parent_pid(int procdir, pid_t *ppidp)
{
        unsigned long long v;
        int r = stat_field(procdir, 4, &v);

        if (r == 0)
                *ppidp = (pid_t)v;
        return r;
}
