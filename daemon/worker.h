/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Workers: threads for work that may block (NSS lookups), results back on the loop */
#pragma once

#include <pthread.h>
#include <stdbool.h>

#include "loop.h"

typedef struct WorkerJob WorkerJob;
typedef void (*WorkerRun)(WorkerJob *job);  /* in a worker thread: no loop, no D-Bus */
typedef void (*WorkerDone)(WorkerJob *job); /* back in the main loop */

struct WorkerJob {
        WorkerJob *next;
        WorkerRun run;
        WorkerDone done;
        bool cancelled; /* set when done() runs without run() having run (shutdown) */
};

#define WORKERS_MAX 16

typedef struct Workers {
        Loop *loop;
        LoopSource wakeup; /* eventfd: a job finished */
        pthread_t threads[WORKERS_MAX];
        unsigned n_threads;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        WorkerJob *queue, **queue_tail;
        WorkerJob *finished;
        unsigned n_queued, n_running;
        int nice; /* of every thread, relative to the loop's */
        bool stop;
} Workers;

/** workers_init() - start @n threads and register the wakeup source on @loop */
int workers_init(Workers *w, Loop *loop, unsigned n);
/**
 * workers_init_nice() - workers_init() whose threads run @nice steps below the loop's
 * priority (setpriority() on each thread): bulk work in them yields the CPU to the loop
 */
int workers_init_nice(Workers *w, Loop *loop, unsigned n, int nice);
/**
 * workers_deinit() - stop the threads and run done() for every job not still held by a
 * thread (queued ones with ->cancelled set); threads stuck in a lookup are left behind with
 * their job, since the process is exiting
 */
void workers_deinit(Workers *w);
/** workers_submit() - queue @job; its done callback runs later on the loop */
void workers_submit(Workers *w, WorkerJob *job);
/** workers_busy() - jobs queued or running */
unsigned workers_busy(Workers *w);
