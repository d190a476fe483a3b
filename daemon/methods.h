/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Methods: the table of the cgm interface, introspection, and the dispatcher */
#pragma once

#include <dbus/dbus.h>
#include <stdbool.h>

#include "auth.h"
#include "context.h"
#include "error.h"

typedef struct Peer Peer;

typedef struct MethodCall {
        Manager *manager;
        Peer *peer;
        DBusMessage *msg;
        DBusMessage *reply; /* set by the handler on success */
        CgmError *error;
} MethodCall;

typedef int (*MethodHandler)(MethodCall *call);

typedef enum MethodClass {
        METHOD_ANY,   /* any principal; paths are authorized inside the handler */
        METHOD_ROOT,  /* uid 0 of the initial user namespace only */
        METHOD_ADMIN, /* root, or a member of the policy's admin_group */
} MethodClass;

/* A handler's return value when the reply will be sent later (after a worker). */
#define METHOD_PENDING 1

typedef struct Method {
        const char *name;
        const char *in;       /* D-Bus signature of the arguments */
        const char *in_names; /* comma-separated argument names, for introspection */
        const char *out;
        const char *out_names;
        MethodClass class;
        bool creates; /* charged against the per-uid creation budget */
        MethodHandler handler;
        const char *doc;
} Method;

/** methods_filter() - libdbus filter installed on every connection; @data is the Peer */
DBusHandlerResult methods_filter(DBusConnection *conn, DBusMessage *msg, void *data);

/* Paths of a request, api-path.c (shared by the handlers and Subscribe) */
/**
 * api_resolve() - a path from the wire, read in the caller's cgroup namespace, resolved against
 * its home (root: the base) and authorized for @action
 * @audit_read: audit a refused read too (a refused change always is)
 * @rel, @n:    the result, relative to the base
 *
 * Return: 0, or a negative errno with @c's error filled.
 */
int api_resolve(MethodCall *c, const char *input, AuthAction action, bool audit_read, char *rel,
                size_t n);
/** api_caller_home() - the caller's home as the base-relative resolution sees it: "" for
 * root, NULL without one (or outside the caller's cgroup namespace) */
const char *api_caller_home(MethodCall *c);
/** api_caller_path() - @rel (relative to the base) as the caller's cgroup namespace shows it */
const char *api_caller_path(MethodCall *c, const char *rel, char *out, size_t n);

/* Handlers, api-cgroup.c */
/** api_cgroup_jobs_init() - start the threads for kernel writes that may block */
int api_cgroup_jobs_init(Manager *m);
/** api_cgroup_jobs_deinit() - stop them; requests still waiting are dropped unanswered */
void api_cgroup_jobs_deinit(Manager *m);
int api_ping(MethodCall *c);
int api_version(MethodCall *c);
int api_whoami(MethodCall *c);
int api_create(MethodCall *c);
int api_remove(MethodCall *c);
int api_set(MethodCall *c);
int api_get(MethodCall *c);
int api_list(MethodCall *c);
int api_procs(MethodCall *c);
int api_move(MethodCall *c);
int api_move_self(MethodCall *c);
int api_proc_cgroup(MethodCall *c);
int api_kill(MethodCall *c);
int api_freeze(MethodCall *c);
int api_thaw(MethodCall *c);
int api_stat(MethodCall *c);
int api_chown(MethodCall *c);

/* Handler, api-layout.c */
int api_layout(MethodCall *c);

/* Handlers, api-session.c */
int api_open_session(MethodCall *c);
int api_close_session(MethodCall *c);
int api_sessions(MethodCall *c);
int api_users(MethodCall *c);
int api_explain_policy(MethodCall *c);
int api_reload(MethodCall *c);
