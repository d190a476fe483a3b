/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libcgm events: Subscribe, Unsubscribe, and the Event signals for the caller's own loop */

/*
 * The daemon sends a subscriber's events as Event signals on the subscriber's own
 * connection, the one its handle holds. Nothing here owns a thread or a loop: the caller
 * polls the connection's socket (cgm_event_fd()) with whatever it already runs, and after
 * every wakeup, and after every other call on the handle, takes events with cgm_event_next()
 * until -EAGAIN. That function never blocks: it returns what calls have set aside (events.h),
 * then what libdbus has already read, and reads the socket once, without waiting, for more.
 *
 * Two things would lose events silently, and neither happens here:
 *  - a call waiting for its reply: libdbus keeps every other message in the connection's
 *    incoming queue, and call() moves the Event signals among them to the handle's stash;
 *  - a caller that makes calls and never reads: the stash is bounded, and what does not fit
 *    is counted and reported as one "lost" event (id 0), as the daemon reports the events it
 *    could not queue for a subscriber that does not read.
 *
 * A connection the daemon closed shows as -ECONNRESET, after every event that arrived before
 * the close has been returned; subscriptions end with the connection, on both sides.
 */

#include <dbus/dbus.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgm.h"
#include "cleanup.h"
#include "events.h"
#include "protocol.h"

#define EVENT_MEMBER "Event"
#define EVENT_SIGNATURE "ussa{st}"

/* A kind's wire name is a short word ("memory_high"); this only bounds what is sent. */
#define KIND_NAME_MAX 64
/* More names than kinds exist would only repeat some; the daemon refuses unknown ones. */
#define KINDS_MAX 64

static bool is_event(DBusMessage *m)
{
        return dbus_message_is_signal(m, CGM_DBUS_INTERFACE, EVENT_MEMBER) &&
               dbus_message_has_signature(m, EVENT_SIGNATURE);
}

void events_stash(EventStash *s, DBusMessage *m)
{
        if (!is_event(m)) {
                dbus_message_unref(m);
                return;
        }
        if (!s->messages) {
                s->messages = calloc(EVENT_STASH_MAX, sizeof(*s->messages));
                if (!s->messages) {
                        s->lost++;
                        dbus_message_unref(m);
                        return;
                }
        }
        if (s->n >= EVENT_STASH_MAX) {
                s->lost++;
                dbus_message_unref(m);
                return;
        }
        s->messages[(s->head + s->n) % EVENT_STASH_MAX] = m;
        s->n++;
}

static DBusMessage *stash_pop(EventStash *s)
{
        DBusMessage *m;

        if (s->n == 0)
                return NULL;
        m = s->messages[s->head];
        s->messages[s->head] = NULL;
        s->head = (s->head + 1) % EVENT_STASH_MAX;
        s->n--;
        return m;
}

/* Put @m back in front, for a caller that could not take it (out of memory). */
static void stash_unpop(EventStash *s, DBusMessage *m)
{
        if (!s->messages || s->n >= EVENT_STASH_MAX) {
                s->lost++;
                dbus_message_unref(m);
                return;
        }
        s->head = (s->head + EVENT_STASH_MAX - 1) % EVENT_STASH_MAX;
        s->messages[s->head] = m;
        s->n++;
}

void events_stash_free(EventStash *s)
{
        DBusMessage *m;

        if (!s->messages)
                return;
        while ((m = stash_pop(s)))
                dbus_message_unref(m);
        free(s->messages);
        *s = (EventStash){};
}

static int check_text(cgm *h, const char *what, const char *s, size_t max, int too_long)
{
        if (!s)
                return libcgm_fail(h, -EINVAL, NULL, "the %s is NULL", what);
        if (strlen(s) > max)
                return libcgm_fail(h, too_long, NULL,
                                   "the %s is %zu bytes long, at most %zu are accepted", what,
                                   strlen(s), max);
        if (!dbus_validate_utf8(s, NULL))
                return libcgm_fail(h, -EINVAL, NULL, "the %s is not valid UTF-8", what);
        return 0;
}

