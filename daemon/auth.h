/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Privilege decisions: who may do what where. Pure functions, no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "uidmap.h"

/*
 * All paths here except @input are *relative to the base*: "" is the base itself,
 * "user-1000/build" a cgroup below it. @base_api is the base as callers in the initial
 * cgroup namespace see it (e.g. "/cgm" or "/cgm-test-42"); it is used to read absolute input
 * paths and to write messages.
 */

typedef struct Principal {
        uid_t uid;
        bool is_root; /* uid 0 in the initial user namespace */
        bool ns_root; /* uid 0 in another user namespace, whose map is written */
        const UidMap *map; /* that namespace's uids, in host terms, when ns_root; else NULL */
        const UidMap *view; /* its user namespace's map, to name uids in messages in its
                               terms; NULL in the initial user namespace */
        uid_t overflow_uid; /* how a uid its namespace does not map is named to it */
} Principal;

typedef enum AuthAction {
        AUTH_READ,  /* Get, List, Procs, Stat of: home or below */
        AUTH_WRITE, /* Create, Remove, Set, Kill, Freeze, Thaw, Move into: strictly below home */
        AUTH_ROOT,  /* Chown and other root-only methods */
} AuthAction;

/**
 * auth_resolve() - turn a path from the wire into a path relative to the base
 * @base_api: the base as seen by the caller, absolute, no trailing '/'
 * @home:     the caller's home relative to the base, NULL when it has none (root passes "")
 * @input:    absolute ("/cgm/user-1000/a") or relative to the home ("a/b", "" = the home)
 * @out:      receives the relative path
 *
 * Return: 0; -EACCES (CGM_ERR_PERMISSION_DENIED) when an absolute path is outside the base
 * or a relative path is given without a home; -EINVAL (CGM_ERR_INVALID_NAME) when any
 * component fails cgm_name_check() (this catches "..", ".", "//", control characters) or the
 * path is too long or deep. The message names the path and the reason.
 */
int auth_resolve(const char *base_api, const char *home, const char *input, char *out,
                 size_t out_size, CgmError *e);

/**
 * auth_check() - may @p perform @action on @target?
 * @home: the caller's home relative to the base, NULL when it has none
 *
 * Root may do everything anywhere in the base. Others: AUTH_READ needs @target within
 * @home, AUTH_WRITE strictly below it (a home's own limits belong to the administrator),
 * AUTH_ROOT is refused.
 *
 * Return: 0 or -EACCES with CGM_ERR_PERMISSION_DENIED and a message that names the caller's
 * uid, the target, the home and what to do.
 */
int auth_check(const Principal *p, const char *base_api, const char *home, const char *target,
               AuthAction action, CgmError *e);

/**
 * auth_check_move() - may @p move a process owned by @proc_ruid/@proc_euid, now in
 * @proc_cgroup (relative to the base; NULL when it is outside the base), into @dest?
 *
 * Root: yes, for any process and any @dest in the base. Others: the process's real and
 * effective uid must both be the caller's uid (a setuid program the user started is not
 * theirs to move), or, for root of a user namespace, uids its namespace maps; it must sit
 * within the caller's home, and @dest must be strictly below the home.
 *
 * Return: 0 or -EACCES with CGM_ERR_PERMISSION_DENIED.
 */
int auth_check_move(const Principal *p, const char *base_api, const char *home, uid_t proc_ruid,
                    uid_t proc_euid, const char *proc_cgroup, const char *dest, CgmError *e);
