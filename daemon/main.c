/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgmd: the cgroup manager daemon — arguments, start-up checks, the main loop
 *
 * Start-up runs in phases, each of which can refuse to start with one clear sentence:
 *   1. arguments;
 *   2. the process: root, in the initial user namespace (a namespaced cgmd would hand out
 *      delegations it cannot contain);
 *   3. cgroupfs: discover the layout and open the base (cgfs.c); nothing outside the base is
 *      written, at start-up or ever;
 *   4. the homes already delegated, re-read from cgroupfs (home.c): state survives SIGKILL;
 *   5. capabilities reduced to the few cgmd uses (caps.c);
 *   6. detach unless --foreground; the parent waits and exits with the start-up result;
 *   7. the socket (server.c), refusing when another live cgmd answers on it; only once it
 *      listens does the parent exit 0, so `cgmd && cgm ping` works.
 * Then one epoll loop serves everything; SIGTERM/SIGINT stop it through a signalfd.
 *
 * Around these, the service manager's side (service.c: sd_notify readiness, the pidfile) and,
 * before the base is opened, cgmd's own cgroup (own-cgroup.c: on cgroup v2 cgmd moves into a
 * leaf of its own so that a base below its cgroup gets controllers; at exit it gives them
 * back when the base is empty).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api-session.h"
#include "caps.h"
#include "cleanup.h"
#include "context.h"
#include "events.h"
#include "nss.h"
#include "log.h"
#include "methods.h"
#include "own-cgroup.h"
#include "peer.h"
#include "policy.h"
#include "protocol.h"
#include "server.h"
#include "service.h"
#include "session.h"

typedef struct Options {
        const char *socket;
        const char *base;
        const char *config;
        const char *pidfile;
        bool foreground;
        bool debug;
} Options;

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: cgmd [OPTION]...\n"
                "The cgroup manager daemon: delegates cgroups to users and serves the cgm API.\n\n"
                "  -s, --socket PATH   listen on PATH (default " CGM_DEFAULT_SOCKET ")\n"
                "  -b, --base BASE     manage the cgroup BASE (default " CGM_DEFAULT_BASE "); "
                "self:NAME means\n"
                "                      NAME below cgmd's own cgroup in every hierarchy\n"
                "  -c, --config FILE   read settings from FILE (default " POLICY_DEFAULT_PATH
                "\n                      and its .d/*.conf, if present)\n"
                "  -f, --foreground    do not detach; log to stderr as well as syslog\n"
                "  -d, --debug         log debug messages\n"
                "      --pidfile PATH  write cgmd's pid to PATH once it listens; removed at exit\n"
                "      --version       print the version and exit\n"
                "  -h, --help          print this help and exit\n\n"
                "See cgmd(8).\n");
}

static int parse_args(int argc, char **argv, Options *o)
{
        static const struct option longopts[] = {
                { "socket", required_argument, NULL, 's' },
                { "base", required_argument, NULL, 'b' },
                { "config", required_argument, NULL, 'c' },
                { "foreground", no_argument, NULL, 'f' },
                { "debug", no_argument, NULL, 'd' },
                { "pidfile", required_argument, NULL, 'P' },
                { "version", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "s:b:c:fdh", longopts, NULL)) >= 0) {
                switch (c) {
                case 's':
                        o->socket = optarg;
                        break;
                case 'b':
                        o->base = optarg;
                        break;
                case 'c':
                        o->config = optarg;
                        break;
                case 'f':
                        o->foreground = true;
                        break;
                case 'd':
                        o->debug = true;
                        break;
                case 'P':
                        o->pidfile = optarg;
                        break;
                case 'V':
                        printf("cgmd %s (API level %d)\n", PACKAGE_VERSION, CGM_API_LEVEL);
                        return 1;
                case 'h':
                        usage(stdout);
                        return 1;
                default:
                        fprintf(stderr, "Try 'cgmd --help'.\n");
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "cgmd: unexpected argument `%s`\nTry 'cgmd --help'.\n",
                        argv[optind]);
                return -EINVAL;
        }
        return 0;
}

static int check_process(Manager *m, CgmError *e)
{
        int r;

        if (geteuid() != 0)
                return cgm_error_set(e, -EPERM, NULL,
                                     "cgmd must run as root (it writes cgroupfs for others)");
        r = nsself_init(&m->ns, e);
        if (r < 0)
                return r;
        /* Inode 0xEFFFFFFD (4026531837) is PROC_USER_INIT_INO, the initial user namespace. */
        if (m->ns.user_ino != 0xEFFFFFFDul)
                return cgm_error_set(e, -EPERM, NULL,
                                     "cgmd must run in the initial user namespace: root in a "
                                     "container cannot contain the delegations it would hand out");
        return 0;
}

