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
 *    SERVER_DISPATCH_BATCH messages, so one chatty client cannot starve the others. A peer
 *    whose request runs on a worker (api-cgroup.c) is held: nothing more of it is dispatched
 *    until that request is answered, so its requests are answered in order.
 *  - A disconnect arrives as the Local.Disconnected signal during dispatch (methods.c frees
 *    the peer there). The connection is referenced around each dispatch, so freeing the peer
 *    inside its own dispatch is safe.
 *
 * Authentication is EXTERNAL only (the kernel's SO_PEERCRED); every uid is let in and each
 * request is authorized by auth.c. Per-connection limits bound what one client can queue.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
        bool is_listener; /* the DBusServer's listening socket */
} Watch;

/* How long the listening socket is left alone after an accept failed (out of fds): libdbus
 * retries a failed accept at once, and the socket stays readable, so without a pause the loop
 * would spin on it. */
#define SERVER_ACCEPT_PAUSE_MS 100

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

static int accept_resume(LoopSource *s, uint32_t events)
{
        Manager *m = container_of(s, Manager, accept_timer);
        Watch *w = m->accept_paused;
        uint64_t n;

        (void)events;
        (void)read(s->fd, &n, sizeof(n));
        m->accept_paused = NULL;
        if (w)
                (void)loop_update(&m->loop, &w->source, watch_epoll_events(w->watch));
        return 0;
}

