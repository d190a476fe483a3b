/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libnss_stall.so.2: an NSS module for "a directory that stopped answering", for the PAM tests */

/*
 * Every lookup sleeps STALL_S seconds and then finds nothing, as a login process sees an LDAP
 * or SSSD backend that accepts the query and never answers. test-pam-retval puts it first in
 * the passwd and group lines of a private nsswitch.conf (bind-mounted in a mount namespace of
 * its own, with this directory in LD_LIBRARY_PATH), so that any NSS lookup a module makes
 * there hangs, even one for root. The sleep is bounded so that nothing outlives the test for
 * long; the test kills what it waits for well before.
 *
 * Built without the sanitizers, so that it loads into any program.
 */
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define STALL_S 60

#define NSS_STALL_EXPORT __attribute__((visibility("default")))

static enum nss_status stall(int *errnop)
{
        struct timespec left = { STALL_S, 0 };

        /* Sleep out the whole time, also across signal handlers. */
        while (nanosleep(&left, &left) < 0 && errno == EINTR)
                ;
        *errnop = ENOENT;
        return NSS_STATUS_NOTFOUND;
}

NSS_STALL_EXPORT enum nss_status _nss_stall_getpwnam_r(const char *name, struct passwd *pw,
                                                       char *buf, size_t size, int *errnop);
NSS_STALL_EXPORT enum nss_status _nss_stall_getpwuid_r(uid_t uid, struct passwd *pw, char *buf,
                                                       size_t size, int *errnop);
NSS_STALL_EXPORT enum nss_status _nss_stall_getgrnam_r(const char *name, struct group *gr,
                                                       char *buf, size_t size, int *errnop);
NSS_STALL_EXPORT enum nss_status _nss_stall_getgrgid_r(gid_t gid, struct group *gr, char *buf,
                                                       size_t size, int *errnop);
NSS_STALL_EXPORT enum nss_status _nss_stall_initgroups_dyn(const char *user, gid_t group,
                                                           long *start, long *size,
                                                           gid_t **groups, long limit,
                                                           int *errnop);

enum nss_status _nss_stall_getpwnam_r(const char *name, struct passwd *pw, char *buf,
                                      size_t size, int *errnop)
{
        (void)name, (void)pw, (void)buf, (void)size;
        return stall(errnop);
}

enum nss_status _nss_stall_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t size,
                                      int *errnop)
{
        (void)uid, (void)pw, (void)buf, (void)size;
        return stall(errnop);
}

enum nss_status _nss_stall_getgrnam_r(const char *name, struct group *gr, char *buf,
                                      size_t size, int *errnop)
{
        (void)name, (void)gr, (void)buf, (void)size;
        return stall(errnop);
}

enum nss_status _nss_stall_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t size,
                                      int *errnop)
{
        (void)gid, (void)gr, (void)buf, (void)size;
        return stall(errnop);
}

enum nss_status _nss_stall_initgroups_dyn(const char *user, gid_t group, long *start,
                                          long *size, gid_t **groups, long limit, int *errnop)
{
        (void)user, (void)group, (void)start, (void)size, (void)groups, (void)limit;
        return stall(errnop);
}
