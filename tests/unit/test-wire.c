/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for pam_cgm's own D-Bus client (client/wire.c): marshaller, reply parser, I/O */

/*
 * libdbus is the reference here: what cgm_wire_call_new() marshals must demarshal in libdbus
 * to the same call, and what libdbus marshals as a reply must parse. Then the replies are
 * broken on purpose (cut at every length, every byte flipped, oversized, misaligned, wrong
 * types, bad UTF-8, NULs): each must be refused with -EPROTO, or at worst accepted with valid
 * strings, and never read out of bounds (the ASan build runs this too). Last, a scripted
 * server on a real socket checks the I/O paths: a refusal, a malformed answer, a daemon that
 * goes quiet, each within the timeout and with the connection closed.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <dbus/dbus.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "protocol.h"
#include "utf8.h"
#include "wire.h"

/* ---- helpers ---------------------------------------------------------------------------- */

/* A reply marshalled by libdbus: METHOD_RETURN (or ERROR with @error_name) for @reply_serial
 * with the @n strings as body. */
static uint8_t *reply_new(size_t *sizep, uint32_t reply_serial, const char *error_name,
                          const char *const *strings, size_t n)
{
        DBusMessage *m = dbus_message_new(error_name ? DBUS_MESSAGE_TYPE_ERROR :
                                                       DBUS_MESSAGE_TYPE_METHOD_RETURN);
        char *raw = NULL;
        int len = 0;
        uint8_t *copy;

        assert_non_null(m);
        assert_true(dbus_message_set_reply_serial(m, reply_serial));
        if (error_name)
                assert_true(dbus_message_set_error_name(m, error_name));
        dbus_message_set_serial(m, 77);
        for (size_t i = 0; i < n; i++)
                assert_true(dbus_message_append_args(m, DBUS_TYPE_STRING, &strings[i],
                                                     DBUS_TYPE_INVALID));
        assert_true(dbus_message_marshal(m, &raw, &len));
        copy = malloc((size_t)len);
        assert_non_null(copy);
        memcpy(copy, raw, (size_t)len);
        dbus_free(raw);
        dbus_message_unref(m);
        *sizep = (size_t)len;
        return copy;
}

static uint8_t *open_reply(size_t *sizep, uint32_t serial, const char *id, const char *path)
{
        const char *s[] = { id, path };

        return reply_new(sizep, serial, NULL, s, 2);
}

/* Parse @msg as the framing in call() does: size from the fixed header, then the whole. */
static int parse(CgmWireReply *r, const uint8_t *msg, size_t size, uint32_t serial,
                 const char *signature)
{
        size_t full;

        if (cgm_wire_message_size(msg, size, &full) < 0 || full != size)
                return -EPROTO;
        return cgm_wire_reply_parse(r, msg, size, serial, signature);
}

/* Whatever is accepted has strings that D-Bus would accept. */
static void assert_sane(const CgmWireReply *r)
{
        for (size_t i = 0; i < r->n_strings; i++)
                assert_true(cgm_utf8_valid(r->strings[i], strlen(r->strings[i])));
        if (r->error_name)
                assert_true(cgm_utf8_valid(r->error_name, strlen(r->error_name)));
}

static uint8_t *find(uint8_t *buf, size_t size, const char *s)
{
        size_t n = strlen(s);

        for (size_t i = 0; i + n <= size; i++)
                if (memcmp(buf + i, s, n) == 0)
                        return buf + i;
        fail_msg("`%s` is not in the message", s);
        return NULL;
}

/* ---- marshaller ------------------------------------------------------------------------- */

