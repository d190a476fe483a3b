/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Method handlers for sessions and administration: OpenSession, CloseSession, Sessions,
 * Users, ExplainPolicy, Reload
 *
 * OpenSession and ExplainPolicy need NSS, which may hang (a directory server down). Their
 * handlers therefore only check the request, put an NSS lookup on a worker thread and return
 * "pending"; the reply is sent from the loop when the lookup finishes, or with Busy when the
 * deadline (nss_timeout_ms) passes first — whichever comes first, exactly once. A Pending
 * lives until both the reply has gone and the worker has handed its job back, since the
 * thread writes into it.
 *
 * Reload parses the new policy completely before anything changes (policy.c); a bad file
 * leaves the old policy in force and the caller gets the file:line. A good one replaces the
 * old, and the limits of every user with a session are applied again (one NSS lookup each,
 * on the workers, to learn the user's current groups).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "api-session.h"
#include "audit.h"
#include "cgroup.h"
#include "cleanup.h"
#include "home.h"
#include "log.h"
#include "methods.h"
#include "name.h"
#include "nss.h"
#include "peer.h"
#include "policy.h"
#include "proc.h"
#include "reply.h"
#include "session.h"
#include "systemd.h"
#include "text.h"

typedef enum PendingKind {
        PENDING_OPEN,
        PENDING_EXPLAIN,
        PENDING_REAPPLY,     /* after a reload: no reply */
        PENDING_ADMIN_GROUP, /* after a reload: resolve admin_group */
} PendingKind;

struct Pending {
        Pending *next;
        Manager *manager;
        PendingKind kind;
        NssLookup nss; /* the worker's job; written by the thread until done() */
        DBusConnection *conn;
        DBusMessage *msg;
        LoopSource timer; /* the deadline */
        bool replied, job_done;
        uid_t caller_uid;
        pid_t caller_pid;
        int pidfd; /* OPEN: the process to move into the leaf */
        pid_t pid;
        unsigned caller_timeout_ms; /* OPEN: the caller's own deadline, when shorter */
        char xdg_id[CGM_NAME_MAX + 1];
        char tty[256];  /* OPEN: PAM_TTY as sent; session_open() keeps only a terminal name */
        char what[512]; /* for the audit line */
};

static void pending_free(Pending *p)
{
        Manager *m = p->manager;

        for (Pending **q = &m->requests; *q; q = &(*q)->next)
                if (*q == p) {
                        *q = p->next;
                        break;
                }
        if (p->timer.fd >= 0) {
                (void)loop_update(&m->loop, &p->timer, 0);
                close(p->timer.fd);
        }
        safe_close(p->pidfd);
        if (p->msg)
                dbus_message_unref(p->msg);
        if (p->conn)
                dbus_connection_unref(p->conn);
        nss_lookup_clear(&p->nss);
        free(p);
}

static void pending_send(Pending *p, DBusMessage *reply)
{
        p->replied = true;
        if (reply) {
                if (dbus_connection_get_is_connected(p->conn))
                        (void)dbus_connection_send(p->conn, reply, NULL);
                dbus_message_unref(reply);
        }
        if (p->timer.fd >= 0) {
                (void)loop_update(&p->manager->loop, &p->timer, 0);
                p->timer.fd = safe_close(p->timer.fd);
        }
}

static void pending_error(Pending *p, const CgmError *e)
{
        pending_send(p, reply_error(p->msg,
                                               e->name ? e->name : cgm_errno_to_error_name(e->code),
                                               e->msg));
}

static int pending_timeout(LoopSource *s, uint32_t events)
{
        Pending *p = container_of(s, Pending, timer);
        CgmError e = CGM_ERROR_NULL;

        (void)events;
        if (p->caller_timeout_ms)
                cgm_error_set(&e, -ETIMEDOUT, CGM_ERR_BUSY,
                              "looking up `%s` in NSS did not finish within the %u ms the caller "
                              "allowed; nothing was done",
                              p->nss.name, p->caller_timeout_ms);
        else
                cgm_error_set(&e, -EBUSY, CGM_ERR_BUSY,
                              "looking up `%s` in NSS (nsswitch.conf) did not finish within %u "
                              "ms; is the directory service reachable?",
                              p->nss.name, policy_uint(&p->manager->policy->nss_timeout_ms));
        log_warning("%s", e.msg);
        pending_error(p, &e);
        if (p->job_done)
                pending_free(p);
        return 0;
}

/*
 * Has the caller of a pending OpenSession given up? A PAM module that timed out closes its
 * connection and the login goes on without a cgroup; moving that process into a session leaf
 * afterwards would make a session PAM never hears of (no CGM_SESSION, no CloseSession, no
 * kill_on_logout). The socket shows the hang-up before libdbus has read it; the pidfd shows a
 * login process that is gone.
 */
static bool open_caller_gone(Pending *p)
{
        struct pollfd pf = { .fd = -1, .events = POLLRDHUP };

        if (!dbus_connection_get_is_connected(p->conn))
                return true;
        if (dbus_connection_get_socket(p->conn, &pf.fd) && pf.fd >= 0 && poll(&pf, 1, 0) > 0 &&
            (pf.revents & (POLLRDHUP | POLLHUP | POLLERR)))
                return true;
        return !proc_pidfd_alive(p->pidfd) || proc_pidfd_exited(p->pidfd);
}

/* Record which process opened session @id, for CloseSession's check. */
static void open_remember_opener(Manager *m, const char *id, int pidfd)
{
        Session *s = session_find(m, id);
        pid_t pid;
        _cleanup_close_ int procdir = proc_pidfd_procdir(pidfd, &pid);

        if (s && procdir >= 0 && proc_start_time(procdir, &s->opener_start) == 0)
                s->opener_pid = pid;
}

static void open_finish(Pending *p)
{
        Manager *m = p->manager;
        CgmError e = CGM_ERROR_NULL;
        char id[CGM_NAME_MAX + 1] = "", path[CGM_PATH_MAX + 1100] = "";
        int r;

        if (open_caller_gone(p)) {
                audit_write_why(p->caller_uid, p->caller_pid, "OpenSession", "", p->what,
                                -ECANCELED, CGM_ERR_BUSY,
                                "the caller gave up before NSS answered; nothing was done");
                pending_send(p, NULL);
                return;
        }
        if (p->nss.result == -ENOENT)
                r = cgm_error_set(&e, -ENOENT, CGM_ERR_NOT_FOUND, "no user `%s` in NSS",
                                  p->nss.name);
        else if (p->nss.result < 0)
                r = cgm_error_set(&e, p->nss.result, CGM_ERR_FAILED,
                                  "looking up `%s` in NSS failed: %s", p->nss.name,
                                  strerror(-p->nss.result));
        else if (systemd_active(m)) /* the login stays in logind's scope */
                r = systemd_session_open(m, &p->nss, p->xdg_id, p->pidfd, id, sizeof(id), path,
                                         sizeof(path), &e);
        else
                r = session_open(m, &p->nss, p->xdg_id, p->tty, p->pidfd, p->pid, id,
                                 sizeof(id), path, sizeof(path), &e);
        {
                char what[700];
                snprintf(what, sizeof(what), "%s id=%s", p->what, id);
                audit_write_why(p->caller_uid, p->caller_pid, "OpenSession", path, what, r,
                                e.name, e.msg);
        }
        if (r < 0) {
                pending_error(p, &e);
                return;
        }
        pending_send(p, systemd_reply_when_applied(m, id, p->conn,
                                                   reply_strings(p->msg, 2,
                                                                 (const char *const[]){ id, path }),
                                                   p->caller_timeout_ms));
        /* After the reply, off the login's path: the loop serves no CloseSession before this
         * returns, and the pidfd still pins the process. */
        open_remember_opener(m, id, p->pidfd);
}

static void explain_append(DBusMessageIter *arr, const char *k, const char *v, const char *src)
{
        DBusMessageIter st;

        dbus_message_iter_open_container(arr, DBUS_TYPE_STRUCT, NULL, &st);
        reply_append_string(&st, k);
        reply_append_string(&st, v);
        reply_append_string(&st, src);
        dbus_message_iter_close_container(arr, &st);
}

static void explain_finish(Pending *p)
{
        Manager *m = p->manager;
        Policy *pol = m->policy;
        const char *groups[NSS_GROUPS_MAX];
        DBusMessageIter it, garr, earr;
        PolicyLimits lim;
        dbus_uint32_t uid = p->nss.uid;
        const char *user = p->nss.user;
        bool exempt, lingers, excluded;
        DBusMessage *reply;

        if (p->nss.result < 0) {
                CgmError e = CGM_ERROR_NULL;
                cgm_error_set(&e, p->nss.result == -ENOENT ? -ENOENT : p->nss.result,
                              p->nss.result == -ENOENT ? CGM_ERR_NOT_FOUND : CGM_ERR_FAILED,
                              "no user `%s` in NSS%s%s", p->nss.name,
                              p->nss.result == -ENOENT ? "" : ": ",
                              p->nss.result == -ENOENT ? "" : strerror(-p->nss.result));
                pending_error(p, &e);
                return;
        }
        for (size_t i = 0; i < p->nss.n_groups; i++)
                groups[i] = p->nss.groups[i];
        policy_resolve(pol, user, groups, p->nss.n_groups, &lim);
        {
                /* In the asker's terms, when it is an admin in a container (nsview.c). */
                Peer *asker = dbus_connection_get_data(p->conn, m->peer_slot);
                if (asker)
                        uid = nsview_uid_out(&asker->ns, p->nss.uid);
        }
        reply = dbus_message_new_method_return(p->msg);
        if (!reply) {
                pending_send(p, NULL);
                return;
        }
        dbus_message_iter_init_append(reply, &it);
        dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT32, &uid);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "s", &garr);
        for (size_t i = 0; i < p->nss.n_groups; i++)
                reply_append_string(&garr, groups[i]);
        dbus_message_iter_close_container(&it, &garr);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "(sss)", &earr);
        for (size_t i = 0; i < lim.n; i++)
                explain_append(&earr, lim.values[i]->key, lim.values[i]->value,
                               lim.values[i]->source);
        explain_append(&earr, "cgroup.max.descendants (max_cgroups_per_user)",
                       pol->max_cgroups_per_user.value, pol->max_cgroups_per_user.source);
        excluded = policy_list_has(&pol->exclude, user);
        explain_append(&earr, "excluded", excluded ? "yes" : "no", pol->exclude.source);
        lingers = policy_list_has(&pol->linger, user);
        explain_append(&earr, "linger", lingers ? "yes" : "no", pol->linger.source);
        exempt = policy_list_has(&pol->kill_exempt, user) || p->nss.uid == 0;
        explain_append(&earr, "kill_on_logout",
                       policy_bool(&pol->kill_on_logout) && !exempt ? "yes" : "no",
                       exempt && policy_bool(&pol->kill_on_logout) ? pol->kill_exempt.source
                                                                     : pol->kill_on_logout.source);
        explain_append(&earr, "session_manager", systemd_mode_name(m),
                       pol->session_manager.source);
        explain_append(&earr, "oom_notice", lim.oom_notice ? "yes" : "no", lim.oom_notice_source);
        dbus_message_iter_close_container(&it, &earr);
        pending_send(p, reply);
}

