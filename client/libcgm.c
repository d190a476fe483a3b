/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libcgm: the client side of the cgmd wire protocol */

/*
 * One handle is one private, peer-to-peer libdbus connection to cgmd. There is no bus daemon,
 * so the connection is opened with dbus_connection_open_private(), never shared with the rest
 * of the process, never registered with Hello, and closed explicitly in cgm_free(). The library
 * keeps no state outside the handle and never writes to stdout, stderr or syslog: whatever goes
 * wrong is returned as a negative errno, and the sentence that explains it stays on the handle
 * until the next call.
 *
 * Three kinds of failure reach the caller, and cgm_error_name() tells them apart:
 *
 *  - the daemon answered with a D-Bus error: the name (CGM_ERR_*) and its message are kept
 *    verbatim and the errno comes from cgm_error_name_to_errno(), the table both sides share;
 *  - the daemon could not be reached or stopped answering (socket missing, refused, no
 *    permission on it, connection lost, timeout): no name, -ENOENT, -ECONNREFUSED, -EACCES,
 *    -ECONNRESET or -ETIMEDOUT, and a message that says what to try next;
 *  - the arguments were refused before anything was sent: no name, -EINVAL, -E2BIG, ... .
 *
 * Every string is checked before it is appended. libdbus treats invalid UTF-8 as a programming
 * error of its caller and, by default, prints a warning and aborts the process; a library must
 * not let bad input from its own caller do that. Counts are checked against the limits in
 * common/protocol.h so that the caller gets a precise message instead of the daemon's refusal.
 *
 * Nothing waits without a bound. cgm_connect() connects the socket itself, within a timeout
 * even when the daemon's listen queue is full (socket_connect()), and hands it to libdbus
 * (connection_adopt()), whose own connect would block for good there. Authentication is lazy:
 * the SASL exchange runs at the start of the first call, in our own loop bounded by the
 * handle's timeout (libdbus's own would flush with no timeout: a daemon that accepts and never
 * answers would hang a login forever); cgm_connect_timeout() runs it at once, so that connect
 * and handshake share one timeout. The calls that pass fds (Move, ProcCgroup) also make one
 * round trip first, see authenticate(). $CGM_SOCKET is read with secure_getenv(), so a setuid
 * caller cannot be pointed at a socket of the invoking user's choosing.
 *
 * Results: output pointers are written only on success. Arrays come with their count and also
 * end with a zeroed entry (NULL for string arrays), and are never NULL on success, so an empty
 * answer is an empty array. Output pointers the caller does not want may be NULL, except where
 * the kernel-doc says otherwise.
 *
 * Processes are named by pidfds. A pid is turned into one with pidfd_open(2), which resolves it
 * in the caller's own pid namespace; from then on the daemon never has to trust a number.
 */

#include <dbus/dbus.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cgm.h"
#include "cleanup.h"
#include "connect.h"
#include "direct.h"
#include "error.h"
#include "events.h"
#include "protocol.h"

/* Headers older than Linux 5.3 lack the number; it is the same on every architecture. */
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* Default reply timeout. It matches libdbus' own default, and is long enough for the daemon's
 * slow paths (waiting for a killed subtree to empty, lowering memory.max). */
#define CGM_TIMEOUT_DEFAULT_MS 25000

#define SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)NULL)->sun_path))

struct cgm {
        DBusConnection *conn;
        int timeout_ms;
        char socket[SOCKET_PATH_MAX];
        bool fds_safe; /* a round trip completed: the daemon reads with fd support now */
        Direct direct; /* reads answered from cgroupfs without the daemon (direct.h) */
        EventStash events; /* Event signals that arrived during calls (events.h) */
        /* Fixed buffers, so that recording a failure can never fail itself. D-Bus names are at
         * most 255 bytes; longer messages are cut. */
        char error_name[256];
        char error_message[512];
};

static void error_clear(cgm *h)
{
        h->error_name[0] = '\0';
        h->error_message[0] = '\0';
}

static int vfail(cgm *h, int code, const char *name, const char *fmt, va_list ap)
        __attribute__((format(printf, 4, 0)));

static int vfail(cgm *h, int code, const char *name, const char *fmt, va_list ap)
{
        snprintf(h->error_name, sizeof(h->error_name), "%s", name ? name : "");
        vsnprintf(h->error_message, sizeof(h->error_message), fmt, ap);
        return code;
}

static int fail(cgm *h, int code, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int fail(cgm *h, int code, const char *name, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        code = vfail(h, code, name, fmt, ap);
        va_end(ap);
        return code;
}

/* strerror() rather than strerror_r(): the latter has two incompatible forms (GNU, XSI) and
 * both glibc and musl return static text for every errno this file passes. */
static const char *errno_text(int code)
{
        return strerror(code < 0 ? -code : code);
}

static const char *hint_unreachable(void)
{
        return cgm_hint_unreachable();
}

/* ---- argument checks ------------------------------------------------------------------- */

/* Longest key: a controller prefix, a dot and a file name (hugetlb.<size>.max is the longest). */
#define KEY_MAX 128

/* @what names the argument in the message, @too_long is the errno for an overlong one. */
static int check_string(cgm *h, const char *what, const char *s, size_t max, int too_long)
{
        size_t len;

        if (!s)
                return fail(h, -EINVAL, NULL, "the %s is NULL", what);
        len = strlen(s);
        if (len > max)
                return fail(h, too_long, NULL, "the %s is %zu bytes long, at most %zu are accepted",
                            what, len, max);
        if (!dbus_validate_utf8(s, NULL))
                return fail(h, -EINVAL, NULL, "the %s is not valid UTF-8", what);
        return 0;
}

static int check_path(cgm *h, const char *path)
{
        return check_string(h, "path", path, CGM_PATH_MAX, -ENAMETOOLONG);
}

static int check_key(cgm *h, const char *key)
{
        int r;

        r = check_string(h, "key", key, KEY_MAX, -EINVAL);
        if (r < 0)
                return r;
        if (!key[0])
                return fail(h, -EINVAL, NULL, "a key is empty");
        return 0;
}

/* Key/value pairs of a Create or Set (@what "settings") or of OpenSession ("session info"). */
static int check_pairs(cgm *h, const char *what, const cgm_kv *pairs, size_t n)
{
        int r;

        if (n > CGM_SETTINGS_MAX)
                return fail(h, -E2BIG, NULL, "%zu %s given, at most %d fit in one call", n, what,
                            CGM_SETTINGS_MAX);
        if (n > 0 && !pairs)
                return fail(h, -EINVAL, NULL, "%s is NULL but %zu are counted", what, n);
        for (size_t i = 0; i < n; i++) {
                const char *value = pairs[i].value;

                r = check_key(h, pairs[i].key);
                if (r < 0)
                        return r;
                if (!value)
                        return fail(h, -EINVAL, NULL, "the value of `%s` is NULL",
                                    pairs[i].key);
                if (strlen(value) >= CGM_VALUE_MAX)
                        return fail(h, -EINVAL, NULL,
                                    "the value of `%s` is %zu bytes long, at most %d are "
                                    "accepted",
                                    pairs[i].key, strlen(value), CGM_VALUE_MAX - 1);
                if (!dbus_validate_utf8(value, NULL))
                        return fail(h, -EINVAL, NULL, "the value of `%s` is not valid UTF-8",
                                    pairs[i].key);
        }
        return 0;
}

static int check_settings(cgm *h, const cgm_kv *settings, size_t n)
{
        return check_pairs(h, "settings", settings, n);
}

/* ---- messages --------------------------------------------------------------------------- */

static int message_new(cgm *h, const char *method, DBusMessage **mp)
{
        DBusMessage *m;

        m = dbus_message_new_method_call(NULL, CGM_DBUS_PATH, CGM_DBUS_INTERFACE, method);
        if (!m)
                return fail(h, -ENOMEM, NULL, "out of memory (%s)", method);
        *mp = m;
        return 0;
}

static int oom(cgm *h, const char *method)
{
        return fail(h, -ENOMEM, NULL, "out of memory (%s)", method);
}

static bool append_string(DBusMessageIter *it, const char *s)
{
        return dbus_message_iter_append_basic(it, DBUS_TYPE_STRING, &s);
}

static bool append_settings(DBusMessageIter *it, const cgm_kv *settings, size_t n)
{
        DBusMessageIter dict, entry;

        if (!dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "{ss}", &dict))
                return false;
        for (size_t i = 0; i < n; i++) {
                if (!dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry))
                        goto fail;
                if (!append_string(&entry, settings[i].key) ||
                    !append_string(&entry, settings[i].value)) {
                        dbus_message_iter_abandon_container(&dict, &entry);
                        goto fail;
                }
                if (!dbus_message_iter_close_container(&dict, &entry))
                        goto fail;
        }
        if (!dbus_message_iter_close_container(it, &dict))
                return false;
        return true;
fail:
        dbus_message_iter_abandon_container(it, &dict);
        return false;
}

/* Message for a libdbus error that did not come from the daemon, and whether it is one. */
static int transport_error(cgm *h, const char *method, const DBusError *e)
{
        if (dbus_error_has_name(e, DBUS_ERROR_NO_MEMORY))
                return oom(h, method);
        if (!dbus_connection_get_is_connected(h->conn) ||
            dbus_error_has_name(e, DBUS_ERROR_DISCONNECTED))
                return fail(h, -ECONNRESET, NULL,
                            "the connection to cgmd at `%s` was closed during %s (the daemon "
                            "exited, or refused this client); %s",
                            h->socket, method, hint_unreachable());
        return fail(h, -ETIMEDOUT, NULL,
                    "cgmd at `%s` did not answer %s within %d ms; it may be overloaded or hung",
                    h->socket, method, h->timeout_ms);
}