static void test_call_demarshals_in_libdbus(void **state)
{
        const cgm_kv info[] = { { "service", "sshd" }, { "tty", "pts/1" }, { "x", "ü€𝄞" } };
        DBusError e = DBUS_ERROR_INIT;
        DBusMessageIter it, dict, entry;
        const char *user, *k, *v;
        DBusMessage *m;
        uint8_t *msg;
        size_t size, n = 0;

        (void)state;
        assert_int_equal(cgm_wire_call_new(&msg, &size, 42, "OpenSession", "alice", true, info,
                                           3),
                         0);
        m = dbus_message_demarshal((const char *)msg, (int)size, &e);
        assert_false(dbus_error_is_set(&e));
        assert_non_null(m);
        assert_int_equal(dbus_message_get_type(m), DBUS_MESSAGE_TYPE_METHOD_CALL);
        assert_int_equal(dbus_message_get_serial(m), 42);
        assert_string_equal(dbus_message_get_path(m), CGM_DBUS_PATH);
        assert_string_equal(dbus_message_get_interface(m), CGM_DBUS_INTERFACE);
        assert_string_equal(dbus_message_get_member(m), "OpenSession");
        assert_string_equal(dbus_message_get_signature(m), "sa{ss}");
        assert_false(dbus_message_get_no_reply(m));
        assert_true(dbus_message_iter_init(m, &it));
        dbus_message_iter_get_basic(&it, &user);
        assert_string_equal(user, "alice");
        assert_true(dbus_message_iter_next(&it));
        dbus_message_iter_recurse(&it, &dict);
        while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
                dbus_message_iter_recurse(&dict, &entry);
                dbus_message_iter_get_basic(&entry, &k);
                dbus_message_iter_next(&entry);
                dbus_message_iter_get_basic(&entry, &v);
                assert_string_equal(k, info[n].key);
                assert_string_equal(v, info[n].value);
                n++;
                dbus_message_iter_next(&dict);
        }
        assert_int_equal(n, 3);
        dbus_message_unref(m);
        free(msg);
}

static void test_call_shapes(void **state)
{
        DBusError e = DBUS_ERROR_INIT;
        const char *id = NULL;
        DBusMessage *m;
        uint8_t *msg;
        size_t size;

        (void)state;
        /* An empty dict (alignment of an array with no element), then CloseSession's "s". */
        assert_int_equal(cgm_wire_call_new(&msg, &size, 1, "OpenSession", "u", true, NULL, 0), 0);
        m = dbus_message_demarshal((const char *)msg, (int)size, &e);
        assert_non_null(m);
        assert_string_equal(dbus_message_get_signature(m), "sa{ss}");
        dbus_message_unref(m);
        free(msg);

        assert_int_equal(cgm_wire_call_new(&msg, &size, 7, "CloseSession", "c7", false, NULL, 0),
                         0);
        m = dbus_message_demarshal((const char *)msg, (int)size, &e);
        assert_non_null(m);
        assert_string_equal(dbus_message_get_signature(m), "s");
        assert_true(dbus_message_get_args(m, &e, DBUS_TYPE_STRING, &id, DBUS_TYPE_INVALID));
        assert_string_equal(id, "c7");
        dbus_message_unref(m);
        free(msg);
}

static void test_call_too_big(void **state)
{
        cgm_kv info[CGM_SETTINGS_MAX];
        char *big = malloc(4096);
        uint8_t *msg = NULL;
        size_t size;

        (void)state;
        assert_non_null(big);
        memset(big, 'a', 4095);
        big[4095] = '\0';
        for (size_t i = 0; i < CGM_SETTINGS_MAX; i++)
                info[i] = (cgm_kv){ big, big };
        assert_int_equal(cgm_wire_call_new(&msg, &size, 1, "OpenSession", "u", true, info,
                                           CGM_SETTINGS_MAX),
                         -E2BIG);
        assert_null(msg);
        free(big);
}

/* ---- parser ----------------------------------------------------------------------------- */

