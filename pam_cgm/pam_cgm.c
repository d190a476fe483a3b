/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_cgm: put every login session into a cgroup of its own, through cgmd */

/*
 * The module is a thin client. open_session makes one connection to cgmd and one OpenSession
 * call; the daemon resolves the user's policy, creates the home if needed, creates the session
 * leaf and moves the process that opened the connection (this PAM process) into it, so the
 * move is race-free and whatever the application forks afterwards starts in the leaf.
 * close_session makes one connection and one CloseSession call. Everything else (limits,
 * delegation, removal of empty leaves, kill on logout) is the daemon's business.
 *
 * The session id travels two ways: pam_set_data() keeps it on the handle for a close on the
 * same handle, and CGM_SESSION in the PAM environment tells the session (and an application
 * that closes on a different handle) which one it is. An empty id from the daemon means the
 * policy excludes this user: the login proceeds and nothing is recorded.
 *
 * What the daemon cannot do is decided by fail=: with fail=open (the default) a missing, hung
 * or refusing daemon costs the login at most the timeout and a LOG_WARNING that says why; with
 * fail=closed the session is refused, except for uid 0: root is never locked out by this
 * module, so that an administrator can always log in to repair a broken cgmd.
 *
 * Nothing here waits longer than timeout=: each hook has one deadline, which connecting,
 * authenticating and the call share (connect_daemon()), and the connect itself is bounded even
 * when the daemon's listen queue is full (client/wire.c). The module asks NSS nothing: a lookup of the
 * user is what hangs when a directory (LDAP, SSSD) does, and a lookup cannot be abandoned
 * safely inside someone else's process (a thread left in NSS holds its locks into the next
 * fork of the application). The daemon resolves the user itself, on workers with a deadline,
 * and says when NSS does not know it (PAM_USER_UNKNOWN). The one fact needed here, whether the
 * user is root, comes from /etc/passwd alone (user_is_root()).
 *
 * The module runs inside someone else's process (login, sshd's monitor, su, a display manager,
 * possibly multi-threaded), so it leaves no trace there: no global state (each call has its own
 * options and its own connection handle), no output but pam_syslog() and, for fail=closed,
 * the conversation; no exit or abort; no change to signal dispositions; no fd that outlives
 * the call. It is loaded into every login process, so it links libc and libpam only: the two
 * calls it makes go through a minimal D-Bus client of its own (client/wire.c, which says why),
 * not libcgm and libdbus, whose dependencies cost each login more than the module's work.
 * Symbols are hidden and only the two session hooks are exported (pam_cgm.map). With no
 * library state left to lose, the module is unloaded by pam_end() like any other.
 */

#define PAM_SM_SESSION

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "cleanup.h"
#include "protocol.h"
#include "utf8.h"
#include "wire.h"

/* Built with -fvisibility=hidden; only the hooks are public (and pam_cgm.map says so too). */
#define PAM_CGM_EXPORT __attribute__((visibility("default")))

#define DATA_SESSION "pam_cgm_session"
#define ENV_SESSION "CGM_SESSION"

/*
 * Default timeout of a hook, in milliseconds. A healthy cgmd answers OpenSession in well under
 * a millisecond; what takes time is the NSS lookup of the user's groups, which the daemon
 * bounds at CGM_NSS_TIMEOUT_MS_DEFAULT (10 s) and which a working LDAP or SSSD setup answers in
 * tens of milliseconds. Five seconds is a hundred times that, yet short enough that a hung
 * daemon with fail=open delays a login by a pause a user notices and forgives, well below the
 * login timeouts of sshd (LoginGraceTime, 120 s) and login(1) (60 s).
 */
#define TIMEOUT_DEFAULT_MS 5000
/* Longest accepted timeout: ten minutes is beyond any sensible login delay. */
#define TIMEOUT_MAX_MS 600000

#define SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)NULL)->sun_path))

