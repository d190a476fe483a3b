/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* wire: the PAM module's own minimal D-Bus client, for OpenSession and CloseSession only */

/*
 * Why this exists is in wire.h: pam_cgm must not load libdbus (and what libdbus loads) into
 * every login process. What it needs of D-Bus is small, and this file does exactly that much:
 *
 *  - connect: the daemon's socket is connected as libcgm does it (cgm_unix_connect()): a blocking
 *    connect(2) with SO_SNDTIMEO set to what is left before the deadline, because a Unix stream
 *    connect sleeps while the listener's queue is full and a non-blocking one cannot be waited
 *    for (it fails with EAGAIN, and poll() says nothing about it);
 *  - authenticate: the credentials byte, `AUTH EXTERNAL <hex of the euid in decimal>`, and
 *    `OK <guid>` back. cgmd also offers ANONYMOUS (for clients in a user namespace, whose uid
 *    the daemon sees differently, design.md §17.5); when EXTERNAL is rejected and ANONYMOUS is
 *    offered, that is tried, as libdbus does. Identity is never SASL's: the daemon takes it from
 *    the socket (SO_PEERCRED, the peer pidfd). No unix fds are negotiated;
 *  - one call: `BEGIN` and the METHOD_CALL go out in one write; then messages are read until the
 *    METHOD_RETURN or ERROR for its serial (anything else valid is skipped, at most
 *    READ_MESSAGES_MAX of them). Every message is checked strictly before anything in it is used
 *    (cgm_wire_reply_parse()): lengths against CGM_MESSAGE_SIZE_MAX, alignment and zero padding,
 *    field types, strings nul-terminated, NUL-free and valid UTF-8, as the specification
 *    requires. Anything else fails the call with -EPROTO and closes the connection.
 *
 * The failure model is libcgm's, so pam_cgm logs the same: a daemon's refusal keeps its error
 * name and message and maps to the same errno (cgm_error_name_to_errno(), common/error.c, and
 * the table of libdbus' own errors below); a daemon that cannot be reached or stops answering
 * is -ENOENT, -ECONNREFUSED, -EACCES, -ECONNRESET or -ETIMEDOUT with a message that says what to
 * try. Every wait is bounded: connect and authentication share the deadline given to
 * cgm_wire_connect(), and a call gets the handle's timeout (cgm_wire_set_timeout()), over
 * every read and write of it. No global state, no signal disposition changes (MSG_NOSIGNAL on
 * every send), the fd is close-on-exec, and a handle owns nothing but its fd and itself.
 */

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "connect.h"
#include "error.h"
#include "protocol.h"
#include "utf8.h"
#include "wire.h"

#define SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)NULL)->sun_path))
/* Default timeout of a handle: libcgm's (CGM_TIMEOUT_DEFAULT_MS in client/libcgm.c). */
#define TIMEOUT_DEFAULT_MS 25000
/* A SASL line from the server: `OK` and a 32-digit guid, or `REJECTED` and the mechanisms;
 * libdbus' longest is far below this. */
#define AUTH_LINE_MAX 512
/* Messages that are not the reply read before giving up. cgmd sends nothing but replies, so
 * one would already be odd; a few are tolerated as the specification asks (signals). */
#define READ_MESSAGES_MAX 16
/* As libcgm's checks: keys, user names. */
#define KEY_MAX 128
#define USER_NAME_MAX (LOGIN_NAME_MAX - 1)

/* Message types and header fields of the D-Bus specification. */
enum {
        TYPE_METHOD_CALL = 1,
        TYPE_METHOD_RETURN = 2,
        TYPE_ERROR = 3,
        TYPE_SIGNAL = 4,
};
enum {
        FIELD_PATH = 1,
        FIELD_INTERFACE = 2,
        FIELD_MEMBER = 3,
        FIELD_ERROR_NAME = 4,
        FIELD_REPLY_SERIAL = 5,
        FIELD_DESTINATION = 6,
        FIELD_SENDER = 7,
        FIELD_SIGNATURE = 8,
        FIELD_UNIX_FDS = 9,
};

struct CgmWire {
        int fd;
        int timeout_ms;
        bool begun; /* BEGIN was sent: the stream carries messages now */
        uint32_t serial;
        char socket[SOCKET_PATH_MAX];
        /* Fixed buffers, so that recording a failure can never fail itself. */
        char error_name[256];
        char error_message[512];
};