static bool is_transport_error(const DBusError *e)
{
        return dbus_error_has_name(e, DBUS_ERROR_NO_REPLY) ||
               dbus_error_has_name(e, DBUS_ERROR_TIMEOUT) ||
               dbus_error_has_name(e, DBUS_ERROR_TIMED_OUT) ||
               dbus_error_has_name(e, DBUS_ERROR_DISCONNECTED) ||
               dbus_error_has_name(e, DBUS_ERROR_NO_MEMORY);
}

/* Errors libdbus itself raises on the daemon's side (unknown method, bad signature, ...). */
static int standard_error_to_errno(const char *name)
{
        static const struct {
                const char *name;
                int code;
        } table[] = {
                { DBUS_ERROR_UNKNOWN_METHOD, EOPNOTSUPP },
                { DBUS_ERROR_UNKNOWN_OBJECT, EOPNOTSUPP },
                { DBUS_ERROR_UNKNOWN_INTERFACE, EOPNOTSUPP },
                { DBUS_ERROR_NOT_SUPPORTED, EOPNOTSUPP },
                { DBUS_ERROR_INVALID_ARGS, EINVAL },
                { DBUS_ERROR_INVALID_SIGNATURE, EINVAL },
                { DBUS_ERROR_ACCESS_DENIED, EACCES },
                { DBUS_ERROR_AUTH_FAILED, EACCES },
                { DBUS_ERROR_LIMITS_EXCEEDED, EDQUOT },
                { DBUS_ERROR_NO_MEMORY, ENOMEM },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strcmp(name, table[i].name) == 0)
                        return table[i].code;
        return 0;
}

static int daemon_error(cgm *h, const char *method, const DBusError *e)
{
        int code = 0;

        if (strncmp(e->name, CGM_ERROR_PREFIX, strlen(CGM_ERROR_PREFIX)) != 0)
                code = standard_error_to_errno(e->name);
        if (code == 0)
                code = cgm_error_name_to_errno(e->name);
        if (code <= 0)
                code = EIO;
        if (!e->message || !e->message[0])
                return fail(h, -code, e->name, "cgmd refused %s (%s)", method,
                            e->name);
        return fail(h, -code, e->name, "%s", e->message);
}

/*
 * call() - send @m, wait for the reply, check its signature
 *
 * Anything else that arrives meanwhile is taken out of the incoming queue, so that it cannot
 * grow behind a caller that only makes calls: Event signals go to the handle's bounded stash
 * for cgm_event_next() (events.h), the rest is dropped.
 */
static int handshake(cgm *h, const char *method);

static int call(cgm *h, DBusMessage *m, const char *method, const char *reply_signature,
                DBusMessage **replyp)
{
        _cleanup_dbus_error_ DBusError e = DBUS_ERROR_INIT;
        _cleanup_message_ DBusMessage *reply = NULL;
        DBusMessage *other;
        int r;

        /* libdbus would authenticate inside the blocking call, but flushes with no timeout
         * there: a daemon that accepts and never answers would hang the caller (a login!)
         * forever. The handshake runs here first, bounded by the handle's timeout. */
        r = handshake(h, method);
        if (r < 0)
                return r;

        reply = dbus_connection_send_with_reply_and_block(h->conn, m, h->timeout_ms, &e);
        while ((other = dbus_connection_pop_message(h->conn)))
                events_stash(&h->events, other);
        if (!reply) {
                if (!dbus_error_is_set(&e))
                        return oom(h, method);
                if (is_transport_error(&e) || !dbus_connection_get_is_connected(h->conn))
                        return transport_error(h, method, &e);
                return daemon_error(h, method, &e);
        }
        if (!dbus_message_has_signature(reply, reply_signature))
                return fail(h, -EPROTO, NULL,
                            "cgmd replied to %s with signature `%s`, expected `%s`; are cgm "
                            "and cgmd the same version?",
                            method, dbus_message_get_signature(reply), reply_signature);
        if (replyp)
                *replyp = TAKE_PTR(reply);
        return 0;
}

/* The common shape: one path argument, a reply to be parsed by the caller. */
static int call_path(cgm *h, const char *method, const char *path, const char *reply_signature,
                     DBusMessage **replyp)
{
        _cleanup_message_ DBusMessage *m = NULL;
        int r;

        r = check_path(h, path);
        if (r < 0)
                return r;
        r = message_new(h, method, &m);
        if (r < 0)
                return r;
        if (!dbus_message_append_args(m, DBUS_TYPE_STRING, &path, DBUS_TYPE_INVALID))
                return oom(h, method);
        return call(h, m, method, reply_signature, replyp);
}

/* ---- reply parsing ---------------------------------------------------------------------- */

static int read_strv(DBusMessageIter *it, char ***vp)
{
        DBusMessageIter sub;
        char **v;
        size_t n = 0, i = 0;

        dbus_message_iter_recurse(it, &sub);
        n = (size_t)dbus_message_iter_get_element_count(it);
        v = calloc(n + 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        while (i < n && dbus_message_iter_get_arg_type(&sub) == DBUS_TYPE_STRING) {
                const char *s;

                dbus_message_iter_get_basic(&sub, &s);
                v[i] = strdup(s);
                if (!v[i]) {
                        cgm_strv_free(v);
                        return -ENOMEM;
                }
                i++;
                dbus_message_iter_next(&sub);
        }
        *vp = v;
        return 0;
}

static int read_kv(DBusMessageIter *it, cgm_kv **kvp, size_t *np)
{
        DBusMessageIter dict, entry;
        cgm_kv *kv;
        size_t n, i = 0;

        n = (size_t)dbus_message_iter_get_element_count(it);
        dbus_message_iter_recurse(it, &dict);
        /* One more, zeroed: the array also ends with { NULL, NULL }. */
        kv = calloc(n + 1, sizeof(*kv));
        if (!kv)
                return -ENOMEM;
        while (i < n && dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
                const char *key, *value;

                dbus_message_iter_recurse(&dict, &entry);
                dbus_message_iter_get_basic(&entry, &key);
                dbus_message_iter_next(&entry);
                dbus_message_iter_get_basic(&entry, &value);
                kv[i].key = strdup(key);
                kv[i].value = strdup(value);
                i++;
                if (!kv[i - 1].key || !kv[i - 1].value) {
                        cgm_kv_free(kv, i);
                        return -ENOMEM;
                }
                dbus_message_iter_next(&dict);
        }
        *kvp = kv;
        *np = i;
        return 0;
}

static int read_counters(DBusMessageIter *it, cgm_counter **cp, size_t *np)
{
        DBusMessageIter dict, entry;
        cgm_counter *c;
        size_t n, i = 0;

        n = (size_t)dbus_message_iter_get_element_count(it);
        dbus_message_iter_recurse(it, &dict);
        c = calloc(n + 1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        while (i < n && dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
                const char *name;
                dbus_uint64_t value;

                dbus_message_iter_recurse(&dict, &entry);
                dbus_message_iter_get_basic(&entry, &name);
                dbus_message_iter_next(&entry);
                dbus_message_iter_get_basic(&entry, &value);
                c[i].name = strdup(name);
                c[i].value = value;
                if (!c[i++].name) {
                        cgm_counters_free(c, i);
                        return -ENOMEM;
                }
                dbus_message_iter_next(&dict);
        }
        *cp = c;
        *np = i;
        return 0;
}

/* The single string a Create or ProcCgroup reply carries. */
static int reply_string(cgm *h, const char *method, DBusMessage *reply, char **sp)
{
        const char *s = NULL;

        if (!sp)
                return 0;
        if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &s, DBUS_TYPE_INVALID))
                return oom(h, method);
        *sp = strdup(s);
        if (!*sp)
                return oom(h, method);
        return 0;
}

/* ---- connection ------------------------------------------------------------------------- */

/* The clock of every deadline, also of cgm_unix_connect()'s. */
static int64_t now_ms(void)
{
        return cgm_monotonic_ms();
}

/*
 * Run the SASL handshake to its end, by @deadline (CLOCK_MONOTONIC ms). libdbus would do it
 * inside the first blocking call, but whether unix fds may be sent is only known once it is
 * over, and libdbus refuses a message with fds before that. @budget_ms is only for the
 * message: the time the caller gave for what ends at @deadline.
 */
static int handshake_until(cgm *h, const char *method, int64_t deadline, int budget_ms)
{
        while (!dbus_connection_get_is_authenticated(h->conn)) {
                int64_t left = deadline - now_ms();

                if (!dbus_connection_get_is_connected(h->conn))
                        return fail(h, -ECONNRESET, NULL,
                                    "cgmd at `%s` closed the connection during "
                                    "authentication for %s; %s",
                                    h->socket, method, hint_unreachable());
                if (left <= 0)
                        return fail(h, -ETIMEDOUT, NULL,
                                    "cgmd at `%s` did not complete authentication for %s "
                                    "within %d ms",
                                    h->socket, method, budget_ms);
                (void)dbus_connection_read_write(h->conn, (int)left);
        }
        return 0;
}

