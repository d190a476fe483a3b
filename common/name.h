/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cgroup name and path validation: the one allowlist every path goes through */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/**
 * cgm_name_check() - is @name an acceptable cgroup name?
 * @name: one path component (not NULL)
 * @why:  filled with the reason on failure (may be NULL)
 * @n:    size of @why
 *
 * Allowed: letters, digits, '_', '-', '.'; not starting with '.'; 1..CGM_NAME_MAX bytes; not
 * "tasks", "release_agent", "notify_on_release"; no "cgroup." prefix and no "<controller>."
 * prefix for any known controller (memory, cpu, cpuacct, cpuset, io, blkio, pids, hugetlb,
 * rdma, misc, devices, freezer, net_cls, net_prio, perf_event), so a name can never alias a
 * cgroupfs control file.
 *
 * Return: 0, or -EINVAL with @why filled.
 */
int cgm_name_check(const char *name, char *why, size_t n);

/**
 * cgm_path_check() - validate a relative path of names separated by single '/'
 * @path: "a/b/c"; "" is the empty path (valid); no leading, trailing or doubled '/'
 *
 * Every component must pass cgm_name_check(); at most CGM_DEPTH_MAX components and
 * CGM_PATH_MAX bytes.
 *
 * Return: 0, or -EINVAL with @why filled.
 */
int cgm_path_check(const char *path, char *why, size_t n);

/** cgm_path_is_within() - true when @path equals @ancestor or lies below it ("" is the top) */
bool cgm_path_is_within(const char *path, const char *ancestor);

/** cgm_path_is_below() - true when @path lies strictly below @ancestor */
bool cgm_path_is_below(const char *path, const char *ancestor);
