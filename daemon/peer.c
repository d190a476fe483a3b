/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Peers: one client connection, the principal behind it, and per-uid charges
 *
 * Who a client is comes from the kernel when the connection is accepted, never from a
 * message: SO_PEERCRED gives the uid and pid captured at connect(), SO_PEERPIDFD (Linux 6.5)
 * a pidfd for the very process that connected, so MoveSelf cannot be redirected to a
 * recycled pid. On older kernels the pidfd is opened from the SO_PEERCRED pid and checked
 * against the credentials once more.
 *
 * A principal is "root" only when it is uid 0 in the daemon's own (the initial) user
 * namespace: uid 0 inside a container is the host uid the kernel reports (SO_PEERCRED
 * translates into the daemon's namespace), with one addition: as root of its user namespace
 * it may act for the uids that namespace maps, in its own home (auth.c). What namespaces a
 * peer lives in is read once here (nsview.c) and checked again with each request.
 *
 * Every uid is charged for what its connections cost: a connection count and two token
 * buckets, one for requests and one for cgroup creations. Charges live in a small hash by uid
 * and are freed with the uid's last connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "events.h"
#include "log.h"
#include "nsview.h"
#include "peer.h"
#include "proc.h"
#include "protocol.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static UidCharge **charge_slot(Manager *m, uid_t uid)
{
        UidCharge **c = &m->charges[uid % MANAGER_CHARGE_BUCKETS];
        while (*c && (*c)->uid != uid)
                c = &(*c)->next;
        return c;
}

static void charge_refill(Manager *m, UidCharge *c)
{
        uint64_t now = now_ns();
        double secs = (double)(now - c->refilled_ns) / 1e9;

        c->refilled_ns = now;
        c->request_tokens += secs * m->requests_per_second;
        if (c->request_tokens > m->requests_per_second)
                c->request_tokens = m->requests_per_second;
        c->create_tokens += secs * m->creates_per_second;
        if (c->create_tokens > m->creates_per_second)
                c->create_tokens = m->creates_per_second;
}

/*
 * A uid's charge outlives its connections until its buckets are full again: otherwise a
 * client could reset its budget by reconnecting (cgm opens one connection per command).
 * Charges of the chain that @uid hashes to are freed here once idle and refilled, so memory
 * stays bounded by the uids active in the last second or so.
 */
static void charge_collect(Manager *m, uid_t uid)
{
        UidCharge **c = &m->charges[uid % MANAGER_CHARGE_BUCKETS];

        while (*c) {
                UidCharge *ch = *c;
                if (ch->n_connections == 0) {
                        charge_refill(m, ch);
                        if (ch->request_tokens >= m->requests_per_second &&
                            ch->create_tokens >= m->creates_per_second) {
                                *c = ch->next;
                                free(ch);
                                continue;
                        }
                }
                c = &ch->next;
        }
}

int peer_new(Peer **peerp, Manager *m, DBusConnection *conn)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);
        int fd = -1, pidfd = -1;
        UidCharge **slot, *charge;
        NsView ns;
        Peer *p;
        int r;

        if (!dbus_connection_get_socket(conn, &fd) || fd < 0)
                return -EIO;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid <= 0)
                return -EIO;
        len = sizeof(pidfd);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0) {
                ProcInfo info;
                /* Before 6.5: open a pidfd now and make sure it is still the same process. */
                pidfd = proc_pidfd_open(cred.pid);
                if (pidfd < 0 || proc_pidfd_info(pidfd, &info) < 0 || info.euid != cred.uid) {
                        pidfd = safe_close(pidfd);
                        return -EIO;
                }
        }

        {
                char key[128];
                r = nsview_capture(&ns, &m->ns, pidfd, cgfs_proc_key(&m->cgfs, key, sizeof(key)));
                if (r == 0)
                        r = nsview_set_base(&ns, m->cgfs.h[m->cgfs.primary].base_path);
        }
        if (r < 0) {
                if (r != -ESRCH)
                        log_warning("refusing a connection of uid %u: cannot read its namespaces "
                                    "(%s)",
                                    (unsigned)cred.uid, strerror(-r));
                nsview_free(&ns);
                safe_close(pidfd);
                return r; /* -ESRCH: it has exited already, nobody is left to answer */
        }

        charge_collect(m, cred.uid);
        slot = charge_slot(m, cred.uid);
        charge = *slot;
        if (charge && cred.uid != 0 && charge->n_connections >= m->connections_per_uid) {
                if (now_ns() - charge->logged_ns > 10000000000ull) {
                        charge->logged_ns = now_ns();
                        log_warning("uid %u is refused a connection: it already has %u "
                                    "(the limit per uid)",
                                    (unsigned)cred.uid, charge->n_connections);
                }
                nsview_free(&ns);
                safe_close(pidfd);
                return -EDQUOT;
        }
        p = calloc(1, sizeof(*p));
        if (!p) {
                nsview_free(&ns);
                safe_close(pidfd);
                return -ENOMEM;
        }
        if (!charge) {
                charge = calloc(1, sizeof(*charge));
                if (!charge) {
                        free(p);
                        nsview_free(&ns);
                        safe_close(pidfd);
                        return -ENOMEM;
                }
                charge->uid = cred.uid;
                charge->request_tokens = m->requests_per_second;
                charge->create_tokens = m->creates_per_second;
                charge->refilled_ns = now_ns();
                *slot = charge;
        }
        charge->n_connections++;

        p->manager = m;
        p->conn = dbus_connection_ref(conn);
        p->id = ++m->next_peer_id;
        p->pid = cred.pid;
        p->gid = cred.gid;
        len = sizeof(p->groups);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p->groups, &len) == 0)
                p->n_groups = len / sizeof(gid_t);
        p->pidfd = pidfd;
        p->charge = charge;
        p->ns = ns;
        p->principal.uid = cred.uid;
        p->principal.is_root = cred.uid == 0 && !ns.in_userns;
        /* Root of a user namespace: uid 0 there, in a namespace whose map is written. */
        p->principal.ns_root = ns.in_userns && uidmap_to_inside(&ns.map, cred.uid) == 0;
        p->principal.map = p->principal.ns_root ? &p->ns.map : NULL;
        p->principal.view = ns.in_userns ? &p->ns.map : NULL;
        p->principal.overflow_uid = ns.overflow_uid;
        p->next = m->peers;
        if (m->peers)
                m->peers->prev = p;
        m->peers = p;
        m->n_peers++;
        *peerp = p;
        return 0;
}