struct options {
        const char *socket; /* points into argv */
        int timeout_ms;
        bool fail_closed;
        bool debug;
};

/* @arg without @prefix when it starts with it, else NULL. */
static const char *skip_prefix(const char *arg, const char *prefix)
{
        size_t n = strlen(prefix);

        return strncmp(arg, prefix, n) == 0 ? arg + n : NULL;
}

/* "123" -> 123; anything but 1-TIMEOUT_MAX_MS decimal digits is refused. */
static bool parse_timeout(const char *s, int *msp)
{
        long v = 0;

        if (!*s)
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return false;
                v = v * 10 + (*s - '0');
                if (v > TIMEOUT_MAX_MS)
                        return false;
        }
        if (v == 0)
                return false;
        *msp = (int)v;
        return true;
}

/*
 * options_parse() - fill @o from the module's arguments
 *
 * An unknown option is logged and ignored, as Linux-PAM's modules do, so that a line written
 * for a newer pam_cgm still works. A known option with a malformed value is a misconfigured
 * PAM line: that is PAM_SERVICE_ERR whatever fail= says, because guessing what the
 * administrator meant could turn fail=closed into fail=open.
 *
 * Return: PAM_SUCCESS or PAM_SERVICE_ERR.
 */
static int options_parse(struct options *o, pam_handle_t *pamh, int argc, const char **argv)
{
        *o = (struct options){ .socket = CGM_DEFAULT_SOCKET, .timeout_ms = TIMEOUT_DEFAULT_MS };

        for (int i = 0; i < argc; i++) {
                const char *arg = argv[i], *v;

                if (strcmp(arg, "debug") == 0) {
                        o->debug = true;
                } else if ((v = skip_prefix(arg, "socket="))) {
                        if (v[0] != '/' || strlen(v) >= SOCKET_PATH_MAX) {
                                pam_syslog(pamh, LOG_ERR,
                                           "bad option `%s`: the socket must be an absolute "
                                           "path of at most %zu bytes",
                                           arg, SOCKET_PATH_MAX - 1);
                                return PAM_SERVICE_ERR;
                        }
                        o->socket = v;
                } else if ((v = skip_prefix(arg, "timeout="))) {
                        if (!parse_timeout(v, &o->timeout_ms)) {
                                pam_syslog(pamh, LOG_ERR,
                                           "bad option `%s`: the timeout is a number of "
                                           "milliseconds from 1 to %d",
                                           arg, TIMEOUT_MAX_MS);
                                return PAM_SERVICE_ERR;
                        }
                } else if ((v = skip_prefix(arg, "fail="))) {
                        if (strcmp(v, "open") == 0) {
                                o->fail_closed = false;
                        } else if (strcmp(v, "closed") == 0) {
                                o->fail_closed = true;
                        } else {
                                pam_syslog(pamh, LOG_ERR,
                                           "bad option `%s`: fail= is `open` or `closed`", arg);
                                return PAM_SERVICE_ERR;
                        }
                } else {
                        pam_syslog(pamh, LOG_ERR, "unknown option: %s", arg);
                }
        }
        return PAM_SUCCESS;
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * user_is_root() - whether @user is a uid-0 account, from /etc/passwd alone
 *
 * Never through NSS (see the top of this file). The superuser accounts live in /etc/passwd,
 * where sulogin and pam_unix's rescue paths expect them too, so the file answers: the first
 * entry with the name decides, as with NSS's "files". The name "root" counts whatever the
 * file says, so that an unreadable or broken file cannot lock root out either. The file is
 * opened non-blocking and read only if it is a regular file: a FIFO in its place must not
 * hang the login.
 */
static bool user_is_root(const char *user)
{
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t size = 0, n = strlen(user);
        struct stat st;
        int fd;

        if (strcmp(user, "root") == 0)
                return true;
        fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return false;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return false;
        }
        f = fdopen(fd, "r");
        if (!f) {
                close(fd);
                return false;
        }
        while (getline(&line, &size, f) > 0) {
                const char *uid;
                size_t digits;

                /* name:password:uid:gid:gecos:home:shell */
                if (strncmp(line, user, n) != 0 || line[n] != ':')
                        continue;
                uid = strchr(line + n + 1, ':');
                if (!uid)
                        return false;
                uid++;
                digits = strspn(uid, "0123456789");
                return digits > 0 && uid[digits] == ':' && strspn(uid, "0") == digits;
        }
        return false;
}

