/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Homes: which cgroup in the base is delegated to which uid */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "cgfs.h"
#include "error.h"

typedef struct Home {
        uid_t uid;
        char *path; /* relative to the base */
} Home;

typedef struct HomeRegistry {
        Home *homes;
        size_t n, cap;
} HomeRegistry;

#define HOME_REGISTRY_NULL                                                                         \
        {                                                                                          \
                .homes = NULL, .n = 0, .cap = 0                                                    \
        }

/**
 * home_registry_scan() - rebuild the registry from what cgroupfs holds
 *
 * Walks the base in the primary hierarchy (depth-first, at most CGM_DEPTH_MAX deep) and
 * records every directory carrying the CGM_XATTR_HOME attribute; below a home it does not
 * look further, so a user's home is the topmost one delegated to it.
 */
int home_registry_scan(HomeRegistry *reg, const Cgfs *cg);
void home_registry_deinit(HomeRegistry *reg);

/** home_lookup() - the home of @uid relative to the base, or NULL */
const char *home_lookup(const HomeRegistry *reg, uid_t uid);

/**
 * home_delegate() - make @rel the home of @uid: set the attribute, chown on cgroup v2 and
 * write the home's cgroup.max.descendants/cgroup.max.depth
 *
 * Return: 0; -EEXIST when @uid already has another home; -EBUSY when @rel is inside or above
 * another uid's home.
 */
int home_delegate(HomeRegistry *reg, const Cgfs *cg, const char *rel, uid_t uid, CgmError *e);

/** home_forget_below() - drop every home at or below @rel (after it was removed) */
void home_forget_below(HomeRegistry *reg, const char *rel);