static int signals_dispatch(LoopSource *s, uint32_t events)
{
        Manager *m = container_of(s, Manager, signals);
        struct signalfd_siginfo si;

        (void)events;
        while (read(s->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                switch (si.ssi_signo) {
                case SIGTERM:
                case SIGINT:
                        log_info("received %s, stopping", strsignal((int)si.ssi_signo));
                        service_stopping();
                        loop_exit(&m->loop, 0);
                        break;
                case SIGHUP: {
                        CgmError e = CGM_ERROR_NULL;
                        log_info("received SIGHUP, reloading the policy");
                        service_reloading();
                        if (manager_reload(m, &e) < 0)
                                service_reloaded(e.msg[0] ? e.msg : "the new policy was refused");
                        else
                                service_reloaded("serving; policy reloaded");
                        break;
                }
                }
        }
        return 0;
}

static int setup_signals(Manager *m)
{
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        signal(SIGPIPE, SIG_IGN); /* a client that vanishes must not kill us */
        m->signals = (LoopSource){ .fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK),
                                   .callback = signals_dispatch };
        if (m->signals.fd < 0)
                return -errno;
        return loop_update(&m->loop, &m->signals, EPOLLIN);
}

/* Detach; the parent exits with the child's start-up result, read from @pipefd. */
static int daemonize(int *notify_fd)
{
        int pipefd[2];
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid > 0) {
                char status = 1;
                close(pipefd[1]);
                if (read(pipefd[0], &status, 1) != 1)
                        status = 1;
                _exit(status);
        }
        close(pipefd[0]);
        if (setsid() < 0)
                return -errno;
        *notify_fd = pipefd[1];
        return 0;
}

static void detach_stdio(void)
{
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return;
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
                close(fd);
}

void manager_apply_options(Manager *m, bool resolve_admin_group)
{
        const Policy *p = m->policy;
        gid_t gid;

        m->requests_per_second = policy_uint(&p->requests_per_second);
        m->creates_per_second = policy_uint(&p->creates_per_second);
        m->connections_per_uid = policy_uint(&p->connections_per_uid);
        m->have_admin_gid = false;
        /* At start-up, before any client is served, one getgrnam_r may block the start. */
        if (resolve_admin_group && p->admin_group.value[0]) {
                int r = nss_group_gid(p->admin_group.value, &gid);
                if (r == 0) {
                        m->admin_gid = gid;
                        m->have_admin_gid = true;
                } else
                        log_warning("admin_group `%s` (%s) is unknown to NSS: %s; only root may "
                                    "use the admin methods",
                                    p->admin_group.value, p->admin_group.source, strerror(-r));
        }
}

static void manager_deinit(Manager *m)
{
        m->stopping = true;
        workers_deinit(&m->workers);
        api_cgroup_jobs_deinit(m);
        sessions_deinit(m);
        server_stop(m);
        events_deinit(m); /* after the subscribers' connections and the sessions' listeners */
        peer_charges_free(m);
        home_registry_deinit(&m->homes);
        cgfs_close(&m->cgfs);
        if (m->signals.fd >= 0)
                close(m->signals.fd);
        loop_deinit(&m->loop);
        policy_free(m->policy);
        m->policy = NULL;
        nsself_deinit(&m->ns);
}