/**
 * cgm_subscribe() - receive events of one cgroup on this handle
 * @h:     handle
 * @path:  cgroup ("" = the caller's home; root: the base)
 * @kinds: NULL-terminated wire names ("populated", "empty", "oom", "oom_kill", "memory_high",
 *         "memory_max", "pids_max", "frozen", "thawed", "removed"); NULL or empty means
 *         every kind the host can report for that cgroup
 * @idp:   receives the subscription id (per handle, from 1, never reused); may be NULL
 *
 * Return: 0; -EINVAL for a bad argument or an unknown kind; the daemon's refusal (-EACCES
 * outside the caller's home, -ENOENT for a missing cgroup, -EOPNOTSUPP naming a kind the host
 * cannot report, -EDQUOT past the subscription limits); a transport error.
 */
int cgm_subscribe(cgm *h, const char *path, const char *const *kinds, uint32_t *idp)
{
        _cleanup_message_ DBusMessage *m = NULL, *reply = NULL;
        DBusMessageIter it, array;
        dbus_uint32_t id = 0;
        size_t n = 0;
        int r;

        r = libcgm_begin(h);
        if (r < 0)
                return r;
        r = check_text(h, "path", path, CGM_PATH_MAX, -ENAMETOOLONG);
        if (r < 0)
                return r;
        for (; kinds && kinds[n]; n++) {
                if (n >= KINDS_MAX)
                        return libcgm_fail(h, -E2BIG, NULL,
                                           "more than %d kinds given; there are only a dozen",
                                           KINDS_MAX);
                r = check_text(h, "kind", kinds[n], KIND_NAME_MAX, -EINVAL);
                if (r < 0)
                        return r;
        }
        m = dbus_message_new_method_call(NULL, CGM_DBUS_PATH, CGM_DBUS_INTERFACE, "Subscribe");
        if (!m)
                return libcgm_fail(h, -ENOMEM, NULL, "out of memory (Subscribe)");
        dbus_message_iter_init_append(m, &it);
        if (!dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &path) ||
            !dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "s", &array))
                return libcgm_fail(h, -ENOMEM, NULL, "out of memory (Subscribe)");
        for (size_t i = 0; i < n; i++)
                if (!dbus_message_iter_append_basic(&array, DBUS_TYPE_STRING, &kinds[i])) {
                        dbus_message_iter_abandon_container(&it, &array);
                        return libcgm_fail(h, -ENOMEM, NULL, "out of memory (Subscribe)");
                }
        if (!dbus_message_iter_close_container(&it, &array))
                return libcgm_fail(h, -ENOMEM, NULL, "out of memory (Subscribe)");
        r = libcgm_call(h, m, "Subscribe", "u", &reply);
        if (r < 0)
                return r;
        if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_UINT32, &id, DBUS_TYPE_INVALID))
                return libcgm_fail(h, -ENOMEM, NULL, "out of memory (Subscribe)");
        if (idp)
                *idp = id;
        return 0;
}

/**
 * cgm_unsubscribe() - end subscription @id of this handle
 *
 * Events of it that arrived before the reply may still be returned by cgm_event_next().
 * Return: 0; the daemon's refusal (-ENOENT for an unknown id, or one that ended with its
 * cgroup's removal); a transport error.
 */
int cgm_unsubscribe(cgm *h, uint32_t id)
{
        _cleanup_message_ DBusMessage *m = NULL;
        dbus_uint32_t u = id;
        int r;

        r = libcgm_begin(h);
        if (r < 0)
                return r;
        m = dbus_message_new_method_call(NULL, CGM_DBUS_PATH, CGM_DBUS_INTERFACE, "Unsubscribe");
        if (!m || !dbus_message_append_args(m, DBUS_TYPE_UINT32, &u, DBUS_TYPE_INVALID))
                return libcgm_fail(h, -ENOMEM, NULL, "out of memory (Unsubscribe)");
        return libcgm_call(h, m, "Unsubscribe", "", NULL);
}

/**
 * cgm_event_fd() - the fd to poll for POLLIN; events are then taken with cgm_event_next()
 *
 * The fd is the connection's own socket: poll it, never read or close it.
 * Return: the fd; -EINVAL, -ENOTCONN.
 */
int cgm_event_fd(cgm *h)
{
        int fd = -1, r;

        r = libcgm_begin(h);
        if (r < 0)
                return r;
        if (!dbus_connection_get_unix_fd(libcgm_connection(h), &fd) || fd < 0)
                return libcgm_fail(h, -ENOTCONN, NULL, "the connection has no socket");
        return fd;
}