static void reapply_finish(Pending *p)
{
        const char *home;

        if (p->nss.result < 0) {
                log_warning("reload: cannot look up uid %u to re-apply its limits: %s",
                            (unsigned)p->nss.want_uid, strerror(-p->nss.result));
                return;
        }
        home = home_lookup(&p->manager->homes, p->nss.uid);
        if (home)
                (void)session_apply_limits(p->manager, home, &p->nss);
}

static void admin_group_finish(Pending *p)
{
        Manager *m = p->manager;

        /* The policy may have changed again meanwhile: only take an answer for its group. */
        if (strcmp(p->nss.name, m->policy->admin_group.value) != 0)
                return;
        if (p->nss.result == 0) {
                m->admin_gid = p->nss.gid;
                m->have_admin_gid = true;
        } else
                log_warning("admin_group `%s` is unknown to NSS: %s; only root may use the admin "
                            "methods",
                            p->nss.name, strerror(-p->nss.result));
}

static void pending_done(WorkerJob *job)
{
        Pending *p = container_of(job, Pending, nss.job);

        p->job_done = true;
        /* A re-apply has no caller to answer; the others are finished only if nobody has
         * been answered yet (the deadline may have passed). */
        if (!job->cancelled && !p->manager->stopping &&
            (p->kind == PENDING_REAPPLY || p->kind == PENDING_ADMIN_GROUP || !p->replied)) {
                switch (p->kind) {
                case PENDING_OPEN:
                        open_finish(p);
                        break;
                case PENDING_EXPLAIN:
                        explain_finish(p);
                        break;
                case PENDING_REAPPLY:
                        reapply_finish(p);
                        break;
                case PENDING_ADMIN_GROUP:
                        admin_group_finish(p);
                        break;
                }
        }
        pending_free(p);
}

