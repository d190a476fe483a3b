/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroupfs access: the hierarchies in use, the base in each, confined file operations */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgread.h"
#include "error.h"

/**
 * cgfs_open() - discover the hierarchies and open (creating it if needed) the base in each
 * @base: "/cgm" (absolute in every hierarchy) or "self:NAME" (NAME below the daemon's own
 *        cgroup in every hierarchy)
 *
 * Creates only the base directory itself, never its parents; on v1 cpuset copies the parent's
 * cpus/mems into the new base (a v1 cpuset without them cannot hold processes); on v2 enables
 * every available controller in the base's own cgroup.subtree_control.
 *
 * Return: 0, or a negative errno with @e saying what is wrong with the host or the base.
 */
int cgfs_open(Cgfs *cg, const char *base, CgmError *e);
void cgfs_close(Cgfs *cg);

/** cgfs_write() - write @value to an existing file in one write(2); no O_CREAT, no O_TRUNC */
int cgfs_write(const Cgfs *cg, int h, const char *rel, const char *file, const char *value);

/**
 * cgfs_write_hierarchy() - write @value to @file of the cgroup at @path, a path from the
 * hierarchy's root as /proc/PID/cgroup shows it (it may lie outside the base)
 *
 * Only for putting a process back where it was (a move undone); everything a client names
 * goes through cgfs_write(), which cannot leave the base.
 */
int cgfs_write_hierarchy(const Cgfs *cg, int h, const char *path, const char *file,
                         const char *value);