static int handshake(cgm *h, const char *method)
{
        return handshake_until(h, method, now_ms() + h->timeout_ms, h->timeout_ms);
}

static int authenticate(cgm *h, const char *method)
{
        int r = handshake(h, method);

        if (r < 0)
                return r;
        /*
         * libdbus's client sends BEGIN and may send the next message right behind it. The
         * server reads its authentication lines without a control buffer, so if one read takes
         * BEGIN and the start of a message carrying SCM_RIGHTS, the kernel discards the fds and
         * the server drops the connection as corrupt (seen here on about a third of first
         * Moves). One round trip without fds first guarantees the server has left
         * authentication before any fd is on the wire.
         */
        if (!h->fds_safe) {
                r = cgm_ping(h);
                if (r < 0)
                        return r;
                h->fds_safe = true;
        }
        return 0;
}

/*
 * socket_connect() - connect a socket to the daemon's, by @deadline (cgm_unix_connect(),
 * common/connect.c, says how the wait is bounded)
 * @budget_ms: the caller's timeout, for the message
 * @fdp:       receives the connected socket, non-blocking and close-on-exec
 */
static int socket_connect(cgm *h, int64_t deadline, int budget_ms, int *fdp)
{
        const struct timeval no_timeout = { 0, 0 };
        CgmError e = CGM_ERROR_NULL;
        _cleanup_close_ int fd = -1;
        int flags, r;

        r = cgm_unix_connect(h->socket, deadline, budget_ms, &fd, &e);
        if (r < 0)
                return fail(h, r, NULL, "%s", e.msg);
        /* From here on libdbus does non-blocking I/O on it; the timeout must not linger. */
        flags = fcntl(fd, F_GETFL);
        if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &no_timeout, sizeof(no_timeout)) < 0 ||
            flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return fail(h, -errno, NULL, "cannot set up the socket: %s", errno_text(errno));
        *fdp = TAKE_FD(fd);
        return 0;
}

/*
 * decoy_listen() - a listener of our own for libdbus to connect to
 * @addressp: receives its libdbus address (free())
 *
 * An abstract socket (no file, gone with its last fd) with a random name, listening with the
 * longest queue the kernel allows. Nobody else knows the name in advance; it would be visible
 * in /proc/net/unix for the few microseconds it exists, and holding libdbus' connect would take
 * filling a queue of SOMAXCONN (4096) connections in that time. Without random bytes (very
 * early boot) the kernel picks a free name (autobind).
 *
 * Return: the listening fd, or a negative errno (the message is on @h).
 */
static int decoy_listen(cgm *h, char **addressp)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        socklen_t len = offsetof(struct sockaddr_un, sun_path);
        _cleanup_close_ int fd = -1;
        unsigned char random[16];
        char name[2 * sizeof(random) + sizeof("cgm-")], *escaped;
        size_t n;

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                goto error;
        if (getrandom(random, sizeof(random), GRND_NONBLOCK) == (ssize_t)sizeof(random)) {
                n = (size_t)snprintf(name, sizeof(name), "cgm-");
                for (size_t i = 0; i < sizeof(random); i++)
                        n += (size_t)snprintf(name + n, sizeof(name) - n, "%02x", random[i]);
                memcpy(sa.sun_path + 1, name, n); /* sun_path[0] = '\0': abstract */
                if (bind(fd, (struct sockaddr *)&sa, (socklen_t)(len + 1 + n)) < 0 &&
                    errno != EADDRINUSE)
                        goto error;
        }
        /* No random name bound: let the kernel pick one. */
        len = sizeof(sa);
        if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
                goto error;
        if (len <= offsetof(struct sockaddr_un, sun_path) + 1) {
                if (bind(fd, (struct sockaddr *)&sa, sizeof(sa_family_t)) < 0)
                        goto error;
                len = sizeof(sa);
                if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
                        goto error;
        }
        if (listen(fd, SOMAXCONN) < 0)
                goto error;

        /* The name as libdbus takes it: after the leading NUL, no NUL inside. */
        n = len - offsetof(struct sockaddr_un, sun_path) - 1;
        if (len <= offsetof(struct sockaddr_un, sun_path) + 1 || n >= sizeof(name) ||
            memchr(sa.sun_path + 1, '\0', n)) {
                errno = EADDRNOTAVAIL;
                goto error;
        }
        memcpy(name, sa.sun_path + 1, n);
        name[n] = '\0';
        escaped = dbus_address_escape_value(name);
        if (!escaped)
                return fail(h, -ENOMEM, NULL, "out of memory (connect)");
        if (asprintf(addressp, "unix:abstract=%s", escaped) < 0) {
                dbus_free(escaped);
                return fail(h, -ENOMEM, NULL, "out of memory (connect)");
        }
        dbus_free(escaped);
        return TAKE_FD(fd);
error:
        return fail(h, errno == ENOMEM || errno == ENOBUFS ? -ENOMEM : -errno, NULL,
                    "cannot set up the connection to cgmd: local socket: %s", errno_text(errno));
}

/*
 * connection_adopt() - a private libdbus connection on @fd, a socket connected to cgmd
 *
 * libdbus opens a connection only by connecting a socket of its own, with a blocking
 * connect(2) that nothing bounds (socket_connect() says when that hangs), and it has no call
 * that adopts a socket connected elsewhere. So libdbus connects to a listener of ours
 * (decoy_listen()), whose queue has room: that connect returns at once, and nobody accepts
 * it. Then the socket connected to cgmd is put in place of libdbus' under the same fd number,
 * with dup3(), and the listener is closed, which drops libdbus' unaccepted connection.
 *
 * This is sound because opening a connection does no I/O in libdbus (1.x: _dbus_connect_unix_
 * socket() in dbus-sysdeps-unix.c, _dbus_transport_new_for_socket() in
 * dbus-transport-socket.c): the client's AUTH line is only queued in memory
 * (_dbus_auth_client_new()), and the first byte, the credentials nul, is written by the first
 * I/O iteration, here the handshake or the first call. The transport and its watches know the
 * socket by its number only, and both sockets are AF_UNIX, so fd passing is negotiated the
 * same way. Should a libdbus ever write at open, the bytes would still sit unread on the
 * socket being replaced (SIOCOUTQ counts them): that is checked, and refused, rather than
 * sending cgmd half a handshake. The daemon sees its peer (SO_PEERCRED) as the process that
 * connected, which is this one, as before.
 *
 * Return: 0 with h->conn set, or a negative errno (the message is on @h).
 */
static int connection_adopt(cgm *h, int fd)
{
        _cleanup_dbus_error_ DBusError e = DBUS_ERROR_INIT;
        _cleanup_free_ char *address = NULL;
        _cleanup_close_ int listener = -1;
        DBusConnection *conn;
        int dfd = -1, queued = 0;

        listener = decoy_listen(h, &address);
        if (listener < 0)
                return listener;
        conn = dbus_connection_open_private(address, &e);
        if (!conn) {
                if (dbus_error_has_name(&e, DBUS_ERROR_NO_MEMORY))
                        return fail(h, -ENOMEM, NULL, "out of memory (connect)");
                return fail(h, -ECONNREFUSED, NULL,
                            "cannot set up the connection to cgmd: libdbus: %s",
                            e.message ? e.message : e.name);
        }
        if (!dbus_connection_get_socket(conn, &dfd) || dfd < 0) {
                errno = EBADF;
                goto error;
        }
        if (ioctl(dfd, SIOCOUTQ, &queued) == 0 && queued > 0) {
                errno = EPROTO;
                goto error;
        }
        if (dup3(fd, dfd, O_CLOEXEC) < 0)
                goto error;
        /* Private connections default to this already; a library must never exit. */
        dbus_connection_set_exit_on_disconnect(conn, false);
        h->conn = conn;
        return 0;
error:
        {
                int err = errno;

                dbus_connection_close(conn);
                dbus_connection_unref(conn);
                return fail(h, -err, NULL,
                            "cannot set up the connection to cgmd: libdbus' socket: %s",
                            errno_text(err));
        }
}

/*
 * connect_to() - cgm_connect() and cgm_connect_timeout()
 * @timeout_ms:   bounds the connect (and with @authenticate the handshake too); also becomes
 *                the handle's timeout
 * @authenticate: complete the SASL handshake here, within the same @timeout_ms
 */
static int connect_to(cgm **hp, const char *socket, int timeout_ms, bool authenticate)
{
        _cleanup_free_ cgm *h = NULL;
        _cleanup_close_ int fd = -1;
        int64_t deadline = now_ms() + timeout_ms;
        int code;

        if (!hp)
                return -EINVAL;
        *hp = NULL;
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->timeout_ms = timeout_ms;
        direct_init(&h->direct);

        if (!socket || !socket[0])
                socket = secure_getenv("CGM_SOCKET");
        if (!socket || !socket[0])
                socket = CGM_DEFAULT_SOCKET;
        if (strlen(socket) >= sizeof(h->socket)) {
                snprintf(h->socket, sizeof(h->socket), "%.*s...", (int)sizeof(h->socket) - 4,
                         socket);
                code = fail(h, -ENAMETOOLONG, NULL,
                            "socket path `%s` is longer than a Unix socket address allows (%zu "
                            "bytes)",
                            h->socket, sizeof(h->socket) - 1);
                *hp = TAKE_PTR(h);
                return code;
        }
        memcpy(h->socket, socket, strlen(socket) + 1);
        if (!dbus_validate_utf8(h->socket, NULL)) {
                code = fail(h, -EINVAL, NULL, "socket path is not valid UTF-8");
                *hp = TAKE_PTR(h);
                return code;
        }

        code = socket_connect(h, deadline, timeout_ms, &fd);
        if (code >= 0)
                code = connection_adopt(h, fd);
        if (code >= 0 && authenticate)
                code = handshake_until(h, "the connection", deadline, timeout_ms);
        if (code == -ENOMEM && !h->conn)
                return -ENOMEM; /* as documented: no handle */
        *hp = TAKE_PTR(h);
        return code;
}

