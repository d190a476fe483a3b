/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NSS lookups: a user's uid, primary gid and group names, run on a worker
 *
 * Users and groups come from NSS (getpwnam_r, getgrouplist, getgrgid_r), so whatever
 * nsswitch.conf names — files, LDAP, SSSD, extrausers — is what the policy sees. These calls
 * may block for as long as a remote directory takes, so they only ever run in a worker thread
 * (worker.c), writing into the job and nothing else.
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "nss.h"

/* getpw*_r/getgr*_r buffers start here and grow on ERANGE up to the cap. */
#define NSS_BUF_START 4096
#define NSS_BUF_MAX (1024 * 1024)

/*
 * getgrouplist() is one at a time. For an NSS module without initgroups_dyn (libnss_extrausers
 * among them) glibc enumerates the group database through the module's setgrent/getgrent_r,
 * whose cursor is the module's own process-wide state: two workers in it at once read memory
 * the other freed (seen under valgrind with two lookups in flight). The lock guards that
 * process-wide library state, so it lives here with it, not in the daemon's context. The cost:
 * while a directory hangs in one group lookup, the next waits for it; both are bounded by
 * nss_timeout_ms on the loop's side, as every lookup is.
 */
static pthread_mutex_t nss_grouplist_lock = PTHREAD_MUTEX_INITIALIZER;

void nss_lookup_run(WorkerJob *job)
{
        NssLookup *l = container_of(job, NssLookup, job);
        struct passwd pw, *pwp = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t size = NSS_BUF_START;
        gid_t gids[NSS_GROUPS_MAX];
        int n = NSS_GROUPS_MAX, r;

        for (;;) {
                char *nb = realloc(buf, size);
                if (!nb) {
                        l->result = -ENOMEM;
                        return;
                }
                buf = nb;
                r = l->name[0] ? getpwnam_r(l->name, &pw, buf, size, &pwp)
                               : getpwuid_r(l->want_uid, &pw, buf, size, &pwp);
                if (r != ERANGE || size >= NSS_BUF_MAX)
                        break;
                size *= 2;
        }
        if (r != 0 || !pwp) {
                l->result = r ? -r : -ENOENT;
                return;
        }
        l->uid = pw.pw_uid;
        l->gid = pw.pw_gid;
        snprintf(l->user, sizeof(l->user), "%s", pw.pw_name);

        pthread_mutex_lock(&nss_grouplist_lock);
        if (getgrouplist(pw.pw_name, pw.pw_gid, gids, &n) < 0)
                n = NSS_GROUPS_MAX; /* more groups than we look at: keep the first ones */
        pthread_mutex_unlock(&nss_grouplist_lock);
        for (int i = 0; i < n && l->n_groups < NSS_GROUPS_MAX; i++) {
                struct group gr, *grp = NULL;
                size_t gsize = NSS_BUF_START;
                _cleanup_free_ char *gbuf = NULL;
                for (;;) {
                        char *nb = realloc(gbuf, gsize);
                        if (!nb)
                                break;
                        gbuf = nb;
                        r = getgrgid_r(gids[i], &gr, gbuf, gsize, &grp);
                        if (r != ERANGE || gsize >= NSS_BUF_MAX)
                                break;
                        gsize *= 2;
                }
                if (r == 0 && grp && (l->groups[l->n_groups] = strdup(grp->gr_name)))
                        l->n_groups++;
        }
        l->result = 0;
}

void nss_lookup_clear(NssLookup *l)
{
        for (size_t i = 0; i < l->n_groups; i++)
                free(l->groups[i]);
        l->n_groups = 0;
}

int nss_group_gid(const char *name, gid_t *gidp)
{
        struct group gr, *grp = NULL;
        char buf[16384];
        int r = getgrnam_r(name, &gr, buf, sizeof(buf), &grp);

        if (r)
                return -r;
        if (!grp)
                return -ENOENT;
        *gidp = grp->gr_gid;
        return 0;
}

void nss_group_run(WorkerJob *job)
{
        NssLookup *l = container_of(job, NssLookup, job);

        l->result = nss_group_gid(l->name, &l->gid);
}
