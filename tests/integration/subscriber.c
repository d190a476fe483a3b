/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* subscriber: a raw D-Bus subscriber of cgmd's Event signal, for test-events.sh
 *
 * usage:
 *   subscriber [--count N] [--unsubscribe] SOCKET PATH [KIND...]
 *       Subscribe(PATH, KINDS) N times (default 1) on one connection, printing
 *       "subscribed ID" for each, or "error NAME MESSAGE" and exit 1 at the first refusal.
 *       With --unsubscribe, then Unsubscribe each id ("unsubscribed ID"), and once more the
 *       first one ("error NAME MESSAGE": it is gone), and keep the connection open until
 *       killed. Otherwise print one line per event, "ID PATH KIND count=N total=M" (PATH "-"
 *       when empty, as in `lost`), flushed, and exit 0 after a `removed`.
 *   subscriber --no-read SOCKET PATH N
 *       Make N subscriptions (every kind) and print "subscribed N"; then never read the
 *       socket until SIGUSR1. After SIGUSR1, print the events as above and exit 0 once none
 *       came for 2 s.
 *
 * Exits 3 when the daemon closes the connection, 2 on a usage error.
 */
#include <dbus/dbus.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol.h"

static DBusConnection *conn;

static DBusMessage *call(DBusMessage *m)
{
        DBusError err = DBUS_ERROR_INIT;
        DBusMessage *reply = dbus_connection_send_with_reply_and_block(conn, m, 30000, &err);

        dbus_message_unref(m);
        if (!reply) {
                printf("error %s %s\n", err.name, err.message);
                fflush(stdout);
                dbus_error_free(&err);
        }
        return reply;
}

static int subscribe(const char *path, char **kinds, int n_kinds, dbus_uint32_t *id)
{
        DBusMessage *m = dbus_message_new_method_call(NULL, CGM_DBUS_PATH, CGM_DBUS_INTERFACE,
                                                      "Subscribe");
        DBusMessageIter it, arr;
        DBusMessage *reply;

        dbus_message_iter_init_append(m, &it);
        dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &path);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "s", &arr);
        for (int i = 0; i < n_kinds; i++)
                dbus_message_iter_append_basic(&arr, DBUS_TYPE_STRING, &kinds[i]);
        dbus_message_iter_close_container(&it, &arr);
        reply = call(m);
        if (!reply)
                return -1;
        dbus_message_get_args(reply, NULL, DBUS_TYPE_UINT32, id, DBUS_TYPE_INVALID);
        dbus_message_unref(reply);
        printf("subscribed %u\n", (unsigned)*id);
        fflush(stdout);
        return 0;
}

static int unsubscribe(dbus_uint32_t id)
{
        DBusMessage *m = dbus_message_new_method_call(NULL, CGM_DBUS_PATH, CGM_DBUS_INTERFACE,
                                                      "Unsubscribe");
        DBusMessage *reply;

        dbus_message_append_args(m, DBUS_TYPE_UINT32, &id, DBUS_TYPE_INVALID);
        reply = call(m);
        if (!reply)
                return -1;
        dbus_message_unref(reply);
        printf("unsubscribed %u\n", (unsigned)id);
        fflush(stdout);
        return 0;
}

/* Print one Event; true when it was `removed`. */
static bool print_event(DBusMessage *msg)
{
        DBusMessageIter it, arr;
        dbus_uint32_t id = 0;
        const char *path = "", *kind = "";
        dbus_uint64_t count = 0, total = 0;

        if (!dbus_message_has_signature(msg, "ussa{st}")) {
                printf("bad-signature %s\n", dbus_message_get_signature(msg));
                fflush(stdout);
                return false;
        }
        dbus_message_iter_init(msg, &it);
        dbus_message_iter_get_basic(&it, &id);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &path);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &kind);
        dbus_message_iter_next(&it);
        dbus_message_iter_recurse(&it, &arr);
        while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY) {
                DBusMessageIter e;
                const char *k;
                dbus_uint64_t v;
                dbus_message_iter_recurse(&arr, &e);
                dbus_message_iter_get_basic(&e, &k);
                dbus_message_iter_next(&e);
                dbus_message_iter_get_basic(&e, &v);
                if (strcmp(k, "count") == 0)
                        count = v;
                else if (strcmp(k, "total") == 0)
                        total = v;
                dbus_message_iter_next(&arr);
        }
        printf("%u %s %s count=%llu total=%llu\n", (unsigned)id, *path ? path : "-", kind,
               (unsigned long long)count, (unsigned long long)total);
        fflush(stdout);
        return strcmp(kind, "removed") == 0;
}