/**
 * cgm_connect() - open a private connection to cgmd
 * @hp:     receives the handle (also on a connection failure, so the message can be read)
 * @socket: socket path; NULL or "" means $CGM_SOCKET, else CGM_DEFAULT_SOCKET
 *
 * Only the socket is connected here, within the default timeout (25 s) even when the daemon's
 * listen queue is full; authentication happens in the first call.
 *
 * Return: 0; -EINVAL when @hp is NULL; -ENOMEM (*@hp is then NULL); -ENAMETOOLONG for a path
 * that does not fit a socket address; -ENOENT, -ECONNREFUSED or -EACCES when the daemon cannot
 * be reached; -ETIMEDOUT when it does not accept the connection in time.
 */
int cgm_connect(cgm **hp, const char *socket)
{
        return connect_to(hp, socket, CGM_TIMEOUT_DEFAULT_MS, false);
}

/**
 * cgm_connect_timeout() - open a private connection to cgmd, authenticated within a timeout
 * @hp:         as for cgm_connect()
 * @socket:     as for cgm_connect()
 * @timeout_ms: milliseconds for connecting and authenticating together; <= 0 means the
 *              default (25000). It also becomes the handle's timeout (cgm_set_timeout()).
 *
 * For a caller with one deadline for everything (a PAM module): after it returns, the caller
 * sets what is left with cgm_set_timeout() and makes its call, which then needs no handshake.
 *
 * Return: as cgm_connect(); also -ETIMEDOUT or -ECONNRESET when the daemon does not complete
 * authentication in time, or closes the connection during it.
 */
int cgm_connect_timeout(cgm **hp, const char *socket, int timeout_ms)
{
        return connect_to(hp, socket, timeout_ms > 0 ? timeout_ms : CGM_TIMEOUT_DEFAULT_MS, true);
}

/** cgm_free() - close the connection and free the handle; NULL is accepted */
void cgm_free(cgm *h)
{
        if (!h)
                return;
        if (h->conn) {
                dbus_connection_close(h->conn);
                dbus_connection_unref(h->conn);
        }
        direct_drop(&h->direct);
        events_stash_free(&h->events);
        free(h);
}

/**
 * cgm_set_timeout() - reply timeout per call
 * @h:          handle
 * @timeout_ms: milliseconds; -1 (or any value <= 0) restores the default of 25000
 */
void cgm_set_timeout(cgm *h, int timeout_ms)
{
        if (!h)
                return;
        h->timeout_ms = timeout_ms > 0 ? timeout_ms : CGM_TIMEOUT_DEFAULT_MS;
}

/** cgm_error_message() - why the last call failed; "" when it did not (or @h is NULL) */
const char *cgm_error_message(const cgm *h)
{
        return h ? h->error_message : "";
}

/** cgm_error_name() - D-Bus error name of the daemon's refusal; NULL when it did not refuse */
const char *cgm_error_name(const cgm *h)
{
        return h && h->error_name[0] ? h->error_name : NULL;
}

/** cgm_strv_free() - free a NULL-terminated string array returned by libcgm */
void cgm_strv_free(char **v)
{
        strv_free(v);
}

/** cgm_kv_free() - free @n key/value pairs and the array */
void cgm_kv_free(cgm_kv *kv, size_t n)
{
        if (!kv)
                return;
        for (size_t i = 0; i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

/** cgm_counters_free() - free @n counters and the array */
void cgm_counters_free(cgm_counter *c, size_t n)
{
        if (!c)
                return;
        for (size_t i = 0; i < n; i++)
                free(c[i].name);
        free(c);
}

/*
 * Every entry point starts here. A NULL handle has nowhere to keep a message; a handle whose
 * connect failed keeps the message that says why and answers -ENOTCONN.
 */
#define BEGIN(h)                                                                                   \
        do {                                                                                       \
                if (!(h))                                                                          \
                        return -EINVAL;                                                            \
                if (!(h)->conn)                                                                    \
                        return -ENOTCONN;                                                          \
                error_clear(h);                                                                    \
        } while (0)

/* ---- direct reads ----------------------------------------------------------------------- */

/*
 * direct_learn() - ask the daemon once where the caller may read cgroupfs itself (Layout), so
 * that the reads below can skip it (direct.h). A daemon without Layout, or any refusal, turns
 * direct reads off for the handle and is not the caller's concern. A daemon that cannot be
 * reached is: that is the answer to the caller's @method (named so in the message), rather
 * than a second wait for the same silence.
 */
static int direct_learn(cgm *h, const char *method)
{
        _cleanup_message_ DBusMessage *m = NULL, *reply = NULL;
        DirectHierarchy hs[CGFS_HIERARCHIES_MAX];
        DBusMessageIter it, arr, st;
        dbus_bool_t direct, has_home, same_pids;
        dbus_uint32_t uid, primary;
        const char *base, *home;
        size_t n = 0;
        int r;

        if (h->direct.state != DIRECT_UNKNOWN)
                return 0;
        r = message_new(h, "Layout", &m);
        if (r == 0)
                r = call(h, m, method, "busbsbua(bsstt)", &reply);
        if (r < 0) {
                if (!h->error_name[0] && r != -EPROTO)
                        return r; /* unreachable, or out of memory */
                h->direct.state = DIRECT_OFF;
                error_clear(h);
                return 0;
        }
        dbus_message_iter_init(reply, &it);
        dbus_message_iter_get_basic(&it, &direct);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &uid);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &base);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &has_home);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &home);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &same_pids);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &primary);
        dbus_message_iter_next(&it);
        dbus_message_iter_recurse(&it, &arr);
        while (n < ELEMENTSOF(hs) && dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_STRUCT) {
                dbus_bool_t v2;
                dbus_uint64_t dev, ino;

                dbus_message_iter_recurse(&arr, &st);
                dbus_message_iter_get_basic(&st, &v2);
                dbus_message_iter_next(&st);
                dbus_message_iter_get_basic(&st, &hs[n].controllers);
                dbus_message_iter_next(&st);
                dbus_message_iter_get_basic(&st, &hs[n].base_path);
                dbus_message_iter_next(&st);
                dbus_message_iter_get_basic(&st, &dev);
                dbus_message_iter_next(&st);
                dbus_message_iter_get_basic(&st, &ino);
                hs[n].is_v2 = v2;
                hs[n].dev = dev;
                hs[n].ino = ino;
                n++;
                dbus_message_iter_next(&arr);
        }
        if (!direct) {
                h->direct.state = DIRECT_OFF;
                return 0;
        }
        (void)direct_setup(&h->direct, (uid_t)uid, base, has_home, home, same_pids, primary, hs,
                           n);
        return 0;
}

/*
 * Every direct read starts here: learn the layout if needed. Return: 1 to try the direct
 * read, 0 to ask the daemon, or the negative errno of a daemon that cannot be reached.
 */
static int direct_try(cgm *h, const char *method)
{
        int r = direct_learn(h, method);

        if (r < 0)
                return r;
        return h->direct.state == DIRECT_READY;
}

/* ---- methods ---------------------------------------------------------------------------- */

/**
 * cgm_ping() - check that the daemon answers
 * @h: handle
 *
 * Return: 0, or a transport error (-ECONNRESET, -ETIMEDOUT, ...).
 */
int cgm_ping(cgm *h)
{
        _cleanup_message_ DBusMessage *m = NULL;
        int r;

        BEGIN(h);
        r = message_new(h, "Ping", &m);
        if (r < 0)
                return r;
        return call(h, m, "Ping", "", NULL);
}

/**
 * cgm_version() - the daemon's version, API level and features
 * @h:         handle
 * @versionp:  version string (free()); may be NULL
 * @api_levelp: API level (CGM_API_LEVEL of the daemon); may be NULL
 * @featuresp: NULL-terminated feature names (cgm_strv_free()); may be NULL
 *
 * Return: 0, -ENOMEM, -EPROTO on a malformed reply, or a transport error.
 */
int cgm_version(cgm *h, char **versionp, unsigned *api_levelp, char ***featuresp)
{
        _cleanup_message_ DBusMessage *m = NULL, *reply = NULL;
        _cleanup_free_ char *version = NULL;
        _cleanup_strv_ char **features = NULL;
        DBusMessageIter it;
        const char *s;
        dbus_uint32_t level;
        int r;

        BEGIN(h);
        r = message_new(h, "Version", &m);
        if (r < 0)
                return r;
        r = call(h, m, "Version", "suas", &reply);
        if (r < 0)
                return r;
        dbus_message_iter_init(reply, &it);
        dbus_message_iter_get_basic(&it, &s);
        version = strdup(s);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &level);
        dbus_message_iter_next(&it);
        if (!version || read_strv(&it, &features) < 0)
                return oom(h, "Version");
        if (versionp)
                *versionp = TAKE_PTR(version);
        if (api_levelp)
                *api_levelp = level;
        if (featuresp)
                *featuresp = TAKE_PTR(features);
        return 0;
}

