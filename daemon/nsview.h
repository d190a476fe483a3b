/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A caller's namespaces: what it is inside its user, pid and cgroup namespaces, and how the
 * daemon's answers are translated into its terms */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "uidmap.h"

/* The daemon's own namespaces, learnt once at start. */
typedef struct NsSelf {
        unsigned long user_ino, pid_ino, cgroup_ino;
        int cgroupns_fd;   /* to come back after reading in a caller's cgroup namespace */
        uid_t overflow_uid; /* what an unmapped uid looks like (/proc/sys/kernel/overflowuid) */
} NsSelf;

#define NS_SELF_NULL                                                                               \
        {                                                                                          \
                .cgroupns_fd = -1, .overflow_uid = 65534                                           \
        }

/**
 * nsself_init() - learn the daemon's own namespaces
 *
 * Return: 0, or a negative errno with @e filled.
 */
int nsself_init(NsSelf *s, CgmError *e);
void nsself_deinit(NsSelf *s);

typedef struct NsView {
        bool foreign;   /* its user, pid or cgroup namespace is not the daemon's */
        bool in_userns; /* a user namespace other than the initial one */
        unsigned long user_ino, pid_ino, cgroup_ino;
        UidMap map;     /* its user namespace's map in host uids; empty outside one */
        char *map_text; /* the map as read at connect, to notice one written later */
        unsigned pid_level;  /* depth of its pid namespace; 0 is the initial one */
        char *cgroup_root;   /* root of its cgroup namespace in the primary hierarchy; NULL
                              * when it shares the daemon's */
        bool cgroup_root_unknown; /* its cgroup lay outside its namespace's root at connect */
        char *root_rel;      /* that root relative to the base, when it lies in the base */
        bool root_above_base; /* that root is the base or above it */
        uid_t overflow_uid;
} NsView;

/**
 * nsview_capture() - learn the namespaces of the process behind @pidfd (at connect)
 * @controller: the primary hierarchy's key in /proc/PID/cgroup ("" for cgroup2)
 *
 * The cgroup namespace's root is found by reading the process's /proc/PID/cgroup twice: as
 * the daemon sees it and, with this thread in the process's cgroup namespace for the length
 * of one read, as the process sees it; the root is the first path less the second.
 *
 * Return: 0; -ESRCH when the process has exited; another negative errno when its
 * namespaces cannot be read.
 */
int nsview_capture(NsView *v, const NsSelf *self, int pidfd, const char *controller);
void nsview_free(NsView *v);

/**
 * nsview_verify() - is the process behind @pidfd still where it was at connect?
 *
 * For a caller in a foreign namespace, every request checks that the process that connected
 * still lives in the same user, pid and cgroup namespaces and that its uid map is the one
 * read at connect. Free for callers in the daemon's namespaces.
 *
 * Return: 0, or -EACCES (PermissionDenied) with a message saying what changed.
 */
int nsview_verify(const NsView *v, int pidfd, CgmError *e);

/**
 * nsview_set_base() - where the root of the caller's cgroup namespace lies from the base
 * @base: the base's path in the primary hierarchy
 *
 * Return: 0 or -ENOMEM.
 */
int nsview_set_base(NsView *v, const char *base);

/**
 * nsview_scope() - the cgroup a caller acts in, given its @home (relative to the base)
 *
 * A cgroup namespace is a delegation boundary, as the kernel's nsdelegate makes it: a caller
 * in one of its own acts only inside the namespace's root. When that root lies in its home,
 * the root is its home for every purpose (relative paths, what it may read and change);
 * when the root holds the home, the home stays; when they are apart, it has none.
 *
 * Return: @home, the root (relative to the base), or NULL.
 */
const char *nsview_scope(const NsView *v, const char *home);

/**
 * nsview_message_out() - rewrite every absolute path quoted in backticks in @msg (an error
 * message, which names paths in the daemon's terms) as the caller's cgroup namespace shows it
 */
void nsview_message_out(const NsView *v, char *msg, size_t n);

/** nsview_uid_out() - host uid @host as the caller sees it (the overflow uid if unmapped) */
uid_t nsview_uid_out(const NsView *v, uid_t host);

/** nsview_pid_out() - host pid @host in the caller's pid namespace; 0 when it cannot see it */
pid_t nsview_pid_out(const NsView *v, pid_t host);

/**
 * nsview_path_in() - an absolute path from the caller, read in its cgroup namespace, as a
 * path in the primary hierarchy
 *
 * Return: 0; -ENAMETOOLONG (InvalidName); -EOPNOTSUPP (NotSupported) when the root of the
 * caller's cgroup namespace is unknown.
 */
int nsview_path_in(const NsView *v, const char *input, char *out, size_t n, CgmError *e);

/**
 * nsview_path_out() - a path in the primary hierarchy as the caller's cgroup namespace
 * shows it: "/" for its root, "/x" below it, "/../x" (as the kernel writes it) elsewhere
 *
 * Return: @out.
 */
const char *nsview_path_out(const NsView *v, const char *host, char *out, size_t n);