/*
 * connect_daemon() - connect to cgmd with the options' socket, by @deadline
 *
 * Connecting and authenticating take at most what is left before @deadline, together
 * (cgm_wire_connect()); the call that follows gets what is left after them, so that the
 * whole hook ends by @deadline.
 *
 * Signals: client/wire.c sends with MSG_NOSIGNAL, so a closed daemon socket is an error, not a
 * SIGPIPE, and no disposition is touched. tests/pam/test-pam-retval checks that none changes.
 *
 * Return: 0 with *@leftp the milliseconds left for the call, or a negative errno from
 * cgm_wire_connect() (-ETIMEDOUT when nothing is left); *@hp may be set either way
 * (cgm_wire_free() it).
 */
static int connect_daemon(CgmWire **hp, const struct options *o, int64_t deadline, int *leftp)
{
        int64_t left = deadline - now_ms();
        int r;

        if (left <= 0)
                return -ETIMEDOUT;
        r = cgm_wire_connect(hp, o->socket, (int)left);
        if (r < 0)
                return r;
        left = deadline - now_ms();
        if (left <= 0)
                return -ETIMEDOUT;
        cgm_wire_set_timeout(*hp, (int)left);
        *leftp = (int)left;
        return 0;
}

/* Log @what and the handle's reason at @priority; errno text when it has no message. */
static void log_failure(pam_handle_t *pamh, int priority, const char *what, CgmWire *h, int r,
                        const char *outcome)
{
        const char *msg = cgm_wire_error_message(h);

        if (msg && msg[0]) {
                pam_syslog(pamh, priority, "%s: %s; %s", what, msg, outcome);
        } else {
                errno = -r;
                pam_syslog(pamh, priority, "%s: %m; %s", what, outcome);
        }
}

/*
 * open_failed() - the outcome of an open that did not get a session from cgmd
 *
 * Return: PAM_SUCCESS (fail=open, or uid 0), PAM_SESSION_ERR (fail=closed).
 */
static int open_failed(pam_handle_t *pamh, const struct options *o, int flags, const char *user,
                       const char *what, CgmWire *h, int r)
{
        if (!o->fail_closed) {
                log_failure(pamh, LOG_WARNING, what, h, r,
                            "the session proceeds without a cgroup (fail=open)");
                return PAM_SUCCESS;
        }
        if (user_is_root(user)) {
                log_failure(pamh, LOG_WARNING, what, h, r,
                            "the session proceeds without a cgroup: root is never locked out");
                return PAM_SUCCESS;
        }
        log_failure(pamh, LOG_ERR, what, h, r, "the session is refused (fail=closed)");
        if (!(flags & PAM_SILENT))
                pam_error(pamh, "The cgroup manager did not accept this session; "
                                "login refused.");
        return PAM_SESSION_ERR;
}

/* Append @key=@value to @info when the value is one the daemon can take. */
static void info_add(cgm_kv *info, size_t *np, const char *key, const char *value)
{
        if (!value || !value[0] || strlen(value) >= CGM_VALUE_MAX ||
            !cgm_utf8_valid(value, strlen(value)))
                return;
        info[(*np)++] = (cgm_kv){ .key = (char *)key, .value = (char *)value };
}

static const char *get_item(pam_handle_t *pamh, int type)
{
        const void *item = NULL;

        if (pam_get_item(pamh, type, &item) != PAM_SUCCESS)
                return NULL;
        return item;
}

