/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Event loop: one epoll instance for every fd the daemon waits on */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct LoopSource LoopSource;
typedef int (*LoopCallback)(LoopSource *source, uint32_t events);

/* Embedded in the object that owns the fd; the callback finds its object with container_of. */
struct LoopSource {
        int fd;
        uint32_t events; /* epoll mask currently registered, 0 = not registered */
        LoopCallback callback;
};

#define LOOP_SOURCE_NULL                                                                           \
        {                                                                                          \
                .fd = -1, .events = 0, .callback = NULL                                            \
        }

struct epoll_event;

typedef struct Loop {
        int epoll_fd;
        struct epoll_event *batch; /* the round being dispatched, so removed sources are skipped */
        int n_batch;
        bool exit;
        int exit_code;
} Loop;

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

int loop_init(Loop *loop);
void loop_deinit(Loop *loop);
/** loop_update() - register, modify or (events == 0) unregister @s for @events */
int loop_update(Loop *loop, LoopSource *s, uint32_t events);
/**
 * loop_run_once() - wait up to @timeout_ms and run the callbacks of ready sources
 *
 * A callback returning non-zero stops the round; its value is returned.
 */
int loop_run_once(Loop *loop, int timeout_ms);
void loop_exit(Loop *loop, int code);
