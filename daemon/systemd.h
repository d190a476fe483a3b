/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd mode: logind places the logins, cgm puts the policy on user-UID.slice */
#pragma once

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "context.h"
#include "error.h"
#include "methods.h"
#include "nss.h"

/* How long one apply may take on the bus (connect, GetUnit, GetAll, SetUnitProperties). */
#define SYSTEMD_CALL_TIMEOUT_MS 5000
/* How long an OpenSession reply waits for its user's slice to get the limits. A login never
 * waits longer: systemd that does not answer costs it this much, then it proceeds. */
#define SYSTEMD_REPLY_WAIT_MS 1500
/* How often the sessions are checked against cgroupfs (a scope gone without CloseSession). */
#define SYSTEMD_SWEEP_MS 30000

/**
 * systemd_init() - decide the mode from the policy's session_manager (auto: systemd when
 * systemd is PID 1, i.e. /run/systemd/system exists) and, in systemd mode, set up: find the
 * logind sessions already running (a restart), arm the sweep. Called from sessions_init().
 *
 * Return: 0 (also in cgm mode, where nothing is set up); negative errno with @e.
 */
int systemd_init(Manager *m, CgmError *e);
void systemd_deinit(Manager *m);

/** systemd_active() - is cgmd in systemd mode? */
static inline bool systemd_active(const Manager *m)
{
        return m->systemd != NULL;
}

/** systemd_mode_name() - "systemd" or "cgm", for ExplainPolicy and the logs */
const char *systemd_mode_name(const Manager *m);

/**
 * systemd_session_open() - OpenSession in systemd mode, after NSS has answered
 *
 * Leaves the login where logind put it (its session-N.scope): nothing is created or moved.
 * Records the session (id: @xdg_id when valid and free, else the scope's N, else cN) and
 * queues the apply of @who's policy to user-UID.slice. @pathp gets the login's cgroup.
 *
 * Return: 0; negative errno with @e.
 */
int systemd_session_open(Manager *m, const NssLookup *who, const char *xdg_id, int pidfd,
                         char *idp, size_t id_size, char *pathp, size_t path_size, CgmError *e);

/**
 * systemd_reply_when_applied() - hold the OpenSession @reply of session @id until its
 * user's slice has the limits, or SYSTEMD_REPLY_WAIT_MS (less when the caller's own timeout
 * is short) has passed
 *
 * Return: NULL when the reply is held (it is sent and unreferenced later); @reply itself
 * when there is nothing to wait for (the caller sends it now).
 */
DBusMessage *systemd_reply_when_applied(Manager *m, const char *id, DBusConnection *conn,
                                        DBusMessage *reply, unsigned caller_timeout_ms);

/**
 * systemd_session_close() - CloseSession in systemd mode: forget session @id. Only the
 * process that opened it, or one inside its cgroup, may (as in cgm mode). Nothing is
 * killed: KillUserProcesses= in logind.conf is logind's. @api gets the session's cgroup.
 *
 * Return: 0; -ENOENT, -EACCES, -ESRCH with @e.
 */
int systemd_session_close(Manager *m, const char *id, int caller_pidfd, char *api,
                          size_t api_size, CgmError *e);

/** systemd_sessions_append() - the sessions as Sessions' (ssusb) entries */
void systemd_sessions_append(Manager *m, DBusMessageIter *arr);

/** systemd_users_append() - users with sessions as Users' (ussub) entries */
void systemd_users_append(Manager *m, DBusMessageIter *arr);

/** systemd_reload() - after a reload: apply the new policy to every user with a session */
void systemd_reload(Manager *m);

/**
 * systemd_whoami() - WhoAmI for a user without a cgm home in systemd mode: the home is
 * user@UID.service (where systemd --user lets the user subdivide), the limits are read from
 * user-UID.slice
 *
 * Return: 0 with c->reply set; negative errno with c->error.
 */
int systemd_whoami(MethodCall *c);

/**
 * systemd_refuse() - the refusal for a user without a cgm home who names a path in systemd
 * mode: that tree is systemd --user's
 *
 * Return: -EOPNOTSUPP with c->error (NotSupported).
 */
int systemd_refuse(MethodCall *c, const char *path);