static void test_parse_return_and_error(void **state)
{
        const char *msg_s[] = { "no such user `bob`" };
        CgmWireReply r;
        uint8_t *msg;
        size_t size;

        (void)state;
        msg = open_reply(&size, 5, "c7", "/cgm/user-1000/c7");
        assert_int_equal(parse(&r, msg, size, 5, "ss"), 0);
        assert_int_equal(r.kind, CGM_WIRE_REPLY_RETURN);
        assert_int_equal(r.n_strings, 2);
        assert_string_equal(r.strings[0], "c7");
        assert_string_equal(r.strings[1], "/cgm/user-1000/c7");
        /* Another serial: a valid message to skip. */
        assert_int_equal(parse(&r, msg, size, 6, "ss"), 0);
        assert_int_equal(r.kind, CGM_WIRE_REPLY_OTHER);
        /* The right serial with another signature than the call's: refused. */
        assert_int_equal(parse(&r, msg, size, 5, ""), -EPROTO);
        assert_int_equal(parse(&r, msg, size, 5, "s"), -EPROTO);
        free(msg);

        msg = reply_new(&size, 9, CGM_ERR_NOT_FOUND, msg_s, 1);
        assert_int_equal(parse(&r, msg, size, 9, "ss"), 0);
        assert_int_equal(r.kind, CGM_WIRE_REPLY_ERROR);
        assert_string_equal(r.error_name, CGM_ERR_NOT_FOUND);
        assert_string_equal(r.strings[0], msg_s[0]);
        free(msg);

        msg = reply_new(&size, 9, CGM_ERR_BUSY, NULL, 0); /* an error without a message */
        assert_int_equal(parse(&r, msg, size, 9, ""), 0);
        assert_int_equal(r.kind, CGM_WIRE_REPLY_ERROR);
        assert_int_equal(r.n_strings, 0);
        free(msg);

        msg = reply_new(&size, 3, NULL, NULL, 0); /* CloseSession's empty return */
        assert_int_equal(parse(&r, msg, size, 3, ""), 0);
        assert_int_equal(r.kind, CGM_WIRE_REPLY_RETURN);
        assert_int_equal(parse(&r, msg, size, 3, "ss"), -EPROTO);
        free(msg);
}

static void test_parse_signal_is_skipped(void **state)
{
        DBusMessage *m = dbus_message_new_signal("/x", "a.b", "C");
        CgmWireReply r;
        char *raw;
        int len;

        (void)state;
        dbus_message_set_serial(m, 5);
        assert_true(dbus_message_marshal(m, &raw, &len));
        assert_int_equal(parse(&r, (uint8_t *)raw, (size_t)len, 5, "ss"), 0);
        assert_int_equal(r.kind, CGM_WIRE_REPLY_OTHER);
        dbus_free(raw);
        dbus_message_unref(m);
}

static void test_parse_every_truncation(void **state)
{
        uint8_t *msg, *cut;
        CgmWireReply r;
        size_t size;

        (void)state;
        msg = open_reply(&size, 5, "c7", "/cgm/user-1000/c7");
        for (size_t n = 0; n < size; n++) {
                cut = malloc(n ? n : 1); /* exactly n bytes, so ASan sees any overread */
                assert_non_null(cut);
                memcpy(cut, msg, n);
                assert_int_equal(parse(&r, cut, n, 5, "ss"), -EPROTO);
                /* Also with the lengths in the header believing it: the parser is given n. */
                if (n >= CGM_WIRE_FIXED_HEADER)
                        assert_int_equal(cgm_wire_reply_parse(&r, cut, n, 5, "ss"), -EPROTO);
                free(cut);
        }
        free(msg);
}

static void test_parse_every_byte_flipped(void **state)
{
        uint8_t *msg, *bad;
        CgmWireReply r;
        size_t size;

        (void)state;
        msg = open_reply(&size, 5, "c7", "/cgm/user-1000/c7");
        bad = malloc(size);
        assert_non_null(bad);
        for (size_t i = 0; i < size; i++) {
                static const uint8_t values[] = { 0x00, 0x01, 0x07, 0x08, 0x7f, 0x80, 0xc0, 0xff };

                for (size_t v = 0; v < sizeof(values); v++) {
                        int ret;

                        memcpy(bad, msg, size);
                        bad[i] = values[v];
                        ret = parse(&r, bad, size, 5, "ss");
                        assert_true(ret == 0 || ret == -EPROTO);
                        if (ret == 0)
                                assert_sane(&r);
                }
        }
        free(bad);
        free(msg);
}