/**
 * cgm_whoami() - the caller as the daemon sees it
 * @h:         handle
 * @uidp:      principal uid; may be NULL
 * @homep:     home cgroup, "" when none is delegated (free()); may be NULL
 * @cgroupp:   the caller's current cgroup (free()); may be NULL
 * @limitsp:   the home's limits (cgm_kv_free()), ending with a { NULL, NULL } entry; may be NULL
 * @n_limitsp: number of limits; may be NULL
 *
 * Return: 0, -ENOMEM, -EPROTO, or a transport error.
 */
int cgm_whoami(cgm *h, uid_t *uidp, char **homep, char **cgroupp, cgm_kv **limitsp,
               size_t *n_limitsp)
{
        _cleanup_message_ DBusMessage *m = NULL, *reply = NULL;
        _cleanup_free_ char *home = NULL, *cgroup = NULL;
        DBusMessageIter it;
        dbus_uint32_t uid;
        const char *s;
        cgm_kv *limits = NULL;
        size_t n_limits = 0;
        int r;

        BEGIN(h);
        r = direct_try(h, "WhoAmI");
        if (r < 0)
                return r;
        if (r > 0 && direct_whoami(&h->direct, uidp, homep, cgroupp, limitsp, n_limitsp) == 1)
                return 0;
        r = message_new(h, "WhoAmI", &m);
        if (r < 0)
                return r;
        r = call(h, m, "WhoAmI", "ussa{ss}", &reply);
        if (r < 0)
                return r;
        dbus_message_iter_init(reply, &it);
        dbus_message_iter_get_basic(&it, &uid);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &s);
        home = strdup(s);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &s);
        cgroup = strdup(s);
        dbus_message_iter_next(&it);
        if (!home || !cgroup)
                return oom(h, "WhoAmI");
        if (limitsp && read_kv(&it, &limits, &n_limits) < 0)
                return oom(h, "WhoAmI");
        if (uidp)
                *uidp = (uid_t)uid;
        if (homep)
                *homep = TAKE_PTR(home);
        if (cgroupp)
                *cgroupp = TAKE_PTR(cgroup);
        if (limitsp)
                *limitsp = limits;
        if (n_limitsp)
                *n_limitsp = n_limits;
        return 0;
}

static int call_settings(cgm *h, const char *method, const char *path, const cgm_kv *settings,
                         size_t n, const char *reply_signature, DBusMessage **replyp)
{
        _cleanup_message_ DBusMessage *m = NULL;
        DBusMessageIter it;
        int r;

        r = check_path(h, path);
        if (r < 0)
                return r;
        r = check_settings(h, settings, n);
        if (r < 0)
                return r;
        r = message_new(h, method, &m);
        if (r < 0)
                return r;
        dbus_message_iter_init_append(m, &it);
        if (!append_string(&it, path) || !append_settings(&it, settings, n))
                return oom(h, method);
        return call(h, m, method, reply_signature, replyp);
}

/**
 * cgm_create() - create a cgroup with initial settings, in one call
 * @h:          handle
 * @path:       cgroup to create (relative = below the caller's home)
 * @settings:   initial key/value settings, written before anything can run in it
 * @n_settings: number of settings, at most CGM_SETTINGS_MAX
 * @createdp:   its absolute path (free()); may be NULL
 *
 * Return: 0; -EINVAL or -E2BIG for bad arguments; the daemon's refusal (-EEXIST, -EACCES,
 * -ENOENT for a missing parent, -EINVAL, -EOPNOTSUPP, -EDQUOT/-EAGAIN, ...); a transport error.
 */
int cgm_create(cgm *h, const char *path, const cgm_kv *settings, size_t n_settings,
               char **createdp)
{
        _cleanup_message_ DBusMessage *reply = NULL;
        int r;

        BEGIN(h);
        r = call_settings(h, "Create", path, settings, n_settings, "s", &reply);
        if (r < 0)
                return r;
        return reply_string(h, "Create", reply, createdp);
}

/**
 * cgm_remove() - remove a cgroup
 * @h:     handle
 * @path:  cgroup
 * @flags: CGM_REMOVE_RECURSIVE (descendants first), CGM_REMOVE_KILL (kill its processes first)
 *
 * Return: 0; -EINVAL for unknown flags; the daemon's refusal (-EBUSY when it still holds
 * processes or children, -ENOENT, -EACCES, ...); a transport error.
 */
int cgm_remove(cgm *h, const char *path, unsigned flags)
{
        _cleanup_message_ DBusMessage *m = NULL;
        dbus_uint32_t f = flags;
        int r;

        BEGIN(h);
        if (flags & ~CGM_REMOVE_FLAGS_ALL)
                return fail(h, -EINVAL, NULL, "unknown remove flags 0x%x", flags);
        r = check_path(h, path);
        if (r < 0)
                return r;
        r = message_new(h, "Remove", &m);
        if (r < 0)
                return r;
        if (!dbus_message_append_args(m, DBUS_TYPE_STRING, &path, DBUS_TYPE_UINT32, &f,
                                      DBUS_TYPE_INVALID))
                return oom(h, "Remove");
        return call(h, m, "Remove", "", NULL);
}

/**
 * cgm_set() - write resource keys
 * @h:          handle
 * @path:       cgroup (never the caller's home: its limits come from policy)
 * @settings:   key/value pairs
 * @n_settings: at most CGM_SETTINGS_MAX
 *
 * Return: 0; -EINVAL or -E2BIG for bad arguments; the daemon's refusal; a transport error.
 */
int cgm_set(cgm *h, const char *path, const cgm_kv *settings, size_t n_settings)
{
        int r;

        BEGIN(h);
        /* Root's Sets always go to the daemon: no Layout round trip for them (direct.h). */
        if (check_path(h, path) == 0 && check_settings(h, settings, n_settings) == 0 &&
            (h->direct.state != DIRECT_UNKNOWN || geteuid() != 0)) {
                r = direct_try(h, "Set");
                if (r < 0)
                        return r;
                if (r > 0 && direct_set(&h->direct, path, settings, n_settings) == 1)
                        return 0;
        }
        return call_settings(h, "Set", path, settings, n_settings, "", NULL);
}

/**
 * cgm_get() - read resource keys
 * @h:       handle
 * @path:    cgroup
 * @keys:    NULL-terminated key names; NULL or empty = every key the cgroup has
 * @valuesp: key/value pairs (cgm_kv_free()), ending with a { NULL, NULL } entry
 * @np:      number of pairs
 *
 * Return: 0; -EINVAL or -E2BIG for bad arguments; the daemon's refusal; a transport error.
 */
int cgm_get(cgm *h, const char *path, const char *const *keys, cgm_kv **valuesp, size_t *np)
{
        _cleanup_message_ DBusMessage *m = NULL, *reply = NULL;
        DBusMessageIter it, sub;
        size_t n_keys = 0;
        cgm_kv *values;
        size_t n;
        int r;

        BEGIN(h);
        if (!valuesp || !np)
                return fail(h, -EINVAL, NULL, "Get: no place for the values");
        r = check_path(h, path);
        if (r < 0)
                return r;
        for (; keys && keys[n_keys]; n_keys++) {
                if (n_keys >= CGM_SETTINGS_MAX)
                        return fail(h, -E2BIG, NULL, "more than %d keys in one call",
                                    CGM_SETTINGS_MAX);
                r = check_key(h, keys[n_keys]);
                if (r < 0)
                        return r;
        }
        r = direct_try(h, "Get");
        if (r < 0)
                return r;
        if (r > 0 && direct_get(&h->direct, path, keys, n_keys, valuesp, np) == 1)
                return 0;
        r = message_new(h, "Get", &m);
        if (r < 0)
                return r;
        dbus_message_iter_init_append(m, &it);
        if (!append_string(&it, path) ||
            !dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "s", &sub))
                return oom(h, "Get");
        for (size_t i = 0; i < n_keys; i++)
                if (!append_string(&sub, keys[i])) {
                        dbus_message_iter_abandon_container(&it, &sub);
                        return oom(h, "Get");
                }
        if (!dbus_message_iter_close_container(&it, &sub))
                return oom(h, "Get");
        r = call(h, m, "Get", "a{ss}", &reply);
        if (r < 0)
                return r;
        dbus_message_iter_init(reply, &it);
        if (read_kv(&it, &values, &n) < 0)
                return oom(h, "Get");
        *valuesp = values;
        *np = n;
        return 0;
}

/**
 * cgm_list() - child cgroups
 * @h:         handle
 * @path:      cgroup
 * @recursive: all descendants instead of the children
 * @pathsp:    NULL-terminated absolute paths (cgm_strv_free())
 *
 * Return: 0; the daemon's refusal (-ENOENT, -EACCES, -EDQUOT past CGM_LIST_MAX, ...); a
 * transport error.
 */