/* Print events until `removed` (or, with @idle_ms > 0, until none came for that long). */
static int listen_loop(int idle_ms)
{
        struct timespec last, now;

        clock_gettime(CLOCK_MONOTONIC, &last);
        for (;;) {
                DBusMessage *msg;
                if (!dbus_connection_read_write(conn, idle_ms > 0 ? 200 : -1))
                        return 3;
                while ((msg = dbus_connection_pop_message(conn))) {
                        bool end = false;
                        if (dbus_message_is_signal(msg, DBUS_INTERFACE_LOCAL, "Disconnected")) {
                                dbus_message_unref(msg);
                                return 3;
                        }
                        if (dbus_message_is_signal(msg, CGM_DBUS_INTERFACE, "Event"))
                                end = print_event(msg);
                        dbus_message_unref(msg);
                        clock_gettime(CLOCK_MONOTONIC, &last);
                        if (end && idle_ms <= 0)
                                return 0;
                }
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (idle_ms > 0 && (now.tv_sec - last.tv_sec) * 1000 +
                                                   (now.tv_nsec - last.tv_nsec) / 1000000 >=
                                           idle_ms)
                        return 0;
        }
}

int main(int argc, char **argv)
{
        DBusError err = DBUS_ERROR_INIT;
        char address[300];
        bool no_read = false, unsub = false;
        int count = 1, i = 1;
        dbus_uint32_t ids[64], id;

        for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
                if (strcmp(argv[i], "--no-read") == 0)
                        no_read = true;
                else if (strcmp(argv[i], "--unsubscribe") == 0)
                        unsub = true;
                else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
                        count = atoi(argv[++i]);
                else
                        return 2;
        }
        if (argc - i < 2 + (no_read ? 1 : 0))
                return 2;
        if (no_read)
                count = atoi(argv[i + 2]);
        if (count < 1 || count > 64)
                return 2;
        snprintf(address, sizeof(address), "unix:path=%s", argv[i]);
        conn = dbus_connection_open_private(address, &err);
        if (!conn) {
                fprintf(stderr, "subscriber: %s\n", err.message);
                return 1;
        }
        dbus_connection_set_exit_on_disconnect(conn, FALSE);
        if (no_read) {
                sigset_t set;
                int sig;
                sigemptyset(&set);
                sigaddset(&set, SIGUSR1);
                sigprocmask(SIG_BLOCK, &set, NULL);
                for (int k = 0; k < count; k++)
                        if (subscribe(argv[i + 1], NULL, 0, &id) < 0)
                                return 1;
                printf("subscribed %d\n", count);
                fflush(stdout);
                /* The socket is not read (nor written) until SIGUSR1. */
                sigwait(&set, &sig);
                return listen_loop(2000);
        }
        for (int k = 0; k < count; k++)
                if (subscribe(argv[i + 1], argv + i + 2, argc - i - 2, &ids[k]) < 0)
                        return 1;
        if (unsub) {
                for (int k = 0; k < count; k++)
                        if (unsubscribe(ids[k]) < 0)
                                return 1;
                (void)unsubscribe(ids[0]); /* gone now: prints the error */
                for (;;)
                        if (!dbus_connection_read_write(conn, -1))
                                return 3;
        }
        return listen_loop(0);
}
