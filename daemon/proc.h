/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Processes named by pidfds: who they are, where they are, whether they still live */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ProcInfo {
        pid_t pid; /* in the daemon's pid namespace; 0 when the process is gone */
        uid_t ruid, euid;
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

/** proc_read_cgroup() - contents of /proc/@pid/cgroup */
int proc_read_cgroup(pid_t pid, char *buf, size_t n);

/** proc_pidfd_open() - pidfd_open(2) with CLOEXEC semantics (pidfds are always CLOEXEC) */
int proc_pidfd_open(pid_t pid);

/** proc_pidfd_signal() - pidfd_send_signal(2) */
int proc_pidfd_signal(int pidfd, int sig);