static int pending_start(MethodCall *c, PendingKind kind, const char *name, uid_t uid,
                         Pending **pp)
{
        Manager *m = c->manager;
        Pending *p = calloc(1, sizeof(*p));
        unsigned ms = policy_uint(&m->policy->nss_timeout_ms);
        struct itimerspec its = { .it_value = { .tv_sec = ms / 1000,
                                                .tv_nsec = (long)(ms % 1000) * 1000000L } };

        if (!p)
                return cgm_error_set(c ? c->error : NULL, -ENOMEM, NULL, "out of memory");
        p->manager = m;
        p->kind = kind;
        p->pidfd = -1;
        p->timer = (LoopSource){ .fd = -1, .callback = pending_timeout };
        p->nss.job = (WorkerJob){ .run = kind == PENDING_ADMIN_GROUP ? nss_group_run : nss_lookup_run,
                                  .done = pending_done };
        snprintf(p->nss.name, sizeof(p->nss.name), "%s", name ? name : "");
        p->nss.want_uid = uid;
        if (c && c->msg) {
                p->conn = dbus_connection_ref(c->peer->conn);
                p->msg = dbus_message_ref(c->msg);
                p->caller_uid = c->peer->principal.uid;
                p->caller_pid = c->peer->pid;
                p->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
                if (p->timer.fd < 0 || loop_update(&m->loop, &p->timer, EPOLLIN) < 0 ||
                    timerfd_settime(p->timer.fd, 0, &its, NULL) < 0) {
                        int r = -errno;
                        pending_free(p);
                        return cgm_error_set(c->error, r, NULL, "cannot arm a timer: %s",
                                             strerror(-r));
                }
        } else
                p->replied = true; /* nobody waits for an answer */
        p->next = m->requests;
        m->requests = p;
        *pp = p;
        return 0;
}

