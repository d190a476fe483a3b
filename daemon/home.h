/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Homes: which cgroup in the base is delegated to which uid */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgfs.h"
#include "error.h"

/* On a home that OpenSession made (<base>/user-UID): "login". Such a home is the login's: it
 * takes the policy's limits and is removed after its last session. A home without it was
 * made by root (Create + Chown) and is root's: it keeps the limits root gave it and stays.
 * A trusted.* attribute like the home mark, so no user can forge or remove it. */
#define CGM_XATTR_ORIGIN "trusted.cgm.origin"
#define CGM_HOME_ORIGIN_LOGIN "login"

typedef struct Home {
        uid_t uid;
        char *path;  /* relative to the base */
        bool login; /* made by OpenSession (CGM_XATTR_ORIGIN) */
} Home;

/* What delegating a home says about who made it. */
typedef enum HomeOrigin {
        HOME_ORIGIN_ADMIN, /* Chown: root's from now on, even if a login made it */
        HOME_ORIGIN_LOGIN, /* OpenSession has just made it */
        HOME_ORIGIN_KEEP,  /* OpenSession adopts a directory it found: leave the mark as is */
} HomeOrigin;

typedef struct HomeRegistry {
        Home *homes;
        size_t n, cap;
        uint32_t *index; /* by uid: open addressing, slots hold 1 + the index in homes */
        size_t index_cap; /* 0 or a power of two, at least twice n */
} HomeRegistry;

#define HOME_REGISTRY_NULL                                                                         \
        {                                                                                          \
                .homes = NULL, .n = 0, .cap = 0, .index = NULL, .index_cap = 0                     \
        }

/**
 * home_registry_scan() - rebuild the registry from what cgroupfs holds
 *
 * Walks the base in the primary hierarchy (depth-first, at most CGM_DEPTH_MAX deep) and
 * records every directory carrying the CGM_XATTR_HOME attribute, and whether it carries the
 * login origin mark. It looks below homes too, for the nested homes that root of a user
 * namespace hands out (home_delegate_nested()); a uid marked twice keeps the first found.
 */
int home_registry_scan(HomeRegistry *reg, const Cgfs *cg);
void home_registry_deinit(HomeRegistry *reg);

/** home_lookup() - the home of @uid relative to the base, or NULL */
const char *home_lookup(const HomeRegistry *reg, uid_t uid);

/**
 * home_lookup_live() - home_lookup(), after checking that the home's directory still exists
 * and still carries @uid's mark; a home removed behind the daemon's back is forgotten (NULL)
 */
const char *home_lookup_live(HomeRegistry *reg, const Cgfs *cg, uid_t uid);

/** home_registry_prune() - home_lookup_live() for every home: forget those removed meanwhile */
void home_registry_prune(HomeRegistry *reg, const Cgfs *cg);

/** home_find() - the registry entry of @uid's home, or NULL */
const Home *home_find(const HomeRegistry *reg, uid_t uid);

/**
 * home_delegate() - make @rel the home of @uid: set the attribute, chown on cgroup v2 and
 * write the home's cgroup.max.descendants/cgroup.max.depth
 *
 * This is Chown: the home is root's afterwards (HOME_ORIGIN_ADMIN), also when a login made
 * it, so root can keep a login's home past its last session by delegating it again.
 *
 * Return: 0; -EEXIST when @uid already has another home; -EBUSY when @rel is inside or above
 * another uid's home.
 */
int home_delegate(HomeRegistry *reg, const Cgfs *cg, const char *rel, uid_t uid, CgmError *e);

/**
 * home_delegate_as() - home_delegate() that says who made the home (see HomeOrigin)
 *
 * With HOME_ORIGIN_LOGIN the origin mark is set before the home mark, so a daemon killed in
 * between leaves a directory that the next login of @uid recognises as a login's.
 */
int home_delegate_as(HomeRegistry *reg, const Cgfs *cg, const char *rel, uid_t uid,
                     HomeOrigin origin, CgmError *e);

/**
 * home_delegate_nested() - home_delegate() by root of a user namespace whose home is
 * @parent's: a nested home for @uid (a uid the namespace maps, in host terms)
 *
 * The nearest home above @rel must be @parent's (no other home in between) and no home may
 * lie at or below @rel. The directory and the delegatable files become @uid's; the other
 * files keep their owner (the parent, who made the cgroup), so the nested home's owner
 * cannot raise its own limits and its parent can set them.
 *
 * Return: as home_delegate(); -EBUSY when another home is in the way.
 */
int home_delegate_nested(HomeRegistry *reg, const Cgfs *cg, const char *rel, uid_t uid,
                         uid_t parent, CgmError *e);

/** home_forget_below() - drop every home at or below @rel (after it was removed) */
void home_forget_below(HomeRegistry *reg, const char *rel);