static void server_pause_accept(Manager *m, Watch *w)
{
        struct itimerspec its = { .it_value = { .tv_nsec = SERVER_ACCEPT_PAUSE_MS * 1000000L } };

        if (m->accept_timer.fd < 0) {
                m->accept_timer = (LoopSource){ .fd = timerfd_create(CLOCK_MONOTONIC,
                                                                     TFD_CLOEXEC | TFD_NONBLOCK),
                                                .callback = accept_resume };
                if (m->accept_timer.fd < 0 || loop_update(&m->loop, &m->accept_timer, EPOLLIN) < 0) {
                        m->accept_timer.fd = safe_close(m->accept_timer.fd);
                        return; /* out of fds for the timer too: keep accepting */
                }
        }
        if (peer_should_log_global(m))
                log_warning("cannot accept connections (out of file descriptors?); pausing "
                            "the listening socket for %d ms",
                            SERVER_ACCEPT_PAUSE_MS);
        (void)loop_update(&m->loop, &w->source, 0);
        m->accept_paused = w;
        (void)timerfd_settime(m->accept_timer.fd, 0, &its, NULL);
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
        if (w->is_listener) {
                Manager *m = w->manager;
                uint64_t before = m->n_accepted;
                dbus_watch_handle(w->watch, flags);
                /* Readable, yet nothing came of it: accept failed (EMFILE, ENFILE, ENOMEM). */
                if ((events & EPOLLIN) && m->n_accepted == before && !m->accept_paused)
                        server_pause_accept(m, w);
                return 0;
        }
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

static dbus_bool_t listener_watch_add(DBusWatch *dw, void *data)
{
        Watch *w;

        if (!watch_add(dw, data))
                return FALSE;
        w = dbus_watch_get_data(dw);
        w->is_listener = true;
        return TRUE;
}

static void watch_remove(DBusWatch *dw, void *data)
{
        Watch *w = dbus_watch_get_data(dw);

        (void)data;
        if (!w)
                return;
        if (w->manager->accept_paused == w)
                w->manager->accept_paused = NULL;
        (void)loop_update(&w->manager->loop, &w->source, 0);
        close(w->source.fd);
        dbus_watch_set_data(dw, NULL, NULL);
        free(w);
}

static void watch_toggle(DBusWatch *dw, void *data)
{
        Watch *w = dbus_watch_get_data(dw);

        (void)data;
        if (w && w->manager->accept_paused != w)
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

/* Re-measure the replies @p has not read and charge them to its uid. */
static void peer_measure_queue(Peer *p)
{
        long now = dbus_connection_get_outgoing_size(p->conn);

        p->charge->queued_bytes += now - p->queued;
        p->queued = now;
}

/*
 * Close a connection from our side, outside of its dispatch: the filter and the status
 * callback hold @p, so they go first; then the peer is freed and libdbus drops the rest.
 */
static void server_drop_peer(Manager *m, Peer *p, const char *why)
{
        DBusConnection *conn = dbus_connection_ref(p->conn);

        if (*why && peer_should_log_refusal(p))
                log_warning("disconnecting uid %u pid %d: %s", (unsigned)p->principal.uid,
                            (int)p->pid, why);
        dbus_connection_set_dispatch_status_function(conn, NULL, NULL, NULL);
        dbus_connection_remove_filter(conn, methods_filter, p);
        dbus_connection_set_data(conn, m->peer_slot, NULL, NULL);
        dbus_connection_close(conn);
        peer_free(p);
        dbus_connection_unref(conn);
}

/*
 * A client that sends requests and never reads the replies would make libdbus queue them
 * without end (one such connection grew an earlier cgmd by 250 MB in 3 s). Before each
 * message is dispatched, the unread replies of its connection are measured: past
 * CGM_OUTGOING_PAUSE the connection is not served any more until it has read them (libdbus
 * stops reading it when CGM_RECEIVED_SIZE_MAX is buffered, so the kernel's socket buffer
 * pushes back on the client); past CGM_OUTGOING_PEER_MAX, or when its uid's connections
 * together hold more than CGM_OUTGOING_UID_MAX, it is closed.
 *
 * Return: true when @p may be dispatched now; false when it was paused or dropped.
 */
static bool peer_check_queue(Manager *m, Peer *p)
{
        char why[160];

        peer_measure_queue(p);
        if (p->queued > CGM_OUTGOING_PEER_MAX ||
            (!p->principal.is_root && p->charge->queued_bytes > CGM_OUTGOING_UID_MAX)) {
                snprintf(why, sizeof(why),
                         "it does not read its replies (%ld bytes queued, %ld for the uid)",
                         p->queued, p->charge->queued_bytes);
                server_drop_peer(m, p, why);
                return false;
        }
        if (p->queued >= CGM_OUTGOING_PAUSE) {
                if (!p->is_paused) {
                        if (!p->principal.is_root &&
                            p->charge->n_paused >= CGM_PAUSED_PER_UID_MAX) {
                                snprintf(why, sizeof(why),
                                         "it does not read its replies, and %u other "
                                         "connections of the uid do not either",
                                         p->charge->n_paused);
                                server_drop_peer(m, p, why);
                                return false;
                        }
                        p->is_paused = true;
                        p->charge->n_paused++;
                        p->next_paused = m->paused;
                        m->paused = p;
                }
                return false;
        }
        return true;
}

/* Paused connections that have read their replies (or are gone) are served again. */
static void server_check_paused(Manager *m)
{
        Peer **q = &m->paused;

        while (*q) {
                Peer *p = *q;
                if (!dbus_connection_get_is_connected(p->conn)) {
                        *q = p->next_paused;
                        p->is_paused = false;
                        p->charge->n_paused--;
                        server_drop_peer(m, p, "");
                        continue;
                }
                peer_measure_queue(p);
                if (p->queued < CGM_OUTGOING_PAUSE / 2) {
                        *q = p->next_paused;
                        p->is_paused = false;
                        p->charge->n_paused--;
                        if (dbus_connection_get_dispatch_status(p->conn) == DBUS_DISPATCH_DATA_REMAINS)
                                peer_mark_pending(p);
                        continue;
                }
                q = &p->next_paused;
        }
}

bool server_dispatch_pending(Manager *m)
{
        Peer *list;
        bool more = false;

        server_check_paused(m);
        list = m->pending;
        m->pending = NULL;
        for (Peer *p = list; p; p = p->next_pending)
                p->is_pending = false;
        while (list) {
                Peer *p = list;
                DBusConnection *conn = dbus_connection_ref(p->conn);
                int i = 0;

                list = p->next_pending;
                /* Dispatch may free @p (disconnect); the connection ref keeps libdbus safe,
                 * and the peer is looked up again from the connection after each message. */
                while (i++ < SERVER_DISPATCH_BATCH && !p->is_paused && !p->is_held &&
                       peer_check_queue(m, p)) {
                        if (dbus_connection_dispatch(conn) != DBUS_DISPATCH_DATA_REMAINS)
                                break;
                        p = dbus_connection_get_data(conn, m->peer_slot);
                        if (!p)
                                break;
                }
                if (dbus_connection_get_dispatch_status(conn) == DBUS_DISPATCH_DATA_REMAINS) {
                        Peer *still = dbus_connection_get_data(conn, m->peer_slot);
                        if (still && !still->is_paused && !still->is_held) {
                                peer_mark_pending(still);
                                more = true;
                        }
                }
                dbus_connection_unref(conn);
        }
        return more;
}

void server_peer_hold(Peer *p)
{
        p->is_held = true;
}

void server_peer_release(Peer *p)
{
        p->is_held = false;
        if (!p->is_paused &&
            dbus_connection_get_dispatch_status(p->conn) == DBUS_DISPATCH_DATA_REMAINS)
                peer_mark_pending(p);
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
        m->n_accepted++;
        if (m->n_peers >= m->connections_max) {
                /* Every connection costs a socket and a dup() per libdbus watch; past this
                 * the daemon would run out of fds for its own work (cgroupfs, pidfds). */
                if (peer_should_log_global(m))
                        log_warning("refusing connections: %u are open, the most this daemon's "
                                    "file descriptor limit allows",
                                    m->n_peers);
                dbus_connection_close(conn);
                return;
        }
        r = peer_new(&p, m, conn);
        if (r < 0) {
                if (r != -EDQUOT && r != -ESRCH)
                        log_warning("refusing a connection: cannot tell who the peer is (%s)",
                                    strerror(-r));
                dbus_connection_close(conn);
                return;
        }
        if (!dbus_connection_set_data(conn, m->peer_slot, p, NULL))
                goto fail;
        dbus_connection_set_exit_on_disconnect(conn, FALSE);
        dbus_connection_set_unix_user_function(conn, allow_any_uid, NULL, NULL);
        dbus_connection_set_allow_anonymous(conn, TRUE);
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

/* Open fds now (at start-up: the pinned base fds, epoll, inotify, timers, workers...). */
static unsigned server_fds_in_use(void)
{
        DIR *d = opendir("/proc/self/fd");
        unsigned n = 0;

        if (!d)
                return 64;
        while (readdir(d))
                n++;
        closedir(d);
        return n > 3 ? n - 3 : n; /* ".", ".." and the directory's own fd */
}

/*
 * How many connections fit in RLIMIT_NOFILE: each holds its socket, its pidfd and up to two
 * dup()s for libdbus's read and write watches, and a few fds more in flight (pidfds of a Move);
 * the fds in use at start-up and a quarter of the rest (at least 16) stay for the daemon's own
 * work. The soft limit is raised to the hard one first. A failing accept is handled anyway
 * (server_pause_accept()), so this is about fairness, not about survival.
 */
static unsigned server_connections_max(void)
{
        struct rlimit rl;
        rlim_t n, reserve, used = server_fds_in_use();

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return 256;
        if (rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
                (void)getrlimit(RLIMIT_NOFILE, &rl);
        }
        n = rl.rlim_cur == RLIM_INFINITY ? 65536 : rl.rlim_cur;
        n = n > used ? n - used : 0;
        reserve = n / 4 > 16 ? n / 4 : 16;
        n = n > reserve ? n - reserve : 0;
        return (unsigned)(n / 6 > 0 ? n / 6 : 1);
}

int server_start(Manager *m, CgmError *e)
{
        /* EXTERNAL, and ANONYMOUS for clients in a user namespace: libdbus and GDBus send the
         * uid they see (0 in a container), which is not the host uid the socket reports, and
         * fall back to ANONYMOUS when EXTERNAL is rejected. Who a peer is never comes from
         * SASL: peer.c asks the socket (SO_PEERCRED, SO_PEERPIDFD) for every connection. */
        static const char *mechanisms[] = { "EXTERNAL", "ANONYMOUS", NULL };
        _cleanup_dbus_error_ DBusError err = DBUS_ERROR_INIT;
        char dir[sizeof(m->socket_path)], *slash, address[256], *escaped;
        struct stat st;

        m->accept_timer = (LoopSource)LOOP_SOURCE_NULL;
        m->accept_paused = NULL;

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
            !dbus_server_set_watch_functions(m->server, listener_watch_add, watch_remove,
                                             watch_toggle, m, NULL) ||
            !dbus_server_set_timeout_functions(m->server, timeout_add, timeout_remove,
                                               timeout_toggle, m, NULL))
                return cgm_error_set(e, -ENOMEM, NULL, "out of memory");
        dbus_server_set_new_connection_function(m->server, new_connection, m, NULL);
        m->connections_max = server_connections_max();
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
        if (m->accept_timer.fd >= 0) {
                (void)loop_update(&m->loop, &m->accept_timer, 0);
                m->accept_timer.fd = safe_close(m->accept_timer.fd);
        }
        m->accept_paused = NULL;
}
