/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Workers: threads for work that may block (NSS lookups), results back on the loop
 *
 * NSS may be backed by LDAP or SSSD, and a directory that is down makes getpwnam_r() hang for
 * as long as the module likes. Such calls run here, in a few threads, never in the loop: a
 * hung lookup occupies one thread, every other client is still served, and logins queue
 * behind it only once all threads hang. The caller puts a deadline on each request and
 * answers the client when it passes, whatever the thread is doing.
 *
 * Threads run only the job's run() function, which touches nothing but the job itself. The
 * finished job goes on a list, an eventfd wakes the loop, and its done() runs there, where
 * all the daemon's state lives. So no daemon state is shared with threads and nothing but the
 * two job lists needs the lock.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "worker.h"

static void *worker_main(void *arg)
{
        Workers *w = arg;

        /* Linux's nice is per thread. Failure leaves the thread at the loop's priority. */
        if (w->nice)
                (void)setpriority(PRIO_PROCESS, (id_t)gettid(),
                                  getpriority(PRIO_PROCESS, 0) + w->nice);
        pthread_mutex_lock(&w->lock);
        for (;;) {
                WorkerJob *job;
                while (!w->stop && !w->queue)
                        pthread_cond_wait(&w->cond, &w->lock);
                if (w->stop)
                        break;
                job = w->queue;
                w->queue = job->next;
                if (!w->queue)
                        w->queue_tail = &w->queue;
                w->n_queued--;
                w->n_running++;
                pthread_mutex_unlock(&w->lock);

                job->run(job);

                pthread_mutex_lock(&w->lock);
                w->n_running--;
                job->next = w->finished;
                w->finished = job;
                {
                        uint64_t one = 1;
                        (void)!write(w->wakeup.fd, &one, sizeof(one));
                }
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

static int workers_dispatch(LoopSource *s, uint32_t events)
{
        Workers *w = container_of(s, Workers, wakeup);
        WorkerJob *list, *rev = NULL;
        uint64_t n;

        (void)events;
        (void)!read(s->fd, &n, sizeof(n));
        pthread_mutex_lock(&w->lock);
        list = w->finished;
        w->finished = NULL;
        pthread_mutex_unlock(&w->lock);
        /* Oldest first. */
        while (list) {
                WorkerJob *j = list;
                list = j->next;
                j->next = rev;
                rev = j;
        }
        while (rev) {
                WorkerJob *j = rev;
                rev = j->next;
                j->done(j); /* may free @j */
        }
        return 0;
}

int workers_init(Workers *w, Loop *loop, unsigned n)
{
        return workers_init_nice(w, loop, n, 0);
}

int workers_init_nice(Workers *w, Loop *loop, unsigned n, int nice)
{
        int r;

        *w = (Workers){ .loop = loop, .wakeup = LOOP_SOURCE_NULL, .nice = nice };
        w->queue_tail = &w->queue;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        w->wakeup.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->wakeup.fd < 0)
                return -errno;
        w->wakeup.callback = workers_dispatch;
        r = loop_update(loop, &w->wakeup, EPOLLIN);
        if (r < 0)
                return r;
        if (n > WORKERS_MAX)
                n = WORKERS_MAX;
        for (; w->n_threads < n; w->n_threads++) {
                r = pthread_create(&w->threads[w->n_threads], NULL, worker_main, w);
                if (r)
                        return -r;
        }
        return 0;
}

void workers_deinit(Workers *w)
{
        if (!w->queue_tail)
                return; /* never initialised */
        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        for (unsigned i = 0; i < w->n_threads; i++) {
                struct timespec deadline;
                clock_gettime(CLOCK_REALTIME, &deadline);
                deadline.tv_sec += 1;
                /* A thread stuck in NSS cannot be woken; leave it to the process exit. */
                if (pthread_timedjoin_np(w->threads[i], NULL, &deadline) != 0)
                        pthread_detach(w->threads[i]);
        }
        w->n_threads = 0;
        while (w->queue) {
                WorkerJob *j = w->queue;
                w->queue = j->next;
                j->cancelled = true;
                j->done(j);
        }
        w->queue_tail = &w->queue;
        while (w->finished) {
                WorkerJob *j = w->finished;
                w->finished = j->next;
                j->done(j);
        }
        if (w->wakeup.fd >= 0) {
                (void)loop_update(w->loop, &w->wakeup, 0);
                w->wakeup.fd = safe_close(w->wakeup.fd);
        }
}

void workers_submit(Workers *w, WorkerJob *job)
{
        job->next = NULL;
        job->cancelled = false;
        pthread_mutex_lock(&w->lock);
        *w->queue_tail = job;
        w->queue_tail = &job->next;
        w->n_queued++;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
}

unsigned workers_busy(Workers *w)
{
        unsigned n;

        pthread_mutex_lock(&w->lock);
        n = w->n_queued + w->n_running;
        pthread_mutex_unlock(&w->lock);
        return n;
}
