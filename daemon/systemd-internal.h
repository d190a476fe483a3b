/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd mode, inside: what systemd.c (the loop side) shares with systemd-bus.c (the worker
 * side) and systemd-state.c (the records). Not for any other file. */
#pragma once

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "context.h"
#include "loop.h"
#include "nss.h"
#include "protocol.h"
#include "systemd-props.h"
#include "worker.h"

#define SD_BUS_DEFAULT "unix:path=/run/dbus/system_bus_socket"
#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
/* The state directory, beside the socket, and what one session record may hold. */
#define SD_STATE_DIR "cgm-systemd"
#define SD_SESSION_RECORD_MAX (CGM_PATH_MAX + 64)
/* Properties in one apply: 64 keys per user (policy.h) give at most 2 each but io.max (4),
 * plus the restores of what the policy no longer sets. */
#define SD_APPLY_PROPS_MAX 128
#define SD_RECORD_MAX (SD_APPLY_PROPS_MAX * SD_PROP_TEXT_MAX)
#define SD_WHAT_MAX 400

typedef struct SdSession SdSession;
typedef struct SdApply SdApply;

struct SdSession {
        SdSession *next;
        char id[CGM_NAME_MAX + 1];
        uid_t uid;
        char user[256]; /* "" until NSS has named it (sessions found again at start-up) */
        char cgroup[CGM_PATH_MAX + 1];
        pid_t opener_pid;
        unsigned long long opener_start;
};

/* One apply of a user's policy to user-UID.slice. */
struct SdApply {
        WorkerJob job;
        SdApply *next;
        Manager *m;
        uid_t uid;
        char user[256];
        char **groups;
        size_t n_groups;
        char session[CGM_NAME_MAX + 1]; /* the OpenSession that asked; "" otherwise */
        /* prepared on the loop when the apply starts */
        char unit[64];
        char address[512];
        SdProp props[SD_APPLY_PROPS_MAX];
        SdProp undo[SD_APPLY_PROPS_MAX]; /* the value before (capture) or the reset */
        bool capture[SD_APPLY_PROPS_MAX];
        bool restore[SD_APPLY_PROPS_MAX]; /* writes an undo back: forget the slot after */
        char what[SD_APPLY_PROPS_MAX][SD_WHAT_MAX];
        size_t n_props;
        /* the thread's results */
        DBusConnection *conn;
        int result;
        char error[512];
        int prop_result[SD_APPLY_PROPS_MAX];
        /* the OpenSession reply held until the apply is done or its deadline */
        DBusConnection *reply_conn;
        DBusMessage *reply;
        LoopSource timer;
};

typedef struct SdLookup {
        NssLookup nss;
        Manager *m;
} SdLookup;

struct Systemd {
        Manager *manager;
        char address[512];
        DBusConnection *conn; /* idle connection to the bus; NULL while an apply owns it */
        SdApply *queue;
        SdApply *inflight;
        SdSession *sessions;
        LoopSource sweep;
        bool rescanned; /* the users of sessions found at start-up have been looked up */
        int state_fd;   /* SD_STATE_DIR; -1 when records cannot be kept */
        uid_t *lookups; /* users to look up in NSS (reload, restart), one at a time */
        size_t n_lookups;
        bool lookup_inflight;
};

static inline int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* systemd-bus.c: the system bus, only ever in a worker thread */
/** sd_bus_drop() - close and forget a private bus connection (NULL is fine) */
void sd_bus_drop(DBusConnection **c);
/** sd_apply_run() - WorkerRun of an apply: GetUnit, GetAll for the values to capture,
 * SetUnitProperties (one call, or one per property when systemd refuses the whole call) */
void sd_apply_run(WorkerJob *job);

/* systemd-state.c: records, small files in a directory of root's beside the socket */
/** sd_state_open() - open (and make) SD_STATE_DIR beside @socket_path: mode 0700, cgmd's own;
 * -EPERM when someone else made it */
int sd_state_open(const char *socket_path);
/** sd_state_read() - record @name into @buf, NUL-terminated; -ENOENT when there is none */
int sd_state_read(int dir_fd, const char *name, char *buf, size_t n);
/** sd_state_write() - replace record @name by @len bytes of @buf (a new file, renamed) */
int sd_state_write(int dir_fd, const char *name, const char *buf, size_t len);
/** sd_state_remove() - remove record @name; no record is not an error */
int sd_state_remove(int dir_fd, const char *name);