static void test_parse_oversized(void **state)
{
        uint8_t head[CGM_WIRE_FIXED_HEADER] = { 'l', 2, 0, 1 };
        size_t full;

        (void)state;
        /* Body of CGM_MESSAGE_SIZE_MAX: with any header, over the limit. */
        head[5] = (CGM_MESSAGE_SIZE_MAX >> 8) & 0xff;
        head[6] = (CGM_MESSAGE_SIZE_MAX >> 16) & 0xff;
        assert_int_equal(cgm_wire_message_size(head, sizeof(head), &full), -EPROTO);
        /* Header array of 4 GiB - 1: no overflow, refused. */
        memset(head + 4, 0, 4);
        memset(head + 12, 0xff, 4);
        assert_int_equal(cgm_wire_message_size(head, sizeof(head), &full), -EPROTO);
        memset(head + 4, 0xff, 4);
        assert_int_equal(cgm_wire_message_size(head, sizeof(head), &full), -EPROTO);
        /* Wrong version, wrong endianness mark. */
        memset(head + 4, 0, 12);
        head[3] = 2;
        assert_int_equal(cgm_wire_message_size(head, sizeof(head), &full), -EPROTO);
        head[3] = 1;
        head[0] = 'x';
        assert_int_equal(cgm_wire_message_size(head, sizeof(head), &full), -EPROTO);
        head[0] = 'l';
        assert_int_equal(cgm_wire_message_size(head, sizeof(head), &full), 0);
        assert_int_equal(full, CGM_WIRE_FIXED_HEADER);
}

static void test_parse_bad_strings(void **state)
{
        uint8_t *msg, *p;
        CgmWireReply r;
        size_t size;

        (void)state;
        /* Invalid UTF-8 in the body. */
        msg = open_reply(&size, 5, "c7", "/cgm/user-1000/c7");
        p = find(msg, size, "c7");
        p[0] = 0xff;
        assert_int_equal(parse(&r, msg, size, 5, "ss"), -EPROTO);
        /* A NUL inside a string. */
        p[0] = 0;
        assert_int_equal(parse(&r, msg, size, 5, "ss"), -EPROTO);
        /* An overlong encoding of '/' (0xc0 0xaf) and a surrogate (0xed 0xa0 0x80). */
        p = find(msg, size, "/cgm/");
        p[1] = 0xc0, p[2] = 0xaf;
        assert_int_equal(parse(&r, msg, size, 5, "ss"), -EPROTO);
        p[1] = 0xed, p[2] = 0xa0, p[3] = 0x80;
        assert_int_equal(parse(&r, msg, size, 5, "ss"), -EPROTO);
        free(msg);

        /* Invalid UTF-8 in the error name of an error. */
        {
                const char *s[] = { "why" };

                msg = reply_new(&size, 9, CGM_ERR_BUSY, s, 1);
                p = find(msg, size, "Busy");
                p[0] = 0xfe;
                assert_int_equal(parse(&r, msg, size, 9, "ss"), -EPROTO);
                free(msg);
        }
}

static void test_parse_wrong_types(void **state)
{
        DBusMessage *m;
        CgmWireReply r;
        uint32_t u = 7;
        const char *s = "c7";
        char *raw;
        int len;
        uint8_t *p;

        (void)state;
        /* A return of "su" where "ss" is expected. */
        m = dbus_message_new(DBUS_MESSAGE_TYPE_METHOD_RETURN);
        dbus_message_set_reply_serial(m, 5);
        dbus_message_set_serial(m, 1);
        dbus_message_append_args(m, DBUS_TYPE_STRING, &s, DBUS_TYPE_UINT32, &u,
                                 DBUS_TYPE_INVALID);
        assert_true(dbus_message_marshal(m, &raw, &len));
        assert_int_equal(parse(&r, (uint8_t *)raw, (size_t)len, 5, "ss"), -EPROTO);
        /* The signature field said "ss" while the body is "su": a lie in the header. */
        p = find((uint8_t *)raw, (size_t)len, "su");
        p[1] = 's';
        assert_int_equal(parse(&r, (uint8_t *)raw, (size_t)len, 5, "ss"), -EPROTO);
        /* REPLY_SERIAL (code 5) typed as a string: refused. */
        p = find((uint8_t *)raw, (size_t)len, "\x05\x01u");
        p[2] = 's';
        assert_int_equal(parse(&r, (uint8_t *)raw, (size_t)len, 5, "ss"), -EPROTO);
        dbus_free(raw);
        dbus_message_unref(m);

        /* An error whose body is not a string. */
        m = dbus_message_new(DBUS_MESSAGE_TYPE_ERROR);
        dbus_message_set_reply_serial(m, 5);
        dbus_message_set_error_name(m, CGM_ERR_BUSY);
        dbus_message_set_serial(m, 1);
        dbus_message_append_args(m, DBUS_TYPE_UINT32, &u, DBUS_TYPE_INVALID);
        assert_true(dbus_message_marshal(m, &raw, &len));
        assert_int_equal(parse(&r, (uint8_t *)raw, (size_t)len, 5, "ss"), -EPROTO);
        dbus_free(raw);
        dbus_message_unref(m);
}

