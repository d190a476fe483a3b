/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Processes named by pidfds: who they are, where they are, whether they still live */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ProcInfo {
        pid_t pid; /* in the daemon's pid namespace; 0 when the process is gone */
        uid_t ruid, euid, suid;
        gid_t rgid, egid;
} ProcInfo;

/**
 * proc_pidfd_info() - identity of the process behind @pidfd
 *
 * Uses PIDFD_GET_INFO (Linux 6.13) and falls back to /proc/self/fdinfo plus
 * /proc/PID/status, re-checking after the read that the pidfd still refers to a live process,
 * so the status read belongs to it.
 *
 * Return: 0; -ESRCH when the process has exited; -EBADF when @pidfd is not a pidfd.
 */
int proc_pidfd_info(int pidfd, ProcInfo *info);

/** proc_pidfd_alive() - true while the process (or its zombie) still exists */
bool proc_pidfd_alive(int pidfd);

/**
 * proc_pidfd_exited() - true once the process has exited, also while it is a zombie that its
 * parent has not reaped (a pidfd turns readable then); a zombie cannot be moved or signalled
 */
bool proc_pidfd_exited(int pidfd);

/**
 * proc_pidfd_procdir() - a /proc/PID directory fd for the process behind @pidfd
 *
 * Opens /proc/PID for the pid the pidfd names and then checks that the pidfd's process is
 * still alive: a pid is not reused before its process is reaped, so the directory opened is
 * that process's. Reads through the fd afterwards either concern that process or fail; they
 * never show a process that took the number over later. Nothing in the daemon reads
 * /proc/NUMBER by number alone.
 *
 * Return: the directory fd (O_PATH); -ESRCH when the process has exited; -EBADF when @pidfd is
 * not a pidfd.
 */
int proc_pidfd_procdir(int pidfd, pid_t *pidp);

/** proc_read_cgroup() - contents of @procdir's cgroup file (see proc_pidfd_procdir()) */
int proc_read_cgroup(int procdir, char *buf, size_t n);

/** proc_userns_ino() - inode of the user namespace of the process at @procdir; 0 on error */
unsigned long proc_userns_ino(int procdir);

/** proc_ns_ino() - inode of @procdir's namespace of @type ("user", "pid", "cgroup"); 0 on error */
unsigned long proc_ns_ino(int procdir, const char *type);

/** proc_read_file() - the text of @file below @procdir (e.g. "uid_map", "status"), NUL-ended
 * and cut at @n - 1 bytes; -ESRCH when the process is gone */
int proc_read_file(int procdir, const char *file, char *buf, size_t n);

/** proc_start_time() - start time (clock ticks after boot) of the process at @procdir */
int proc_start_time(int procdir, unsigned long long *ticksp);

/** proc_parent_pid() - the parent's pid of the process at @procdir */
int proc_parent_pid(int procdir, pid_t *ppidp);

/** proc_pidfd_open() - pidfd_open(2) with CLOEXEC semantics (pidfds are always CLOEXEC) */
int proc_pidfd_open(pid_t pid);

/** proc_pidfd_signal() - pidfd_send_signal(2) */
int proc_pidfd_signal(int pidfd, int sig);
