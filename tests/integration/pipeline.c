/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pipeline: send several requests on one connection without waiting, print the replies
 *
 * Used by test-blocking.sh to see what a client sees while the daemon carries out a kernel
 * write that blocks: whether the replies of one connection come in the order the requests
 * were sent, what a Get sent right behind a Set reads, and how long each reply took.
 *
 * usage: pipeline SOCKET OP...
 *   ping                  Ping
 *   set:PATH:KEY=VALUE    Set PATH {KEY: VALUE}
 *   get:PATH:KEY          Get PATH [KEY]
 *   remove:PATH:FLAGS     Remove PATH FLAGS (1 recursive, 2 kill)
 *
 * Every request is sent first; then one line per reply, in the order the replies arrive:
 * "INDEX OP MS ok [VALUE]" or "INDEX OP MS err NAME MESSAGE", INDEX counting the requests
 * from 1 and MS the milliseconds from the first send to that reply. With PIPELINE_T0=FILE in
 * the environment, the time of the first send (CLOCK_MONOTONIC, ms) is written to FILE, so
 * that the replies of two pipelines can be put on one time line. Exits 0 when every reply
 * came (within 30 s), 1 otherwise, 2 on a usage error.
 */
#include <dbus/dbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol.h"

#define OPS_MAX 16

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Build the call for @op ("set:PATH:KEY=VALUE"...); NULL on a usage error. */
static DBusMessage *build(char *op)
{
        char *kind = op, *path = NULL, *arg = NULL;
        DBusMessage *m;
        DBusMessageIter it, sub, entry;

        if (strcmp(op, "ping") == 0)
                return dbus_message_new_method_call(NULL, CGM_DBUS_PATH, CGM_DBUS_INTERFACE,
                                                    "Ping");
        path = strchr(op, ':');
        if (!path)
                return NULL;
        *path++ = '\0';
        arg = strrchr(path, ':');
        if (!arg)
                return NULL;
        *arg++ = '\0';
        if (strcmp(kind, "set") == 0) {
                char *value = strchr(arg, '=');
                const char *k = arg, *v;
                if (!value)
                        return NULL;
                *value++ = '\0';
                v = value;
                m = dbus_message_new_method_call(NULL, CGM_DBUS_PATH, CGM_DBUS_INTERFACE, "Set");
                dbus_message_iter_init_append(m, &it);
                dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &path);
                dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{ss}", &sub);
                dbus_message_iter_open_container(&sub, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
                dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &k);
                dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &v);
                dbus_message_iter_close_container(&sub, &entry);
                dbus_message_iter_close_container(&it, &sub);
                return m;
        }
        if (strcmp(kind, "get") == 0) {
                const char *k = arg;
                m = dbus_message_new_method_call(NULL, CGM_DBUS_PATH, CGM_DBUS_INTERFACE, "Get");
                dbus_message_iter_init_append(m, &it);
                dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &path);
                dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "s", &sub);
                dbus_message_iter_append_basic(&sub, DBUS_TYPE_STRING, &k);
                dbus_message_iter_close_container(&it, &sub);
                return m;
        }
        if (strcmp(kind, "remove") == 0) {
                dbus_uint32_t flags = (dbus_uint32_t)strtoul(arg, NULL, 0);
                m = dbus_message_new_method_call(NULL, CGM_DBUS_PATH, CGM_DBUS_INTERFACE,
                                                 "Remove");
                dbus_message_append_args(m, DBUS_TYPE_STRING, &path, DBUS_TYPE_UINT32, &flags,
                                         DBUS_TYPE_INVALID);
                return m;
        }
        return NULL;
}

/* Print the first a{ss} value of a Get reply, if there is one. */
static void print_value(DBusMessage *reply)
{
        DBusMessageIter it, arr, entry;
        const char *v;

        if (!dbus_message_iter_init(reply, &it) ||
            dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_ARRAY)
                return;
        dbus_message_iter_recurse(&it, &arr);
        if (dbus_message_iter_get_arg_type(&arr) != DBUS_TYPE_DICT_ENTRY)
                return;
        dbus_message_iter_recurse(&arr, &entry);
        dbus_message_iter_next(&entry);
        dbus_message_iter_get_basic(&entry, &v);
        printf(" %s", v);
}

int main(int argc, char **argv)
{
        char address[300], *names[OPS_MAX];
        dbus_uint32_t serials[OPS_MAX];
        int n = argc - 2, got = 0;
        DBusConnection *conn;
        DBusError err;
        double start;

        if (argc < 3 || n > OPS_MAX) {
                fprintf(stderr, "usage: pipeline SOCKET OP... (at most %d)\n", OPS_MAX);
                return 2;
        }
        snprintf(address, sizeof(address), "unix:path=%s", argv[1]);
        dbus_error_init(&err);
        conn = dbus_connection_open_private(address, &err);
        if (!conn) {
                fprintf(stderr, "pipeline: %s\n", err.message);
                return 1;
        }
        start = now_ms();
        if (getenv("PIPELINE_T0")) {
                FILE *f = fopen(getenv("PIPELINE_T0"), "we");
                if (!f)
                        return 1;
                fprintf(f, "%.3f\n", start);
                fclose(f);
        }
        for (int i = 0; i < n; i++) {
                char *op = strdup(argv[i + 2]);
                DBusMessage *m;
                names[i] = strdup(argv[i + 2]);
                m = op && names[i] ? build(op) : NULL;
                free(op);
                if (!m) {
                        fprintf(stderr, "pipeline: cannot make a request of `%s`\n", argv[i + 2]);
                        return 2;
                }
                if (!dbus_connection_send(conn, m, &serials[i]))
                        return 1;
                dbus_message_unref(m);
        }
        dbus_connection_flush(conn);
        while (got < n && now_ms() - start < 30000) {
                DBusMessage *r;
                int idx = -1;
                if (!dbus_connection_read_write(conn, 100))
                        break;
                while (got < n && (r = dbus_connection_pop_message(conn))) {
                        dbus_uint32_t rs = dbus_message_get_reply_serial(r);
                        for (int i = 0; i < n; i++)
                                if (serials[i] == rs)
                                        idx = i;
                        if (idx >= 0) {
                                printf("%d %s %.1f", idx + 1, names[idx], now_ms() - start);
                                if (dbus_message_get_type(r) == DBUS_MESSAGE_TYPE_ERROR) {
                                        const char *text = "";
                                        dbus_message_get_args(r, NULL, DBUS_TYPE_STRING, &text,
                                                              DBUS_TYPE_INVALID);
                                        printf(" err %s %s", dbus_message_get_error_name(r),
                                               text);
                                } else {
                                        printf(" ok");
                                        print_value(r);
                                }
                                printf("\n");
                                fflush(stdout);
                                got++;
                        }
                        dbus_message_unref(r);
                        idx = -1;
                }
        }
        dbus_connection_close(conn);
        dbus_connection_unref(conn);
        for (int i = 0; i < n; i++)
                free(names[i]);
        return got == n ? 0 : 1;
}
