/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sessions: login leaves below each user's home, and their cleanup */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "context.h"
#include "error.h"
#include "nss.h"
#include "protocol.h"

typedef struct HomeWait HomeWait;

struct Session {
        Session *next, *prev; /* m->sessions */
        TableNode by_id, by_uid, by_wd; /* m->sessions_by_* (by_wd while wd >= 0) */
        Session *check_next; /* m->check_queue, while queued */
        bool queued;
        struct SessionCleanup *cleanup; /* its leaf's removal on a worker, while it runs */
        uid_t uid;
        int wd; /* inotify watch on its cgroup.events, -1 */
        bool closed;
        /* its removal failed while cgroup2 showed it empty (a process still in a v1 leaf,
         * which notifies nothing): the sweep runs at the fast pace until it is gone */
        bool retry;
        bool oom_notice; /* the policy's oom_notice for its user (at login, at each Reload) */
        unsigned notices_missed; /* OOM kills not told on its tty (rate limit, notify-tty.c) */
        bool notice_look;        /* its kernel log lines are awaited (notify-tty.c) */
        uint64_t oom_kills;      /* OOM kills the kernel's counter reported while listening */
        uint64_t oom_records;    /* ... and those the kernel log named (or told without it) */
        uint64_t notice_ns;      /* CLOCK_MONOTONIC of the last notice on its tty */
        struct EventListener *oom_listener; /* notify-tty.c's, while it has a tty */
        pid_t opener_pid; /* the process that opened it (0 after a daemon restart) ... */
        unsigned long long opener_start; /* ... and its start time: the pid is not trusted alone */
        const char *user; /* from the home's trusted.cgm.user attribute; after id[] */
        const char *rel;  /* after id[], in the same allocation */
        /* the login's terminal ("pts/3", "tty1"; "ssh": the pty of its processes, found when
         * a notice is due), "" for none; after id[] */
        const char *tty;
        char id[]; /* the id, the user, the leaf's path and the tty, each as long as it is */
};

/* A home a login made whose last session is gone: removed once its grace (home_grace_ms)
 * has passed and it holds no process (a user's background job in a child cgroup keeps it
 * until it exits). A new login of the uid cancels the wait and reuses the home. */
typedef struct HomeWait {
        HomeWait *next;
        uid_t uid;
        int wd;           /* inotify watch on the home's cgroup.events once it must empty, -1 */
        uint64_t until_ns; /* CLOCK_MONOTONIC end of the grace; 0: none */
        bool retry; /* its removal found a process in a v1 part (see Session.retry) */
} HomeWait;

/**
 * sessions_init() - find every session leaf in cgroupfs (a restart resumes their cleanup),
 * watch them, and remove the ones that are already empty
 */
int sessions_init(Manager *m, CgmError *e);
void sessions_deinit(Manager *m);

/**
 * session_open() - everything a login needs, after NSS has answered
 * @who:    the user as NSS resolved it
 * @xdg_id: the session id to use when valid and free (XDG_SESSION_ID), or NULL
 * @tty:    the login's terminal as PAM_TTY named it, or NULL; kept only when it is a plain
 *          terminal name or "ssh" (notify_tty_name_ok()), for the OOM notice (notify-tty.c)
 * @pidfd:  the process to move into the new leaf (the PAM caller)
 * @idp, @pathp: the session id and the leaf's API path
 *
 * Uses the uid's home when it has one (also one root made by hand under any name); else
 * creates <base>/user-UID, delegates it and marks it as a login's. Applies the policy's limits
 * to a login's home (also when it existed: a login refreshes them), never to one root made.
 * Creates and delegates the leaf (never taking over a directory that is not an empty session
 * leaf), marks it, moves the process in and starts watching it.
 *
 * Return: 0; negative errno with @e.
 */
int session_open(Manager *m, const NssLookup *who, const char *xdg_id, const char *tty,
                 int pidfd, pid_t pid,
                 char *idp, size_t id_size, char *pathp, size_t path_size, CgmError *e);

/**
 * session_close() - end session @id: kill its processes (all but @caller, the PAM process)
 * if the policy says so, remove the leaf when empty (now or later), and the home after its
 * last session if a login made it
 *
 * Return: 0; -ENOENT when no such session exists.
 */
int session_close(Manager *m, const char *id, pid_t caller, CgmError *e);

/**
 * session_apply_limits() - write the policy's limits for @who into its home
 *
 * Only into a home a login made: a home root made keeps what root set (nothing is written).
 * A key the host cannot apply (a controller it lacks) is logged and skipped: a login is never
 * refused for that. Return: the number of keys that failed.
 */
int session_apply_limits(Manager *m, const char *home, const NssLookup *who);

/** session_find() - by id */
Session *session_find(Manager *m, const char *id);

/** sessions_of_uid() - how many sessions @uid has */
unsigned sessions_of_uid(Manager *m, uid_t uid);

/** session_populated() - does the leaf still hold processes? */
bool session_populated(Manager *m, const Session *s);

/** home_user_name() - the user name recorded on a home ("" when unknown) */
void home_user_name(Manager *m, const char *home, char *name, size_t n);
