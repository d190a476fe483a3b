/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libcgm: client library for cgmd, the cgroup manager daemon */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every function returns 0 or a negative errno. On failure the handle keeps the daemon's
 * D-Bus error name and its message (cgm_error_name(), cgm_error_message()) until the next
 * call on the same handle. A handle may be used from one thread at a time; different handles
 * are independent. The library keeps no global state and never logs.
 *
 * Paths: an absolute path is a cgroup as the caller sees it (its cgroup namespace); a relative
 * path (including "") is relative to the caller's home, or for root to the daemon's base.
 */

typedef struct cgm cgm;

typedef struct cgm_kv {
        char *key;
        char *value;
} cgm_kv;

typedef struct cgm_counter {
        char *name;
        uint64_t value;
} cgm_counter;

#define CGM_REMOVE_RECURSIVE 0x1u
#define CGM_REMOVE_KILL 0x2u

/**
 * cgm_connect() - open a connection to cgmd
 * @hp:     receives the handle
 * @socket: socket path; NULL means $CGM_SOCKET, else /run/cgm/cgm.sock
 *
 * The connect is bounded (25 s) even when the daemon's listen queue is full; authentication
 * runs in the first call.
 *
 * Return: 0; -ENOMEM; -ENOENT/-ECONNREFUSED/-EACCES when the daemon cannot be reached,
 * -ETIMEDOUT when it does not accept in time (the handle is still returned so that
 * cgm_error_message() can say why; free it with cgm_free()).
 */
int cgm_connect(cgm **hp, const char *socket);
/**
 * cgm_connect_timeout() - cgm_connect(), and authenticate, within @timeout_ms together
 *
 * Also sets the handle's timeout to @timeout_ms (<= 0: the default). For callers with one
 * deadline for everything: connect with it, then cgm_set_timeout() to what is left.
 * Return: as cgm_connect(); -ETIMEDOUT when the daemon does not accept or authenticate in time.
 */
int cgm_connect_timeout(cgm **hp, const char *socket, int timeout_ms);
void cgm_free(cgm *h);
/** cgm_set_timeout() - reply timeout per call in milliseconds (default 25000; -1 = default) */
void cgm_set_timeout(cgm *h, int timeout_ms);
const char *cgm_error_message(const cgm *h);
/** cgm_error_name() - D-Bus error name of the last failure, e.g. "org.cgm.Error.NotFound" */
const char *cgm_error_name(const cgm *h);

void cgm_strv_free(char **v);
void cgm_kv_free(cgm_kv *kv, size_t n);
void cgm_counters_free(cgm_counter *c, size_t n);

int cgm_ping(cgm *h);
int cgm_version(cgm *h, char **versionp, unsigned *api_levelp, char ***featuresp);
/**
 * cgm_whoami() - the caller as the daemon sees it
 * @uidp:    principal uid
 * @homep:   home cgroup ("" when none is delegated; root's home is the base)
 * @cgroupp: the caller's current cgroup
 * @limitsp: the home's limits (key, value), may be NULL
 */
int cgm_whoami(cgm *h, uid_t *uidp, char **homep, char **cgroupp, cgm_kv **limitsp,
               size_t *n_limitsp);
/** cgm_create() - create @path with initial settings; *@createdp (may be NULL) = its absolute path */
int cgm_create(cgm *h, const char *path, const cgm_kv *settings, size_t n_settings,
               char **createdp);
int cgm_remove(cgm *h, const char *path, unsigned flags);
int cgm_set(cgm *h, const char *path, const cgm_kv *settings, size_t n_settings);
/** cgm_get() - read keys; @keys is NULL-terminated, NULL or empty = every key the cgroup has */
int cgm_get(cgm *h, const char *path, const char *const *keys, cgm_kv **valuesp, size_t *np);
/** cgm_list() - absolute paths of the children (all descendants when @recursive) */
int cgm_list(cgm *h, const char *path, bool recursive, char ***pathsp);
/**
 * cgm_procs() - pids in @path (and below when @recursive), as cgmd's pid namespace numbers
 * them: the caller's own outside containers (translation for namespaced callers: not yet)
 */
int cgm_procs(cgm *h, const char *path, bool recursive, pid_t **pidsp, size_t *np);
/** cgm_move() - move processes, named by pid in the caller's pid namespace (sent as pidfds) */
int cgm_move(cgm *h, const char *path, const pid_t *pids, size_t n);
int cgm_move_pidfds(cgm *h, const char *path, const int *pidfds, size_t n);
/** cgm_move_self() - move the calling process (the one that opened the connection) */
int cgm_move_self(cgm *h, const char *path);
int cgm_proc_cgroup(cgm *h, pid_t pid, char **pathp);
int cgm_proc_cgroup_pidfd(cgm *h, int pidfd, char **pathp);
/** cgm_kill() - signal every process in the subtree; *@n_killedp (may be NULL) = count */
int cgm_kill(cgm *h, const char *path, int signal, unsigned *n_killedp);
int cgm_freeze(cgm *h, const char *path);
int cgm_thaw(cgm *h, const char *path);
/** cgm_stat() - counters: memory.current, memory.peak, cpu.usage_usec, pids.current, ... */
int cgm_stat(cgm *h, const char *path, cgm_counter **countersp, size_t *np);
/** cgm_chown() - root only: delegate @path to @uid (it becomes that uid's home) */
int cgm_chown(cgm *h, const char *path, uid_t uid);