/* The daemon's ids name cgroups: short, printable, no '/'. Anything else is not put in env. */
static bool session_id_valid(const char *id)
{
        size_t n = strlen(id);

        if (n > CGM_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)id[i] <= ' ' || id[i] == '/' || id[i] == 0x7f)
                        return false;
        return true;
}

static void session_data_free(pam_handle_t *pamh, void *data, int error_status)
{
        (void)pamh;
        (void)error_status;
        free(data);
}

/* Keep @id on the handle and in the PAM environment. Return: PAM_SUCCESS or a PAM error. */
static int session_record(pam_handle_t *pamh, const char *id)
{
        char env[sizeof(ENV_SESSION "=") + CGM_NAME_MAX];
        char *copy;
        int r;

        copy = strdup(id);
        if (!copy)
                return PAM_BUF_ERR;
        r = pam_set_data(pamh, DATA_SESSION, copy, session_data_free);
        if (r != PAM_SUCCESS) {
                free(copy);
                return r;
        }
        snprintf(env, sizeof(env), ENV_SESSION "=%s", id);
        return pam_putenv(pamh, env);
}

PAM_CGM_EXPORT int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
                                       const char **argv)
{
        struct options o;
        const char *user = NULL, *xdg_id;
        char *id = NULL, *path = NULL;
        char what[320], timeout[16];
        cgm_kv info[5];
        size_t n_info = 0;
        int64_t deadline;
        CgmWire *h = NULL;
        int left, r;

        r = options_parse(&o, pamh, argc, argv);
        if (r != PAM_SUCCESS)
                return r;

        r = pam_get_user(pamh, &user, NULL);
        if (r == PAM_CONV_AGAIN)
                return PAM_INCOMPLETE;
        if (r != PAM_SUCCESS || !user || !user[0]) {
                pam_syslog(pamh, LOG_ERR, "cannot determine the user name: %s",
                           pam_strerror(pamh, r));
                return PAM_SESSION_ERR;
        }
        /* From here on nothing waits but for the daemon, and not past this. */
        deadline = now_ms() + o.timeout_ms;

        /*
         * pam_systemd and elogind put XDG_SESSION_ID into the PAM environment. The process
         * environment is the fallback for applications that set it themselves; it is read with
         * secure_getenv() because a setuid caller (su) inherits it from the invoking user.
         */
        xdg_id = pam_getenv(pamh, "XDG_SESSION_ID");
        if (!xdg_id || !xdg_id[0])
                xdg_id = secure_getenv("XDG_SESSION_ID");
        info_add(info, &n_info, CGM_SESSION_INFO_XDG_ID, xdg_id);
        info_add(info, &n_info, CGM_SESSION_INFO_SERVICE, get_item(pamh, PAM_SERVICE));
        info_add(info, &n_info, CGM_SESSION_INFO_TTY, get_item(pamh, PAM_TTY));
        info_add(info, &n_info, CGM_SESSION_INFO_RHOST, get_item(pamh, PAM_RHOST));

        if (o.debug)
                pam_syslog(pamh, LOG_DEBUG,
                           "opening a session for user `%s` through `%s`, timeout %d ms, "
                           "fail=%s",
                           user, o.socket, o.timeout_ms, o.fail_closed ? "closed" : "open");

        snprintf(what, sizeof(what), "cannot open a cgroup session for user `%s`", user);
        r = connect_daemon(&h, &o, deadline, &left);
        if (r >= 0) {
                /* The daemon gives up, and creates nothing, once the module has stopped waiting. */
                snprintf(timeout, sizeof(timeout), "%d", left);
                info_add(info, &n_info, CGM_SESSION_INFO_TIMEOUT_MS, timeout);
                r = cgm_wire_open_session(h, user, info, n_info, &id, &path);
        }
        if (r == -ENOENT && cgm_wire_error_name(h) &&
            strcmp(cgm_wire_error_name(h), CGM_ERR_NOT_FOUND) == 0 && !user_is_root(user)) {
                /* The daemon's NSS does not know the user (the only NotFound of OpenSession). */
                log_failure(pamh, LOG_ERR, what, h, r, "the user is unknown to NSS");
                cgm_wire_free(h);
                return PAM_USER_UNKNOWN;
        }
        if (r < 0) {
                r = open_failed(pamh, &o, flags, user, what, h, r);
                cgm_wire_free(h);
                return r;
        }
        cgm_wire_free(h);

        if (!id[0]) {
                if (o.debug)
                        pam_syslog(pamh, LOG_DEBUG,
                                   "the policy excludes user `%s`: no session cgroup", user);
                r = PAM_SUCCESS;
        } else if (!session_id_valid(id)) {
                r = open_failed(pamh, &o, flags, user, "cgmd returned a malformed session id",
                                NULL, -EPROTO);
        } else {
                r = session_record(pamh, id);
                if (r != PAM_SUCCESS) {
                        pam_syslog(pamh, LOG_ERR, "cannot record session `%s`: %s", id,
                                   pam_strerror(pamh, r));
                        r = open_failed(pamh, &o, flags, user, "cannot record the session",
                                        NULL, -ENOMEM);
                } else if (o.debug) {
                        pam_syslog(pamh, LOG_DEBUG, "session `%s` of user `%s` is in `%s`", id,
                                   user, path);
                }
        }
        free(id);
        free(path);
        return r;
}

