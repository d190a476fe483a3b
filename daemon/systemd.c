/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd mode: logind places the logins, cgm puts the policy on user-UID.slice
 *
 * On a host whose PID 1 is systemd, pam_systemd has already put a login into logind's
 * session-N.scope below user.slice/user-UID.slice by the time pam_cgm runs, and systemd
 * owns that tree: it writes its cgroups' files from its unit properties and expects to be
 * the only one who does (docs/CGROUP_DELEGATION.md, the "single writer" rule). Moving the
 * login out of its scope into cgm's tree, as cgm mode does, takes it away from logind's
 * bookkeeping (docs/design.md, "systemd hosts", has what that does). So in systemd mode cgm
 * changes nothing in cgroupfs for a login. It records the session, resolves the user's
 * policy exactly as in cgm mode (by user and by NSS group, common/policy.c, on an NSS
 * worker) and asks systemd to carry it, on the user's slice, through systemd's own API:
 * org.freedesktop.systemd1.Manager.SetUnitProperties("user-UID.slice", runtime, props).
 * What systemd lacks, and what cgm adds, is the policy by group (systemd issue 12989). Keys
 * without a systemd property (systemd-props.c) are logged and audited as not applicable.
 *
 * The mode is chosen at start-up from the policy's session_manager: systemd, cgm, or auto
 * (systemd when /run/systemd/system exists, which is sd_booted()'s test). It holds until
 * the daemon stops: sessions of one mode are not carried into the other.
 *
 * The system bus is never touched on the loop. Applies run on the NSS workers, one at a
 * time, each bounded by SYSTEMD_CALL_TIMEOUT_MS (connect, authentication, GetUnit, GetAll,
 * SetUnitProperties); one at a time, so that a hung bus holds one worker and never all of
 * them (NSS needs them for logins). A connection to the bus is kept between applies and
 * owned by the apply in flight. An OpenSession reply waits for its apply for at most
 * SYSTEMD_REPLY_WAIT_MS: a healthy systemd answers in milliseconds, and the login then
 * starts with its limits; one that does not answer costs the login that wait, after which
 * it proceeds, the failure is logged, and the apply completes when systemd answers.
 *
 * Runtime properties live in /run/systemd/system.control/ until reboot, and D-Bus has no
 * way to unset one. So cgm keeps, for each user, an undo record: every property it set and
 * the value it had before (read with Properties.GetAll before the first write; for the
 * device and cpuset properties the unset value). When the policy stops setting a property
 * for a user, the next apply (login, reload) writes the recorded value back and forgets
 * it. Limits stay on the slice after logout, so that processes left behind stay bounded.
 *
 * Sessions are kept in memory and checked against cgroupfs: a session whose cgroup is gone
 * is forgotten at the next sweep.
 *
 * Records. Both survive a restart of cgmd as files in the state directory, SD_STATE_DIR
 * beside the socket (/run/cgm/cgm-systemd: the unit's RuntimeDirectory, which systemd keeps
 * across restarts): undo.UID, one `Name[@device]=value` line per property, and session.ID,
 * one line `UID PID START CGROUP` for each session pam_cgm opened. Not cgroupfs, as in cgm
 * mode: the base lies in cgmd.service's cgroup, which systemd removes, with everything in it,
 * when cgmd stops. /run is emptied at boot (FHS), and so are the runtime properties. After a
 * restart the sessions are read back, those whose cgroup is no longer populated dropped,
 * their users looked up (excluded users dropped), and the policy applied once more: the
 * sessions found again are exactly the ones pam_cgm opened, never another logind session.
 * Users without a cgm home get `cgm whoami` answered with user@UID.service, the
 * subtree systemd delegates to the user's manager, and a path request refused with
 * NotSupported: that tree is systemd --user's, and cgm never writes in it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cgroup.h"
#include "cleanup.h"
#include "home.h"
#include "log.h"
#include "name.h"
#include "peer.h"
#include "policy.h"
#include "proc.h"
#include "protocol.h"
#include "reply.h"
#include "systemd-internal.h"
#include "systemd-props.h"
#include "systemd.h"
#include "text.h"

const char *systemd_mode_name(const Manager *m)
{
        return systemd_active(m) ? "systemd" : "cgm";
}

/* ---- cgroupfs, read only, outside the base --------------------------------------------- */

/* Open @path (relative to the root of the primary hierarchy) without leaving it. */
static int root_openat(const Manager *m, const char *path, int flags)
{
        const Hierarchy *h = &m->cgfs.h[m->cgfs.primary];
        struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
                                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                                           RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
        _cleanup_close_ int root = open(h->mount_point, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int fd;

        while (*path == '/')
                path++;
        /* "/.." appears in /proc/PID/cgroup for cgroups outside cgmd's cgroup namespace. */
        if (strcmp(path, "..") == 0 || strncmp(path, "../", 3) == 0 || strstr(path, "/../") ||
            (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0))
                return -EXDEV;
        if (root < 0)
                return -errno;
        fd = (int)syscall(SYS_openat2, root, *path ? path : ".", &how, sizeof(how));
        if (fd < 0 && errno == ENOSYS)
                /* No openat2: a kernel before 5.6, or systemd's RestrictSUIDSGID=, whose
                 * seccomp filter answers openat2 with ENOSYS. cgroupfs has no symlinks, the
                 * kernel refuses "." and ".." as cgroup names, and ".." was refused above, so
                 * the path stays below @root. */
                fd = openat(root, *path ? path : ".", flags | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                log_debug("cannot open `%s` below `%s`: %m", path, h->mount_point);
        return fd < 0 ? -errno : fd;
}

static int root_read(const Manager *m, const char *dir, const char *file, char *buf, size_t n)
{
        char path[CGM_PATH_MAX + 128];
        _cleanup_close_ int fd = -1;
        ssize_t l;

        snprintf(path, sizeof(path), "%s/%s", dir, file);
        fd = root_openat(m, path, O_RDONLY);
        if (fd < 0)
                return fd;
        l = read(fd, buf, n - 1);
        if (l < 0)
                return -errno;
        buf[l] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return 0;
}

static bool root_exists(const Manager *m, const char *dir)
{
        _cleanup_close_ int fd = root_openat(m, dir, O_PATH | O_DIRECTORY);
        return fd >= 0;
}

static void slice_of(uid_t uid, char *unit, size_t un, char *cgroup, size_t cn)
{
        if (unit)
                snprintf(unit, un, "user-%u.slice", (unsigned)uid);
        if (cgroup)
                snprintf(cgroup, cn, "/user.slice/user-%u.slice", (unsigned)uid);
}

/* ---- records: files in the state directory ----------------------------------------------- */
/* The undo record of @uid: undo.UID, one property a line. */
static int record_read(Manager *m, uid_t uid, SdProp *rec, size_t *n)
{
        _cleanup_free_ char *buf = malloc(SD_RECORD_MAX + 1);
        char name[64], *save = NULL;
        int r;

        *n = 0;
        if (!buf)
                return -ENOMEM;
        snprintf(name, sizeof(name), "undo.%u", (unsigned)uid);
        r = sd_state_read(m->systemd->state_fd, name, buf, SD_RECORD_MAX + 1);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        for (char *line = strtok_r(buf, "\n", &save); line && *n < SD_APPLY_PROPS_MAX;
             line = strtok_r(NULL, "\n", &save))
                if (sd_prop_parse(line, &rec[*n]) == 0)
                        (*n)++;
                else
                        log_warning("the systemd record of uid %u has a line cgm does not "
                                    "understand; it is dropped",
                                    (unsigned)uid);
        return 0;
}

static int record_write(Manager *m, uid_t uid, const SdProp *rec, size_t n)
{
        _cleanup_free_ char *buf = malloc(SD_RECORD_MAX + 1);
        char name[64];
        size_t l = 0;

        if (!buf)
                return -ENOMEM;
        snprintf(name, sizeof(name), "undo.%u", (unsigned)uid);
        if (n == 0)
                return sd_state_remove(m->systemd->state_fd, name);
        for (size_t i = 0; i < n && l < SD_RECORD_MAX; i++) {
                char line[SD_PROP_TEXT_MAX];
                sd_prop_format(&rec[i], line, sizeof(line));
                l += (size_t)snprintf(buf + l, SD_RECORD_MAX + 1 - l, "%s\n", line);
        }
        if (l > SD_RECORD_MAX)
                return -E2BIG;
        return sd_state_write(m->systemd->state_fd, name, buf, l);
}

static ssize_t slot_find(const SdProp *list, size_t n, const SdProp *p)
{
        for (size_t i = 0; i < n; i++)
                if (sd_prop_same_slot(&list[i], p))
                        return (ssize_t)i;
        return -1;
}

/* ---- applies, on the loop --------------------------------------------------------------- */

static void apply_free(SdApply *a)
{
        if (a->timer.fd >= 0) {
                (void)loop_update(&a->m->loop, &a->timer, 0);
                a->timer.fd = safe_close(a->timer.fd);
        }
        if (a->reply)
                dbus_message_unref(a->reply);
        if (a->reply_conn)
                dbus_connection_unref(a->reply_conn);
        sd_bus_drop(&a->conn);
        for (size_t i = 0; i < a->n_groups; i++)
                free(a->groups[i]);
        free(a->groups);
        free(a);
}

static void apply_send_reply(SdApply *a)
{
        if (a->reply) {
                if (dbus_connection_get_is_connected(a->reply_conn))
                        (void)dbus_connection_send(a->reply_conn, a->reply, NULL);
                dbus_message_unref(a->reply);
                a->reply = NULL;
        }
        if (a->timer.fd >= 0) {
                (void)loop_update(&a->m->loop, &a->timer, 0);
                a->timer.fd = safe_close(a->timer.fd);
        }
}

static int apply_timeout(LoopSource *s, uint32_t events)
{
        SdApply *a = container_of(s, SdApply, timer);

        (void)events;
        log_warning("policy for %s: systemd has not set the limits of %s yet; the login "
                    "proceeds, and they follow when systemd answers",
                    a->user, a->unit);
        apply_send_reply(a);
        return 0;
}

/* Resolve the policy into properties, and the restores of what it no longer sets. */
static void apply_prepare(Manager *m, SdApply *a)
{
        Systemd *sd = m->systemd;
        _cleanup_free_ SdProp *rec = calloc(SD_APPLY_PROPS_MAX, sizeof(*rec));
        const char *groups[NSS_GROUPS_MAX];
        PolicyLimits lim;
        size_t n_rec = 0;
        char slice_api[128];

        a->n_props = 0;
        slice_of(a->uid, a->unit, sizeof(a->unit), slice_api, sizeof(slice_api));
        snprintf(a->address, sizeof(a->address), "%s", sd->address);
        for (size_t i = 0; i < a->n_groups && i < NSS_GROUPS_MAX; i++)
                groups[i] = a->groups[i];
        policy_resolve(m->policy, a->user, groups, a->n_groups < NSS_GROUPS_MAX ? a->n_groups : NSS_GROUPS_MAX,
                       &lim);
        for (size_t i = 0; i < lim.n; i++) {
                const PolicyValue *v = lim.values[i];
                SdProp p[SD_PROPS_PER_KEY_MAX];
                char why[256], what[SD_WHAT_MAX];
                size_t n = 0;
                int r = sd_props_from_key(v->key, v->value, p, &n, why, sizeof(why));
                if (r < 0) {
                        snprintf(what, sizeof(what), "%s=%s (%s): not applicable in systemd "
                                 "mode: %s", v->key, v->value, v->source, why);
                        log_notice("policy for %s: %s", a->user, what);
                        audit_write_why(0, getpid(), "policy", slice_api, what, r,
                                        CGM_ERR_NOT_SUPPORTED, why);
                        continue;
                }
                for (size_t j = 0; j < n && a->n_props < SD_APPLY_PROPS_MAX; j++) {
                        a->props[a->n_props] = p[j];
                        snprintf(a->what[a->n_props], SD_WHAT_MAX, "%s=%s (%s)", v->key, v->value,
                                 v->source);
                        a->n_props++;
                }
        }
        if (rec)
                (void)record_read(m, a->uid, rec, &n_rec);
        for (size_t i = 0; i < a->n_props; i++) {
                ssize_t k = rec ? slot_find(rec, n_rec, &a->props[i]) : -1;
                a->undo[i] = a->props[i];
                a->capture[i] = false;
                a->restore[i] = false;
                if (k >= 0)
                        continue; /* cgm set it before: the recorded undo stays */
                sd_prop_reset(&a->undo[i]);
                a->capture[i] = a->props[i].type == SD_PROP_U64;
        }
        for (size_t k = 0; k < n_rec && a->n_props < SD_APPLY_PROPS_MAX; k++) {
                if (slot_find(a->props, a->n_props, &rec[k]) >= 0)
                        continue;
                a->props[a->n_props] = rec[k];
                a->undo[a->n_props] = rec[k];
                a->capture[a->n_props] = false;
                a->restore[a->n_props] = true;
                snprintf(a->what[a->n_props], SD_WHAT_MAX,
                         "the value before cgm set it (no longer in the policy)");
                a->n_props++;
        }
}

static void apply_kick(Manager *m);

/* The apply is over (done, failed, or nothing to do): record, audit, answer, next. */
static void apply_finish(Manager *m, SdApply *a)
{
        _cleanup_free_ SdProp *rec = calloc(SD_APPLY_PROPS_MAX, sizeof(*rec));
        char slice_api[128];
        size_t n_rec = 0;
        bool changed = false;

        slice_of(a->uid, NULL, 0, slice_api, sizeof(slice_api));
        if (a->n_props && a->result < 0) {
                log_warning("policy for %s: cannot set the limits of %s through systemd: %s",
                            a->user, a->unit, a->error);
                audit_write_why(0, getpid(), "policy", slice_api, a->unit, a->result,
                                CGM_ERR_FAILED, a->error);
        }
        if (a->n_props && a->result == 0 && rec && record_read(m, a->uid, rec, &n_rec) == 0) {
                for (size_t i = 0; i < a->n_props; i++) {
                        char text[SD_PROP_TEXT_MAX], what[SD_PROP_TEXT_MAX + SD_WHAT_MAX + 8];
                        ssize_t k = slot_find(rec, n_rec, &a->props[i]);
                        sd_prop_format(&a->props[i], text, sizeof(text));
                        snprintf(what, sizeof(what), "%s from %s", text, a->what[i]);
                        audit_write_why(0, getpid(), "policy", slice_api, what, a->prop_result[i],
                                        a->prop_result[i] < 0 ? CGM_ERR_FAILED : NULL,
                                        a->prop_result[i] < 0 ? a->error : NULL);
                        if (a->prop_result[i] < 0) {
                                log_warning("policy for %s: systemd did not set %s on %s: %s",
                                            a->user, text, a->unit, a->error);
                                continue;
                        }
                        if (a->restore[i] && k >= 0) {
                                rec[k] = rec[--n_rec];
                                changed = true;
                        } else if (!a->restore[i] && k < 0 && n_rec < SD_APPLY_PROPS_MAX) {
                                rec[n_rec++] = a->undo[i];
                                changed = true;
                        }
                }
                if (changed) {
                        int r = record_write(m, a->uid, rec, n_rec);
                        if (r < 0)
                                log_warning("cannot keep the systemd record of uid %u: %s; a "
                                            "limit the policy drops later stays on %s until "
                                            "reboot",
                                            (unsigned)a->uid, strerror(-r), a->unit);
                }
        }
        apply_send_reply(a);
        apply_free(a);
}

static void apply_done(WorkerJob *job)
{
        SdApply *a = container_of(job, SdApply, job);
        Manager *m = a->m;
        Systemd *sd = m->systemd;

        if (sd && sd->inflight == a) {
                sd->inflight = NULL;
                if (!sd->conn && a->conn && dbus_connection_get_is_connected(a->conn))
                        sd->conn = TAKE_PTR(a->conn);
        }
        if (job->cancelled || m->stopping || !sd) {
                apply_free(a);
                return;
        }
        apply_finish(m, a);
        apply_kick(m);
}

static void apply_kick(Manager *m)
{
        Systemd *sd = m->systemd;

        while (sd && !sd->inflight && sd->queue) {
                SdApply *a = sd->queue;
                sd->queue = a->next;
                a->next = NULL;
                apply_prepare(m, a);
                if (a->n_props == 0) {
                        a->result = 0;
                        apply_finish(m, a);
                        continue;
                }
                a->conn = TAKE_PTR(sd->conn);
                sd->inflight = a;
                workers_submit(&m->workers, &a->job);
        }
}

static int apply_enqueue(Manager *m, uid_t uid, const char *user, char *const *groups,
                         size_t n_groups, const char *session)
{
        Systemd *sd = m->systemd;
        SdApply *a = calloc(1, sizeof(*a)), **q;

        if (!a)
                return -ENOMEM;
        a->job = (WorkerJob){ .run = sd_apply_run, .done = apply_done };
        a->m = m;
        a->uid = uid;
        a->timer = (LoopSource){ .fd = -1, .callback = apply_timeout };
        snprintf(a->user, sizeof(a->user), "%s", user);
        snprintf(a->session, sizeof(a->session), "%s", session ? session : "");
        a->groups = calloc(n_groups + 1, sizeof(char *));
        if (!a->groups) {
                free(a);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n_groups; i++) {
                a->groups[i] = strdup(groups[i]);
                if (!a->groups[i]) {
                        apply_free(a);
                        return -ENOMEM;
                }
                a->n_groups++;
        }
        for (q = &sd->queue; *q; q = &(*q)->next)
                ;
        *q = a;
        apply_kick(m);
        return 0;
}

DBusMessage *systemd_reply_when_applied(Manager *m, const char *id, DBusConnection *conn,
                                        DBusMessage *reply, unsigned caller_timeout_ms)
{
        Systemd *sd = m->systemd;
        unsigned ms = SYSTEMD_REPLY_WAIT_MS;
        struct itimerspec its = { 0 };
        SdApply *a = NULL;

        if (!sd || !reply || !*id)
                return reply;
        if (sd->inflight && strcmp(sd->inflight->session, id) == 0)
                a = sd->inflight;
        for (SdApply *q = sd->queue; !a && q; q = q->next)
                if (strcmp(q->session, id) == 0)
                        a = q;
        if (!a || a->reply)
                return reply;
        /* Leave the caller half of its own time (pam_cgm's timeout=) for the rest. */
        if (caller_timeout_ms && caller_timeout_ms / 2 < ms)
                ms = caller_timeout_ms / 2;
        its.it_value.tv_sec = ms / 1000;
        its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L + 1;
        a->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (a->timer.fd < 0 || loop_update(&m->loop, &a->timer, EPOLLIN) < 0 ||
            timerfd_settime(a->timer.fd, 0, &its, NULL) < 0) {
                a->timer.fd = safe_close(a->timer.fd);
                return reply; /* no timer: do not wait at all */
        }
        a->reply = reply;
        a->reply_conn = dbus_connection_ref(conn);
        return NULL;
}

/* ---- sessions --------------------------------------------------------------------------- */

static SdSession *sd_session_find(Systemd *sd, const char *id)
{
        for (SdSession *s = sd->sessions; s; s = s->next)
                if (strcmp(s->id, id) == 0)
                        return s;
        return NULL;
}

static void sd_session_drop(Systemd *sd, SdSession *s)
{
        for (SdSession **p = &sd->sessions; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        break;
                }
        free(s);
}

static SdSession *sd_session_add(Systemd *sd, const char *id, uid_t uid, const char *user,
                                 const char *cgroup)
{
        SdSession *s = calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        snprintf(s->id, sizeof(s->id), "%s", id);
        snprintf(s->user, sizeof(s->user), "%s", user);
        snprintf(s->cgroup, sizeof(s->cgroup), "%s", cgroup);
        s->uid = uid;
        s->next = sd->sessions;
        sd->sessions = s;
        return s;
}

/* The session record: session.ID, `UID PID START CGROUP`. */
static void session_record_write(Systemd *sd, const SdSession *s)
{
        char name[CGM_NAME_MAX + 16], buf[SD_SESSION_RECORD_MAX];
        int l, r;

        if (sd->state_fd < 0)
                return;
        snprintf(name, sizeof(name), "session.%s", s->id);
        l = snprintf(buf, sizeof(buf), "%u %d %llu %s\n", (unsigned)s->uid, (int)s->opener_pid,
                     s->opener_start, s->cgroup);
        r = l > 0 && (size_t)l < sizeof(buf) ? sd_state_write(sd->state_fd, name, buf, (size_t)l) : -E2BIG;
        if (r < 0)
                log_warning("cannot record session `%s` in %s: %s; a restarted cgmd will not "
                            "know it",
                            s->id, SD_STATE_DIR, strerror(-r));
}

/* Forget session @s, also in the records (the session has ended, or is not cgm's). */
static void sd_session_forget(Systemd *sd, SdSession *s)
{
        char name[CGM_NAME_MAX + 16];

        snprintf(name, sizeof(name), "session.%s", s->id);
        (void)sd_state_remove(sd->state_fd, name);
        sd_session_drop(sd, s);
}

/* The N of ".../session-N.scope", when that is a valid name; else "". */
static void scope_id(const char *cgroup, char *id, size_t n)
{
        const char *base = strrchr(cgroup, '/');
        size_t l;

        id[0] = '\0';
        base = base ? base + 1 : cgroup;
        l = strlen(base);
        if (strncmp(base, "session-", 8) != 0 || l <= 8 + 6 || strcmp(base + l - 6, ".scope") != 0 ||
            l - 14 >= n)
                return;
        memcpy(id, base + 8, l - 14);
        id[l - 14] = '\0';
        if (cgm_name_check(id, NULL, 0) < 0)
                id[0] = '\0';
}

int systemd_session_open(Manager *m, const NssLookup *who, const char *xdg_id, int pidfd,
                         char *idp, size_t id_size, char *pathp, size_t path_size, CgmError *e)
{
        Systemd *sd = m->systemd;
        char cgroup[CGM_PATH_MAX + 1], id[CGM_NAME_MAX + 1] = "", want[160], from_scope[80];
        SdSession *s, *old;
        pid_t pid;
        int r;

        r = cg_proc_path(&m->cgfs, pidfd, cgroup, sizeof(cgroup));
        if (r < 0)
                return cgm_error_set(e, -ESRCH, CGM_ERR_NO_PROCESS,
                                     "the login process has exited before its session was "
                                     "recorded");
        snprintf(want, sizeof(want), "/user.slice/user-%u.slice/session-", (unsigned)who->uid);
        scope_id(cgroup, from_scope, sizeof(from_scope));
        if (strncmp(cgroup, want, strlen(want)) != 0 || !*from_scope)
                log_warning("the login of %s is in `%s`, not in a logind session scope of "
                            "user-%u.slice: is pam_systemd in the PAM stack before pam_cgm? "
                            "cgm leaves it there and applies the policy to user-%u.slice",
                            who->user, cgroup, (unsigned)who->uid, (unsigned)who->uid);
        /* logind's id (XDG_SESSION_ID, or the scope's name) names the session in both
         * tools; an id logind hands out again means a session whose close cgm missed. */
        if (xdg_id && *xdg_id && strlen(xdg_id) <= 48 && cgm_name_check(xdg_id, NULL, 0) == 0)
                snprintf(id, sizeof(id), "%s", xdg_id);
        else if (*from_scope && strlen(from_scope) < sizeof(id))
                snprintf(id, sizeof(id), "%s", from_scope);
        else
                do
                        snprintf(id, sizeof(id), "c%llu",
                                 (unsigned long long)m->next_session_serial++);
                while (sd_session_find(sd, id));
        old = sd_session_find(sd, id);
        if (old) {
                log_info("session `%s` of uid %u is opened again; the earlier one (`%s`) was "
                         "never closed",
                         id, (unsigned)old->uid, old->cgroup);
                sd_session_forget(sd, old);
        }
        s = sd_session_add(sd, id, who->uid, who->user, cgroup);
        if (!s)
                return cgm_error_set(e, -ENOMEM, NULL, "out of memory");
        {
                _cleanup_close_ int procdir = proc_pidfd_procdir(pidfd, &pid);
                if (procdir >= 0 && proc_start_time(procdir, &s->opener_start) == 0)
                        s->opener_pid = pid;
        }
        session_record_write(sd, s);
        r = apply_enqueue(m, who->uid, who->user, who->groups, who->n_groups, id);
        if (r < 0)
                log_warning("policy for %s: cannot queue the apply to user-%u.slice: %s",
                            who->user, (unsigned)who->uid, strerror(-r));
        snprintf(idp, id_size, "%s", id);
        snprintf(pathp, path_size, "%s", cgroup);
        return 0;
}

int systemd_session_close(Manager *m, const char *id, int caller_pidfd, char *api,
                          size_t api_size, CgmError *e)
{
        Systemd *sd = m->systemd;
        SdSession *s = sd_session_find(sd, id);
        _cleanup_close_ int procdir = -1;
        unsigned long long start;
        char where[CGM_PATH_MAX + 1];
        size_t l;
        pid_t pid;

        if (!s)
                return cgm_error_set(e, -ENOENT, CGM_ERR_NOT_FOUND,
                                     "no session `%s` (it may have ended and been forgotten "
                                     "already)",
                                     id);
        snprintf(api, api_size, "%s", s->cgroup);
        procdir = proc_pidfd_procdir(caller_pidfd, &pid);
        if (procdir < 0)
                return cgm_error_set(e, -ESRCH, CGM_ERR_NO_PROCESS,
                                     "the process that asked to close session `%s` has exited",
                                     id);
        l = strlen(s->cgroup);
        if (!(s->opener_pid && pid == s->opener_pid && proc_start_time(procdir, &start) == 0 &&
              start == s->opener_start) &&
            !(cg_proc_path(&m->cgfs, caller_pidfd, where, sizeof(where)) == 0 &&
              strncmp(where, s->cgroup, l) == 0 && (where[l] == '\0' || where[l] == '/')))
                return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                     "session `%s` (%s, uid %u) was opened by another process, "
                                     "and pid %d is not inside it: only the login that opened a "
                                     "session may close it",
                                     id, s->cgroup, (unsigned)s->uid, (int)pid);
        sd_session_forget(sd, s);
        return 0;
}

static bool cgroup_populated(Manager *m, const char *cgroup)
{
        char buf[256];

        if (m->cgfs.primary != m->cgfs.v2)
                return root_exists(m, cgroup);
        return root_read(m, cgroup, "cgroup.events", buf, sizeof(buf)) == 0 &&
               strstr(buf, "populated 1") != NULL;
}

void systemd_sessions_append(Manager *m, DBusMessageIter *arr)
{
        if (!m->systemd)
                return;
        for (SdSession *s = m->systemd->sessions; s; s = s->next) {
                DBusMessageIter st;
                dbus_uint32_t uid = s->uid;
                dbus_bool_t pop = cgroup_populated(m, s->cgroup);
                dbus_message_iter_open_container(arr, DBUS_TYPE_STRUCT, NULL, &st);
                reply_append_string(&st, s->id);
                reply_append_string(&st, s->user);
                dbus_message_iter_append_basic(&st, DBUS_TYPE_UINT32, &uid);
                reply_append_string(&st, s->cgroup);
                dbus_message_iter_append_basic(&st, DBUS_TYPE_BOOLEAN, &pop);
                dbus_message_iter_close_container(arr, &st);
        }
}

static bool uid_seen_before(const SdSession *first, const SdSession *s)
{
        for (; first != s; first = first->next)
                if (first->uid == s->uid)
                        return true;
        return false;
}

static void user_home(uid_t uid, char *out, size_t n)
{
        snprintf(out, n, "/user.slice/user-%u.slice/user@%u.service", (unsigned)uid,
                 (unsigned)uid);
}

void systemd_users_append(Manager *m, DBusMessageIter *arr)
{
        if (!m->systemd)
                return;
        for (SdSession *s = m->systemd->sessions; s; s = s->next) {
                DBusMessageIter st;
                char home[128];
                dbus_uint32_t uid = s->uid, n = 0;
                dbus_bool_t lingers = false;
                if (uid_seen_before(m->systemd->sessions, s) || home_lookup(&m->homes, s->uid))
                        continue;
                for (SdSession *t = s; t; t = t->next)
                        n += t->uid == s->uid;
                user_home(s->uid, home, sizeof(home));
                dbus_message_iter_open_container(arr, DBUS_TYPE_STRUCT, NULL, &st);
                dbus_message_iter_append_basic(&st, DBUS_TYPE_UINT32, &uid);
                reply_append_string(&st, s->user);
                reply_append_string(&st, home);
                dbus_message_iter_append_basic(&st, DBUS_TYPE_UINT32, &n);
                dbus_message_iter_append_basic(&st, DBUS_TYPE_BOOLEAN, &lingers);
                dbus_message_iter_close_container(arr, &st);
        }
}

/* ---- NSS lookups by uid: after a reload, and for sessions found at start-up -------------
 *
 * One at a time, as the applies: a reload with many users logged in, or an NSS server that
 * hangs, then holds one worker and leaves the others to logins. It also keeps these lookups
 * from running getgrouplist() in two threads at once, which is not safe with an NSS module
 * that lacks initgroups_dyn: glibc then walks the module's group database with
 * setgrent/getgrent_r/endgrent, one stream for the whole process (libnss-extrausers is such
 * a module; valgrind saw the use after free). */

static void lookup_kick(Manager *m);

static void lookup_done(WorkerJob *job)
{
        SdLookup *l = container_of(job, SdLookup, nss.job);
        Manager *m = l->m;
        Systemd *sd = m->systemd;
        bool next = sd && !job->cancelled && !m->stopping;

        if (!next)
                goto out;
        if (l->nss.result < 0) {
                log_warning("cannot look up uid %u in NSS to apply its policy: %s",
                            (unsigned)l->nss.want_uid, strerror(-l->nss.result));
                goto out;
        }
        for (SdSession *s = sd->sessions, *after; s; s = after) {
                after = s->next;
                if (s->uid != l->nss.uid)
                        continue;
                if (!*s->user)
                        snprintf(s->user, sizeof(s->user), "%s", l->nss.user);
                if (l->nss.uid == 0 || policy_list_has(&m->policy->exclude, l->nss.user))
                        sd_session_forget(sd, s);
        }
        if (l->nss.uid != 0 && !policy_list_has(&m->policy->exclude, l->nss.user))
                (void)apply_enqueue(m, l->nss.uid, l->nss.user, l->nss.groups, l->nss.n_groups,
                                    NULL);
out:
        nss_lookup_clear(&l->nss);
        free(l);
        if (sd)
                sd->lookup_inflight = false;
        if (next)
                lookup_kick(m);
}

static void lookup_kick(Manager *m)
{
        Systemd *sd = m->systemd;

        while (!sd->lookup_inflight && sd->n_lookups) {
                SdLookup *l = calloc(1, sizeof(*l));
                uid_t uid = sd->lookups[0];
                memmove(sd->lookups, sd->lookups + 1, --sd->n_lookups * sizeof(uid_t));
                if (!l) {
                        log_warning("out of memory: uid %u is not looked up, and its policy "
                                    "not applied",
                                    (unsigned)uid);
                        continue;
                }
                l->m = m;
                l->nss.job = (WorkerJob){ .run = nss_lookup_run, .done = lookup_done };
                l->nss.want_uid = uid;
                sd->lookup_inflight = true;
                workers_submit(&m->workers, &l->nss.job);
        }
}

static void lookup_every_user(Manager *m)
{
        Systemd *sd = m->systemd;

        for (SdSession *s = sd->sessions; s; s = s->next) {
                bool queued = false;
                uid_t *more;
                if (uid_seen_before(sd->sessions, s))
                        continue;
                for (size_t i = 0; i < sd->n_lookups && !queued; i++)
                        queued = sd->lookups[i] == s->uid;
                if (queued)
                        continue;
                more = realloc(sd->lookups, (sd->n_lookups + 1) * sizeof(uid_t));
                if (!more) {
                        log_warning("out of memory: uid %u is not looked up, and its policy "
                                    "not applied",
                                    (unsigned)s->uid);
                        continue;
                }
                sd->lookups = more;
                sd->lookups[sd->n_lookups++] = s->uid;
        }
        lookup_kick(m);
}

void systemd_reload(Manager *m)
{
        if (m->systemd)
                lookup_every_user(m);
}

/* ---- the sweep, and sessions found again at start-up -------------------------------------- */

/* The sessions of the records (a restart): those whose cgroup still holds a process. */
static void rescan(Manager *m)
{
        Systemd *sd = m->systemd;
        _cleanup_close_ int fd = -1;
        DIR *dir;
        struct dirent *d;
        unsigned n = 0, gone = 0;

        if (sd->state_fd < 0)
                return;
        fd = openat(sd->state_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        dir = fd >= 0 ? fdopendir(TAKE_FD(fd)) : NULL;
        if (!dir)
                return;
        while ((d = readdir(dir))) {
                char buf[SD_SESSION_RECORD_MAX], cgroup[CGM_PATH_MAX + 1];
                const char *id = d->d_name + 8;
                unsigned uid;
                int pid, used = 0;
                unsigned long long start;
                SdSession *s;
                if (d->d_name[0] == '.' && strlen(d->d_name) > 4 &&
                    strcmp(d->d_name + strlen(d->d_name) - 4, ".new") == 0) {
                        (void)sd_state_remove(sd->state_fd, d->d_name); /* a write cut short */
                        continue;
                }
                if (strncmp(d->d_name, "session.", 8) != 0)
                        continue;
                if (strlen(id) > CGM_NAME_MAX || cgm_name_check(id, NULL, 0) < 0 ||
                    sd_state_read(sd->state_fd, d->d_name, buf, sizeof(buf)) < 0 ||
                    sscanf(buf, "%u %d %llu %n", &uid, &pid, &start, &used) != 3 || !used ||
                    buf[used] != '/' || strlen(buf + used) > CGM_PATH_MAX) {
                        log_warning("the session record %s/%s is not one cgm wrote; it is "
                                    "dropped",
                                    SD_STATE_DIR, d->d_name);
                        (void)sd_state_remove(sd->state_fd, d->d_name);
                        continue;
                }
                snprintf(cgroup, sizeof(cgroup), "%s", buf + used);
                cgroup[strcspn(cgroup, "\n")] = '\0';
                if (sd_session_find(sd, id))
                        continue;
                if (!cgroup_populated(m, cgroup)) {
                        (void)sd_state_remove(sd->state_fd, d->d_name); /* ended while cgmd was away */
                        gone++;
                        continue;
                }
                s = sd_session_add(sd, id, (uid_t)uid, "", cgroup);
                if (!s)
                        continue;
                s->opener_pid = (pid_t)pid;
                s->opener_start = start;
                n++;
        }
        closedir(dir);
        if (n || gone)
                log_info("systemd mode: %u session%s found again in %s; their users' policy is "
                         "applied again (%u ended while cgmd was not running)",
                         n, n == 1 ? "" : "s", SD_STATE_DIR, gone);
}

static int sd_sweep(LoopSource *src, uint32_t events)
{
        Systemd *sd = container_of(src, Systemd, sweep);
        Manager *m = sd->manager;
        uint64_t n;

        (void)events;
        (void)!read(src->fd, &n, sizeof(n));
        if (!sd->rescanned) {
                /* The first round runs once the workers are up (they start after the fork). */
                sd->rescanned = true;
                lookup_every_user(m);
        }
        for (SdSession *s = sd->sessions, *next; s; s = next) {
                next = s->next;
                if (root_exists(m, s->cgroup))
                        continue;
                log_info("session `%s` of uid %u ended without CloseSession (`%s` is gone)",
                         s->id, (unsigned)s->uid, s->cgroup);
                audit_write(0, getpid(), "cleanup", s->cgroup, s->id, 0);
                sd_session_forget(sd, s);
        }
        return 0;
}

/* ---- the mode -------------------------------------------------------------------------- */

int systemd_init(Manager *m, CgmError *e)
{
        const PolicyOption *o = &m->policy->session_manager;
        struct stat st;
        bool booted = stat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
        struct itimerspec its = { .it_value = { 0, 1 },
                                  .it_interval = { SYSTEMD_SWEEP_MS / 1000,
                                                   (long)(SYSTEMD_SWEEP_MS % 1000) * 1000000L } };
        const char *address = getenv("DBUS_SYSTEM_BUS_ADDRESS");
        Systemd *sd;

        if (strcmp(o->value, "cgm") == 0 || (strcmp(o->value, "auto") == 0 && !booted)) {
                log_info("session manager: cgm (session_manager = %s from %s%s)", o->value,
                         o->source, booted ? "" : "; systemd is not PID 1");
                return 0;
        }
        if (!booted)
                log_warning("session_manager = systemd (%s), but /run/systemd/system does not "
                            "exist: systemd does not seem to be PID 1",
                            o->source);
        if (m->cgfs.v2 < 0)
                log_warning("systemd mode on a host without cgroup2: cgm sets systemd's "
                            "properties, but reads no limits back for whoami");
        sd = calloc(1, sizeof(*sd));
        if (!sd)
                return cgm_error_set(e, -ENOMEM, NULL, "out of memory");
        m->systemd = sd;
        sd->manager = m;
        sd->state_fd = sd_state_open(m->socket_path);
        if (sd->state_fd < 0) {
                log_warning("cannot keep systemd mode's records in `%s` beside the socket: %s; "
                            "a restarted cgmd will not find the sessions again, nor put back "
                            "what systemd had before cgm set it",
                            SD_STATE_DIR, strerror(-sd->state_fd));
                sd->state_fd = -1;
        }
        snprintf(sd->address, sizeof(sd->address), "%s",
                 address && *address ? address : SD_BUS_DEFAULT);
        /* libdbus serves the connections on the loop and talks to the bus in a worker. */
        (void)dbus_threads_init_default();
        sd->sweep = (LoopSource){ .fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
                                  .callback = sd_sweep };
        if (sd->sweep.fd < 0 || loop_update(&m->loop, &sd->sweep, EPOLLIN) < 0 ||
            timerfd_settime(sd->sweep.fd, 0, &its, NULL) < 0)
                return cgm_error_set(e, -errno, NULL, "cannot set up a timer: %m");
        rescan(m);
        if (policy_bool(&m->policy->kill_on_logout))
                log_warning("kill_on_logout (%s) does nothing in systemd mode: logind ends "
                            "sessions (KillUserProcesses= in logind.conf)",
                            m->policy->kill_on_logout.source);
        if (m->policy->linger.value[0])
                log_notice("linger (%s) does nothing in systemd mode: `loginctl enable-linger` "
                           "is logind's",
                           m->policy->linger.source);
        log_info("session manager: systemd (session_manager = %s from %s): logins stay in "
                 "logind's scopes, the policy goes to user-UID.slice through %s",
                 o->value, o->source, sd->address);
        return 0;
}

void systemd_deinit(Manager *m)
{
        Systemd *sd = m->systemd;

        if (!sd)
                return;
        m->systemd = NULL;
        while (sd->queue) {
                SdApply *a = sd->queue;
                sd->queue = a->next;
                apply_free(a);
        }
        /* An apply still in a thread (a hung bus) is left to it; the process is exiting. */
        sd->inflight = NULL;
        while (sd->sessions)
                sd_session_drop(sd, sd->sessions);
        sd_bus_drop(&sd->conn);
        free(sd->lookups);
        sd->state_fd = safe_close(sd->state_fd);
        if (sd->sweep.fd >= 0) {
                (void)loop_update(&m->loop, &sd->sweep, 0);
                close(sd->sweep.fd);
        }
        free(sd);
}

/* ---- WhoAmI and refusals ----------------------------------------------------------------- */

static const char *const slice_keys[] = { "memory.max", "memory.high", "memory.swap.max",
                                          "cpu.max",    "cpu.weight",  "pids.max",
                                          "io.weight" };

int systemd_whoami(MethodCall *c)
{
        Manager *m = c->manager;
        uid_t uid = c->peer->principal.uid;
        char home[128] = "", slice[128], current[CGM_PATH_MAX + 1];
        const char *hp = home, *cp = current;
        dbus_uint32_t u = uid;
        DBusMessageIter it, arr;

        if (cg_proc_path(&m->cgfs, c->peer->pidfd, current, sizeof(current)) < 0)
                return cgm_error_set(c->error, -ESRCH, CGM_ERR_NO_PROCESS,
                                     "the process that opened this connection (pid %d) has "
                                     "exited; connect again from a live process",
                                     (int)c->peer->pid);
        /* Only what is there: without a running user manager there is no subtree to name. */
        user_home(uid, home, sizeof(home));
        if (!root_exists(m, home))
                home[0] = '\0';
        slice_of(uid, NULL, 0, slice, sizeof(slice));
        c->reply = dbus_message_new_method_return(c->msg);
        if (!c->reply)
                return cgm_error_set(c->error, -ENOMEM, NULL, "out of memory");
        dbus_message_iter_init_append(c->reply, &it);
        dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT32, &u);
        reply_append_string(&it, hp);
        reply_append_string(&it, cp);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{ss}", &arr);
        for (size_t i = 0; *home && m->cgfs.v2 == m->cgfs.primary && i < ELEMENTSOF(slice_keys);
             i++) {
                char value[CGM_VALUE_MAX];
                const char *v = value, *k = slice_keys[i];
                if (root_read(m, slice, k, value, sizeof(value)) < 0)
                        continue;
                if (strncmp(value, "default ", 8) == 0) /* io.weight */
                        v = value + 8;
                reply_append_pair(&arr, k, v);
        }
        dbus_message_iter_close_container(&it, &arr);
        return 0;
}

int systemd_refuse(MethodCall *c, const char *path)
{
        char home[128], q[80];

        user_home(c->peer->principal.uid, home, sizeof(home));
        return cgm_error_set(c->error, -EOPNOTSUPP, CGM_ERR_NOT_SUPPORTED,
                             "cgmd runs in systemd mode and has no cgroup of its own for uid "
                             "%u (`%s`): your subtree is %s, which systemd --user manages, and "
                             "cgm does not write there; use `systemd-run --user --scope -p "
                             "MemoryMax=1G -- CMD` (or -p CPUQuota=, -p TasksMax=)",
                             (unsigned)c->peer->principal.uid, cgm_quote(path, 48, q, sizeof(q)),
                             home);
}
