/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing /proc/self/mountinfo and /proc/PID/cgroup text. Pure functions, no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define MOUNTINFO_HIERARCHIES_MAX 16

typedef struct MountedHierarchy {
        bool is_v2;
        char mount_point[256];  /* unescaped (\040 -> ' ') */
        char root[256];         /* field 4: the mount's root within the hierarchy, usually "/" */
        char controllers[128];  /* v1: comma list from the super options, e.g. "cpu,cpuacct" or
                                   "name=systemd"; v2: "" */
} MountedHierarchy;

/**
 * mountinfo_parse_cgroups() - the cgroup and cgroup2 mounts listed in mountinfo @text
 * @out:   array of @max entries
 * @n_out: number found
 *
 * Only the first mount of each hierarchy is kept (bind mounts of the same v1 controller set
 * or a second cgroup2 mount are skipped). v1 controllers come from the super options (the
 * field after the filesystem source), minus rw/ro and other non-controller options
 * (xattr, noprefix, clone_children, release_agent=..., cpuset_v2_mode, nsdelegate, ...).
 *
 * Return: 0, or -EINVAL for malformed text (with no partial result), -E2BIG when more than
 * @max hierarchies are mounted.
 */
int mountinfo_parse_cgroups(const char *text, MountedHierarchy *out, size_t max, size_t *n_out);

/**
 * proc_cgroup_lookup() - path of one hierarchy in /proc/PID/cgroup @text
 * @controller: "" for the v2 line ("0::/path"), else a v1 controller ("memory") or a named
 *              hierarchy ("name=systemd"); matches when it is one of the comma-separated
 *              names of a line's second field.
 *
 * Return: 0 with @path filled (e.g. "/user.slice/x"), -ENOENT when no line matches, -EINVAL
 * for malformed text, -ENAMETOOLONG when the path does not fit.
 */
int proc_cgroup_lookup(const char *text, const char *controller, char *path, size_t path_size);