static void test_parse_misaligned_and_padding(void **state)
{
        uint8_t *msg, *shifted;
        CgmWireReply r;
        size_t size;

        (void)state;
        msg = open_reply(&size, 5, "c7", "/cgm/user-1000/c7");
        /* One byte inserted after the fixed header, header array length adjusted: the fields
         * are no longer 8-aligned. */
        shifted = malloc(size + 1);
        assert_non_null(shifted);
        memcpy(shifted, msg, CGM_WIRE_FIXED_HEADER);
        shifted[CGM_WIRE_FIXED_HEADER] = 0;
        memcpy(shifted + CGM_WIRE_FIXED_HEADER + 1, msg + CGM_WIRE_FIXED_HEADER,
               size - CGM_WIRE_FIXED_HEADER);
        shifted[12]++;
        assert_int_equal(parse(&r, shifted, size + 1, 5, "ss"), -EPROTO);
        free(shifted);

        /* A non-zero padding byte between the header and the body. */
        {
                uint32_t fields = (uint32_t)msg[12] | (uint32_t)msg[13] << 8;
                size_t end = CGM_WIRE_FIXED_HEADER + fields;

                if (end % 8) {
                        msg[end] = 1;
                        assert_int_equal(parse(&r, msg, size, 5, "ss"), -EPROTO);
                }
        }
        free(msg);
}

static void test_parse_fds_refused(void **state)
{
        DBusMessage *m = dbus_message_new(DBUS_MESSAGE_TYPE_METHOD_RETURN);
        CgmWireReply r;
        char *raw;
        int len;
        uint8_t *p;

        (void)state;
        dbus_message_set_reply_serial(m, 5);
        dbus_message_set_serial(m, 1);
        assert_true(dbus_message_marshal(m, &raw, &len));
        /* Turn REPLY_SERIAL (5, "u") into UNIX_FDS (9, "u") = 5: no fds were negotiated. */
        p = find((uint8_t *)raw, (size_t)len, "\x05\x01u");
        p[0] = 9;
        assert_int_equal(parse(&r, (uint8_t *)raw, (size_t)len, 5, ""), -EPROTO);
        dbus_free(raw);
        dbus_message_unref(m);
}

static void test_utf8(void **state)
{
        (void)state;
        assert_true(cgm_utf8_valid("", 0));
        assert_true(cgm_utf8_valid("aü€𝄞", strlen("aü€𝄞")));
        assert_false(cgm_utf8_valid("a\0b", 3));
        assert_false(cgm_utf8_valid("\xc3", 1));
        assert_false(cgm_utf8_valid("\xc0\x80", 2));
        assert_false(cgm_utf8_valid("\xe0\x80\xaf", 3));
        assert_false(cgm_utf8_valid("\xed\xa0\x80", 3));
        assert_false(cgm_utf8_valid("\xf4\x90\x80\x80", 4));
        assert_false(cgm_utf8_valid("\xf8\x88\x80\x80\x80", 5));
        assert_false(cgm_utf8_valid("\x80", 1));
}

/* ---- I/O against a scripted server -------------------------------------------------------- */