void peer_free(Peer *p)
{
        Manager *m;

        if (!p)
                return;
        m = p->manager;
        events_peer_gone(m, p); /* its subscriptions end with the connection */
        if (p->prev)
                p->prev->next = p->next;
        else
                m->peers = p->next;
        if (p->next)
                p->next->prev = p->prev;
        if (p->is_pending) {
                Peer **q = &m->pending;
                while (*q && *q != p)
                        q = &(*q)->next_pending;
                if (*q)
                        *q = p->next_pending;
        }
        if (p->is_paused) {
                Peer **q = &m->paused;
                while (*q && *q != p)
                        q = &(*q)->next_paused;
                if (*q)
                        *q = p->next_paused;
                p->charge->n_paused--;
        }
        m->n_peers--;
        p->charge->queued_bytes -= p->queued;
        p->charge->n_connections--;
        charge_collect(m, p->charge->uid);
        safe_close(p->pidfd);
        nsview_free(&p->ns);
        dbus_connection_unref(p->conn);
        free(p);
}

int peer_charge_request(Peer *p, bool create)
{
        UidCharge *c = p->charge;

        if (p->principal.is_root)
                return 0;
        charge_refill(p->manager, c);
        if (c->request_tokens < 1 || (create && c->create_tokens < 1))
                return -EDQUOT;
        c->request_tokens -= 1;
        if (create)
                c->create_tokens -= 1;
        return 0;
}

bool peer_should_log_global(Manager *m)
{
        uint64_t now = now_ns();

        if (now - m->refused_logged_ns < 10000000000ull)
                return false;
        m->refused_logged_ns = now;
        return true;
}

bool peer_should_log_refusal(Peer *p)
{
        uint64_t now = now_ns();

        if (now - p->charge->logged_ns < 10000000000ull)
                return false;
        p->charge->logged_ns = now;
        return true;
}

void peer_charges_free(Manager *m)
{
        for (size_t i = 0; i < MANAGER_CHARGE_BUCKETS; i++)
                while (m->charges[i]) {
                        UidCharge *c = m->charges[i];
                        m->charges[i] = c->next;
                        free(c);
                }
}

bool peer_in_group(const Peer *p, gid_t gid)
{
        if (p->gid == gid)
                return true;
        for (unsigned i = 0; i < p->n_groups; i++)
                if (p->groups[i] == gid)
                        return true;
        return false;
}
