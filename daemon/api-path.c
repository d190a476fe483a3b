/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A path from the wire, as a handler needs it: resolved and authorized, and shown back
 *
 * Every method that names a cgroup takes the path the caller wrote (relative to its home, or
 * absolute in its own cgroup namespace), reads it in the caller's namespace (nsview.c),
 * resolves it against the caller's home (root: the base) and authorizes it (auth.c); and every
 * path a reply or an event carries is shown in the caller's namespace again. The cgroup
 * handlers (api-cgroup.c) and Subscribe (events.c) share this file, so that both rules stay
 * one. It depends on nothing but the decisions, so a room that uses it pulls no handler in.
 */
#include <errno.h>
#include <string.h>

#include "audit.h"
#include "auth.h"
#include "cgfs.h"
#include "home.h"
#include "methods.h"
#include "nsview.h"
#include "peer.h"
#include "protocol.h"
#include "systemd.h"

#define API_PATH_MAX (CGM_PATH_MAX + 1100)

const char *api_caller_home(MethodCall *c)
{
        Peer *p = c->peer;
        /* The registry as it is: a home removed behind the daemon's back then fails the
         * operation with NotFound. Checking cgroupfs here would cost every request an open;
         * WhoAmI, Users, Chown and logins check (home_lookup_live()). */
        if (p->principal.is_root)
                return "";
        /* In a container with a cgroup namespace of its own: inside that namespace only. */
        return nsview_scope(&p->ns, home_lookup(&c->manager->homes, p->principal.uid));
}

int api_resolve(MethodCall *c, const char *input, AuthAction action, bool audit_read, char *rel,
                size_t n)
{
        Manager *m = c->manager;
        const char *home = api_caller_home(c);
        char host[API_PATH_MAX];
        int r;

        if (strlen(input) > CGM_PATH_MAX)
                return cgm_error_set(c->error, -ENAMETOOLONG, CGM_ERR_INVALID_NAME,
                                     "path is longer than %d bytes", CGM_PATH_MAX);
        if (!home && systemd_active(m) && !c->peer->ns.cgroup_root &&
            !c->peer->ns.cgroup_root_unknown)
                return systemd_refuse(c, input); /* its tree is systemd --user's */
        /* An absolute path is read in the caller's cgroup namespace. */
        r = nsview_path_in(&c->peer->ns, input, host, sizeof(host), c->error);
        if (r < 0)
                return r;
        r = auth_resolve(m->cgfs.base_api, home, host, rel, n, c->error);
        if (r == 0)
                r = auth_check(&c->peer->principal, m->cgfs.base_api, home, rel, action,
                               c->error);
        /* A refused change is audited too, with the path as the caller wrote it: who tried
         * to act outside their home is what an administrator looks for. */
        if (r < 0 && (action != AUTH_READ || audit_read))
                audit_write_why(c->peer->principal.uid, c->peer->pid,
                                dbus_message_get_member(c->msg), input, "", r, c->error->name,
                                c->error->msg);
        return r;
}

const char *api_caller_path(MethodCall *c, const char *rel, char *out, size_t n)
{
        char host[API_PATH_MAX];

        cgfs_api_path(&c->manager->cgfs, rel, host, sizeof(host));
        return nsview_path_out(&c->peer->ns, host, out, n);
}