int main(int argc, char **argv)
{
        Options o = { .socket = NULL, .base = NULL };
        Manager m = { .ns = NS_SELF_NULL,          .signals = LOOP_SOURCE_NULL,
                      .peer_slot = -1,             .inotify = LOOP_SOURCE_NULL,
                      .sweep = LOOP_SOURCE_NULL,   .accept_timer = LOOP_SOURCE_NULL,
                      .home_timer = LOOP_SOURCE_NULL, .check_work = LOOP_SOURCE_NULL };
        OwnCgroup own = OWN_CGROUP_NULL;
        CgmError e = CGM_ERROR_NULL;
        char status[400];
        int notify_fd = -1, r;

        r = parse_args(argc, argv, &o);
        if (r != 0)
                return r > 0 ? EXIT_SUCCESS : 2;
        log_open(true, o.debug);
        r = service_open(o.pidfile);
        if (r < 0) {
                cgm_error_set(&e, r, NULL, "--pidfile needs an absolute path, not `%s`", o.pidfile);
                goto fail_early;
        }

        m.config_path = o.config;
        r = policy_load(&m.policy, o.config, &e);
        if (r < 0)
                goto fail_early;
        snprintf(m.socket_path, sizeof(m.socket_path), "%s",
                 o.socket ? o.socket : m.policy->socket.value);

        r = check_process(&m, &e);
        if (r < 0)
                goto fail_early;
        r = loop_init(&m.loop);
        if (r < 0) {
                cgm_error_set(&e, r, NULL, "cannot create the event loop: %s", strerror(-r));
                goto fail_early;
        }
        own_cgroup_enter(&own, o.base ? o.base : m.policy->base.value);
        r = cgfs_open(&m.cgfs, o.base ? o.base : m.policy->base.value, &e);
        if (r < 0)
                goto fail;
        r = home_registry_scan(&m.homes, &m.cgfs);
        if (r < 0) {
                cgm_error_set(&e, r, NULL, "cannot read the delegated homes below the base: %s",
                              strerror(-r));
                goto fail;
        }
        manager_apply_options(&m, true);
        r = events_init(&m, &e);
        if (r < 0)
                goto fail;
        r = sessions_init(&m, &e);
        if (r < 0)
                goto fail;
        r = caps_restrict(&e);
        if (r < 0)
                goto fail;
        if (!o.foreground) {
                r = daemonize(&notify_fd);
                if (r < 0) {
                        cgm_error_set(&e, r, NULL, "cannot detach: %s", strerror(-r));
                        goto fail;
                }
        }
        /* After fork(): a signalfd wakes epoll through the sighand of the process that added
         * it, so one made by the parent would never wake the detached child. */
        r = setup_signals(&m);
        if (r < 0) {
                cgm_error_set(&e, r, NULL, "cannot set up signal handling: %s", strerror(-r));
                goto fail;
        }
        /* Threads only after fork(): a forked child keeps just the forking thread. */
        r = workers_init(&m.workers, &m.loop, CGM_NSS_WORKERS);
        if (r < 0) {
                cgm_error_set(&e, r, NULL, "cannot start the NSS workers: %s", strerror(-r));
                goto fail;
        }
        r = api_cgroup_jobs_init(&m);
        if (r < 0) {
                cgm_error_set(&e, r, NULL, "cannot start the cgroup workers: %s", strerror(-r));
                goto fail;
        }
        r = server_start(&m, &e);
        if (r < 0)
                goto fail;

        log_info("cgmd %s serving base `%s` (%s layout, %zu hierarch%s, %zu home%s) on `%s`",
                 PACKAGE_VERSION, m.cgfs.base_api, cgfs_layout_name(m.cgfs.layout), m.cgfs.n,
                 m.cgfs.n == 1 ? "y" : "ies", m.homes.n, m.homes.n == 1 ? "" : "s",
                 m.socket_path);
        snprintf(status, sizeof(status), "serving base %s (%s layout, %zu home%s) on %s",
                 m.cgfs.base_api, cgfs_layout_name(m.cgfs.layout), m.homes.n,
                 m.homes.n == 1 ? "" : "s", m.socket_path);
        r = service_ready(status);
        if (r < 0) {
                cgm_error_set(&e, r, NULL, "cannot write the pidfile `%s`: %s", o.pidfile,
                              strerror(-r));
                goto fail;
        }
        if (notify_fd >= 0) {
                char ok = 0;
                log_close();
                log_open(false, o.debug);
                detach_stdio();
                (void)write(notify_fd, &ok, 1);
                notify_fd = safe_close(notify_fd);
        }

        while (!m.loop.exit) {
                bool more = server_dispatch_pending(&m);
                r = loop_run_once(&m.loop, more ? 0 : -1);
                if (r < 0) {
                        log_error("event loop failed: %s", strerror(-r));
                        break;
                }
        }
        manager_deinit(&m);
        own_cgroup_leave(&own);
        service_close();
        dbus_shutdown();
        log_info("stopped");
        log_close();
        return r < 0 ? EXIT_FAILURE : m.loop.exit_code;

fail:
        manager_deinit(&m);
fail_early:
        policy_free(m.policy);
        nsself_deinit(&m.ns);
        log_error("%s", e.msg[0] ? e.msg : strerror(-r));
        service_failed(r, e.msg[0] ? e.msg : strerror(-r));
        own_cgroup_leave(&own);
        service_close();
        if (notify_fd >= 0) {
                char bad = 1;
                (void)write(notify_fd, &bad, 1);
                close(notify_fd);
        }
        dbus_shutdown();
        log_close();
        return EXIT_FAILURE;
}