enum script {
        SCRIPT_REJECT,       /* REJECTED to every AUTH */
        SCRIPT_NOT_DBUS,     /* a banner instead of SASL */
        SCRIPT_SILENT,       /* OK, then never answers the call */
        SCRIPT_OVERSIZED,    /* OK, then a header announcing 1 MiB */
        SCRIPT_BAD_UTF8,     /* OK, then a reply with invalid UTF-8 */
        SCRIPT_NOISE_REPLY,  /* OK, then READ_MESSAGES_MAX + 1 signals */
        SCRIPT_GOOD,         /* OK, then the reply, after a signal */
        SCRIPT_ANONYMOUS,    /* EXTERNAL rejected, ANONYMOUS offered and accepted (userns) */
};

struct server {
        int listener;
        enum script script;
        char path[108];
        uint8_t request[4096];
        size_t n_request;
};

static void send_msg(int fd, uint8_t *msg, size_t size)
{
        assert_int_equal(send(fd, msg, size, MSG_NOSIGNAL), (ssize_t)size);
}

static void *server_run(void *arg)
{
        struct server *s = arg;
        char buf[512];
        int fd = accept4(s->listener, NULL, NULL, SOCK_CLOEXEC);
        ssize_t n;
        uint8_t *msg;
        size_t size;

        if (fd < 0)
                return NULL;
        n = recv(fd, buf, sizeof(buf) - 1, 0); /* "\0AUTH EXTERNAL ...\r\n" */
        if (n <= 0)
                goto out;
        buf[n] = '\0';
        switch (s->script) {
        case SCRIPT_REJECT:
                (void)!send(fd, "REJECTED EXTERNAL\r\n", 19, MSG_NOSIGNAL);
                (void)!recv(fd, buf, sizeof(buf), 0);
                goto out;
        case SCRIPT_NOT_DBUS:
                (void)!send(fd, "SSH-2.0-OpenSSH\r\n", 17, MSG_NOSIGNAL);
                goto out;
        case SCRIPT_ANONYMOUS:
                (void)!send(fd, "REJECTED EXTERNAL ANONYMOUS\r\n", 29, MSG_NOSIGNAL);
                n = recv(fd, buf, sizeof(buf) - 1, 0);
                if (n <= 0)
                        goto out;
                buf[n] = '\0';
                if (strncmp(buf, "AUTH ANONYMOUS", 14) != 0)
                        goto out; /* the client then fails: the test sees it */
                break;
        default:
                break;
        }
        (void)!send(fd, "OK 0123456789abcdef0123456789abcdef\r\n", 37, MSG_NOSIGNAL);
        /* BEGIN and the call; one read gets enough of them for the test. */
        n = recv(fd, s->request, sizeof(s->request), 0);
        s->n_request = n > 0 ? (size_t)n : 0;
        switch (s->script) {
        case SCRIPT_SILENT:
                (void)!recv(fd, buf, sizeof(buf), 0); /* until the client gives up */
                break;
        case SCRIPT_OVERSIZED: {
                uint8_t head[16] = { 'l', 2, 0, 1, 0, 0, 0x10, 0, 1, 0, 0, 0, 0, 0, 0, 0 };

                send_msg(fd, head, sizeof(head));
                (void)!recv(fd, buf, sizeof(buf), 0);
                break;
        }
        case SCRIPT_BAD_UTF8:
                msg = open_reply(&size, 1, "c7", "/cgm/x");
                find(msg, size, "c7")[0] = 0xff;
                send_msg(fd, msg, size);
                free(msg);
                (void)!recv(fd, buf, sizeof(buf), 0);
                break;
        case SCRIPT_NOISE_REPLY:
        case SCRIPT_ANONYMOUS:
        case SCRIPT_GOOD: {
                DBusMessage *m = dbus_message_new_signal("/x", "a.b", "C");
                char *raw;
                int len;

                dbus_message_set_serial(m, 3);
                assert_true(dbus_message_marshal(m, &raw, &len));
                for (int i = 0; i < (s->script == SCRIPT_NOISE_REPLY ? 17 : 1); i++)
                        send_msg(fd, (uint8_t *)raw, (size_t)len);
                dbus_free(raw);
                dbus_message_unref(m);
                msg = open_reply(&size, 1, "c7", "/cgm/x");
                send_msg(fd, msg, size);
                free(msg);
                (void)!recv(fd, buf, sizeof(buf), 0);
                break;
        }
        default:
                break;
        }
out:
        close(fd);
        return NULL;
}