static int check_user_name(MethodCall *c, const char *user)
{
        size_t l = strlen(user);

        if (l == 0 || l > 255)
                return cgm_error_set(c->error, -EINVAL, CGM_ERR_INVALID_ARGS,
                                     "a user name of 1 to 255 bytes is needed");
        for (const char *s = user; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '/' || *s == ':')
                        return cgm_error_set(c->error, -EINVAL, CGM_ERR_INVALID_ARGS,
                                             "the user name contains a control character, `/` "
                                             "or `:`");
        return 0;
}

int api_open_session(MethodCall *c)
{
        Manager *m = c->manager;
        DBusMessageIter it, arr;
        const char *user, *xdg = "", *service = "", *tty = "", *rhost = "", *timeout = "";
        unsigned caller_timeout_ms = 0;
        Pending *p;
        int r;

        dbus_message_iter_init(c->msg, &it);
        dbus_message_iter_get_basic(&it, &user);
        dbus_message_iter_next(&it);
        dbus_message_iter_recurse(&it, &arr);
        while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY) {
                DBusMessageIter entry;
                const char *k, *v;
                dbus_message_iter_recurse(&arr, &entry);
                dbus_message_iter_get_basic(&entry, &k);
                dbus_message_iter_next(&entry);
                dbus_message_iter_get_basic(&entry, &v);
                if (strlen(v) > 255) {
                        char q[48];
                        return cgm_error_set(c->error, -EINVAL, CGM_ERR_INVALID_ARGS,
                                             "session info `%s` is longer than 255 bytes",
                                             cgm_quote(k, 32, q, sizeof(q)));
                }
                if (strcmp(k, CGM_SESSION_INFO_XDG_ID) == 0)
                        xdg = v;
                else if (strcmp(k, CGM_SESSION_INFO_SERVICE) == 0)
                        service = v;
                else if (strcmp(k, CGM_SESSION_INFO_TTY) == 0)
                        tty = v;
                else if (strcmp(k, CGM_SESSION_INFO_RHOST) == 0)
                        rhost = v;
                else if (strcmp(k, CGM_SESSION_INFO_TIMEOUT_MS) == 0)
                        timeout = v;
                /* Unknown keys are ignored: newer PAM modules may send more. */
                dbus_message_iter_next(&arr);
        }
        r = check_user_name(c, user);
        if (r < 0)
                return r;
        if (policy_list_has(&m->policy->exclude, user)) {
                char what[300];
                snprintf(what, sizeof(what), "user=%s excluded by %s", user,
                         m->policy->exclude.source);
                audit_write(c->peer->principal.uid, c->peer->pid, "OpenSession", "", what, 0);
                c->reply = reply_strings(c->msg, 2, (const char *const[]){ "", "" });
                return c->reply ? 0 : cgm_error_set(c->error, -ENOMEM, NULL, "out of memory");
        }
        if (*timeout) {
                char *end;
                unsigned long t;
                errno = 0;
                t = strtoul(timeout, &end, 10);
                if (errno || *end || end == timeout || t == 0 || t > 3600000)
                        return cgm_error_set(c->error, -EINVAL, CGM_ERR_INVALID_ARGS,
                                             "session info timeout_ms is not a number of "
                                             "milliseconds from 1 to 3600000");
                caller_timeout_ms = (unsigned)t;
        }
        r = pending_start(c, PENDING_OPEN, user, 0, &p);
        if (r < 0)
                return r;
        if (caller_timeout_ms && caller_timeout_ms < policy_uint(&m->policy->nss_timeout_ms)) {
                struct itimerspec its = {
                        .it_value = { .tv_sec = caller_timeout_ms / 1000,
                                      .tv_nsec = (long)(caller_timeout_ms % 1000) * 1000000L }
                };
                if (timerfd_settime(p->timer.fd, 0, &its, NULL) == 0)
                        p->caller_timeout_ms = caller_timeout_ms;
        }
        p->pidfd = fcntl(c->peer->pidfd, F_DUPFD_CLOEXEC, 3);
        if (p->pidfd < 0) {
                r = cgm_error_set(c->error, -errno, NULL, "cannot keep the caller's pidfd: %m");
                pending_free(p);
                return r;
        }
        p->pid = c->peer->pid;
        snprintf(p->xdg_id, sizeof(p->xdg_id), "%s", strlen(xdg) < sizeof(p->xdg_id) ? xdg : "");
        snprintf(p->tty, sizeof(p->tty), "%s", tty);
        snprintf(p->what, sizeof(p->what), "user=%s service=%s tty=%s rhost=%s", user, service,
                 tty, rhost);
        workers_submit(&m->workers, &p->nss.job);
        return METHOD_PENDING;
}

