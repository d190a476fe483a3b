/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for libcgm's events (client/events.c) against a scripted daemon */

/*
 * The daemon here is a thread on a real Unix socket that speaks just enough SASL for libdbus
 * and answers each call from a script, sending Event signals where a real cgmd could: before
 * a reply (the client is then waiting in a call), many of them at once (more than the handle
 * keeps), after a reply (the client is then polling), and then closing the connection. What
 * is checked is the contract of cgm.h: events that arrive during a call are returned later,
 * in order, none dropped without a `lost` event that counts them; cgm_event_next() never
 * blocks; a closed connection is -ECONNRESET after the events that came before it.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <dbus/dbus.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cgm.h"
#include "protocol.h"

/* Events sent during the first Ping: more than the handle keeps (EVENT_STASH_MAX, 1024). */
#define FLOOD 2000
#define STASH_MAX 1024

struct daemon {
        int listener;
        char path[108];
        uint8_t buf[1 << 16];
        size_t len;
        uint32_t serial;
};

static void send_message(int fd, struct daemon *d, DBusMessage *m)
{
        char *raw;
        int len;

        dbus_message_set_serial(m, ++d->serial);
        assert_true(dbus_message_marshal(m, &raw, &len));
        for (int off = 0; off < len;) {
                ssize_t n = send(fd, raw + off, (size_t)(len - off), MSG_NOSIGNAL);

                assert_true(n > 0);
                off += (int)n;
        }
        dbus_free(raw);
        dbus_message_unref(m);
}

static void send_event(int fd, struct daemon *d, uint32_t id, const char *path, const char *kind,
                       uint64_t count, uint64_t total)
{
        DBusMessage *m = dbus_message_new_signal(CGM_DBUS_PATH, CGM_DBUS_INTERFACE, "Event");
        DBusMessageIter it, dict, entry;
        const char *keys[] = { "count", "total" };
        uint64_t values[] = { count, total };

        assert_non_null(m);
        dbus_message_iter_init_append(m, &it);
        assert_true(dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT32, &id));
        assert_true(dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &path));
        assert_true(dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &kind));
        assert_true(dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{st}", &dict));
        for (size_t i = 0; i < 2 && (count || total); i++) {
                assert_true(dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL,
                                                             &entry));
                assert_true(dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &keys[i]));
                assert_true(dbus_message_iter_append_basic(&entry, DBUS_TYPE_UINT64, &values[i]));
                assert_true(dbus_message_iter_close_container(&dict, &entry));
        }
        assert_true(dbus_message_iter_close_container(&it, &dict));
        send_message(fd, d, m);
}

/* A noise signal of another interface: libcgm must skip it, not return it. */
static void send_noise(int fd, struct daemon *d)
{
        send_message(fd, d, dbus_message_new_signal("/x", "a.b", "C"));
}

/* The next call from the client, or NULL when it closed the connection. */
static DBusMessage *next_call(int fd, struct daemon *d)
{
        for (;;) {
                if (d->len >= 16) {
                        int need = dbus_message_demarshal_bytes_needed((char *)d->buf,
                                                                       (int)d->len);

                        assert_true(need > 0 && need <= (int)sizeof(d->buf));
                        if ((size_t)need <= d->len) {
                                DBusMessage *m = dbus_message_demarshal((char *)d->buf, need,
                                                                        NULL);

                                assert_non_null(m);
                                memmove(d->buf, d->buf + need, d->len - (size_t)need);
                                d->len -= (size_t)need;
                                return m;
                        }
                }
                ssize_t n = recv(fd, d->buf + d->len, sizeof(d->buf) - d->len, 0);
                if (n <= 0)
                        return NULL;
                d->len += (size_t)n;
        }
}