static int fail(CgmWire *w, int code, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int fail(CgmWire *w, int code, const char *name, const char *fmt, ...)
{
        va_list ap;

        snprintf(w->error_name, sizeof(w->error_name), "%s", name ? name : "");
        va_start(ap, fmt);
        vsnprintf(w->error_message, sizeof(w->error_message), fmt, ap);
        va_end(ap);
        return code;
}

static const char *hint_unreachable(void)
{
        return cgm_hint_unreachable();
}

/* The clock of every deadline, also of cgm_unix_connect()'s. */
static int64_t now_ms(void)
{
        return cgm_monotonic_ms();
}

/* ---- marshalling ------------------------------------------------------------------------ */

typedef struct Writer {
        uint8_t *buf;
        size_t len, cap;
        int error; /* first failure, negative errno */
} Writer;

static void writer_reserve(Writer *wr, size_t n)
{
        uint8_t *p;
        size_t cap;

        if (wr->error)
                return;
        if (n > CGM_MESSAGE_SIZE_MAX || wr->len > CGM_MESSAGE_SIZE_MAX - n) {
                wr->error = -E2BIG;
                return;
        }
        if (wr->len + n <= wr->cap)
                return;
        cap = wr->cap ? wr->cap : 256;
        while (cap < wr->len + n)
                cap *= 2;
        p = realloc(wr->buf, cap);
        if (!p) {
                wr->error = -ENOMEM;
                return;
        }
        wr->buf = p;
        wr->cap = cap;
}

static void writer_put(Writer *wr, const void *data, size_t n)
{
        writer_reserve(wr, n);
        if (wr->error)
                return;
        memcpy(wr->buf + wr->len, data, n);
        wr->len += n;
}

static void writer_align(Writer *wr, size_t a)
{
        static const uint8_t zero[8];
        size_t pad = (a - wr->len % a) % a;

        writer_put(wr, zero, pad);
}

/* Little endian, whatever the host: the message says 'l'. */
static void writer_u32(Writer *wr, uint32_t v)
{
        uint8_t b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff };

        writer_align(wr, 4);
        writer_put(wr, b, sizeof(b));
}

