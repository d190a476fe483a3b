/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Layout: what libcgm needs to answer the caller's reads itself
 *
 * cgroupfs files are world-readable, so a read through the daemon costs a round trip and buys
 * nothing the caller could not do alone, once it knows where its cgroups lie. Layout tells it,
 * once per connection: the base as it sees it, its home (what the daemon would let it read),
 * whether its pid numbers are the daemon's, and for each hierarchy the daemon uses its kind,
 * its controllers (which decide where a key is read), the base's path in the hierarchy and
 * the identity (st_dev, st_ino) of the base directory, so that the client can check that the
 * directory it found through its own mounts is the daemon's (client/direct.c).
 *
 * It hands out nothing the caller cannot read already: paths and numbers of directories that
 * are world-readable in cgroupfs, the caller's own home (WhoAmI says it too), and no file
 * descriptor. A caller in a cgroup namespace of its own gets `direct` false and nothing else:
 * its paths are translated by the daemon (nsview.c), whose root in the hierarchy the kernel
 * hides from it and cgmd does not tell; it reads through the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "cgfs.h"
#include "cleanup.h"
#include "home.h"
#include "methods.h"
#include "nsview.h"
#include "peer.h"
#include "reply.h"

int api_layout(MethodCall *c)
{
        Manager *m = c->manager;
        const Peer *p = c->peer;
        const char *home = p->principal.is_root ? "" : home_lookup(&m->homes, p->principal.uid);
        dbus_bool_t direct = !p->ns.cgroup_root && !p->ns.cgroup_root_unknown;
        dbus_bool_t has_home = direct && home != NULL;
        dbus_bool_t same_pids = direct && p->ns.pid_level == 0;
        dbus_uint32_t uid = nsview_uid_out(&p->ns, p->principal.uid);
        dbus_uint32_t primary = (dbus_uint32_t)m->cgfs.primary;
        DBusMessageIter it, arr, st;

        c->reply = dbus_message_new_method_return(c->msg);
        if (!c->reply)
                return cgm_error_set(c->error, -ENOMEM, NULL, "out of memory");
        dbus_message_iter_init_append(c->reply, &it);
        dbus_message_iter_append_basic(&it, DBUS_TYPE_BOOLEAN, &direct);
        dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT32, &uid);
        reply_append_string(&it, direct ? m->cgfs.base_api : "");
        dbus_message_iter_append_basic(&it, DBUS_TYPE_BOOLEAN, &has_home);
        reply_append_string(&it, has_home ? home : "");
        dbus_message_iter_append_basic(&it, DBUS_TYPE_BOOLEAN, &same_pids);
        dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT32, &primary);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "(bsstt)", &arr);
        for (size_t i = 0; direct && i < m->cgfs.n; i++) {
                const Hierarchy *h = &m->cgfs.h[i];
                struct stat sb = { 0 };
                dbus_bool_t v2 = h->is_v2;
                dbus_uint64_t dev, ino;

                (void)fstat(h->base_fd, &sb); /* a zero identity matches no directory */
                dev = (dbus_uint64_t)sb.st_dev;
                ino = (dbus_uint64_t)sb.st_ino;
                dbus_message_iter_open_container(&arr, DBUS_TYPE_STRUCT, NULL, &st);
                dbus_message_iter_append_basic(&st, DBUS_TYPE_BOOLEAN, &v2);
                reply_append_string(&st, h->controllers);
                reply_append_string(&st, h->base_path);
                dbus_message_iter_append_basic(&st, DBUS_TYPE_UINT64, &dev);
                dbus_message_iter_append_basic(&st, DBUS_TYPE_UINT64, &ino);
                dbus_message_iter_close_container(&arr, &st);
        }
        dbus_message_iter_close_container(&it, &arr);
        return 0;
}
