/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Server: the listening socket, accepted connections, and libdbus on the event loop */
#pragma once

#include "context.h"
#include "error.h"

/**
 * server_start() - listen on m->socket_path
 *
 * Creates the socket's directory (0755) if missing. Refuses, with a message, when a live
 * daemon already answers on the socket; a stale socket file is replaced. The socket is made
 * 0666: every uid may connect, and each request is authorized on its own.
 */
int server_start(Manager *m, CgmError *e);
void server_stop(Manager *m);

/** server_dispatch_pending() - run queued messages; true when more remain for next round */
bool server_dispatch_pending(Manager *m);

/**
 * server_peer_hold() - serve no further message of @p until server_peer_release(): its
 * request runs on a worker, and the next one must see what that one did
 */
void server_peer_hold(Peer *p);
void server_peer_release(Peer *p);