int cgm_list(cgm *h, const char *path, bool recursive, char ***pathsp)
{
        _cleanup_message_ DBusMessage *m = NULL, *reply = NULL;
        dbus_bool_t rec = recursive;
        DBusMessageIter it;
        int r;

        BEGIN(h);
        if (!pathsp)
                return fail(h, -EINVAL, NULL, "List: no place for the paths");
        r = check_path(h, path);
        if (r < 0)
                return r;
        r = direct_try(h, "List");
        if (r < 0)
                return r;
        if (r > 0 && direct_list(&h->direct, path, recursive, pathsp) == 1)
                return 0;
        r = message_new(h, "List", &m);
        if (r < 0)
                return r;
        if (!dbus_message_append_args(m, DBUS_TYPE_STRING, &path, DBUS_TYPE_BOOLEAN, &rec,
                                      DBUS_TYPE_INVALID))
                return oom(h, "List");
        r = call(h, m, "List", "as", &reply);
        if (r < 0)
                return r;
        dbus_message_iter_init(reply, &it);
        if (read_strv(&it, pathsp) < 0)
                return oom(h, "List");
        return 0;
}

/**
 * cgm_procs() - processes in a cgroup
 * @h:         handle
 * @path:      cgroup
 * @recursive: include descendants
 * @pidsp:     pids as cgmd's pid namespace numbers them, which is the caller's outside
 *             containers (free())
 * @np:        number of pids
 *
 * Return: 0; the daemon's refusal; a transport error.
 */
int cgm_procs(cgm *h, const char *path, bool recursive, pid_t **pidsp, size_t *np)
{
        _cleanup_message_ DBusMessage *m = NULL, *reply = NULL;
        dbus_bool_t rec = recursive;
        dbus_uint32_t *wire = NULL;
        int n_wire = 0;
        pid_t *pids;
        int r;

        BEGIN(h);
        if (!pidsp || !np)
                return fail(h, -EINVAL, NULL, "Procs: no place for the pids");
        r = check_path(h, path);
        if (r < 0)
                return r;
        r = direct_try(h, "Procs");
        if (r < 0)
                return r;
        if (r > 0 && direct_procs(&h->direct, path, recursive, pidsp, np) == 1)
                return 0;
        r = message_new(h, "Procs", &m);
        if (r < 0)
                return r;
        if (!dbus_message_append_args(m, DBUS_TYPE_STRING, &path, DBUS_TYPE_BOOLEAN, &rec,
                                      DBUS_TYPE_INVALID))
                return oom(h, "Procs");
        r = call(h, m, "Procs", "au", &reply);
        if (r < 0)
                return r;
        if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_ARRAY, DBUS_TYPE_UINT32, &wire, &n_wire,
                                   DBUS_TYPE_INVALID))
                return oom(h, "Procs");
        /* At least one element, so that an empty result is not confused with a failure. */
        pids = calloc((size_t)n_wire + 1, sizeof(*pids));
        if (!pids)
                return oom(h, "Procs");
        for (int i = 0; i < n_wire; i++)
                pids[i] = (pid_t)wire[i];
        *pidsp = pids;
        *np = (size_t)n_wire;
        return 0;
}

static int pidfd_open_checked(cgm *h, pid_t pid, int *fdp)
{
        long fd;

        if (pid <= 0)
                return fail(h, -EINVAL, NULL, "%d is not a process id", (int)pid);
        fd = syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0) {
                int code = -errno;

                if (code == -ESRCH)
                        return fail(h, code, NULL, "no process with pid %d", (int)pid);
                if (code == -ENOSYS)
                        return fail(h, -EOPNOTSUPP, NULL,
                                    "pidfd_open(2) is not available (Linux 5.3 or later is "
                                    "needed)");
                return fail(h, code, NULL, "pidfd_open(%d): %s", (int)pid,
                            errno_text(code));
        }
        *fdp = (int)fd;
        return 0;
}

/**
 * cgm_move_pidfds() - move processes named by pidfds
 * @h:      handle
 * @path:   destination cgroup
 * @pidfds: pidfds (they stay owned by the caller)
 * @n:      1 to CGM_FDS_PER_MESSAGE_MAX
 *
 * Return: 0; -EINVAL, -EBADF or -E2BIG for bad arguments; -EOPNOTSUPP when the connection cannot
 * pass file descriptors; the daemon's refusal (-EACCES, -ESRCH, -ENOENT, ...); a transport error.
 */
int cgm_move_pidfds(cgm *h, const char *path, const int *pidfds, size_t n)
{
        _cleanup_message_ DBusMessage *m = NULL;
        DBusMessageIter it, sub;
        int r;

        BEGIN(h);
        r = check_path(h, path);
        if (r < 0)
                return r;
        if (n == 0)
                return fail(h, -EINVAL, NULL, "no process given");
        if (n > CGM_FDS_PER_MESSAGE_MAX)
                return fail(h, -E2BIG, NULL, "%zu processes given, at most %d per call", n,
                            CGM_FDS_PER_MESSAGE_MAX);
        if (!pidfds)
                return fail(h, -EINVAL, NULL, "Move: pidfds is NULL");
        for (size_t i = 0; i < n; i++)
                if (pidfds[i] < 0)
                        return fail(h, -EBADF, NULL, "pidfd %d is not a file descriptor",
                                    pidfds[i]);
        r = authenticate(h, "Move");
        if (r < 0)
                return r;
        if (!dbus_connection_can_send_type(h->conn, DBUS_TYPE_UNIX_FD))
                return fail(h, -EOPNOTSUPP, NULL,
                            "the connection to `%s` cannot pass file descriptors; is it "
                            "cgmd's Unix socket?",
                            h->socket);
        r = message_new(h, "Move", &m);
        if (r < 0)
                return r;
        dbus_message_iter_init_append(m, &it);
        if (!append_string(&it, path) ||
            !dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "h", &sub))
                return oom(h, "Move");
        for (size_t i = 0; i < n; i++) {
                /* libdbus duplicates the fd; a failure here is EBADF or out of fds. */
                if (!dbus_message_iter_append_basic(&sub, DBUS_TYPE_UNIX_FD, &pidfds[i])) {
                        dbus_message_iter_abandon_container(&it, &sub);
                        return fail(h, -EBADF, NULL,
                                    "cannot attach pidfd %d (closed, or out of file "
                                    "descriptors)",
                                    pidfds[i]);
                }
        }
        if (!dbus_message_iter_close_container(&it, &sub))
                return oom(h, "Move");
        return call(h, m, "Move", "", NULL);
}

/**
 * cgm_move() - move processes named by pid in the caller's pid namespace
 * @h:    handle
 * @path: destination cgroup
 * @pids: pids
 * @n:    1 to CGM_FDS_PER_MESSAGE_MAX
 *
 * Each pid is turned into a pidfd here, so the daemon acts on the process, not on a number.
 *
 * Return: as cgm_move_pidfds(); -ESRCH when a pid names no process.
 */
int cgm_move(cgm *h, const char *path, const pid_t *pids, size_t n)
{
        int fds[CGM_FDS_PER_MESSAGE_MAX];
        size_t n_fds = 0;
        int r;

        BEGIN(h);
        r = check_path(h, path);
        if (r < 0)
                return r;
        if (n == 0)
                return fail(h, -EINVAL, NULL, "no process given");
        if (n > CGM_FDS_PER_MESSAGE_MAX)
                return fail(h, -E2BIG, NULL, "%zu processes given, at most %d per call", n,
                            CGM_FDS_PER_MESSAGE_MAX);
        if (!pids)
                return fail(h, -EINVAL, NULL, "Move: pids is NULL");
        for (; n_fds < n; n_fds++) {
                r = pidfd_open_checked(h, pids[n_fds], &fds[n_fds]);
                if (r < 0)
                        goto out;
        }
        r = cgm_move_pidfds(h, path, fds, n_fds);
out:
        for (size_t i = 0; i < n_fds; i++)
                safe_close(fds[i]);
        return r;
}

/**
 * cgm_move_self() - move the process that opened the connection
 * @h:    handle
 * @path: destination cgroup
 *
 * The daemon takes the process from the connection itself, so this is race-free. After fork(),
 * a child must open its own handle to move itself.
 *
 * Return: 0; the daemon's refusal; a transport error.
 */
int cgm_move_self(cgm *h, const char *path)
{
        BEGIN(h);
        return call_path(h, "MoveSelf", path, "", NULL);
}

/**
 * cgm_proc_cgroup_pidfd() - the cgroup a process is in
 * @h:     handle
 * @pidfd: pidfd of the process (stays owned by the caller)
 * @pathp: absolute path as the caller sees it (free())
 *
 * Return: 0; -EBADF; -EOPNOTSUPP when fds cannot be passed; the daemon's refusal; a transport
 * error.
 */
int cgm_proc_cgroup_pidfd(cgm *h, int pidfd, char **pathp)
{
        _cleanup_message_ DBusMessage *m = NULL, *reply = NULL;
        int r;

        BEGIN(h);
        if (!pathp)
                return fail(h, -EINVAL, NULL, "ProcCgroup: no place for the path");
        if (pidfd < 0)
                return fail(h, -EBADF, NULL, "pidfd %d is not a file descriptor",
                            pidfd);
        r = authenticate(h, "ProcCgroup");
        if (r < 0)
                return r;
        if (!dbus_connection_can_send_type(h->conn, DBUS_TYPE_UNIX_FD))
                return fail(h, -EOPNOTSUPP, NULL,
                            "the connection to `%s` cannot pass file descriptors; is "
                            "it cgmd's Unix socket?",
                            h->socket);
        r = message_new(h, "ProcCgroup", &m);
        if (r < 0)
                return r;
        if (!dbus_message_append_args(m, DBUS_TYPE_UNIX_FD, &pidfd, DBUS_TYPE_INVALID))
                return fail(h, -EBADF, NULL,
                            "cannot attach pidfd %d (closed, or out of file "
                            "descriptors)",
                            pidfd);
        r = call(h, m, "ProcCgroup", "s", &reply);
        if (r < 0)
                return r;
        return reply_string(h, "ProcCgroup", reply, pathp);
}

