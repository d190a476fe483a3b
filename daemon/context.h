/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's context: all of its mutable state, in one place */
#pragma once

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stdint.h>

#include "cgfs.h"
#include "home.h"
#include "loop.h"
#include "nsview.h"
#include "table.h"
#include "worker.h"

typedef struct Peer Peer;
typedef struct UidCharge UidCharge;
typedef struct Policy Policy;
typedef struct Session Session;
typedef struct Pending Pending;
typedef struct HomeWait HomeWait;
typedef struct Systemd Systemd;
typedef struct CgJob CgJob;
typedef struct Events Events;

#define MANAGER_CHARGE_BUCKETS 256

typedef struct Manager {
        Loop loop;
        LoopSource signals; /* signalfd: SIGTERM, SIGINT, SIGHUP */
        Cgfs cgfs;
        HomeRegistry homes;

        DBusServer *server;
        char socket_path[108];
        dbus_int32_t peer_slot; /* libdbus data slot holding the Peer of a connection */

        Peer *peers;         /* every live connection */
        Peer *pending;       /* connections with messages queued for dispatch */
        Peer *paused;        /* connections not served until they read their replies */
        unsigned n_peers;
        uint64_t next_peer_id;
        UidCharge *charges[MANAGER_CHARGE_BUCKETS];

        Policy *policy;
        const char *config_path; /* -c, or NULL for the default files */
        Workers workers;         /* NSS lookups */
        gid_t admin_gid;         /* the policy's admin_group, resolved at load */
        bool have_admin_gid;

        Session *sessions;      /* every session leaf, found again from cgroupfs at start */
        unsigned n_sessions;
        Table sessions_by_id;   /* indexes of the sessions (session.c) */
        Table sessions_by_uid;
        Table sessions_by_wd;
        Session *check_queue;   /* sessions to look at, a bounded batch per loop turn */
        Session *check_cursor;  /* where the next batch of the periodic check starts */
        bool check_sweep;       /* a periodic check is under way (from check_cursor on) */
        bool check_armed;       /* check_work is readable */
        bool sweep_fast;        /* sessions without a watch, or retries: the sweep runs as on v1 */
        bool watch_limit_told;  /* max_user_watches reached: said once (session.c) */
        unsigned n_cleanups;    /* leaf removals on the cgroup workers */
        LoopSource check_work;  /* eventfd: readable while the queue or a sweep has work */
        uint64_t next_session_serial;
        HomeWait *home_waits;   /* homes to remove once empty and past their grace */
        LoopSource home_timer;  /* timerfd: the earliest grace of home_waits ends */
        LoopSource inotify;     /* cgroup.events of session leaves and emptying homes */
        LoopSource sweep;       /* timerfd: periodic check where there is no cgroup.events */
        Pending *requests;      /* requests waiting for a worker */
        Workers cg_workers;     /* kernel writes that may block (api-cgroup.c) */
        CgJob *cg_jobs;         /* their requests, in arrival order, running or waiting */
        bool stopping;
        Systemd *systemd;       /* systemd mode (systemd.c); NULL in cgm mode */
        struct NotifyTty *notify_tty; /* OOM notices on sessions' terminals (notify-tty.c) */

        unsigned requests_per_second; /* per non-root uid */
        unsigned creates_per_second;  /* per non-root uid */
        unsigned connections_per_uid;
        unsigned connections_max;     /* all uids together, from RLIMIT_NOFILE */
        uint64_t n_accepted;          /* connections accepted so far (refused ones too) */
        LoopSource accept_timer;      /* resumes accepting after a failed accept */
        void *accept_paused;          /* the listening socket's watch while paused */
        uint64_t refused_logged_ns;   /* last log of a refusal for the global limit */
        NsSelf ns; /* cgmd's own namespaces: a caller in others is seen through nsview.c */
        Events *events; /* watched *.events files, subscriptions, internal listeners (events.c) */
} Manager;