/** cgm_event_clear() - free what cgm_event_next() put in @ev and zero it; NULL is accepted */
void cgm_event_clear(cgm_event *ev)
{
        if (!ev)
                return;
        free(ev->path);
        free(ev->kind);
        *ev = (cgm_event){};
}

/* Fill @ev from an Event signal (its signature was checked by is_event()). */
static int event_read(DBusMessage *m, cgm_event *ev)
{
        DBusMessageIter it, dict, entry;
        dbus_uint32_t id;
        const char *path, *kind;

        dbus_message_iter_init(m, &it);
        dbus_message_iter_get_basic(&it, &id);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &path);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &kind);
        dbus_message_iter_next(&it);
        *ev = (cgm_event){ .id = id };
        dbus_message_iter_recurse(&it, &dict);
        while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
                const char *key;
                dbus_uint64_t value;

                dbus_message_iter_recurse(&dict, &entry);
                dbus_message_iter_get_basic(&entry, &key);
                dbus_message_iter_next(&entry);
                dbus_message_iter_get_basic(&entry, &value);
                if (strcmp(key, "count") == 0)
                        ev->count = value;
                else if (strcmp(key, "total") == 0)
                        ev->total = value;
                dbus_message_iter_next(&dict);
        }
        ev->path = strdup(path);
        ev->kind = strdup(kind);
        if (!ev->path || !ev->kind) {
                cgm_event_clear(ev);
                return -ENOMEM;
        }
        return 0;
}

/**
 * cgm_event_next() - the next event of any subscription of this handle, without blocking
 * @h:  handle
 * @ev: receives the event (cgm_event_clear()); zeroed when there is none
 *
 * Call it until -EAGAIN after every wakeup of cgm_event_fd() and after every other call on
 * the handle: a call may have received events while it waited for its reply.
 *
 * Return: 0 with *@ev filled; -EAGAIN when there is none now; -ECONNRESET when the daemon
 * closed the connection (every event that came before has been returned; subscriptions are
 * gone); -ENOMEM (the event stays for the next call); -EINVAL, -ENOTCONN.
 */
int cgm_event_next(cgm *h, cgm_event *ev)
{
        DBusConnection *conn;
        EventStash *s;
        bool have_read = false;
        int r;

        r = libcgm_begin(h);
        if (r < 0)
                return r;
        if (!ev)
                return libcgm_fail(h, -EINVAL, NULL, "no place for the event");
        *ev = (cgm_event){};
        conn = libcgm_connection(h);
        s = libcgm_stash(h);
        for (;;) {
                DBusMessage *m = stash_pop(s);
                bool stashed = m != NULL;

                if (!m && s->lost > 0) {
                        /* What the stash could not hold came after what it holds. */
                        ev->path = strdup("");
                        ev->kind = strdup("lost");
                        if (!ev->path || !ev->kind) {
                                cgm_event_clear(ev);
                                return libcgm_fail(h, -ENOMEM, NULL, "out of memory (event)");
                        }
                        ev->count = s->lost;
                        s->lost = 0;
                        return 0;
                }
                if (!m)
                        m = dbus_connection_pop_message(conn);
                if (!m) {
                        if (!have_read && dbus_connection_get_is_connected(conn)) {
                                /* Once per call, and with no wait: never blocks. */
                                (void)dbus_connection_read_write(conn, 0);
                                have_read = true;
                                continue;
                        }
                        if (!dbus_connection_get_is_connected(conn))
                                return libcgm_fail(h, -ECONNRESET, NULL,
                                                   "the connection to cgmd at `%s` was "
                                                   "closed (the daemon exited or restarted); "
                                                   "its subscriptions ended with it",
                                                   libcgm_socket(h));
                        return -EAGAIN;
                }
                if (!is_event(m)) {
                        dbus_message_unref(m);
                        continue;
                }
                r = event_read(m, ev);
                if (r < 0) {
                        if (stashed || s->messages)
                                stash_unpop(s, m);
                        else
                                events_stash(s, m);
                        return libcgm_fail(h, r, NULL, "out of memory (event)");
                }
                dbus_message_unref(m);
                return 0;
        }
}