/**
 * cgm_proc_cgroup() - the cgroup a process is in, by pid in the caller's pid namespace
 * @h:     handle
 * @pid:   process
 * @pathp: absolute path (free())
 *
 * Return: as cgm_proc_cgroup_pidfd(); -ESRCH when @pid names no process.
 */
int cgm_proc_cgroup(cgm *h, pid_t pid, char **pathp)
{
        _cleanup_close_ int fd = -1;
        int r;

        BEGIN(h);
        if (!pathp)
                return fail(h, -EINVAL, NULL, "ProcCgroup: no place for the path");
        r = pidfd_open_checked(h, pid, &fd);
        if (r < 0)
                return r;
        return cgm_proc_cgroup_pidfd(h, fd, pathp);
}

/**
 * cgm_kill() - signal every process in a subtree
 * @h:         handle
 * @path:      cgroup
 * @sig:       signal number (SIGKILL uses cgroup.kill on v2)
 * @n_killedp: number of processes signalled; may be NULL
 *
 * Return: 0; -EINVAL for a signal number out of range; the daemon's refusal; a transport error.
 */
int cgm_kill(cgm *h, const char *path, int sig, unsigned *n_killedp)
{
        _cleanup_message_ DBusMessage *m = NULL, *reply = NULL;
        dbus_int32_t s = sig;
        dbus_uint32_t n = 0;
        int r;

        BEGIN(h);
        /* 64 is SIGRTMAX on Linux; signal 0 would only test for existence. */
        if (sig <= 0 || sig > 64)
                return fail(h, -EINVAL, NULL, "%d is not a signal number", sig);
        r = check_path(h, path);
        if (r < 0)
                return r;
        r = message_new(h, "Kill", &m);
        if (r < 0)
                return r;
        if (!dbus_message_append_args(m, DBUS_TYPE_STRING, &path, DBUS_TYPE_INT32, &s,
                                      DBUS_TYPE_INVALID))
                return oom(h, "Kill");
        r = call(h, m, "Kill", "u", &reply);
        if (r < 0)
                return r;
        if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_UINT32, &n, DBUS_TYPE_INVALID))
                return oom(h, "Kill");
        if (n_killedp)
                *n_killedp = n;
        return 0;
}

/**
 * cgm_freeze() - freeze a subtree
 * @h:    handle
 * @path: cgroup
 *
 * Return: 0; the daemon's refusal (-EOPNOTSUPP without a freezer); a transport error.
 */
int cgm_freeze(cgm *h, const char *path)
{
        BEGIN(h);
        return call_path(h, "Freeze", path, "", NULL);
}

/**
 * cgm_thaw() - thaw a subtree
 * @h:    handle
 * @path: cgroup
 *
 * Return: 0; the daemon's refusal; a transport error.
 */
int cgm_thaw(cgm *h, const char *path)
{
        BEGIN(h);
        return call_path(h, "Thaw", path, "", NULL);
}

/**
 * cgm_stat() - usage counters of a cgroup
 * @h:         handle
 * @path:      cgroup
 * @countersp: counters (cgm_counters_free()), ending with a { NULL, 0 } entry
 * @np:        number of counters
 *
 * Return: 0; the daemon's refusal; a transport error.
 */
int cgm_stat(cgm *h, const char *path, cgm_counter **countersp, size_t *np)
{
        _cleanup_message_ DBusMessage *reply = NULL;
        DBusMessageIter it;
        int r;

        BEGIN(h);
        if (!countersp || !np)
                return fail(h, -EINVAL, NULL, "Stat: no place for the counters");
        if (check_path(h, path) == 0) {
                r = direct_try(h, "Stat");
                if (r < 0)
                        return r;
                if (r > 0 && direct_stat(&h->direct, path, countersp, np) == 1)
                        return 0;
        }
        r = call_path(h, "Stat", path, "a{st}", &reply);
        if (r < 0)
                return r;
        dbus_message_iter_init(reply, &it);
        if (read_counters(&it, countersp, np) < 0)
                return oom(h, "Stat");
        return 0;
}

/**
 * cgm_chown() - delegate a cgroup to a uid (root only); it becomes that uid's home
 * @h:    handle
 * @path: cgroup
 * @uid:  new owner
 *
 * Return: 0; -EINVAL for uid -1; the daemon's refusal (-EACCES for non-root); a transport error.
 */
int cgm_chown(cgm *h, const char *path, uid_t uid)
{
        _cleanup_message_ DBusMessage *m = NULL;
        dbus_uint32_t u = uid;
        int r;

        BEGIN(h);
        if (uid == (uid_t)-1)
                return fail(h, -EINVAL, NULL, "uid -1 is not a user");
        r = check_path(h, path);
        if (r < 0)
                return r;
        r = message_new(h, "Chown", &m);
        if (r < 0)
                return r;
        if (!dbus_message_append_args(m, DBUS_TYPE_STRING, &path, DBUS_TYPE_UINT32, &u,
                                      DBUS_TYPE_INVALID))
                return oom(h, "Chown");
        return call(h, m, "Chown", "", NULL);
}

/* ---- sessions and administration -------------------------------------------------------- */

/*
 * User names are checked only for what the wire needs (UTF-8, no empty name) and for a length
 * no NSS source produces; whether the user exists is the daemon's question. Session ids name a
 * cgroup leaf, so they are bounded like a cgroup name.
 */
#define USER_NAME_MAX (LOGIN_NAME_MAX - 1)

static int check_user(cgm *h, const char *user)
{
        int r;

        r = check_string(h, "user name", user, USER_NAME_MAX, -EINVAL);
        if (r < 0)
                return r;
        if (!user[0])
                return fail(h, -EINVAL, NULL, "the user name is empty");
        return 0;
}

static int check_session_id(cgm *h, const char *id)
{
        int r;

        r = check_string(h, "session id", id, CGM_NAME_MAX, -EINVAL);
        if (r < 0)
                return r;
        if (!id[0])
                return fail(h, -EINVAL, NULL, "the session id is empty");
        return 0;
}

/* Readers for one field of a struct; each leaves the iterator on the next field. The reply's
 * signature was checked by call(), so the types are known. */
static bool iter_string(DBusMessageIter *it, char **sp)
{
        const char *s;

        dbus_message_iter_get_basic(it, &s);
        dbus_message_iter_next(it);
        *sp = strdup(s);
        return *sp != NULL;
}

static uint32_t iter_uint32(DBusMessageIter *it)
{
        dbus_uint32_t u;

        dbus_message_iter_get_basic(it, &u);
        dbus_message_iter_next(it);
        return u;
}

static bool iter_bool(DBusMessageIter *it)
{
        dbus_bool_t b;

        dbus_message_iter_get_basic(it, &b);
        dbus_message_iter_next(it);
        return b;
}

/**
 * cgm_open_session() - open a login session (root; meant for pam_cgm)
 * @h:      handle, opened by the process that is to be moved
 * @user:   user name, resolved by the daemon through NSS
 * @info:   optional session facts, keys CGM_SESSION_INFO_* of protocol.h
 * @n_info: number of facts, at most CGM_SETTINGS_MAX
 * @idp:    session id, "" when the policy excludes the user (free())
 * @pathp:  absolute path of the session leaf, "" when excluded (free()); may be NULL
 *
 * The daemon creates the user's home from the policy if it does not exist yet, creates the
 * leaf and moves the process at the other end of the connection into it.
 *
 * Return: 0; -EINVAL or -E2BIG for bad arguments; the daemon's refusal (-EACCES for non-root,
 * -ENOENT for an unknown user, -EBUSY when NSS did not answer in time, ...); a transport error.
 */
int cgm_open_session(cgm *h, const char *user, const cgm_kv *info, size_t n_info, char **idp,
                     char **pathp)
{
        _cleanup_message_ DBusMessage *m = NULL, *reply = NULL;
        _cleanup_free_ char *id = NULL, *path = NULL;
        DBusMessageIter it;
        int r;

        BEGIN(h);
        if (!idp)
                return fail(h, -EINVAL, NULL, "OpenSession: no place for the session id");
        r = check_user(h, user);
        if (r < 0)
                return r;
        r = check_pairs(h, "session info", info, n_info);
        if (r < 0)
                return r;
        r = message_new(h, "OpenSession", &m);
        if (r < 0)
                return r;
        dbus_message_iter_init_append(m, &it);
        if (!append_string(&it, user) || !append_settings(&it, info, n_info))
                return oom(h, "OpenSession");
        r = call(h, m, "OpenSession", "ss", &reply);
        if (r < 0)
                return r;
        dbus_message_iter_init(reply, &it);
        if (!iter_string(&it, &id) || !iter_string(&it, &path))
                return oom(h, "OpenSession");
        *idp = TAKE_PTR(id);
        if (pathp)
                *pathp = TAKE_PTR(path);
        return 0;
}

/**
 * cgm_close_session() - end a login session (root)
 * @h:  handle
 * @id: the id cgm_open_session() returned
 *
 * The daemon kills the session's processes when the policy says so, and removes the leaf once
 * it is empty (and the home with its last session, unless the user lingers).
 *
 * Return: 0; -EINVAL for a bad id; the daemon's refusal (-EACCES, -ENOENT for an unknown
 * session); a transport error.
 */
