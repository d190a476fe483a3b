/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cgroup operations: one logical cgroup mirrored in every hierarchy the daemon uses */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgfs.h"
#include "error.h"
#include "uidmap.h"

/*
 * Every @rel is relative to the base and already validated and authorized; these functions
 * only carry the operation out and explain kernel failures. Messages use the API path.
 */

typedef struct CgSetting {
        const char *key;
        const char *value;
} CgSetting;

/**
 * cg_create() - create @rel in every hierarchy, then apply @settings
 * @owner: on cgroup v2, chown the new directory and its files to this uid (a user's cgroup
 *         made through the daemon is then the same as one it made with mkdir); -1 for none
 *
 * All settings are parsed before anything is created; on any failure what was created is
 * removed again.
 *
 * Return: 0; -EEXIST; -ENOENT when the parent does not exist; -EDQUOT when
 * cgroup.max.descendants or cgroup.max.depth stops it; parse errors of cg_set().
 */
int cg_create(const Cgfs *cg, const char *rel, uid_t owner, const CgSetting *settings,
              size_t n_settings, CgmError *e);

/**
 * cg_remove() - rmdir @rel in every hierarchy (its whole subtree with @recursive, including
 * directories made outside cgm; kill and wait first with @kill), all or nothing
 *
 * Every hierarchy is walked and checked before anything is removed; if an rmdir still fails
 * half way, what was removed is made again with its owner, marks and limits.
 *
 * Return: 0; -ENOENT; -EBUSY (processes, a child without @recursive, a refused rmdir that was
 * rolled back); -EDQUOT past CGM_LIST_MAX cgroups; another errno when the rollback failed too.
 */
int cg_remove(const Cgfs *cg, const char *rel, bool recursive, bool kill, CgmError *e);
/** cg_remove_as() - cg_remove() whose kill has the authority of @as_uid (see cg_kill_as()) */
int cg_remove_as(const Cgfs *cg, const char *rel, bool recursive, bool kill, uid_t as_uid,
                 const UidMap *as_map,
                 CgmError *e);

/**
 * cg_set() - write resource keys
 *
 * Parses and translates every setting first, so bad input changes nothing; if the kernel
 * refuses one write, the keys already written are put back to their old values.
 */
int cg_set(const Cgfs *cg, const char *rel, const CgSetting *settings, size_t n_settings,
           CgmError *e);

/* Reads (cg_get_one, cg_exists, cg_walk, cg_procs, cg_stat) are in common/cgread.h, shared
 * with libcgm. */

/**
 * cg_move() - write @pid into @rel's cgroup.procs in every hierarchy, the primary first
 *
 * The caller verifies liveness and placement afterwards.
 */
int cg_move(const Cgfs *cg, const char *rel, pid_t pid, CgmError *e);

/**
 * cg_move_pidfd() - cg_move(), then verify: the pidfd is still alive (so @pid was not
 * recycled) and /proc/PID/cgroup shows @rel
 */
int cg_move_pidfd(const Cgfs *cg, const char *rel, int pidfd, pid_t pid, CgmError *e);

/**
 * cg_proc_path() - the cgroup of @pidfd's process in the primary hierarchy, as
 * /proc/PID/cgroup shows it (read through proc_pidfd_procdir(), never by number)
 *
 * Return: 0; -ESRCH when the process has exited.
 */
int cg_proc_path(const Cgfs *cg, int pidfd, char *path, size_t n);

typedef struct CgKill {
        int sig;
        pid_t except;   /* spare this process (0: none); implies one by one, no cgroup.kill */
        uid_t as_uid;   /* (uid_t)-1: root's authority; else only processes this uid could
                           signal itself (its real or saved uid), as kill(2) decides */
        const UidMap *as_map; /* root of a user namespace: also the uids it maps (or NULL) */
        unsigned n_signalled, n_refused; /* out */
} CgKill;

/**
 * cg_kill_as() - signal the processes of a subtree with the caller's authority
 *
 * SIGKILL of a whole v2 subtree goes through cgroup.kill, which the kernel lets the owner of
 * a delegated subtree write whoever's processes are in it. Every other signal (and every
 * signal on v1) is sent one by one through a pidfd, after checking through that pidfd that
 * the process is still in the subtree and that @k->as_uid may signal it.
 */
int cg_kill_as(const Cgfs *cg, const char *rel, CgKill *k, CgmError *e);

/** cg_kill() - signal every process in the subtree; *@np = how many were signalled */
int cg_kill(const Cgfs *cg, const char *rel, int sig, unsigned *np, CgmError *e);
/** cg_kill_except() - cg_kill() sparing @except (one by one under a freeze, no cgroup.kill) */
int cg_kill_except(const Cgfs *cg, const char *rel, int sig, pid_t except, unsigned *np,
                   CgmError *e);

/** cg_freeze() - freeze (@freeze) or thaw the subtree */
int cg_freeze(const Cgfs *cg, const char *rel, bool freeze, CgmError *e);

/**
 * cg_freeze_as() - cg_freeze() with the authority of @as_uid ((uid_t)-1: root's)
 *
 * On v2 the owner of a delegated subtree may write cgroup.freeze itself, so nothing more is
 * checked. The v1 freezer has no delegation model: freezing is refused with
 * PermissionDenied while the subtree holds a process @as_uid could not signal.
 */
int cg_freeze_as(const Cgfs *cg, const char *rel, bool freeze, uid_t as_uid,
                 const UidMap *as_map, CgmError *e);