/* SASL as libdbus' client speaks it: AUTH, NEGOTIATE_UNIX_FD, BEGIN. */
static bool handshake(int fd, struct daemon *d)
{
        for (;;) {
                char *end = memmem(d->buf, d->len, "\r\n", 2);
                size_t line;

                if (!end) {
                        ssize_t n = recv(fd, d->buf + d->len, sizeof(d->buf) - d->len, 0);

                        if (n <= 0)
                                return false;
                        d->len += (size_t)n;
                        continue;
                }
                line = (size_t)((uint8_t *)end - d->buf) + 2;
                if (memmem(d->buf, line, "AUTH", 4))
                        (void)!send(fd, "OK 0123456789abcdef0123456789abcdef\r\n", 37,
                                    MSG_NOSIGNAL);
                else if (memmem(d->buf, line, "NEGOTIATE_UNIX_FD", 17))
                        (void)!send(fd, "AGREE_UNIX_FD\r\n", 15, MSG_NOSIGNAL);
                bool begin = memmem(d->buf, line, "BEGIN", 5) != NULL;
                memmove(d->buf, d->buf + line, d->len - line);
                d->len -= line;
                if (begin)
                        return true;
        }
}

static void reply(int fd, struct daemon *d, DBusMessage *call, int type, uint32_t u)
{
        DBusMessage *m = dbus_message_new_method_return(call);

        assert_non_null(m);
        if (type == DBUS_TYPE_UINT32)
                assert_true(dbus_message_append_args(m, DBUS_TYPE_UINT32, &u, DBUS_TYPE_INVALID));
        send_message(fd, d, m);
}

/*
 * The script: Subscribe (3 events and a noise signal before the reply), Ping (FLOOD events
 * before the reply), Unsubscribe (NotFound), Ping (the reply, then 2 events, then close).
 */
static void *daemon_run(void *arg)
{
        struct daemon *d = arg;
        int fd = accept4(d->listener, NULL, NULL, SOCK_CLOEXEC);
        DBusMessage *m;
        int pings = 0;

        if (fd < 0)
                return NULL;
        (void)!recv(fd, d->buf, 1, 0); /* the credentials byte */
        if (!handshake(fd, d))
                goto out;
        while ((m = next_call(fd, d))) {
                if (dbus_message_is_method_call(m, CGM_DBUS_INTERFACE, "Subscribe")) {
                        send_event(fd, d, 1, "/x", "populated", 0, 0);
                        send_noise(fd, d);
                        send_event(fd, d, 1, "/x", "oom_kill", 1, 1);
                        send_event(fd, d, 1, "/x", "empty", 0, 0);
                        reply(fd, d, m, DBUS_TYPE_UINT32, 1);
                } else if (dbus_message_is_method_call(m, CGM_DBUS_INTERFACE, "Unsubscribe")) {
                        DBusMessage *e = dbus_message_new_error(m, CGM_ERR_NOT_FOUND,
                                                                "no subscription 7");
                        send_message(fd, d, e);
                } else if (dbus_message_is_method_call(m, CGM_DBUS_INTERFACE, "Ping") &&
                           pings++ == 0) {
                        for (uint64_t i = 1; i <= FLOOD; i++)
                                send_event(fd, d, 1, "/x", "memory_max", 1, i);
                        reply(fd, d, m, DBUS_TYPE_INVALID, 0);
                } else if (dbus_message_is_method_call(m, CGM_DBUS_INTERFACE, "Ping")) {
                        reply(fd, d, m, DBUS_TYPE_INVALID, 0);
                        send_event(fd, d, 1, "/x", "pids_max", 2, 5);
                        send_event(fd, d, 1, "/x", "removed", 0, 0);
                        dbus_message_unref(m);
                        break;
                }
                if (m)
                        dbus_message_unref(m);
        }
out:
        close(fd);
        return NULL;
}

static void expect_event(cgm *h, uint32_t id, const char *path, const char *kind, uint64_t count,
                         uint64_t total)
{
        cgm_event ev;

        assert_int_equal(cgm_event_next(h, &ev), 0);
        assert_int_equal(ev.id, id);
        assert_string_equal(ev.path, path);
        assert_string_equal(ev.kind, kind);
        assert_int_equal(ev.count, count);
        assert_int_equal(ev.total, total);
        cgm_event_clear(&ev);
        assert_null(ev.path);
}