/*
 * Whose session is it? CloseSession is root's, but pam_cgm may take the id from the PAM
 * environment (CGM_SESSION), which some stacks let users set (pam_env with user_readenv):
 * with kill_on_logout, a wrong id would kill another user's session. So a session is closed
 * only by the process that opened it (pid and start time recorded at OpenSession; PAM opens
 * and closes a session in the same process), or by a process inside its leaf (where the
 * opener was put, and where it still is after a daemon restart).
 */
static int close_check_caller(MethodCall *c, const Session *s, const char *api)
{
        Manager *m = c->manager;
        _cleanup_close_ int procdir = -1;
        unsigned long long start;
        char where[4096], rel[CGM_PATH_MAX + 1];
        size_t l = strlen(s->rel);
        pid_t pid;

        procdir = proc_pidfd_procdir(c->peer->pidfd, &pid);
        if (procdir < 0)
                return cgm_error_set(c->error, -ESRCH, CGM_ERR_NO_PROCESS,
                                     "the process that asked to close session `%s` has exited",
                                     s->id);
        if (s->opener_pid && pid == s->opener_pid && proc_start_time(procdir, &start) == 0 &&
            start == s->opener_start)
                return 0;
        if (cg_proc_path(&m->cgfs, c->peer->pidfd, where, sizeof(where)) == 0 &&
            cgfs_rel_from_proc(&m->cgfs, where, rel, sizeof(rel)) == 0 &&
            strncmp(rel, s->rel, l) == 0 && (rel[l] == '\0' || rel[l] == '/'))
                return 0;
        return cgm_error_set(c->error, -EACCES, CGM_ERR_PERMISSION_DENIED,
                             "session `%s` (%s, uid %u) was opened by another process, and pid "
                             "%d is not inside it: only the login that opened a session may "
                             "close it",
                             s->id, api, (unsigned)s->uid, (int)pid);
}