static int64_t ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run OpenSession against @script with a 300 ms timeout; the result, and in *@elapsedp how
 * long it took. */
static int run_script(enum script script, CgmWire **wp, char **idp, int64_t *elapsedp,
                      struct server *s)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const cgm_kv info[] = { { "service", "test" } };
        pthread_t thread;
        int64_t start;
        int r;

        *s = (struct server){ .script = script };
        snprintf(s->path, sizeof(s->path), "/tmp/test-wire-%d-%d.sock", (int)getpid(),
                 (int)script);
        unlink(s->path);
        memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
        s->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s->listener >= 0);
        assert_int_equal(bind(s->listener, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(s->listener, 4), 0);
        assert_int_equal(pthread_create(&thread, NULL, server_run, s), 0);

        start = ms();
        r = cgm_wire_connect(wp, s->path, 300);
        if (r >= 0) {
                cgm_wire_set_timeout(*wp, 300);
                r = cgm_wire_open_session(*wp, "alice", info, 1, idp, NULL);
        }
        *elapsedp = ms() - start;
        /* The client closed its end (or the script ended): the server thread returns. */
        if (*wp && r < 0)
                assert_int_equal(cgm_wire_open_session(*wp, "alice", info, 1, idp, NULL),
                                 -ENOTCONN);
        *wp = cgm_wire_free(*wp);
        pthread_join(thread, NULL);
        close(s->listener);
        unlink(s->path);
        return r;
}

static void test_io_scripts(void **state)
{
        static const struct {
                enum script script;
                int result;
                bool waits; /* the result comes at the timeout */
        } cases[] = {
                { SCRIPT_REJECT, -EACCES, false },    { SCRIPT_NOT_DBUS, -EPROTO, false },
                { SCRIPT_SILENT, -ETIMEDOUT, true },  { SCRIPT_OVERSIZED, -EPROTO, false },
                { SCRIPT_BAD_UTF8, -EPROTO, false },  { SCRIPT_NOISE_REPLY, -EPROTO, false },
                { SCRIPT_GOOD, 0, false },            { SCRIPT_ANONYMOUS, 0, false },
        };

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct server s;
                CgmWire *w = NULL;
                char *id = NULL;
                int64_t elapsed;
                int r = run_script(cases[i].script, &w, &id, &elapsed, &s);

                print_message("script %d: %d in %lld ms\n", (int)cases[i].script, r,
                              (long long)elapsed);
                assert_int_equal(r, cases[i].result);
                if (cases[i].waits)
                        assert_true(elapsed >= 290 && elapsed < 800);
                else
                        assert_true(elapsed < 290);
                if (r == 0) {
                        assert_string_equal(id, "c7");
                        /* What the server got: BEGIN, then a call libdbus understands. */
                        assert_true(s.n_request > 7);
                        assert_memory_equal(s.request, "BEGIN\r\n", 7);
                }
                free(id);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_call_demarshals_in_libdbus),
                cmocka_unit_test(test_call_shapes),
                cmocka_unit_test(test_call_too_big),
                cmocka_unit_test(test_parse_return_and_error),
                cmocka_unit_test(test_parse_signal_is_skipped),
                cmocka_unit_test(test_parse_every_truncation),
                cmocka_unit_test(test_parse_every_byte_flipped),
                cmocka_unit_test(test_parse_oversized),
                cmocka_unit_test(test_parse_bad_strings),
                cmocka_unit_test(test_parse_wrong_types),
                cmocka_unit_test(test_parse_misaligned_and_padding),
                cmocka_unit_test(test_parse_fds_refused),
                cmocka_unit_test(test_utf8),
                cmocka_unit_test(test_io_scripts),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
