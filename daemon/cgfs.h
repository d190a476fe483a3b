/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroupfs access: the hierarchies in use, the base in each, confined file operations */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "mountinfo.h"

#define CGFS_HIERARCHIES_MAX MOUNTINFO_HIERARCHIES_MAX

typedef enum CgfsLayout {
        CGFS_UNIFIED, /* pure cgroup v2 */
        CGFS_HYBRID,  /* v1 controllers plus a cgroup2 hierarchy */
        CGFS_LEGACY,  /* pure cgroup v1 */
} CgfsLayout;

typedef struct Hierarchy {
        bool is_v2;
        char controllers[128]; /* v1: "cpu,cpuacct"; v2: controllers enabled for the base's
                                  children (base's cgroup.subtree_control), space separated */
        char mount_point[256];
        char base_path[1024]; /* the base, relative to the hierarchy's root ("/cgm") */
        int base_fd;          /* O_DIRECTORY fd of the base in this hierarchy */
} Hierarchy;

typedef struct Cgfs {
        CgfsLayout layout;
        Hierarchy h[CGFS_HIERARCHIES_MAX];
        size_t n;
        int v2;      /* index of the cgroup2 hierarchy, -1 when there is none */
        int primary; /* hierarchy whose paths the API shows and that carries membership */
        char base_api[1024];    /* the base as callers in the initial cgroup ns see it */
        char delegate[8][64];   /* /sys/kernel/cgroup/delegate */
        size_t n_delegate;
} Cgfs;

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

/** cgfs_hierarchy_for() - index of the hierarchy serving @controller, -1 if none */
int cgfs_hierarchy_for(const Cgfs *cg, const char *controller);
/** cgfs_v1_hierarchy_for() - the v1 hierarchy that mounts @controller, -1 if none */
int cgfs_v1_hierarchy_for(const Cgfs *cg, const char *controller);

/**
 * cgfs_openat() - open @rel (relative to the base, "" = base) plus optional @file in
 * hierarchy @h, confined below the base with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV). Never creates anything.
 *
 * Return: fd, or negative errno.
 */
int cgfs_openat(const Cgfs *cg, int h, const char *rel, const char *file, int flags);

/** cgfs_read() - read a whole small file (NUL-terminated, up to @n - 1 bytes) */
int cgfs_read(const Cgfs *cg, int h, const char *rel, const char *file, char *buf, size_t n);

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

/** cgfs_api_path() - the path callers see for @rel */
void cgfs_api_path(const Cgfs *cg, const char *rel, char *out, size_t n);

/**
 * cgfs_rel_from_proc() - turn a process's path in the primary hierarchy (from
 * /proc/PID/cgroup) into a path relative to the base
 *
 * Return: 0 with @rel filled, or -ENOENT when the path is outside the base.
 */
int cgfs_rel_from_proc(const Cgfs *cg, const char *proc_path, char *rel, size_t n);

/** cgfs_proc_key() - the primary hierarchy's key in /proc/PID/cgroup: "" for cgroup2, else
 * its first controller; returns @buf */
const char *cgfs_proc_key(const Cgfs *cg, char *buf, size_t n);

/** cgfs_hierarchy_name() - "cgroup2", or a v1 hierarchy's controllers ("cpu,cpuacct") */
const char *cgfs_hierarchy_name(const Cgfs *cg, int h);

/** cgfs_layout_name() - "unified", "hybrid" or "legacy" */
const char *cgfs_layout_name(CgfsLayout layout);
