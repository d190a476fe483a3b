/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Server: the listening socket, accepted connections, and libdbus on the event loop
 *
 * cgmd speaks peer-to-peer D-Bus: a DBusServer accepts connections on a Unix socket, with no
 * bus daemon in between. libdbus does not run a loop of its own; it asks for fds to watch
 * (DBusWatch) and timers (DBusTimeout), and we put them on our epoll loop:
 *
 *  - libdbus often keeps a read and a write watch on the same socket. epoll takes one
 *    registration per open file, so every watch gets its own dup() of the fd.
 *  - Incoming data is parsed by dbus_watch_handle(); complete messages are queued in the
 *    connection. libdbus reports that through the dispatch-status callback, which puts the
 *    peer on a pending list; after each loop round, every pending peer dispatches at most
 *    SERVER_DISPATCH_BATCH messages, so one chatty client cannot starve the others.
 *  - A disconnect arrives as the Local.Disconnected signal during dispatch (methods.c frees
 *    the peer there). The connection is referenced around each dispatch, so freeing the peer
 *    inside its own dispatch is safe.
 *
 * Authentication is EXTERNAL only (the kernel's SO_PEERCRED); every uid is let in and each
 * request is authorized by auth.c. Per-connection limits bound what one client can queue.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "methods.h"
#include "peer.h"
#include "protocol.h"
#include "server.h"

/* Messages one connection may dispatch per loop round. */
#define SERVER_DISPATCH_BATCH 16

typedef struct Watch {
        LoopSource source;
        DBusWatch *watch;
        Manager *manager;
} Watch;

typedef struct Timeout {
        LoopSource source;
        DBusTimeout *timeout;
        Manager *manager;
} Timeout;

static uint32_t watch_epoll_events(DBusWatch *w)
{
        unsigned f = dbus_watch_get_flags(w);
        uint32_t ev = 0;

        if (!dbus_watch_get_enabled(w))
                return 0;
        if (f & DBUS_WATCH_READABLE)
                ev |= EPOLLIN;
        if (f & DBUS_WATCH_WRITABLE)
                ev |= EPOLLOUT;
        return ev;
}

static int watch_dispatch(LoopSource *s, uint32_t events)
{
        Watch *w = container_of(s, Watch, source);
        unsigned flags = 0;

        if (events & EPOLLIN)
                flags |= DBUS_WATCH_READABLE;
        if (events & EPOLLOUT)
                flags |= DBUS_WATCH_WRITABLE;
        if (events & EPOLLHUP)
                flags |= DBUS_WATCH_HANGUP;
        if (events & EPOLLERR)
                flags |= DBUS_WATCH_ERROR;
        /* May remove (free) this very watch; do not touch @w afterwards. */
        dbus_watch_handle(w->watch, flags);
        return 0;
}

static dbus_bool_t watch_add(DBusWatch *dw, void *data)
{
        Manager *m = data;
        Watch *w = calloc(1, sizeof(*w));

        if (!w)
                return FALSE;
        w->watch = dw;
        w->manager = m;
        w->source = (LoopSource){ .fd = dup(dbus_watch_get_unix_fd(dw)), .callback = watch_dispatch };
        if (w->source.fd < 0) {
                free(w);
                return FALSE;
        }
        (void)fcntl(w->source.fd, F_SETFD, FD_CLOEXEC);
        if (loop_update(&m->loop, &w->source, watch_epoll_events(dw)) < 0) {
                close(w->source.fd);
                free(w);
                return FALSE;
        }
        dbus_watch_set_data(dw, w, NULL);
        return TRUE;
}

static void watch_remove(DBusWatch *dw, void *data)
{
        Watch *w = dbus_watch_get_data(dw);

        (void)data;
        if (!w)
                return;
        (void)loop_update(&w->manager->loop, &w->source, 0);
        close(w->source.fd);
        dbus_watch_set_data(dw, NULL, NULL);
        free(w);
}

static void watch_toggle(DBusWatch *dw, void *data)
{
        Watch *w = dbus_watch_get_data(dw);

        (void)data;
        if (w)
                (void)loop_update(&w->manager->loop, &w->source, watch_epoll_events(dw));
}

static void timeout_arm(Timeout *t)
{
        struct itimerspec its = { 0 };

        if (dbus_timeout_get_enabled(t->timeout)) {
                int ms = dbus_timeout_get_interval(t->timeout);
                its.it_value.tv_sec = ms / 1000;
                its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L + 1;
                its.it_interval = its.it_value;
        }
        (void)timerfd_settime(t->source.fd, 0, &its, NULL);
}

static int timeout_dispatch(LoopSource *s, uint32_t events)
{
        Timeout *t = container_of(s, Timeout, source);
        uint64_t n;

        (void)events;
        if (read(s->fd, &n, sizeof(n)) < 0 && errno == EAGAIN)
                return 0;
        dbus_timeout_handle(t->timeout);
        return 0;
}

static dbus_bool_t timeout_add(DBusTimeout *dt, void *data)
{
        Manager *m = data;
        Timeout *t = calloc(1, sizeof(*t));

        if (!t)
                return FALSE;
        t->timeout = dt;
        t->manager = m;
        t->source = (LoopSource){ .fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
                                  .callback = timeout_dispatch };
        if (t->source.fd < 0 || loop_update(&m->loop, &t->source, EPOLLIN) < 0) {
                safe_close(t->source.fd);
                free(t);
                return FALSE;
        }
        dbus_timeout_set_data(dt, t, NULL);
        timeout_arm(t);
        return TRUE;
}

static void timeout_remove(DBusTimeout *dt, void *data)
{
        Timeout *t = dbus_timeout_get_data(dt);

        (void)data;
        if (!t)
                return;
        (void)loop_update(&t->manager->loop, &t->source, 0);
        close(t->source.fd);
        dbus_timeout_set_data(dt, NULL, NULL);
        free(t);
}

static void timeout_toggle(DBusTimeout *dt, void *data)
{
        Timeout *t = dbus_timeout_get_data(dt);

        (void)data;
        if (t)
                timeout_arm(t);
}

static void peer_mark_pending(Peer *p)
{
        Manager *m = p->manager;

        if (p->is_pending)
                return;
        p->is_pending = true;
        p->next_pending = m->pending;
        m->pending = p;
}

static void dispatch_status_changed(DBusConnection *conn, DBusDispatchStatus status, void *data)
{
        Peer *p = data;

        (void)conn;
        if (status == DBUS_DISPATCH_DATA_REMAINS)
                peer_mark_pending(p);
}

bool server_dispatch_pending(Manager *m)
{
        Peer *list = m->pending;
        bool more = false;

        m->pending = NULL;
        for (Peer *p = list; p; p = p->next_pending)
                p->is_pending = false;
        while (list) {
                Peer *p = list;
                DBusConnection *conn = dbus_connection_ref(p->conn);
                int i = 0;

                list = p->next_pending;
                /* Dispatch may free @p (disconnect); the connection ref keeps libdbus safe,
                 * and the status is asked of the connection, not of @p. */
                while (i++ < SERVER_DISPATCH_BATCH &&
                       dbus_connection_dispatch(conn) == DBUS_DISPATCH_DATA_REMAINS)
                        ;
                if (dbus_connection_get_dispatch_status(conn) == DBUS_DISPATCH_DATA_REMAINS) {
                        Peer *still = dbus_connection_get_data(conn, m->peer_slot);
                        if (still) {
                                peer_mark_pending(still);
                                more = true;
                        }
                }
                dbus_connection_unref(conn);
        }
        return more;
}

static dbus_bool_t allow_any_uid(DBusConnection *conn, unsigned long uid, void *data)
{
        (void)conn;
        (void)uid;
        (void)data;
        return TRUE; /* every uid may talk to cgmd; auth.c decides what each may do */
}

static void new_connection(DBusServer *server, DBusConnection *conn, void *data)
{
        Manager *m = data;
        Peer *p = NULL;
        int r;

        (void)server;
        r = peer_new(&p, m, conn);
        if (r < 0) {
                if (r != -EDQUOT)
                        log_warning("refusing a connection: cannot tell who the peer is (%s)",
                                    strerror(-r));
                dbus_connection_close(conn);
                return;
        }
        if (!dbus_connection_set_data(conn, m->peer_slot, p, NULL))
                goto fail;
        dbus_connection_set_exit_on_disconnect(conn, FALSE);
        dbus_connection_set_unix_user_function(conn, allow_any_uid, NULL, NULL);
        dbus_connection_set_max_message_size(conn, CGM_MESSAGE_SIZE_MAX);
        dbus_connection_set_max_received_size(conn, CGM_RECEIVED_SIZE_MAX);
        dbus_connection_set_max_message_unix_fds(conn, CGM_FDS_PER_MESSAGE_MAX);
        dbus_connection_set_max_received_unix_fds(conn, CGM_FDS_PER_MESSAGE_MAX);
        dbus_connection_set_dispatch_status_function(conn, dispatch_status_changed, p, NULL);
        if (!dbus_connection_add_filter(conn, methods_filter, p, NULL))
                goto fail;
        if (!dbus_connection_set_watch_functions(conn, watch_add, watch_remove, watch_toggle, m,
                                                 NULL) ||
            !dbus_connection_set_timeout_functions(conn, timeout_add, timeout_remove,
                                                   timeout_toggle, m, NULL))
                goto fail;
        log_debug("peer %llu connected: uid %u pid %d%s", (unsigned long long)p->id,
                  (unsigned)p->principal.uid, (int)p->pid, p->principal.is_root ? " (root)" : "");
        if (dbus_connection_get_dispatch_status(conn) == DBUS_DISPATCH_DATA_REMAINS)
                peer_mark_pending(p);
        return;
fail:
        log_error("out of memory setting up a connection");
        dbus_connection_close(conn);
        dbus_connection_set_data(conn, m->peer_slot, NULL, NULL);
        peer_free(p);
}

/* Is a live daemon answering on @path? */
static bool socket_is_live(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return false;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        return connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

int server_start(Manager *m, CgmError *e)
{
        static const char *mechanisms[] = { "EXTERNAL", NULL };
        _cleanup_dbus_error_ DBusError err = DBUS_ERROR_INIT;
        char dir[sizeof(m->socket_path)], *slash, address[256], *escaped;
        struct stat st;

        if (strlen(m->socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
                return cgm_error_set(e, -ENAMETOOLONG, NULL, "socket path `%s` is too long",
                                     m->socket_path);
        snprintf(dir, sizeof(dir), "%s", m->socket_path);
        slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return cgm_error_set(e, -errno, NULL, "cannot create `%s`: %m", dir);
        }
        if (lstat(m->socket_path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return cgm_error_set(e, -EEXIST, NULL,
                                             "`%s` exists and is not a socket; remove it or pick "
                                             "another path with --socket",
                                             m->socket_path);
                if (socket_is_live(m->socket_path))
                        return cgm_error_set(e, -EADDRINUSE, NULL,
                                             "another cgmd is already listening on `%s`",
                                             m->socket_path);
                unlink(m->socket_path); /* stale, left by a daemon that was killed */
        }
        escaped = dbus_address_escape_value(m->socket_path);
        if (!escaped)
                return cgm_error_set(e, -ENOMEM, NULL, "out of memory");
        snprintf(address, sizeof(address), "unix:path=%s", escaped);
        dbus_free(escaped);
        m->server = dbus_server_listen(address, &err);
        if (!m->server)
                return cgm_error_set(e, -EIO, NULL, "cannot listen on `%s`: %s", m->socket_path,
                                     err.message);
        if (chmod(m->socket_path, 0666) < 0)
                return cgm_error_set(e, -errno, NULL, "cannot chmod `%s`: %m", m->socket_path);
        if (!dbus_server_set_auth_mechanisms(m->server, mechanisms) ||
            !dbus_connection_allocate_data_slot(&m->peer_slot) ||
            !dbus_server_set_watch_functions(m->server, watch_add, watch_remove, watch_toggle, m,
                                             NULL) ||
            !dbus_server_set_timeout_functions(m->server, timeout_add, timeout_remove,
                                               timeout_toggle, m, NULL))
                return cgm_error_set(e, -ENOMEM, NULL, "out of memory");
        dbus_server_set_new_connection_function(m->server, new_connection, m, NULL);
        return 0;
}

void server_stop(Manager *m)
{
        while (m->peers) {
                Peer *p = m->peers;
                DBusConnection *conn = dbus_connection_ref(p->conn);
                dbus_connection_set_data(conn, m->peer_slot, NULL, NULL);
                dbus_connection_close(conn);
                /* Drain the Disconnected signal and anything else libdbus queued. */
                while (dbus_connection_dispatch(conn) == DBUS_DISPATCH_DATA_REMAINS)
                        ;
                if (m->peers == p)
                        peer_free(p);
                dbus_connection_unref(conn);
        }
        if (m->server) {
                dbus_server_disconnect(m->server);
                dbus_server_unref(m->server);
                m->server = NULL;
                unlink(m->socket_path);
        }
        if (m->peer_slot >= 0)
                dbus_connection_free_data_slot(&m->peer_slot);
}
