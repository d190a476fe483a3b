/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Peers: one client connection, the principal behind it, and per-uid charges */
#pragma once

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "auth.h"
#include "context.h"
#include "nsview.h"

struct UidCharge {
        UidCharge *next;
        uid_t uid;
        unsigned n_connections;
        double request_tokens; /* token buckets, refilled by elapsed time */
        double create_tokens;
        uint64_t refilled_ns;
        uint64_t logged_ns; /* last time a refusal for this uid was logged */
        long queued_bytes;  /* unread replies of all its connections, as last measured */
        unsigned n_paused;  /* its connections paused for not reading their replies */
        unsigned n_subscriptions; /* Subscribe of all its connections (events.c) */
};

struct Peer {
        Peer *next, *prev;
        Peer *next_pending;
        bool is_pending;
        Peer *next_paused; /* on Manager.paused while it does not read its replies */
        bool is_paused;
        bool is_held;      /* not served while a request of its runs on a worker */
        long queued;       /* bytes of unread replies charged to its uid */
        Manager *manager;
        DBusConnection *conn;
        uint64_t id;
        Principal principal;
        pid_t pid;   /* in the daemon's pid namespace, at connect time */
        gid_t gid;   /* SO_PEERCRED */
        gid_t groups[64]; /* SO_PEERGROUPS: supplementary groups at connect time */
        unsigned n_groups;
        int pidfd;   /* SO_PEERPIDFD: pinned at connect(), names the process race-free */
        NsView ns;   /* its user, pid and cgroup namespaces at connect */
        UidCharge *charge;
        struct EventsPeer *events; /* its subscriptions and event queue state (events.c) */
};

/**
 * peer_new() - take identity from the connection's socket and charge a connection to its uid
 *
 * Return: 0; -EDQUOT when the uid has too many connections; -EIO when the kernel does not
 * tell who the peer is; -ESRCH when the process that connected has exited already; another
 * negative errno when its namespaces cannot be read (nsview.c).
 */
int peer_new(Peer **peerp, Manager *m, DBusConnection *conn);
void peer_free(Peer *p);

/**
 * peer_charge_request() - take one request (and one creation when @create) from the
 * caller's budget
 *
 * Return: 0, or -EDQUOT when the per-second budget is used up. Root is never limited.
 */
int peer_charge_request(Peer *p, bool create);

/** peer_in_group() - is @gid the peer's group or one of its supplementary groups? */
bool peer_in_group(const Peer *p, gid_t gid);

/** peer_charges_free() - drop the charges of uids with no connection left (at exit) */
void peer_charges_free(Manager *m);

/** peer_should_log_global() - rate limit for refusals that concern no uid: once per 10 s */
bool peer_should_log_global(Manager *m);

/** peer_should_log_refusal() - rate limit for refusal logs: once per uid per 10 s */
bool peer_should_log_refusal(Peer *p);
