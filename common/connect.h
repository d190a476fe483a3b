/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Connecting to cgmd's socket by a deadline: one way for libcgm and pam_cgm's wire client */
#pragma once

#include <stdint.h>

#include "error.h"

/** cgm_hint_unreachable() - what to try when cgmd cannot be reached */
const char *cgm_hint_unreachable(void);

/** cgm_monotonic_ms() - CLOCK_MONOTONIC in milliseconds, the clock of every deadline here */
int64_t cgm_monotonic_ms(void);

/**
 * cgm_unix_connect() - connect a stream socket to the one at @path by @deadline (cgm_monotonic_ms())
 * @budget_ms: the caller's timeout, for the message
 * @fdp:       receives the connected socket: blocking, close-on-exec, with SO_SNDTIMEO still set
 *
 * connect(2) on a Unix stream socket completes at once while the listener's queue has room,
 * and sleeps while it is full: a daemon that stopped accepting (hung, or flooded) leaves a
 * blocking connect asleep for good. The kernel (unix_stream_connect) sleeps for at most the
 * socket's send timeout, and each accept() of the listener wakes it, so the socket is blocking
 * with SO_SNDTIMEO set to what is left before the deadline: no polling, and the connect
 * returns as soon as the daemon takes one connection from its queue. A timed-out connect
 * fails with EAGAIN and leaves the socket unconnected, as does EINTR (a signal handler of the
 * caller), so both are retried until the deadline. (A non-blocking connect cannot be waited
 * for: it fails with EAGAIN, and poll() says nothing about it.)
 *
 * Return: 0; -ENOENT (no socket there), -EACCES, -ECONNREFUSED (nobody listens, or not a
 * stream socket), -ETIMEDOUT, -ENOMEM; @e says which in a sentence.
 */
int cgm_unix_connect(const char *path, int64_t deadline, int budget_ms, int *fdp,
                     CgmError *e);
