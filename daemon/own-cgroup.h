/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgmd's own cgroup: a leaf for cgmd itself, so that a base below it gets controllers */
#pragma once

/*
 * The leaf cgmd moves into, beside the base, in its own cgroup. '@' is outside the names cgm
 * accepts (common/name.c), so no base, home or session can ever be called this; systemd
 * accepts it as a DelegateSubgroup= value, and neither systemd's own ".control" nor any unit
 * name can take it.
 */
#define OWN_LEAF_NAME "cgmd@daemon"

typedef struct OwnCgroup {
        int own_fd;          /* <own> in the cgroup2 hierarchy; -1 when cgmd did nothing */
        char own[1024];      /* its path from the hierarchy's root, for messages */
        char base_rel[1024]; /* the base, relative to <own> */
} OwnCgroup;

#define OWN_CGROUP_NULL { .own_fd = -1 }

/**
 * own_cgroup_strip_leaf() - cgmd's own cgroup from the one it is in: @path without a last
 * component OWN_LEAF_NAME (in place; "/cgmd@daemon" becomes "/")
 *
 * A cgmd found in its leaf (started there by a service manager, or by itself earlier) counts
 * the leaf's parent as its own cgroup, so `self:NAME` names the same base either way.
 */
void own_cgroup_strip_leaf(char *path);

/**
 * own_cgroup_enter() - on cgroup2, move cgmd into <own>/OWN_LEAF_NAME and enable in <own>
 * (and in each cgroup between it and the base) the controllers available there
 * @base: the base as given ("self:NAME" or an absolute path)
 *
 * Does something only where it matters: a cgroup2 hierarchy is mounted, the base lies below
 * cgmd's own cgroup, that cgroup is not the root (which is exempt from the no-internal-process
 * rule) and has controllers to offer. Only cgmd's own process is moved. When other processes
 * share <own>, the kernel would refuse to enable controllers there (EBUSY): cgmd does not
 * move, logs one line with the reason and the remedy, and start-up goes on without
 * controllers in the base, as before. Never fails start-up.
 */
void own_cgroup_enter(OwnCgroup *o, const char *base);

/**
 * own_cgroup_leave() - at exit, give <own> back as the service manager handed it over
 *
 * When the base holds no cgroup (no home, no session), the controllers are disabled again,
 * from the base up to <own>, so that a service manager can start the next cgmd in <own>
 * (a cgroup with controllers in its subtree_control takes no process). Otherwise they must
 * stay, for the limits below; that is logged with what a restart then needs.
 */
void own_cgroup_leave(OwnCgroup *o);