int cgm_close_session(cgm *h, const char *id)
{
        _cleanup_message_ DBusMessage *m = NULL;
        int r;

        BEGIN(h);
        r = check_session_id(h, id);
        if (r < 0)
                return r;
        r = message_new(h, "CloseSession", &m);
        if (r < 0)
                return r;
        if (!dbus_message_append_args(m, DBUS_TYPE_STRING, &id, DBUS_TYPE_INVALID))
                return oom(h, "CloseSession");
        return call(h, m, "CloseSession", "", NULL);
}

/** cgm_sessions_free() - free @n sessions and the array; NULL is accepted */
void cgm_sessions_free(cgm_session *s, size_t n)
{
        if (!s)
                return;
        for (size_t i = 0; i < n; i++) {
                free(s[i].id);
                free(s[i].user);
                free(s[i].path);
        }
        free(s);
}

/**
 * cgm_sessions() - the open login sessions (root and the policy's admin group)
 * @h:         handle
 * @sessionsp: sessions (cgm_sessions_free()), ending with a zeroed entry
 * @np:        number of sessions
 *
 * Return: 0; the daemon's refusal (-EACCES for other users); a transport error.
 */
int cgm_sessions(cgm *h, cgm_session **sessionsp, size_t *np)
{
        _cleanup_message_ DBusMessage *m = NULL, *reply = NULL;
        DBusMessageIter it, array, st;
        cgm_session *s;
        size_t n, i = 0;
        int r;

        BEGIN(h);
        if (!sessionsp || !np)
                return fail(h, -EINVAL, NULL, "Sessions: no place for the sessions");
        r = message_new(h, "Sessions", &m);
        if (r < 0)
                return r;
        r = call(h, m, "Sessions", "a(ssusb)", &reply);
        if (r < 0)
                return r;
        dbus_message_iter_init(reply, &it);
        n = (size_t)dbus_message_iter_get_element_count(&it);
        s = calloc(n + 1, sizeof(*s));
        if (!s)
                return oom(h, "Sessions");
        dbus_message_iter_recurse(&it, &array);
        for (; i < n && dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT; i++) {
                dbus_message_iter_recurse(&array, &st);
                if (!iter_string(&st, &s[i].id) || !iter_string(&st, &s[i].user)) {
                        cgm_sessions_free(s, i + 1);
                        return oom(h, "Sessions");
                }
                s[i].uid = (uid_t)iter_uint32(&st);
                if (!iter_string(&st, &s[i].path)) {
                        cgm_sessions_free(s, i + 1);
                        return oom(h, "Sessions");
                }
                s[i].populated = iter_bool(&st);
                dbus_message_iter_next(&array);
        }
        *sessionsp = s;
        *np = i;
        return 0;
}

/** cgm_users_free() - free @n users and the array; NULL is accepted */
void cgm_users_free(cgm_user *u, size_t n)
{
        if (!u)
                return;
        for (size_t i = 0; i < n; i++) {
                free(u[i].name);
                free(u[i].home);
        }
        free(u);
}

/**
 * cgm_users() - the users that have a home (root and the policy's admin group)
 * @h:      handle
 * @usersp: users (cgm_users_free()), ending with a zeroed entry
 * @np:     number of users
 *
 * Return: 0; the daemon's refusal (-EACCES for other users); a transport error.
 */
int cgm_users(cgm *h, cgm_user **usersp, size_t *np)
{
        _cleanup_message_ DBusMessage *m = NULL, *reply = NULL;
        DBusMessageIter it, array, st;
        cgm_user *u;
        size_t n, i = 0;
        int r;

        BEGIN(h);
        if (!usersp || !np)
                return fail(h, -EINVAL, NULL, "Users: no place for the users");
        r = message_new(h, "Users", &m);
        if (r < 0)
                return r;
        r = call(h, m, "Users", "a(ussub)", &reply);
        if (r < 0)
                return r;
        dbus_message_iter_init(reply, &it);
        n = (size_t)dbus_message_iter_get_element_count(&it);
        u = calloc(n + 1, sizeof(*u));
        if (!u)
                return oom(h, "Users");
        dbus_message_iter_recurse(&it, &array);
        for (; i < n && dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT; i++) {
                dbus_message_iter_recurse(&array, &st);
                u[i].uid = (uid_t)iter_uint32(&st);
                if (!iter_string(&st, &u[i].name) || !iter_string(&st, &u[i].home)) {
                        cgm_users_free(u, i + 1);
                        return oom(h, "Users");
                }
                u[i].n_sessions = iter_uint32(&st);
                u[i].lingers = iter_bool(&st);
                dbus_message_iter_next(&array);
        }
        *usersp = u;
        *np = i;
        return 0;
}

/** cgm_policy_entries_free() - free @n policy entries and the array; NULL is accepted */
void cgm_policy_entries_free(cgm_policy_entry *e, size_t n)
{
        if (!e)
                return;
        for (size_t i = 0; i < n; i++) {
                free(e[i].key);
                free(e[i].value);
                free(e[i].source);
        }
        free(e);
}

static int read_policy_entries(DBusMessageIter *it, cgm_policy_entry **ep, size_t *np)
{
        DBusMessageIter array, st;
        cgm_policy_entry *e;
        size_t n, i = 0;

        n = (size_t)dbus_message_iter_get_element_count(it);
        e = calloc(n + 1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        dbus_message_iter_recurse(it, &array);
        for (; i < n && dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT; i++) {
                dbus_message_iter_recurse(&array, &st);
                if (!iter_string(&st, &e[i].key) || !iter_string(&st, &e[i].value) ||
                    !iter_string(&st, &e[i].source)) {
                        cgm_policy_entries_free(e, i + 1);
                        return -ENOMEM;
                }
                dbus_message_iter_next(&array);
        }
        *ep = e;
        *np = i;
        return 0;
}

/**
 * cgm_explain_policy() - how the policy applies to a user (root and the admin group)
 * @h:         handle
 * @user:      user name, resolved by the daemon through NSS
 * @uidp:      the user's uid; may be NULL
 * @groupsp:   the user's groups as NSS reported them, NULL-terminated (cgm_strv_free()); may
 *             be NULL
 * @entriesp:  every effective value with its source (cgm_policy_entries_free()), ending with a
 *             zeroed entry
 * @np:        number of entries
 *
 * Return: 0; -EINVAL for a bad name; the daemon's refusal (-EACCES, -ENOENT for an unknown
 * user, -EBUSY when NSS did not answer in time); a transport error.
 */
int cgm_explain_policy(cgm *h, const char *user, uid_t *uidp, char ***groupsp,
                       cgm_policy_entry **entriesp, size_t *np)
{
        _cleanup_message_ DBusMessage *m = NULL, *reply = NULL;
        _cleanup_strv_ char **groups = NULL;
        DBusMessageIter it;
        dbus_uint32_t uid;
        int r;

        BEGIN(h);
        if (!entriesp || !np)
                return fail(h, -EINVAL, NULL, "ExplainPolicy: no place for the entries");
        r = check_user(h, user);
        if (r < 0)
                return r;
        r = message_new(h, "ExplainPolicy", &m);
        if (r < 0)
                return r;
        if (!dbus_message_append_args(m, DBUS_TYPE_STRING, &user, DBUS_TYPE_INVALID))
                return oom(h, "ExplainPolicy");
        r = call(h, m, "ExplainPolicy", "uasa(sss)", &reply);
        if (r < 0)
                return r;
        dbus_message_iter_init(reply, &it);
        uid = iter_uint32(&it);
        if (read_strv(&it, &groups) < 0)
                return oom(h, "ExplainPolicy");
        dbus_message_iter_next(&it);
        if (read_policy_entries(&it, entriesp, np) < 0)
                return oom(h, "ExplainPolicy");
        if (uidp)
                *uidp = (uid_t)uid;
        if (groupsp)
                *groupsp = TAKE_PTR(groups);
        return 0;
}

/**
 * cgm_reload() - re-read the policy files (root and the admin group)
 * @h: handle
 *
 * On a bad file the daemon keeps the policy it had and its message says "FILE:LINE: problem".
 * A good reload re-applies the limits to the homes of users who are logged in.
 *
 * Return: 0; the daemon's refusal (-EINVAL for a bad file, -EACCES); a transport error.
 */
int cgm_reload(cgm *h)
{
        _cleanup_message_ DBusMessage *m = NULL;
        int r;

        BEGIN(h);
        r = message_new(h, "Reload", &m);
        if (r < 0)
                return r;
        return call(h, m, "Reload", "", NULL);
}

/* ---- for events.c (internal, events.h) ------------------------------------------------- */

DBusConnection *libcgm_connection(cgm *h)
{
        return h->conn;
}

EventStash *libcgm_stash(cgm *h)
{
        return &h->events;
}

int libcgm_begin(cgm *h)
{
        BEGIN(h);
        return 0;
}

int libcgm_fail(cgm *h, int code, const char *name, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        code = vfail(h, code, name, fmt, ap);
        va_end(ap);
        return code;
}

int libcgm_call(cgm *h, DBusMessage *m, const char *method, const char *reply_signature,
                DBusMessage **replyp)
{
        return call(h, m, method, reply_signature, replyp);
}

const char *libcgm_socket(const cgm *h)
{
        return h->socket;
}
