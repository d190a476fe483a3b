/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libcgm internal: the Event signals a handle keeps until cgm_event_next() returns them
 *
 * A handle's connection carries replies and, once the caller has subscribed, Event signals.
 * A call waits for its reply with libdbus' blocking send, which leaves whatever else arrives
 * meanwhile in the connection's incoming queue; call() (libcgm.c) then empties that queue
 * into this stash, so that signals are neither dropped nor left to grow behind a caller that
 * only makes calls. cgm_event_next() (events.c) returns the stash first, then what is still
 * queued or readable on the socket. Only Event signals are kept, and only up to
 * EVENT_STASH_MAX of them: past that they are counted, and the caller gets one "lost" event
 * with the count, as the daemon does for its own queue.
 */
#pragma once

#include <dbus/dbus.h>
#include <stddef.h>
#include <stdint.h>

#include "cgm.h"

/* Events kept while the caller makes calls without reading them. The daemon sends at most
 * CGM_EVENT_QUEUE_MAX (64) unread ones to a connection; this only needs to be larger than a
 * few of those windows, and bounds the memory a caller that never reads can hold. */
#define EVENT_STASH_MAX 1024

typedef struct EventStash {
        DBusMessage **messages; /* a ring of EVENT_STASH_MAX, allocated at the first event */
        size_t head;
        size_t n;
        uint64_t lost; /* dropped because the stash was full, not yet reported */
} EventStash;

/** events_stash() - keep @m if it is an Event signal, else unref it; takes @m either way */
void events_stash(EventStash *s, DBusMessage *m);

/** events_stash_free() - drop every message kept (the handle is going away) */
void events_stash_free(EventStash *s);

/* libcgm.c's side, for events.c only (not exported: libcgm.sym lists the API by name) */
DBusConnection *libcgm_connection(cgm *h);
EventStash *libcgm_stash(cgm *h);
/** libcgm_begin() - the start of every entry point: -EINVAL, -ENOTCONN, or 0 (error cleared) */
int libcgm_begin(cgm *h);
/** libcgm_fail() - record a failure on @h and return @code */
int libcgm_fail(cgm *h, int code, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/** libcgm_call() - call() of libcgm.c: send @m, wait, check the reply's signature */
int libcgm_call(cgm *h, DBusMessage *m, const char *method, const char *reply_signature,
                DBusMessage **replyp);
/** libcgm_socket() - the socket path of the handle, for messages */
const char *libcgm_socket(const cgm *h);