int api_close_session(MethodCall *c)
{
        const char *id;
        char why[160], api[CGM_PATH_MAX + 1100] = "";
        Session *s;
        int r;

        dbus_message_get_args(c->msg, NULL, DBUS_TYPE_STRING, &id, DBUS_TYPE_INVALID);
        if (strlen(id) > CGM_NAME_MAX || cgm_name_check(id, why, sizeof(why)) < 0)
                return cgm_error_set(c->error, -EINVAL, CGM_ERR_INVALID_ARGS,
                                     "`%s` is not a session id",
                                     cgm_quote(id, 64, why, sizeof(why)));
        if (systemd_active(c->manager)) {
                r = systemd_session_close(c->manager, id, c->peer->pidfd, api, sizeof(api),
                                          c->error);
                audit_write_why(c->peer->principal.uid, c->peer->pid, "CloseSession", api, id, r,
                                c->error->name, c->error->msg);
                return r;
        }
        s = session_find(c->manager, id);
        if (s) {
                cgfs_api_path(&c->manager->cgfs, s->rel, api, sizeof(api));
                r = close_check_caller(c, s, api);
                if (r < 0) {
                        audit_write_why(c->peer->principal.uid, c->peer->pid, "CloseSession", api,
                                        id, r, c->error->name, c->error->msg);
                        return r;
                }
        }
        r = session_close(c->manager, id, c->peer->pid, c->error);
        audit_write_why(c->peer->principal.uid, c->peer->pid, "CloseSession", api, id, r,
                        c->error->name, c->error->msg);
        return r;
}

int api_sessions(MethodCall *c)
{
        Manager *m = c->manager;
        DBusMessageIter it, arr;

        c->reply = dbus_message_new_method_return(c->msg);
        if (!c->reply)
                return cgm_error_set(c->error, -ENOMEM, NULL, "out of memory");
        dbus_message_iter_init_append(c->reply, &it);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "(ssusb)", &arr);
        for (Session *s = m->sessions; s; s = s->next) {
                DBusMessageIter st;
                char host[CGM_PATH_MAX + 1100], api[CGM_PATH_MAX + 1100];
                const char *id = s->id, *user = s->user, *ap = api;
                /* An admin in a container reads them in its terms (nsview.c). */
                dbus_uint32_t uid = nsview_uid_out(&c->peer->ns, s->uid);
                dbus_bool_t pop = session_populated(m, s);
                cgfs_api_path(&m->cgfs, s->rel, host, sizeof(host));
                nsview_path_out(&c->peer->ns, host, api, sizeof(api));
                dbus_message_iter_open_container(&arr, DBUS_TYPE_STRUCT, NULL, &st);
                reply_append_string(&st, id);
                reply_append_string(&st, user);
                dbus_message_iter_append_basic(&st, DBUS_TYPE_UINT32, &uid);
                reply_append_string(&st, ap);
                dbus_message_iter_append_basic(&st, DBUS_TYPE_BOOLEAN, &pop);
                dbus_message_iter_close_container(&arr, &st);
        }
        systemd_sessions_append(m, &arr);
        dbus_message_iter_close_container(&it, &arr);
        return 0;
}