static void test_events_scripted(void **state)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *kinds[] = { "populated", "empty", NULL };
        const char *bad[] = { "oom", "\xff", NULL };
        struct daemon *d = calloc(1, sizeof(*d));
        pthread_t thread;
        cgm_event ev;
        cgm *h = NULL;
        uint32_t id = 0;
        int fd, r = 0, got = 0;

        (void)state;
        assert_non_null(d);
        snprintf(d->path, sizeof(d->path), "/tmp/test-libcgm-events-%d.sock", (int)getpid());
        unlink(d->path);
        memcpy(sa.sun_path, d->path, strlen(d->path) + 1);
        d->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(d->listener >= 0);
        assert_int_equal(bind(d->listener, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(d->listener, 4), 0);
        assert_int_equal(pthread_create(&thread, NULL, daemon_run, d), 0);

        assert_int_equal(cgm_connect(&h, d->path), 0);
        cgm_set_timeout(h, 10000);
        /* Refused before anything is sent. */
        assert_int_equal(cgm_subscribe(h, "", bad, &id), -EINVAL);
        assert_int_equal(cgm_event_next(h, NULL), -EINVAL);

        /* Events sent before the reply are kept, in order; the noise signal is skipped. */
        assert_int_equal(cgm_subscribe(h, "x", kinds, &id), 0);
        assert_int_equal(id, 1);
        expect_event(h, 1, "/x", "populated", 0, 0);
        expect_event(h, 1, "/x", "oom_kill", 1, 1);
        expect_event(h, 1, "/x", "empty", 0, 0);
        assert_int_equal(cgm_event_next(h, &ev), -EAGAIN);
        assert_null(ev.kind);

        /* A flood during a call: the first STASH_MAX are kept, the rest counted as lost. */
        assert_int_equal(cgm_ping(h), 0);
        for (uint64_t i = 1; i <= STASH_MAX; i++)
                expect_event(h, 1, "/x", "memory_max", 1, i);
        expect_event(h, 0, "", "lost", FLOOD - STASH_MAX, 0);
        assert_int_equal(cgm_event_next(h, &ev), -EAGAIN);
        fd = cgm_event_fd(h);
        assert_true(fd >= 0);

        /* A refusal keeps its name and errno; nothing about events changes. */
        assert_int_equal(cgm_unsubscribe(h, 7), -ENOENT);
        assert_string_equal(cgm_error_name(h), CGM_ERR_NOT_FOUND);
        assert_int_equal(cgm_event_next(h, &ev), -EAGAIN);

        /* Events after a reply come through the fd; then the close, after them. */
        assert_int_equal(cgm_ping(h), 0);
        for (int i = 0; i < 100 && r != -ECONNRESET; i++) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };

                while ((r = cgm_event_next(h, &ev)) == 0) {
                        assert_string_equal(ev.kind, got == 0 ? "pids_max" : "removed");
                        assert_int_equal(ev.count, got == 0 ? 2 : 0);
                        assert_int_equal(ev.total, got == 0 ? 5 : 0);
                        got++;
                        cgm_event_clear(&ev);
                }
                if (r == -EAGAIN)
                        assert_true(poll(&pfd, 1, 100) >= 0);
        }
        assert_int_equal(got, 2);
        assert_int_equal(r, -ECONNRESET);
        assert_int_equal(cgm_event_next(h, &ev), -ECONNRESET);
        assert_non_null(strstr(cgm_error_message(h), "closed"));

        cgm_free(h);
        pthread_join(thread, NULL);
        close(d->listener);
        unlink(d->path);
        free(d);
}

static void test_events_args(void **state)
{
        cgm_event ev = {};

        (void)state;
        assert_int_equal(cgm_event_next(NULL, &ev), -EINVAL);
        assert_int_equal(cgm_event_fd(NULL), -EINVAL);
        assert_int_equal(cgm_subscribe(NULL, "", NULL, NULL), -EINVAL);
        assert_int_equal(cgm_unsubscribe(NULL, 1), -EINVAL);
        cgm_event_clear(NULL);
        cgm_event_clear(&ev);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_events_args),
                cmocka_unit_test(test_events_scripted),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