/* ---- events (API level 4) ----
 *
 * A subscription sends the events of one cgroup (the kernel's counters are hierarchical, so
 * they cover its descendants) to this handle. The library runs no loop of its own: poll
 * cgm_event_fd() for POLLIN in the caller's loop and, after every wakeup and after every
 * other call on the handle, call cgm_event_next() until it returns -EAGAIN. Events that
 * arrive while another call waits for its reply are kept for it, not lost.
 */

typedef struct cgm_event {
        uint32_t id;    /* subscription id; 0 for "lost" */
        char *path;     /* absolute cgroup path as the caller sees it ("" for lost) */
        char *kind;     /* "populated", "empty", "oom", "oom_kill", "memory_high",
                           "memory_max", "pids_max", "frozen", "thawed", "removed", "lost" */
        uint64_t count; /* increase (counters) or dropped events (lost); 0 for flags */
        uint64_t total; /* new total for counters; 0 otherwise */
} cgm_event;

/**
 * cgm_subscribe() - receive the events of @path on this handle
 * @kinds: NULL-terminated wire names; NULL (or empty) = every kind the host can report
 * @idp:   receives the subscription id (from 1, never reused on the handle); may be NULL
 *
 * "removed" is the last event of a subscription: it ends by itself.
 * Return: 0; -EINVAL (unknown kind); -EACCES outside the caller's home; -ENOENT; -EOPNOTSUPP
 * for a kind the host cannot report (the message says why); -EDQUOT past the limits.
 */
int cgm_subscribe(cgm *h, const char *path, const char *const *kinds, uint32_t *idp);
/** cgm_unsubscribe() - end subscription @id; -ENOENT when there is none (any more) */
int cgm_unsubscribe(cgm *h, uint32_t id);
/** cgm_event_fd() - the fd to poll for POLLIN (the connection's socket: never read it) */
int cgm_event_fd(cgm *h);
/**
 * cgm_event_next() - take the next event; never blocks
 *
 * Return: 0 with *@ev filled (cgm_event_clear() it); -EAGAIN when there is none now;
 * -ECONNRESET (or -EPIPE) when the daemon went away, after the events that came before.
 */
int cgm_event_next(cgm *h, cgm_event *ev);
/** cgm_event_clear() - free @ev's strings and zero it; NULL is accepted */
void cgm_event_clear(cgm_event *ev);

/* ---- sessions and administration (root; Sessions, Users, ExplainPolicy, Reload also for
 * members of the policy's admin group) ---- */

typedef struct cgm_session {
        char *id;
        char *user;
        uid_t uid;
        char *path;     /* the session leaf, absolute */
        bool populated; /* still holds processes */
} cgm_session;

typedef struct cgm_user {
        uid_t uid;
        char *name;  /* recorded at the first login; "" for a home made with cgm_chown() */
        char *home;  /* absolute */
        unsigned n_sessions;
        bool lingers;
} cgm_user;

typedef struct cgm_policy_entry {
        char *key;    /* a resource key, or an option such as "kill_on_logout" */
        char *value;
        char *source; /* "FILE:LINE", or "default" for built-in defaults */
} cgm_policy_entry;

/**
 * cgm_open_session() - root (a PAM module): open a login session for @user and move the
 * calling process (the one that opened the connection) into its leaf
 * @info:  optional session facts, keys CGM_SESSION_INFO_* of protocol.h ("xdg_session_id",
 *         "service", "tty", "rhost")
 * @idp:   receives the session id ("" when the policy excludes the user: no session made)
 * @pathp: receives the leaf's absolute path ("" when excluded); may be NULL
 */
int cgm_open_session(cgm *h, const char *user, const cgm_kv *info, size_t n_info, char **idp,
                     char **pathp);
/** cgm_close_session() - root: end session @id (kill per policy; leaf removed once empty) */
int cgm_close_session(cgm *h, const char *id);
int cgm_sessions(cgm *h, cgm_session **sessionsp, size_t *np);
void cgm_sessions_free(cgm_session *s, size_t n);
int cgm_users(cgm *h, cgm_user **usersp, size_t *np);
void cgm_users_free(cgm_user *u, size_t n);
/**
 * cgm_explain_policy() - every effective value for @user with the file:line it came from
 * @groupsp: the user's groups as NSS reported them (NULL-terminated; may be NULL)
 */
int cgm_explain_policy(cgm *h, const char *user, uid_t *uidp, char ***groupsp,
                       cgm_policy_entry **entriesp, size_t *np);
void cgm_policy_entries_free(cgm_policy_entry *e, size_t n);
/** cgm_reload() - re-read the policy; on error the old one stays and the message says why */
int cgm_reload(cgm *h);

#ifdef __cplusplus
}
#endif