static void writer_patch_u32(Writer *wr, size_t at, uint32_t v)
{
        if (wr->error)
                return;
        for (int i = 0; i < 4; i++)
                wr->buf[at + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static void writer_string(Writer *wr, const char *s)
{
        size_t n = strlen(s);

        if (n > CGM_MESSAGE_SIZE_MAX) {
                wr->error = wr->error ? wr->error : -E2BIG;
                return;
        }
        writer_u32(wr, (uint32_t)n);
        writer_put(wr, s, n + 1);
}

static void writer_signature(Writer *wr, const char *sig)
{
        uint8_t n = (uint8_t)strlen(sig);

        writer_put(wr, &n, 1);
        writer_put(wr, sig, (size_t)n + 1);
}

/* One header field: struct (byte code, variant) at an 8-byte boundary. */
static void writer_field(Writer *wr, uint8_t code, const char *type, const char *value)
{
        writer_align(wr, 8);
        writer_put(wr, &code, 1);
        writer_signature(wr, type);
        if (type[0] == 'g')
                writer_signature(wr, value);
        else
                writer_string(wr, value);
}

/**
 * cgm_wire_call_new() - marshal a METHOD_CALL to cgmd
 * @msgp, @sizep: receive the message (free())
 * @serial:   its serial, not 0
 * @member:   method name
 * @arg:      the first argument, a string
 * @has_dict: whether an a{ss} of @n_dict entries of @dict follows (body "sa{ss}", else "s")
 *
 * The arguments must have been checked (lengths, UTF-8); this only lays out bytes.
 *
 * Return: 0, -ENOMEM, or -E2BIG when the message would exceed CGM_MESSAGE_SIZE_MAX.
 */
int cgm_wire_call_new(uint8_t **msgp, size_t *sizep, uint32_t serial, const char *member,
                      const char *arg, bool has_dict, const cgm_kv *dict, size_t n_dict)
{
        const char *signature = has_dict ? "sa{ss}" : "s";
        const uint8_t fixed[4] = { 'l', TYPE_METHOD_CALL, 0, 1 };
        Writer wr = { 0 };
        size_t fields, body;

        writer_put(&wr, fixed, sizeof(fixed));
        writer_u32(&wr, 0); /* body length, patched below */
        writer_u32(&wr, serial);
        writer_u32(&wr, 0); /* header array length, patched below */
        fields = wr.len;    /* 16: already 8-aligned, so no padding before the first struct */
        writer_field(&wr, FIELD_PATH, "o", CGM_DBUS_PATH);
        writer_field(&wr, FIELD_INTERFACE, "s", CGM_DBUS_INTERFACE);
        writer_field(&wr, FIELD_MEMBER, "s", member);
        writer_field(&wr, FIELD_SIGNATURE, "g", signature);
        writer_patch_u32(&wr, 12, (uint32_t)(wr.len - fields));
        writer_align(&wr, 8); /* the body starts at an 8-byte boundary */
        body = wr.len;

        writer_string(&wr, arg);
        if (has_dict) {
                size_t length_at, start;

                writer_u32(&wr, 0); /* array length, patched below */
                length_at = wr.len - 4;
                writer_align(&wr, 8); /* dict entries align to 8; not counted in the length */
                start = wr.len;
                for (size_t i = 0; i < n_dict; i++) {
                        writer_align(&wr, 8);
                        writer_string(&wr, dict[i].key);
                        writer_string(&wr, dict[i].value);
                }
                writer_patch_u32(&wr, length_at, (uint32_t)(wr.len - start));
        }
        writer_patch_u32(&wr, 4, (uint32_t)(wr.len - body));
        if (wr.error) {
                free(wr.buf);
                return wr.error;
        }
        *msgp = wr.buf;
        *sizep = wr.len;
        return 0;
}

/* ---- parsing ---------------------------------------------------------------------------- */

typedef struct Reader {
        const uint8_t *buf;
        size_t pos, end;
        bool big_endian;
} Reader;

/* Skip to an @a-byte boundary (of the message); the padding must be zero bytes. */
static int reader_align(Reader *rd, size_t a)
{
        size_t pad = (a - rd->pos % a) % a;

        if (pad > rd->end - rd->pos)
                return -EPROTO;
        for (size_t i = 0; i < pad; i++)
                if (rd->buf[rd->pos + i])
                        return -EPROTO;
        rd->pos += pad;
        return 0;
}

static uint32_t get_u32(const uint8_t *p, bool big_endian)
{
        if (big_endian)
                return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static int reader_u32(Reader *rd, uint32_t *vp)
{
        if (reader_align(rd, 4) < 0 || rd->end - rd->pos < 4)
                return -EPROTO;
        *vp = get_u32(rd->buf + rd->pos, rd->big_endian);
        rd->pos += 4;
        return 0;
}

static int reader_u8(Reader *rd, uint8_t *vp)
{
        if (rd->pos >= rd->end)
                return -EPROTO;
        *vp = rd->buf[rd->pos++];
        return 0;
}

/* A string (u32 length) or, @signature, a signature (u8 length): nul-terminated, no NUL
 * inside, valid UTF-8. */
static int reader_string(Reader *rd, bool signature, const char **sp)
{
        uint32_t n;
        uint8_t n8;

        if (signature) {
                if (reader_u8(rd, &n8) < 0)
                        return -EPROTO;
                n = n8;
        } else if (reader_u32(rd, &n) < 0) {
                return -EPROTO;
        }
        if (n >= rd->end - rd->pos || rd->buf[rd->pos + n] != '\0' ||
            !cgm_utf8_valid((const char *)rd->buf + rd->pos, n))
                return -EPROTO;
        *sp = (const char *)rd->buf + rd->pos;
        rd->pos += (size_t)n + 1;
        return 0;
}

/* Skip a header field value of an unknown code: any basic type, as the spec asks to ignore
 * unknown fields. Containers are refused: no field carries one. */
static int reader_skip_basic(Reader *rd, char type)
{
        const char *s;
        size_t size;

        switch (type) {
        case 'y':
                size = 1;
                break;
        case 'n':
        case 'q':
                size = 2;
                break;
        case 'b':
        case 'i':
        case 'u':
        case 'h':
                size = 4;
                break;
        case 'x':
        case 't':
        case 'd':
                size = 8;
                break;
        case 's':
        case 'o':
                return reader_string(rd, false, &s);
        case 'g':
                return reader_string(rd, true, &s);
        default:
                return -EPROTO;
        }
        if (reader_align(rd, size) < 0 || rd->end - rd->pos < size)
                return -EPROTO;
        rd->pos += size;
        return 0;
}

/**
 * cgm_wire_message_size() - total size of a message from its fixed header
 * @head: the first @n bytes of the message, at least CGM_WIRE_FIXED_HEADER
 *
 * Return: 0 with *@sizep set; -EPROTO for a header no valid message of at most
 * CGM_MESSAGE_SIZE_MAX bytes has.
 */
int cgm_wire_message_size(const uint8_t *head, size_t n, size_t *sizep)
{
        uint64_t fields, body, size;
        bool big;

        if (n < CGM_WIRE_FIXED_HEADER || (head[0] != 'l' && head[0] != 'B') || head[3] != 1)
                return -EPROTO;
        big = head[0] == 'B';
        body = get_u32(head + 4, big);
        fields = get_u32(head + 12, big);
        size = CGM_WIRE_FIXED_HEADER + fields;
        size = (size + 7) / 8 * 8 + body;
        if (size > CGM_MESSAGE_SIZE_MAX)
                return -EPROTO;
        *sizep = (size_t)size;
        return 0;
}

/**
 * cgm_wire_reply_parse() - check a whole message and find out whether it answers @serial
 * @rp:        receives the outcome; its pointers point into @msg
 * @msg:       the message, @size bytes as cgm_wire_message_size() gave
 * @serial:    serial of the call
 * @signature: the body signature a METHOD_RETURN must have ("ss", "")
 *
 * Every message is checked in full, also one that is then skipped: a peer that sends one
 * malformed message cannot be trusted with the stream after it.
 *
 * Return: 0 with rp->kind set, or -EPROTO.
 */
int cgm_wire_reply_parse(CgmWireReply *rp, const uint8_t *msg, size_t size, uint32_t serial,
                         const char *signature)
{
        const char *values[FIELD_UNIX_FDS + 1] = { 0 };
        uint32_t reply_serial = 0, n_fds = 0, fields_len, body_len, msg_serial;
        bool have_reply_serial = false, have_fds = false;
        const char *sig = "";
        Reader rd;
        size_t fields_end, body_start;
        size_t full;
        uint8_t type;

        *rp = (CgmWireReply){ .kind = CGM_WIRE_REPLY_OTHER };
        if (cgm_wire_message_size(msg, size, &full) < 0 || full != size)
                return -EPROTO;
        rd = (Reader){ .buf = msg, .pos = 0, .end = size, .big_endian = msg[0] == 'B' };
        type = msg[1];
        rd.pos = 4;
        if (reader_u32(&rd, &body_len) < 0 || reader_u32(&rd, &msg_serial) < 0 ||
            reader_u32(&rd, &fields_len) < 0 || msg_serial == 0)
                return -EPROTO;
        fields_end = CGM_WIRE_FIXED_HEADER + (size_t)fields_len;
        body_start = (fields_end + 7) / 8 * 8;
        rd.end = fields_end;
        while (rd.pos < rd.end) {
                const char *field_sig, *s;
                uint8_t code;

                if (reader_align(&rd, 8) < 0 || reader_u8(&rd, &code) < 0 ||
                    reader_string(&rd, true, &field_sig) < 0 || strlen(field_sig) != 1)
                        return -EPROTO;
                switch (code) {
                case FIELD_PATH:
                case FIELD_INTERFACE:
                case FIELD_MEMBER:
                case FIELD_ERROR_NAME:
                case FIELD_DESTINATION:
                case FIELD_SENDER:
                case FIELD_SIGNATURE: {
                        char want = code == FIELD_PATH ? 'o' : code == FIELD_SIGNATURE ? 'g' : 's';

                        if (field_sig[0] != want || values[code] ||
                            reader_string(&rd, want == 'g', &s) < 0)
                                return -EPROTO;
                        values[code] = s;
                        break;
                }
                case FIELD_REPLY_SERIAL:
                case FIELD_UNIX_FDS: {
                        bool *have = code == FIELD_REPLY_SERIAL ? &have_reply_serial : &have_fds;
                        uint32_t *v = code == FIELD_REPLY_SERIAL ? &reply_serial : &n_fds;

                        if (field_sig[0] != 'u' || *have || reader_u32(&rd, v) < 0)
                                return -EPROTO;
                        *have = true;
                        break;
                }
                case 0:
                        return -EPROTO; /* INVALID */
                default:
                        if (reader_skip_basic(&rd, field_sig[0]) < 0)
                                return -EPROTO;
                }
        }
        if (rd.pos != fields_end)
                return -EPROTO;
        rd.end = size;
        if (reader_align(&rd, 8) < 0 || rd.pos != body_start || size - body_start != body_len)
                return -EPROTO;
        if (values[FIELD_SIGNATURE])
                sig = values[FIELD_SIGNATURE];
        /* No fds were negotiated, so none can arrive; a message that counts some is corrupt. */
        if (have_fds && n_fds > 0)
                return -EPROTO;
        /* What each type must carry (spec: "Message Types"). */
        switch (type) {
        case TYPE_METHOD_CALL:
                if (!values[FIELD_PATH] || !values[FIELD_MEMBER])
                        return -EPROTO;
                break;
        case TYPE_SIGNAL:
                if (!values[FIELD_PATH] || !values[FIELD_MEMBER] || !values[FIELD_INTERFACE])
                        return -EPROTO;
                break;
        case TYPE_METHOD_RETURN:
                if (!have_reply_serial)
                        return -EPROTO;
                break;
        case TYPE_ERROR:
                if (!have_reply_serial || !values[FIELD_ERROR_NAME])
                        return -EPROTO;
                break;
        default:
                return 0; /* unknown types are ignored (spec), once their lengths held */
        }
        if ((type != TYPE_METHOD_RETURN && type != TYPE_ERROR) || reply_serial != serial)
                return 0;

        /* The reply. Its body holds strings only: the expected ones, or an error's message. */
        if (type == TYPE_METHOD_RETURN) {
                if (strcmp(sig, signature) != 0)
                        return -EPROTO;
        } else if (strcmp(sig, "") != 0 && strcmp(sig, "s") != 0) {
                return -EPROTO;
        }
        if (strspn(sig, "s") != strlen(sig) || strlen(sig) > sizeof(rp->strings) / sizeof(rp->strings[0]))
                return -EPROTO;
        for (size_t i = 0; sig[i]; i++)
                if (reader_string(&rd, false, &rp->strings[i]) < 0)
                        return -EPROTO;
        if (rd.pos != size)
                return -EPROTO;
        rp->n_strings = strlen(sig);
        rp->error_name = type == TYPE_ERROR ? values[FIELD_ERROR_NAME] : NULL;
        rp->kind = type == TYPE_ERROR ? CGM_WIRE_REPLY_ERROR : CGM_WIRE_REPLY_RETURN;
        return 0;
}

/* ---- I/O, all by a deadline -------------------------------------------------------------- */

/* Wait for @events on the socket until @deadline. Return: 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
        for (;;) {
                struct pollfd p = { .fd = fd, .events = events };
                int64_t left = deadline - now_ms();
                int r;

                if (left <= 0)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int)(left > INT_MAX ? INT_MAX : left));
                if (r > 0)
                        return 0; /* readable, writable, or POLLHUP/POLLERR: the I/O says which */
                if (r == 0)
                        return -ETIMEDOUT;
                if (errno != EINTR)
                        return -errno;
        }
}

static int send_all(int fd, const void *data, size_t n, int64_t deadline)
{
        const uint8_t *p = data;

        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
                int r;

                if (k > 0) {
                        p += k;
                        n -= (size_t)k;
                        continue;
                }
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno != EAGAIN)
                        return errno == EPIPE ? -ECONNRESET : -errno;
                r = wait_fd(fd, POLLOUT, deadline);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Read up to @n bytes, at least one. Return: the count, -ECONNRESET at EOF, -ETIMEDOUT. */
static ssize_t recv_some(int fd, void *buf, size_t n, int64_t deadline)
{
        for (;;) {
                ssize_t k = recv(fd, buf, n, MSG_DONTWAIT);
                int r;

                if (k > 0)
                        return k;
                if (k == 0)
                        return -ECONNRESET;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return errno == EPIPE ? -ECONNRESET : -errno;
                r = wait_fd(fd, POLLIN, deadline);
                if (r < 0)
                        return r;
        }
}

static int recv_exact(int fd, void *buf, size_t n, int64_t deadline)
{
        uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = recv_some(fd, p, n, deadline);

                if (k < 0)
                        return (int)k;
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

/* The handle's message for an I/O failure @r during @what; closes the connection, whose
 * stream is no longer in step. */
static int io_failed(CgmWire *w, int r, const char *what, int budget_ms)
{
        w->fd = safe_close(w->fd);
        if (r == -ETIMEDOUT)
                return fail(w, -ETIMEDOUT, NULL,
                            "cgmd at `%s` did not answer %s within %d ms; it may be overloaded "
                            "or hung",
                            w->socket, what, budget_ms);
        if (r == -ENOMEM || r == -ENOBUFS)
                return fail(w, -ENOMEM, NULL, "out of memory (%s)", what);
        if (r == -EPROTO)
                return fail(w, -EPROTO, NULL,
                            "cgmd at `%s` sent a malformed message during %s; are pam_cgm and "
                            "cgmd the same version?",
                            w->socket, what);
        return fail(w, -ECONNRESET, NULL,
                    "the connection to cgmd at `%s` was closed during %s (the daemon exited, or "
                    "refused this client); %s",
                    w->socket, what, hint_unreachable());
}

/* ---- connection --------------------------------------------------------------------------- */

/* Connect as libcgm does (cgm_unix_connect(), common/connect.c, says why the connect is
 * blocking with SO_SNDTIMEO). The socket stays blocking: every later send and recv says
 * MSG_DONTWAIT. */
static int socket_connect(CgmWire *w, int64_t deadline, int budget_ms)
{
        CgmError e = CGM_ERROR_NULL;
        int r = cgm_unix_connect(w->socket, deadline, budget_ms, &w->fd, &e);

        return r < 0 ? fail(w, r, NULL, "%s", e.msg) : 0;
}

/* Read one SASL line ("...\r\n") into @line. The server sends nothing unasked, so bytes after
 * the line are a protocol error. */
static int auth_read_line(CgmWire *w, char *line, size_t size, int64_t deadline)
{
        size_t n = 0;

        for (;;) {
                ssize_t k = recv_some(w->fd, line + n, size - 1 - n, deadline);
                char *end;

                if (k < 0)
                        return (int)k;
                n += (size_t)k;
                line[n] = '\0';
                if (memchr(line, '\0', n))
                        return -EPROTO;
                end = strstr(line, "\r\n");
                if (end) {
                        if ((size_t)(end - line) + 2 != n)
                                return -EPROTO;
                        *end = '\0';
                        return 0;
                }
                if (n >= size - 1)
                        return -EPROTO;
        }
}

/* `OK <guid>`: 32 lowercase or uppercase hex digits. */
static bool auth_is_ok(const char *line)
{
        const char *guid;

        if (strncmp(line, "OK ", 3) != 0)
                return false;
        guid = line + 3;
        return strlen(guid) == 32 && strspn(guid, "0123456789abcdefABCDEF") == 32;
}

/* Whether a `REJECTED mech mech ...` line offers @mech. */
static bool auth_offers(const char *line, const char *mech)
{
        size_t n = strlen(mech);

        if (strncmp(line, "REJECTED", 8) != 0)
                return false;
        for (const char *p = line + 8; (p = strstr(p, mech)); p += n)
                if (p[-1] == ' ' && (p[n] == ' ' || p[n] == '\0'))
                        return true;
        return false;
}

static int authenticate(CgmWire *w, int64_t deadline, int budget_ms)
{
        char line[AUTH_LINE_MAX], uid[16], auth[16 + 2 * sizeof(uid)];
        size_t n;
        int r;

        /* The credentials byte, then EXTERNAL with the euid as hex of its decimal digits. */
        snprintf(uid, sizeof(uid), "%u", (unsigned)geteuid());
        n = (size_t)snprintf(auth, sizeof(auth), "%cAUTH EXTERNAL ", '\0');
        for (const char *p = uid; *p; p++)
                n += (size_t)snprintf(auth + n, sizeof(auth) - n, "%02x", (unsigned char)*p);
        n += (size_t)snprintf(auth + n, sizeof(auth) - n, "\r\n");
        r = send_all(w->fd, auth, n, deadline);
        if (r >= 0)
                r = auth_read_line(w, line, sizeof(line), deadline);
        if (r >= 0 && !auth_is_ok(line) && auth_offers(line, "ANONYMOUS")) {
                /* The trace is "pam_cgm" in hex; cgmd ignores it. */
                static const char anonymous[] = "AUTH ANONYMOUS 70616d5f63676d\r\n";

                r = send_all(w->fd, anonymous, sizeof(anonymous) - 1, deadline);
                if (r >= 0)
                        r = auth_read_line(w, line, sizeof(line), deadline);
        }
        if (r < 0)
                return io_failed(w, r, "authentication", budget_ms);
        if (!auth_is_ok(line)) {
                w->fd = safe_close(w->fd);
                if (strncmp(line, "REJECTED", 8) == 0)
                        return fail(w, -EACCES, NULL,
                                    "cgmd at `%s` refused to authenticate this client", w->socket);
                return fail(w, -EPROTO, NULL,
                            "cgmd at `%s` answered authentication with something that is not "
                            "D-Bus",
                            w->socket);
        }
        return 0;
}

/**
 * cgm_wire_connect() - connect to cgmd and authenticate, within @timeout_ms together
 * @wp:         receives the handle, also on a failure to reach the daemon (the message is on
 *              it); NULL only with -ENOMEM or -EINVAL
 * @socket:     socket path; NULL or "" means $CGM_SOCKET (secure_getenv()), else the default
 * @timeout_ms: bounds connect and authentication; <= 0 means 25000. Also the handle's timeout.
 *
 * Return: 0, or as cgm_connect_timeout() of libcgm: -ENOMEM, -ENAMETOOLONG, -EINVAL, -ENOENT,
 * -ECONNREFUSED, -EACCES, -ETIMEDOUT, -ECONNRESET; also -EPROTO when the peer does not speak
 * D-Bus.
 */
int cgm_wire_connect(CgmWire **wp, const char *socket, int timeout_ms)
{
        CgmWire *w;
        int64_t deadline;
        int r;

        if (!wp)
                return -EINVAL;
        *wp = NULL;
        if (timeout_ms <= 0)
                timeout_ms = TIMEOUT_DEFAULT_MS;
        deadline = now_ms() + timeout_ms;
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->fd = -1;
        w->timeout_ms = timeout_ms;
        *wp = w;

        if (!socket || !socket[0])
                socket = secure_getenv("CGM_SOCKET");
        if (!socket || !socket[0])
                socket = CGM_DEFAULT_SOCKET;
        if (strlen(socket) >= sizeof(w->socket)) {
                snprintf(w->socket, sizeof(w->socket), "%.*s...", (int)sizeof(w->socket) - 4,
                         socket);
                return fail(w, -ENAMETOOLONG, NULL,
                            "socket path `%s` is longer than a Unix socket address allows (%zu "
                            "bytes)",
                            w->socket, sizeof(w->socket) - 1);
        }
        memcpy(w->socket, socket, strlen(socket) + 1);
        if (!cgm_utf8_valid(w->socket, strlen(w->socket)))
                return fail(w, -EINVAL, NULL, "socket path is not valid UTF-8");
        r = socket_connect(w, deadline, timeout_ms);
        if (r < 0) {
                w->fd = safe_close(w->fd);
                return r;
        }
        return authenticate(w, deadline, timeout_ms);
}

/** cgm_wire_free() - close the connection and free the handle; NULL is accepted. Returns NULL. */
CgmWire *cgm_wire_free(CgmWire *w)
{
        if (w) {
                safe_close(w->fd);
                free(w);
        }
        return NULL;
}

/** cgm_wire_set_timeout() - the time each later call may take; <= 0 restores 25000 ms */
void cgm_wire_set_timeout(CgmWire *w, int timeout_ms)
{
        if (w)
                w->timeout_ms = timeout_ms > 0 ? timeout_ms : TIMEOUT_DEFAULT_MS;
}

/** cgm_wire_error_message() - why the last call failed; "" when it did not (or @w is NULL) */
const char *cgm_wire_error_message(const CgmWire *w)
{
        return w ? w->error_message : "";
}

/** cgm_wire_error_name() - D-Bus error name of the daemon's refusal; NULL when it did not refuse */
const char *cgm_wire_error_name(const CgmWire *w)
{
        return w && w->error_name[0] ? w->error_name : NULL;
}

/* ---- calls ------------------------------------------------------------------------------- */

/* Errors libdbus raises itself on the daemon's side, mapped as libcgm maps them. */
static int standard_error_to_errno(const char *name)
{
        static const struct {
                const char *name;
                int code;
        } table[] = {
                { "org.freedesktop.DBus.Error.UnknownMethod", EOPNOTSUPP },
                { "org.freedesktop.DBus.Error.UnknownObject", EOPNOTSUPP },
                { "org.freedesktop.DBus.Error.UnknownInterface", EOPNOTSUPP },
                { "org.freedesktop.DBus.Error.NotSupported", EOPNOTSUPP },
                { "org.freedesktop.DBus.Error.InvalidArgs", EINVAL },
                { "org.freedesktop.DBus.Error.InvalidSignature", EINVAL },
                { "org.freedesktop.DBus.Error.AccessDenied", EACCES },
                { "org.freedesktop.DBus.Error.AuthFailed", EACCES },
                { "org.freedesktop.DBus.Error.LimitsExceeded", EDQUOT },
                { "org.freedesktop.DBus.Error.NoMemory", ENOMEM },
        };

        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
                if (strcmp(name, table[i].name) == 0)
                        return table[i].code;
        return 0;
}

static int daemon_error(CgmWire *w, const char *method, const CgmWireReply *reply)
{
        const char *name = reply->error_name, *message = reply->strings[0];
        int code = 0;

        if (strncmp(name, CGM_ERROR_PREFIX, strlen(CGM_ERROR_PREFIX)) != 0)
                code = standard_error_to_errno(name);
        if (code == 0)
                code = cgm_error_name_to_errno(name);
        if (code <= 0)
                code = EIO;
        if (!message || !message[0])
                return fail(w, -code, name, "cgmd refused %s (%s)", method, name);
        return fail(w, -code, name, "%s", message);
}

/*
 * call() - send a marshalled call and read its reply
 * @msg, @size:   the call, serial w->serial
 * @signature:    the body signature the return must have
 * @out:          receives @n_out strdup()ed body strings of the return
 *
 * Return: 0, the daemon's refusal, or a transport error (the connection is then closed).
 */
static int call(CgmWire *w, const char *method, const uint8_t *msg, size_t size,
                const char *signature, char **out, size_t n_out)
{
        static const char begin[] = "BEGIN\r\n";
        int64_t deadline = now_ms() + w->timeout_ms;
        uint8_t *buf = NULL;
        int r = 0;

        /* BEGIN and the first message go together: no fds follow, so nothing can be lost
         * at the server's switch from lines to messages (libcgm's authenticate() race). */
        if (!w->begun) {
                uint8_t *joined = malloc(sizeof(begin) - 1 + size);

                if (!joined)
                        return fail(w, -ENOMEM, NULL, "out of memory (%s)", method);
                memcpy(joined, begin, sizeof(begin) - 1);
                memcpy(joined + sizeof(begin) - 1, msg, size);
                r = send_all(w->fd, joined, sizeof(begin) - 1 + size, deadline);
                free(joined);
                w->begun = true;
        } else {
                r = send_all(w->fd, msg, size, deadline);
        }
        if (r < 0)
                return io_failed(w, r, method, w->timeout_ms);

        for (int i = 0; i < READ_MESSAGES_MAX; i++) {
                uint8_t head[CGM_WIRE_FIXED_HEADER];
                CgmWireReply reply;
                size_t full;

                r = recv_exact(w->fd, head, sizeof(head), deadline);
                if (r >= 0)
                        r = cgm_wire_message_size(head, sizeof(head), &full);
                if (r < 0)
                        break;
                free(buf);
                buf = malloc(full);
                if (!buf) {
                        r = -ENOMEM;
                        break;
                }
                memcpy(buf, head, sizeof(head));
                r = recv_exact(w->fd, buf + sizeof(head), full - sizeof(head), deadline);
                if (r >= 0)
                        r = cgm_wire_reply_parse(&reply, buf, full, w->serial, signature);
                if (r < 0)
                        break;
                if (reply.kind == CGM_WIRE_REPLY_OTHER)
                        continue;
                if (reply.kind == CGM_WIRE_REPLY_ERROR) {
                        r = daemon_error(w, method, &reply);
                        free(buf);
                        return r;
                }
                for (size_t k = 0; k < n_out && k < reply.n_strings; k++) {
                        out[k] = strdup(reply.strings[k]);
                        if (!out[k]) {
                                while (k > 0)
                                        free(out[--k]);
                                free(buf);
                                return fail(w, -ENOMEM, NULL, "out of memory (%s)", method);
                        }
                }
                free(buf);
                return 0;
        }
        free(buf);
        if (r >= 0)
                r = -EPROTO; /* READ_MESSAGES_MAX messages and none was the reply */
        return io_failed(w, r, method, w->timeout_ms);
}

static int check_string(CgmWire *w, const char *what, const char *s, size_t max)
{
        size_t len;

        if (!s)
                return fail(w, -EINVAL, NULL, "the %s is NULL", what);
        len = strlen(s);
        if (len > max)
                return fail(w, -EINVAL, NULL, "the %s is %zu bytes long, at most %zu are accepted",
                            what, len, max);
        if (!len)
                return fail(w, -EINVAL, NULL, "the %s is empty", what);
        if (!cgm_utf8_valid(s, len))
                return fail(w, -EINVAL, NULL, "the %s is not valid UTF-8", what);
        return 0;
}

/* Start of a call: a handle, connected, and a fresh serial. */
static int call_begin(CgmWire *w)
{
        if (!w)
                return -EINVAL;
        if (w->fd < 0)
                return -ENOTCONN;
        w->error_name[0] = '\0';
        w->error_message[0] = '\0';
        if (++w->serial == 0)
                w->serial = 1;
        return 0;
}

/**
 * cgm_wire_open_session() - OpenSession, as libcgm's cgm_open_session()
 * @idp:   the session id, "" when the policy excludes the user (free())
 * @pathp: the leaf's path, "" when excluded (free()); may be NULL
 *
 * Return: 0; -EINVAL or -E2BIG for bad arguments; the daemon's refusal; a transport error.
 */
int cgm_wire_open_session(CgmWire *w, const char *user, const cgm_kv *info, size_t n_info,
                          char **idp, char **pathp)
{
        char *out[2] = { NULL, NULL };
        uint8_t *msg = NULL;
        size_t size;
        int r;

        r = call_begin(w);
        if (r < 0)
                return r;
        if (!idp)
                return fail(w, -EINVAL, NULL, "OpenSession: no place for the session id");
        r = check_string(w, "user name", user, USER_NAME_MAX);
        if (r < 0)
                return r;
        if (n_info > CGM_SETTINGS_MAX)
                return fail(w, -E2BIG, NULL, "%zu session info given, at most %d fit in one call",
                            n_info, CGM_SETTINGS_MAX);
        if (n_info > 0 && !info)
                return fail(w, -EINVAL, NULL, "session info is NULL but %zu are counted",
                            n_info);
        for (size_t i = 0; i < n_info; i++) {
                r = check_string(w, "key", info[i].key, KEY_MAX);
                if (r >= 0 && info[i].value &&
                    !cgm_utf8_valid(info[i].value, strlen(info[i].value)))
                        r = fail(w, -EINVAL, NULL, "the value of `%s` is not valid UTF-8",
                                 info[i].key);
                if (r >= 0 && (!info[i].value || strlen(info[i].value) >= CGM_VALUE_MAX))
                        r = fail(w, -EINVAL, NULL, "the value of `%s` is NULL or too long",
                                 info[i].key);
                if (r < 0)
                        return r;
        }
        r = cgm_wire_call_new(&msg, &size, w->serial, "OpenSession", user, true, info, n_info);
        if (r < 0)
                return fail(w, r, NULL, "cannot build OpenSession: %s", strerror(-r));
        r = call(w, "OpenSession", msg, size, "ss", out, 2);
        free(msg);
        if (r < 0)
                return r;
        *idp = out[0];
        if (pathp)
                *pathp = out[1];
        else
                free(out[1]);
        return 0;
}

/**
 * cgm_wire_close_session() - CloseSession, as libcgm's cgm_close_session()
 *
 * Return: 0; -EINVAL for a bad id; the daemon's refusal; a transport error.
 */
int cgm_wire_close_session(CgmWire *w, const char *id)
{
        uint8_t *msg = NULL;
        size_t size;
        int r;

        r = call_begin(w);
        if (r < 0)
                return r;
        r = check_string(w, "session id", id, CGM_NAME_MAX);
        if (r < 0)
                return r;
        r = cgm_wire_call_new(&msg, &size, w->serial, "CloseSession", id, false, NULL, 0);
        if (r < 0)
                return fail(w, r, NULL, "cannot build CloseSession: %s", strerror(-r));
        r = call(w, "CloseSession", msg, size, "", NULL, 0);
        free(msg);
        return r;
}