PAM_CGM_EXPORT int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
                                        const char **argv)
{
        struct options o;
        const void *data = NULL;
        const char *id;
        char what[sizeof("cannot close cgroup session ``") + CGM_NAME_MAX];
        int64_t deadline;
        CgmWire *h = NULL;
        int left, r;

        (void)flags;
        r = options_parse(&o, pamh, argc, argv);
        if (r != PAM_SUCCESS)
                return r;
        deadline = now_ms() + o.timeout_ms;

        /*
         * The handle's copy is the one this module recorded. The environment is the fallback for
         * an application that closes on another handle; note that other modules (pam_env with
         * user_readenv) may write to it, so the daemon must check that the id is a session at all.
         */
        if (pam_get_data(pamh, DATA_SESSION, &data) == PAM_SUCCESS && data)
                id = data;
        else
                id = pam_getenv(pamh, ENV_SESSION);
        if (!id || !id[0]) {
                if (o.debug)
                        pam_syslog(pamh, LOG_DEBUG, "no session to close");
                return PAM_SUCCESS;
        }
        if (!session_id_valid(id) || !cgm_utf8_valid(id, strlen(id))) {
                pam_syslog(pamh, LOG_ERR, "ignoring the malformed session id in " ENV_SESSION);
                return o.fail_closed ? PAM_SESSION_ERR : PAM_SUCCESS;
        }
        snprintf(what, sizeof(what), "cannot close cgroup session `%s`", id);

        r = connect_daemon(&h, &o, deadline, &left);
        if (r >= 0)
                r = cgm_wire_close_session(h, id);
        if (r < 0) {
                if (o.fail_closed) {
                        log_failure(pamh, LOG_ERR, what, h, r,
                                    "reporting a session error (fail=closed)");
                        r = PAM_SESSION_ERR;
                } else {
                        log_failure(pamh, LOG_WARNING, what, h, r,
                                    "cgmd removes the leaf once it is empty (fail=open)");
                        r = PAM_SUCCESS;
                }
                cgm_wire_free(h);
                return r;
        }
        cgm_wire_free(h);
        if (o.debug)
                pam_syslog(pamh, LOG_DEBUG, "session `%s` closed", id);

        /* Forget the session, so a second close is a no-op. Both calls may free @id. */
        (void)pam_set_data(pamh, DATA_SESSION, NULL, NULL);
        (void)pam_putenv(pamh, ENV_SESSION);
        return PAM_SUCCESS;
}