int api_users(MethodCall *c)
{
        Manager *m = c->manager;
        DBusMessageIter it, arr;

        home_registry_prune(&m->homes, &m->cgfs); /* homes root removed behind our back */
        c->reply = dbus_message_new_method_return(c->msg);
        if (!c->reply)
                return cgm_error_set(c->error, -ENOMEM, NULL, "out of memory");
        dbus_message_iter_init_append(c->reply, &it);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "(ussub)", &arr);
        for (size_t i = 0; i < m->homes.n; i++) {
                const Home *h = &m->homes.homes[i];
                DBusMessageIter st;
                char host[CGM_PATH_MAX + 1100], api[CGM_PATH_MAX + 1100], name[256];
                const char *ap = api, *np = name;
                dbus_uint32_t uid = nsview_uid_out(&c->peer->ns, h->uid);
                dbus_uint32_t n = sessions_of_uid(m, h->uid);
                dbus_bool_t lingers;
                cgfs_api_path(&m->cgfs, h->path, host, sizeof(host));
                nsview_path_out(&c->peer->ns, host, api, sizeof(api));
                home_user_name(m, h->path, name, sizeof(name));
                lingers = *name && policy_list_has(&m->policy->linger, name);
                dbus_message_iter_open_container(&arr, DBUS_TYPE_STRUCT, NULL, &st);
                dbus_message_iter_append_basic(&st, DBUS_TYPE_UINT32, &uid);
                reply_append_string(&st, np);
                reply_append_string(&st, ap);
                dbus_message_iter_append_basic(&st, DBUS_TYPE_UINT32, &n);
                dbus_message_iter_append_basic(&st, DBUS_TYPE_BOOLEAN, &lingers);
                dbus_message_iter_close_container(&arr, &st);
        }
        systemd_users_append(m, &arr);
        dbus_message_iter_close_container(&it, &arr);
        return 0;
}

int api_explain_policy(MethodCall *c)
{
        const char *user;
        Pending *p;
        int r;

        dbus_message_get_args(c->msg, NULL, DBUS_TYPE_STRING, &user, DBUS_TYPE_INVALID);
        r = check_user_name(c, user);
        if (r < 0)
                return r;
        r = pending_start(c, PENDING_EXPLAIN, user, 0, &p);
        if (r < 0)
                return r;
        workers_submit(&c->manager->workers, &p->nss.job);
        return METHOD_PENDING;
}

int manager_reload(Manager *m, CgmError *e)
{
        Policy *fresh = NULL;
        int r = policy_load(&fresh, m->config_path, e);

        if (r < 0) {
                log_error("reload refused, the old policy stays in force: %s", e->msg);
                return r;
        }
        policy_free(m->policy);
        m->policy = fresh;
        manager_apply_options(m, false);
        if (fresh->admin_group.value[0]) {
                Pending *p;
                MethodCall none = { .manager = m };
                /* Resolved on a worker: a directory that hangs must not stall the loop. */
                if (pending_start(&none, PENDING_ADMIN_GROUP, fresh->admin_group.value, 0, &p) == 0)
                        workers_submit(&m->workers, &p->nss.job);
        }
        log_info("policy reloaded from %zu file%s", fresh->n_files, fresh->n_files == 1 ? "" : "s");
        /* Apply the new limits to every user who has a session, with its current groups. */
        for (size_t i = 0; i < m->homes.n; i++) {
                Pending *p;
                MethodCall none = { .manager = m };
                if (!sessions_of_uid(m, m->homes.homes[i].uid))
                        continue;
                if (pending_start(&none, PENDING_REAPPLY, "", m->homes.homes[i].uid, &p) < 0)
                        continue;
                workers_submit(&m->workers, &p->nss.job);
        }
        systemd_reload(m); /* systemd mode: the users with logind sessions */
        return 0;
}

int api_reload(MethodCall *c)
{
        int r = manager_reload(c->manager, c->error);

        audit_write(c->peer->principal.uid, c->peer->pid, "Reload", "", "", r);
        /* A file that does not parse is an invalid value whatever errno the parser used. */
        if (r == -EINVAL || r == -E2BIG || r == -EFBIG)
                c->error->name = CGM_ERR_INVALID_VALUE;
        return r;
}
