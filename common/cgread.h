/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading cgroups: the hierarchies in use, the base in each, confined opens, and the reads
 * behind Get, Stat, List, Procs and WhoAmI's limits; shared by cgmd and libcgm (cgread.c) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

/** cgfs_openat2() - openat2(@dirfd, @path) confined below @dirfd (see cgfs_openat()) */
int cgfs_openat2(int dirfd, const char *path, int flags);

/** cgfs_list_has() - does the @sep-separated @list hold @word? */
bool cgfs_list_has(const char *list, const char *word, char sep);

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

/** cg_strip_newline() - cut trailing newlines and blanks off @s (cgroupfs values end in one) */
void cg_strip_newline(char *s);
/** cg_split_parent() - @rel's parent ("" at the top) and last name, into @parent and @name */
void cg_split_parent(const char *rel, char *parent, size_t pn, char *name, size_t nn);

/** cg_populated() - does @rel hold a process (cgroup.events on v2, else its cgroup.procs)? */
bool cg_populated(const Cgfs *cg, const char *rel);

/**
 * cg_exists() - does @rel exist (in the primary hierarchy)?
 *
 * Return: 0; -ENOENT (NotFound) with the path as the API shows it; another errno.
 */
int cg_exists(const Cgfs *cg, const char *rel, CgmError *e);

/** cg_key_error() - @why from key_parse() or key_v1_writes() as an error of @e (NotSupported,
 * PermissionDenied or InvalidValue after @r) */
int cg_key_error(int r, const char *why, CgmError *e);

/** cg_key_hierarchy() - which hierarchy serves @key; -EOPNOTSUPP with a message when none does */
int cg_key_hierarchy(const Cgfs *cg, const char *key, CgmError *e);

/**
 * cg_file_error() - a kernel refusal @r of @file (written or read for @key), said in the
 * user's terms: the key it asked for, and the v1 file only where that is what was written.
 * A missing file is NotFound when the cgroup itself is gone, else NotSupported saying why the
 * controller is absent.
 */
int cg_file_error(const Cgfs *cg, const char *rel, const char *key, const char *file,
                  const char *value, int r, CgmError *e);

/**
 * cg_get_one() - the value of @key in @rel, in v2 form (translated from v1 where it lives
 * there), without the trailing newline
 *
 * Return: 0; NotFound, NotSupported, PermissionDenied (a key that is never cgm's) or Failed.
 */
int cg_get_one(const Cgfs *cg, const char *rel, const char *key, char *value, size_t n,
               CgmError *e);

/** The limits WhoAmI shows about a home, in this order. */
extern const char *const cg_whoami_keys[];
extern const size_t cg_whoami_keys_n;

typedef int (*CgVisit)(const char *rel, void *userdata);
/**
 * cg_walk() - call @visit for each child of @rel (each descendant when @recursive, parents
 * first, to CGM_DEPTH_MAX) in readdir order; names cgm cannot address are skipped
 */
int cg_walk(const Cgfs *cg, const char *rel, bool recursive, CgVisit visit, void *userdata,
            CgmError *e);

/** cg_procs() - append the pids of @rel's cgroup.procs to *@pidsp (realloc'd), at most
 * CGM_LIST_MAX in all */
int cg_procs(const Cgfs *cg, const char *rel, pid_t **pidsp, size_t *np, CgmError *e);
/** cg_procs_subtree() - cg_procs() of @rel and every descendant */
int cg_procs_subtree(const Cgfs *cg, const char *rel, pid_t **pidsp, size_t *np, CgmError *e);

typedef struct CgCounter {
        const char *name;
        uint64_t value;
} CgCounter;

#define CG_COUNTERS_MAX 16
/** cg_stat() - the usage counters of @rel (memory, cpu, pids, io bytes, oom events,
 * populated, frozen) */
int cg_stat(const Cgfs *cg, const char *rel, CgCounter *out, size_t *n_out, CgmError *e);
