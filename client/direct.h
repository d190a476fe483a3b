/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Direct reads: libcgm answers Get, Stat, List, Procs and WhoAmI from cgroupfs itself (and
 * a user's Set in its own delegated cgroup v2 subtree)
 *
 * Why: cgroupfs files are world-readable, and a read through cgmd costs a D-Bus round trip
 * (two wakeups, often across CPUs) around a 2-3 us file read. What the daemon adds to a read
 * is knowing where the caller's cgroups lie and what it may read; libcgm learns that once per
 * handle (the Layout method) and then reads the files itself, with the daemon's own read code
 * (common/cgread.c), so that a value, a v1 translation, a counter or a listing is the same
 * whichever side produced it.
 *
 * The rules:
 *  - Only successes are answered here. Whatever is not plainly allowed or does not work out
 *    (a path that is not a plain one, outside the caller's home, a missing cgroup or key, a
 *    limit, an odd file) returns "not answered", and libcgm asks the daemon, whose refusal is
 *    the one the caller gets: error names and messages never differ, because only the daemon
 *    writes them.
 *  - A non-root caller reads only within its home, as the daemon allows (auth_check()).
 *  - cgroupfs is found through the caller's own mounts (/proc/self/mountinfo, the mount's
 *    root); a base directory found there is used only if it is the daemon's (same st_dev and
 *    st_ino). Otherwise, or for a caller in a cgroup namespace of its own, or with
 *    CGM_DIRECT=0 in the environment, every read goes to the daemon.
 *  - Procs is answered here only when the caller's pid namespace is the daemon's, WhoAmI only
 *    in the process that opened the connection (the daemon answers for that one).
 *  - Layout is one round trip, paid at the first read of a handle (a one-shot `cgm get` still
 *    makes one round trip in all) and never for root's Sets. A daemon that cannot be reached
 *    then is the answer to that first read.
 *  - The layout is dropped when the home or the base is found missing, and learnt again at
 *    the next read.
 *  - Writes: only Set, only one cgroup v2 key, only strictly below the home of a caller other
 *    than root, and only where the kernel lets the caller open the file itself (its own
 *    delegated subtree, as rootless runtimes write it); the value is checked by key_parse()
 *    first, as the daemon does. Such a change is not in the daemon's audit log, like any write
 *    the caller makes to its own files; root's changes always go through the daemon.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgm.h"
#include "cgread.h"
#include "protocol.h"

typedef enum DirectState {
        DIRECT_UNKNOWN, /* not learnt yet (or dropped) */
        DIRECT_READY,   /* the fds in @cg are open */
        DIRECT_OFF,     /* for good on this handle: CGM_DIRECT=0, an old daemon, a foreign
                           cgroup namespace, a cgroupfs not reachable through our mounts */
} DirectState;

typedef struct Direct {
        DirectState state;
        bool has_home;   /* false: a non-root caller without a home reads nothing here */
        bool same_pids;  /* the caller's pid namespace is the daemon's */
        uid_t uid;       /* as WhoAmI shows it */
        pid_t pid;       /* the process that opened the connection */
        char home[CGM_PATH_MAX + 1]; /* relative to the base; "" for root (all of it) */
        Cgfs cg;         /* the daemon's layout, base fds opened through our mounts */
} Direct;

/* One hierarchy as Layout describes it. */
typedef struct DirectHierarchy {
        bool is_v2;
        const char *controllers;
        const char *base_path;
        uint64_t dev, ino;
} DirectHierarchy;

/** direct_init() - a new handle's state: off when $CGM_DIRECT is "0" */
void direct_init(Direct *d);

/** direct_drop() - close the base fds; learn again at the next read (unless off) */
void direct_drop(Direct *d);

/**
 * direct_setup() - take the daemon's Layout reply and find its base directories through our
 * own mounts
 *
 * Return: 0 with @d READY, or a negative errno with @d OFF (reads go to the daemon).
 */
int direct_setup(Direct *d, uid_t uid, const char *base_api, bool has_home, const char *home,
                 bool same_pids, unsigned primary, const DirectHierarchy *hs, size_t n);

/* Each returns 1 with the answer filled (the caller owns it), or 0: not answered, ask the
 * daemon. */
int direct_get(Direct *d, const char *path, const char *const *keys, size_t n_keys,
               cgm_kv **valuesp, size_t *np);
int direct_stat(Direct *d, const char *path, cgm_counter **countersp, size_t *np);
int direct_list(Direct *d, const char *path, bool recursive, char ***pathsp);
int direct_procs(Direct *d, const char *path, bool recursive, pid_t **pidsp, size_t *np);
int direct_whoami(Direct *d, uid_t *uidp, char **homep, char **cgroupp, cgm_kv **limitsp,
                  size_t *n_limitsp);
/**
 * direct_set() - one v2 key, strictly below a non-root caller's home, written by the caller
 * itself where the kernel lets it (a file it owns), after the daemon's own checks
 */
int direct_set(Direct *d, const char *path, const cgm_kv *settings, size_t n);
