/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NSS lookups: a user's uid, primary gid and group names, run on a worker */
#pragma once

#include <sys/types.h>

#include "worker.h"

#define NSS_GROUPS_MAX 256

typedef struct NssLookup {
        WorkerJob job;
        /* in: a name, or (when name is "") a uid */
        char name[256];
        uid_t want_uid;
        /* out */
        int result; /* 0, -ENOENT (no such user), or another negative errno */
        uid_t uid;
        gid_t gid;
        char user[256];
        char *groups[NSS_GROUPS_MAX]; /* names; free with nss_lookup_clear() */
        size_t n_groups;
} NssLookup;

/** nss_lookup_run() - WorkerRun: getpwnam_r/getpwuid_r, getgrouplist, getgrgid_r */
void nss_lookup_run(WorkerJob *job);
void nss_lookup_clear(NssLookup *l);
/** nss_group_run() - WorkerRun: getgrnam_r(name) into ->gid */
void nss_group_run(WorkerJob *job);
/** nss_group_gid() - getgrnam_r(); blocking, for start-up only */
int nss_group_gid(const char *name, gid_t *gidp);
