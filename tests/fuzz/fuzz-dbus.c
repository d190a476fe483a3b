/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzer for the D-Bus request handlers: messages built from the input, fed to the dispatcher
 *
 * A whole daemon is set up once per process, as main.c sets it up, except that its cgroup
 * "hierarchy" is a private temporary directory (FUZZ_TMPDIR, else /dev/shm or $TMPDIR) that
 * the fuzzer creates: a cgroup2 mount point whose base /cgm holds the home of uid 1000 and a
 * child cgroup, with the control files a handler reads (memory.max, cgroup.events, ...) as
 * ordinary files. Every access the handlers make goes through the pinned base fd of that
 * tree (cgfs.c), so nothing here touches the host's cgroups: there is no cgroup.procs,
 * cgroup.kill or cgroup.freeze in the tree, so moves, kills and freezes fail with ENOENT
 * and no process is ever signalled or moved. The daemon's DBusServer listens on a socket in
 * the same directory and the fuzzer connects to it as a client, so replies travel over a
 * real connection and are parsed and validated by libdbus on the client side.
 *
 * One input is one message. The first byte picks the caller (root; uid 1000, which has a
 * home; uid 1001, which has none; uid 0 outside the initial user namespace), whether it is
 * in the admin group and whether its request budget is spent, and how the rest is read:
 *  - raw: dbus_message_demarshal() of the remaining bytes, i.e. any message libdbus accepts
 *    off the wire;
 *  - structured: a method of the introspected table (or a standard one: Introspect, Peer,
 *    Properties, the bus emulation, unknown names), with arguments of its signature or of a
 *    random one, filled from the input. Strings that are not valid UTF-8 are checked to be
 *    refused by libdbus, both by dbus_validate_utf8() and when put in a marshalled message
 *    and demarshalled, and are sent with '?' for each non-ASCII byte instead.
 * The message goes to methods_filter() on the daemon's side of the connection, as libdbus
 * would hand it over. Checked besides crashes (libdbus aborts the process on a string that
 * is not valid UTF-8, which libFuzzer reports):
 *  - a method call gets exactly one reply (only a call flagged no-reply may get none),
 *    anything else gets none; the reply names the call's serial;
 *  - a method return of a cgm method has the out signature the introspection declares, a
 *    standard one its known signature;
 *  - an error has an org.cgm.Error or org.freedesktop.DBus.Error name and one string, clean
 *    text (valid UTF-8, no control characters);
 *  - no log line carries a control character (no forged lines); syslog is replaced here,
 *    so the fuzzer does not flood the system log.
 * After an input that changed the tree (seen through inotify), the tree, the homes and the
 * sessions are put back as they were, so every input starts from the same state.
 *
 * Built normally, main() replays the files named on the command line (make check); with
 * FUZZ_DBUS_VERBOSE set, each call and its reply are printed. With -DFUZZ_LIBFUZZER and clang
 * it is a libFuzzer target (tests/fuzz/run-fuzz.sh).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fuzz-util.h"

/* The daemon's main.c, for manager_apply_options(); its main() is renamed out of the way. */
#define main cgmd_main
int cgmd_main(int argc, char **argv);
#include "../../daemon/main.c"
#undef main

#include "home.h"
#include "methods.h"

/* ---- the system log, replaced ------------------------------------------------------- */

static void log_line_check(const char *fmt, va_list ap)
{
        char line[2048];

        vsnprintf(line, sizeof(line), fmt, ap);
        for (const char *c = line; *c; c++)
                FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f,
                           "a log line holds byte 0x%02x: %s", (unsigned char)*c, line);
}

void syslog(int priority, const char *fmt, ...)
{
        va_list ap;

        (void)priority;
        va_start(ap, fmt);
        log_line_check(fmt, ap);
        va_end(ap);
}

void __syslog_chk(int priority, int flag, const char *fmt, ...);
void __syslog_chk(int priority, int flag, const char *fmt, ...)
{
        va_list ap;

        (void)priority;
        (void)flag;
        va_start(ap, fmt);
        log_line_check(fmt, ap);
        va_end(ap);
}

/* ---- the daemon and its private tree -------------------------------------------------- */

#define ADMIN_GID 4242
#define FUZZ_METHODS_MAX 64

typedef struct FuzzMethod {
        char name[64];
        char in[64];
        char out[64];
} FuzzMethod;

static struct {
        bool ready;
        char dir[256];  /* the private directory */
        char mount[300]; /* dir/cg: the "cgroup2 mount" */
        char base[320];  /* dir/cg/cgm: the base */
        char conf[300];
        Manager m;
        Peer *peer;
        DBusConnection *client;
        int changes;   /* inotify on the tree: did an input change it? */
        int fds[3];    /* what 'h' arguments carry: a pidfd of this process, /dev/null, an eventfd */
        FuzzMethod methods[FUZZ_METHODS_MAX];
        size_t n_methods;
} F = { .changes = -1, .fds = { -1, -1, -1 } };

/* The control files of a cgroup in the tree, as a cgroup2 mount would show them. */
static const char *const control_files[][2] = {
        { "cgroup.controllers", "cpu io memory pids\n" },
        { "cgroup.subtree_control", "cpu io memory pids\n" },
        { "cgroup.events", "populated 0\nfrozen 0\n" },
        { "cgroup.stat", "nr_descendants 1\nnr_dying_descendants 0\n" },
        { "cgroup.max.descendants", "max\n" },
        { "cgroup.max.depth", "max\n" },
        { "memory.max", "max\n" },
        { "memory.high", "max\n" },
        { "memory.low", "0\n" },
        { "memory.min", "0\n" },
        { "memory.swap.max", "max\n" },
        { "memory.oom.group", "0\n" },
        { "memory.current", "8192\n" },
        { "memory.swap.current", "0\n" },
        { "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n" },
        { "memory.stat", "anon 4096\nfile 4096\n" },
        { "cpu.max", "max 100000\n" },
        { "cpu.weight", "100\n" },
        { "cpu.stat", "usage_usec 10\nuser_usec 5\nsystem_usec 5\n" },
        { "pids.max", "max\n" },
        { "pids.current", "0\n" },
        { "io.weight", "default 100\n" },
        { "io.max", "" },
        { "cpuset.cpus", "" },
        { "cpuset.mems", "" },
};

static const char *const tree_dirs[] = { "", "user-1000", "user-1000/app" };

static void tree_path(char *out, size_t n, const char *rel)
{
        snprintf(out, n, "%s%s%s", F.base, *rel ? "/" : "", rel);
}

/* nftw() callbacks: remove everything below the starting directory, or that too. */
static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        if (ftw->level > 0)
                (void)remove(path);
        return 0;
}

static int rm_entry_all(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        (void)remove(path);
        return 0;
}

/* Everything below the base goes; the skeleton is written again. */
static void tree_build(void)
{
        char path[600];

        (void)nftw(F.base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        for (size_t d = 0; d < ELEMENTSOF(tree_dirs); d++) {
                tree_path(path, sizeof(path), tree_dirs[d]);
                if (d > 0)
                        FUZZ_CHECK(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %m", path);
                (void)chown(path, 0, 0);
                for (size_t f = 0; f < ELEMENTSOF(control_files); f++) {
                        char file[700];
                        int fd;

                        snprintf(file, sizeof(file), "%s/%s", path, control_files[f][0]);
                        fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                        FUZZ_CHECK(fd >= 0, "create %s: %m", file);
                        FUZZ_CHECK(write(fd, control_files[f][1], strlen(control_files[f][1])) ==
                                           (ssize_t)strlen(control_files[f][1]),
                                   "write %s", file);
                        close(fd);
                }
        }
        /* uid 1000's home; setting a trusted.* attribute needs root, and without it the tree
         * simply has no home (a replay as an ordinary user still runs every input). */
        tree_path(path, sizeof(path), "user-1000");
        (void)setxattr(path, CGM_XATTR_HOME, "1000", 4, 0);
}

static int watch_wd[ELEMENTSOF(tree_dirs)];

static void watch_tree(void)
{
        char path[600];

        if (F.changes >= 0)
                close(F.changes);
        F.changes = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        FUZZ_CHECK(F.changes >= 0, "inotify_init1: %m");
        for (size_t d = 0; d < ELEMENTSOF(tree_dirs); d++) {
                tree_path(path, sizeof(path), tree_dirs[d]);
                watch_wd[d] = inotify_add_watch(F.changes, path,
                                                IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB |
                                                        IN_MOVED_FROM | IN_MOVED_TO);
                FUZZ_CHECK(watch_wd[d] >= 0, "inotify_add_watch %s: %m", path);
        }
}

static const char *control_content(const char *name)
{
        for (size_t f = 0; f < ELEMENTSOF(control_files); f++)
                if (strcmp(control_files[f][0], name) == 0)
                        return control_files[f][1];
        return NULL;
}

static bool skeleton_dir(size_t d, const char *name)
{
        char rel[300];

        snprintf(rel, sizeof(rel), "%s%s%s", tree_dirs[d], *tree_dirs[d] ? "/" : "", name);
        for (size_t i = 0; i < ELEMENTSOF(tree_dirs); i++)
                if (strcmp(tree_dirs[i], rel) == 0)
                        return true;
        return false;
}

/* Undo what an input changed in the tree, as the inotify events tell: remove new entries,
 * rewrite modified control files, give changed entries back their owner and attributes.
 * Returns 0 when nothing changed, 1 when the tree was repaired (homes or sessions may have
 * changed with it), -1 when only a full rebuild can repair it. */
static int tree_repair(void)
{
        char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
        int result = 0;
        ssize_t l;

        while ((l = read(F.changes, buf, sizeof(buf))) > 0) {
                for (char *p = buf; p < buf + l;) {
                        const struct inotify_event *ev = (const struct inotify_event *)p;
                        char dir[600], path[900];
                        size_t d = 0;

                        p += sizeof(*ev) + ev->len;
                        if (ev->mask & IN_Q_OVERFLOW)
                                return -1;
                        while (d < ELEMENTSOF(tree_dirs) && watch_wd[d] != ev->wd)
                                d++;
                        if (d == ELEMENTSOF(tree_dirs) || (ev->mask & IN_IGNORED))
                                return -1; /* a watched directory went away */
                        if (result == 0)
                                result = 1;
                        tree_path(dir, sizeof(dir), tree_dirs[d]);
                        if (ev->len == 0 || !ev->name[0]) {
                                /* The directory itself: owner or extended attributes. */
                                (void)chown(dir, 0, 0);
                                (void)removexattr(dir, CGM_XATTR_SESSION);
                                (void)removexattr(dir, CGM_XATTR_USER);
                                if (strcmp(tree_dirs[d], "user-1000") == 0)
                                        (void)setxattr(dir, CGM_XATTR_HOME, "1000", 4, 0);
                                else
                                        (void)removexattr(dir, CGM_XATTR_HOME);
                                continue;
                        }
                        snprintf(path, sizeof(path), "%s/%s", dir, ev->name);
                        if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
                                if (control_content(ev->name) || skeleton_dir(d, ev->name))
                                        return -1;
                                continue; /* something an input made and removed again */
                        }
                        if (!control_content(ev->name) && !skeleton_dir(d, ev->name)) {
                                /* Made by the input (a cgroup, a session leaf): away with it. */
                                (void)nftw(path, rm_entry_all, 16, FTW_DEPTH | FTW_PHYS);
                                continue;
                        }
                        if (control_content(ev->name)) {
                                const char *content = control_content(ev->name);
                                int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

                                if (fd < 0 || write(fd, content, strlen(content)) !=
                                                      (ssize_t)strlen(content)) {
                                        if (fd >= 0)
                                                close(fd);
                                        return -1;
                                }
                                close(fd);
                                (void)chown(path, 0, 0);
                        }
                }
        }
        return result;
}

/* The state every input starts from: the skeleton, its home, no session. */
static void state_reset(bool rebuild)
{
        CgmError e = CGM_ERROR_NULL;

        sessions_deinit(&F.m);
        home_registry_deinit(&F.m.homes);
        if (rebuild) {
                tree_build();
                watch_tree();
        }
        FUZZ_CHECK(home_registry_scan(&F.m.homes, &F.m.cgfs) == 0, "home_registry_scan");
        FUZZ_CHECK(sessions_init(&F.m, &e) == 0, "sessions_init: %s", e.msg);
        /* The repair's own writes must not count as the next input's changes. */
        {
                char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
                while (read(F.changes, buf, sizeof(buf)) > 0)
                        ;
        }
}

/* Read what the client has been sent, to the end (libdbus reads a long message in rounds). */
static void client_read(void)
{
        int fd = -1;

        (void)dbus_connection_get_socket(F.client, &fd);
        for (;;) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };

                (void)dbus_connection_read_write(F.client, 0);
                if (fd < 0 || poll(&pfd, 1, 0) <= 0 || (pfd.revents & (POLLHUP | POLLERR)))
                        return;
        }
}

/* Run the daemon's loop (workers, timers) and the client's side until @done or 20 s. */
static bool pump_until(bool (*done)(void *), void *userdata)
{
        struct timespec start, now;

        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                if (F.peer)
                        dbus_connection_flush(F.peer->conn);
                client_read();
                if (done(userdata))
                        return true;
                /* Returns as soon as a source is ready (a worker's result, the socket). */
                (void)loop_run_once(&F.m.loop, 1);
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec - start.tv_sec > 20)
                        return false;
        }
}

static bool connected(void *userdata)
{
        (void)userdata;
        F.peer = F.m.peers;
        return F.peer && dbus_connection_get_is_authenticated(F.peer->conn) &&
               dbus_connection_get_is_authenticated(F.client);
}

static bool no_requests(void *userdata)
{
        (void)userdata;
        return F.m.requests == NULL;
}

/* Remove what earlier fuzzer processes left behind (killed, or ended by a crash). */
static void remove_stale(const char *root)
{
        DIR *d = opendir(root);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                char path[600];
                long pid;

                if (sscanf(de->d_name, "cgm-fuzz-dbus-%ld-", &pid) != 1 || pid <= 0)
                        continue;
                if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
                        continue;
                snprintf(path, sizeof(path), "%s/%s", root, de->d_name);
                (void)nftw(path, rm_entry_all, 16, FTW_DEPTH | FTW_PHYS);
        }
        closedir(d);
}

static void cleanup(void)
{
        if (F.dir[0])
                (void)nftw(F.dir, rm_entry_all, 16, FTW_DEPTH | FTW_PHYS);
}

static DBusMessage *call_and_wait(DBusMessage *msg);

/* The cgm methods and their signatures, as Introspect declares them. */
static void read_introspection(void)
{
        DBusMessage *call = dbus_message_new_method_call(NULL, CGM_DBUS_PATH,
                                                         DBUS_INTERFACE_INTROSPECTABLE, "Introspect");
        DBusMessage *reply;
        const char *xml, *p;

        FUZZ_CHECK(call, "out of memory");
        dbus_message_set_serial(call, 1); /* as every message off the wire has one */
        reply = call_and_wait(call);
        dbus_message_unref(call);
        FUZZ_CHECK(reply && dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &xml,
                                                  DBUS_TYPE_INVALID),
                   "Introspect gave no XML");
        p = strstr(xml, "<interface name=\"" CGM_DBUS_INTERFACE "\">");
        FUZZ_CHECK(p, "no cgm interface in the introspection");
        while ((p = strstr(p, "<method name=\"")) && F.n_methods < FUZZ_METHODS_MAX) {
                FuzzMethod *fm = &F.methods[F.n_methods++];
                const char *end = strstr(p, "</method>"), *a;

                p += strlen("<method name=\"");
                snprintf(fm->name, sizeof(fm->name), "%.*s", (int)strcspn(p, "\""), p);
                for (a = strstr(p, "<arg "); a && end && a < end; a = strstr(a + 1, "<arg ")) {
                        const char *type = strstr(a, "type=\"") + 6;
                        const char *dir = strstr(a, "direction=\"") + 11;
                        char *sig = strncmp(dir, "in", 2) == 0 ? fm->in : fm->out;

                        snprintf(sig + strlen(sig), sizeof(fm->in) - strlen(sig), "%.*s",
                                 (int)strcspn(type, "\""), type);
                }
                p = end ? end : p;
        }
        FUZZ_CHECK(F.n_methods >= 10, "only %zu methods introspected", F.n_methods);
        dbus_message_unref(reply);
}

static void setup(void)
{
        static const char policy[] =
                "requests_per_second = 1000000\n"
                "creates_per_second = 1000000\n"
                "kill_on_logout = yes\n"
                "linger = nobody\n"
                "admin_group = root\n"
                "nss_timeout_ms = 10000\n"
                "[default]\n"
                "memory.max = 1G\n"
                "pids.max = 100\n"
                "[group:users]\n"
                "cpu.weight = 50\n"
                "[user:nobody]\n"
                "memory.max = 2G\n";
        const char *root = getenv("FUZZ_TMPDIR");
        CgmError e = CGM_ERROR_NULL;
        struct stat st;
        char tmpl[300];
        FILE *f;

        if (!root || !*root)
                root = stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                       : getenv("TMPDIR")                                            ? getenv("TMPDIR")
                                                                                     : "/tmp";
        remove_stale(root);
        snprintf(tmpl, sizeof(tmpl), "%s/cgm-fuzz-dbus-%ld-XXXXXX", root, (long)getpid());
        FUZZ_CHECK(mkdtemp(tmpl), "mkdtemp %s: %m", tmpl);
        snprintf(F.dir, sizeof(F.dir), "%s", tmpl);
        atexit(cleanup);
        snprintf(F.mount, sizeof(F.mount), "%s/cg", F.dir);
        snprintf(F.base, sizeof(F.base), "%s/cgm", F.mount);
        snprintf(F.conf, sizeof(F.conf), "%s/cgm.conf", F.dir);
        FUZZ_CHECK(mkdir(F.mount, 0755) == 0 && mkdir(F.base, 0755) == 0, "mkdir: %m");
        f = fopen(F.conf, "we");
        FUZZ_CHECK(f && fputs(policy, f) >= 0 && fclose(f) == 0, "write %s", F.conf);

        signal(SIGPIPE, SIG_IGN);
        F.m = (Manager){ .signals = LOOP_SOURCE_NULL, .peer_slot = -1,
                         .inotify = LOOP_SOURCE_NULL, .sweep = LOOP_SOURCE_NULL };
        F.m.config_path = F.conf;
        FUZZ_CHECK(policy_load(&F.m.policy, F.conf, &e) == 0, "policy: %s", e.msg);
        FUZZ_CHECK(nsself_init(&F.m.ns, &e) == 0, "nsself_init: %s", e.msg);
        FUZZ_CHECK(loop_init(&F.m.loop) == 0, "loop_init");

        /* The Cgfs that cgfs_open() would make of a pure cgroup2 host with base /cgm. */
        F.m.cgfs = (Cgfs){ .layout = CGFS_UNIFIED, .n = 1, .v2 = 0, .primary = 0 };
        F.m.cgfs.h[0] = (Hierarchy){ .is_v2 = true, .controllers = "cpu io memory pids",
                                     .base_path = "/cgm" };
        snprintf(F.m.cgfs.h[0].mount_point, sizeof(F.m.cgfs.h[0].mount_point), "%s", F.mount);
        for (size_t i = 1; i < CGFS_HIERARCHIES_MAX; i++)
                F.m.cgfs.h[i].base_fd = -1;
        F.m.cgfs.h[0].base_fd = open(F.base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        FUZZ_CHECK(F.m.cgfs.h[0].base_fd >= 0, "open %s: %m", F.base);
        snprintf(F.m.cgfs.base_api, sizeof(F.m.cgfs.base_api), "/cgm");
        F.m.cgfs.n_delegate = 3;
        snprintf(F.m.cgfs.delegate[0], sizeof(F.m.cgfs.delegate[0]), "cgroup.procs");
        snprintf(F.m.cgfs.delegate[1], sizeof(F.m.cgfs.delegate[1]), "cgroup.threads");
        snprintf(F.m.cgfs.delegate[2], sizeof(F.m.cgfs.delegate[2]), "cgroup.subtree_control");

        tree_build();
        FUZZ_CHECK(home_registry_scan(&F.m.homes, &F.m.cgfs) == 0, "home_registry_scan");
        manager_apply_options(&F.m, false);
        FUZZ_CHECK(sessions_init(&F.m, &e) == 0, "sessions_init: %s", e.msg);
        FUZZ_CHECK(workers_init(&F.m.workers, &F.m.loop, 2) == 0, "workers_init");
        snprintf(F.m.socket_path, sizeof(F.m.socket_path), "%s/sock", F.dir);
        FUZZ_CHECK(server_start(&F.m, &e) == 0, "server_start: %s", e.msg);
        watch_tree();

        {
                char address[400];
                DBusError err = DBUS_ERROR_INIT;

                snprintf(address, sizeof(address), "unix:path=%s", F.m.socket_path);
                F.client = dbus_connection_open_private(address, &err);
                FUZZ_CHECK(F.client, "connect: %s", err.message);
                dbus_connection_set_exit_on_disconnect(F.client, FALSE);
        }
        FUZZ_CHECK(pump_until(connected, NULL), "the client did not get connected");

        F.fds[0] = (int)syscall(SYS_pidfd_open, getpid(), 0);
        F.fds[1] = open("/dev/null", O_RDWR | O_CLOEXEC);
        F.fds[2] = eventfd(0, EFD_CLOEXEC);
        read_introspection();
        F.ready = true;
}

/* ---- one message through the dispatcher ----------------------------------------------- */

static DBusMessage *received;

static bool got_message(void *userdata)
{
        (void)userdata;
        if (!received)
                received = dbus_connection_pop_message(F.client);
        return received != NULL;
}

/* A message the client has received by now, if any. */
static DBusMessage *drain_client(void)
{
        client_read();
        return dbus_connection_pop_message(F.client);
}

/* Hand @msg to the dispatcher; the reply as the client receives it, or NULL after 20 s. */
static DBusMessage *call_and_wait(DBusMessage *msg)
{
        DBusMessage *reply;

        received = NULL;
        (void)methods_filter(F.peer->conn, msg, F.peer);
        dbus_connection_flush(F.peer->conn);
        if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_METHOD_CALL ||
            dbus_message_get_no_reply(msg)) {
                /* Nothing is owed; take what came, if anything, without waiting for more. */
                (void)pump_until(no_requests, NULL);
                dbus_connection_flush(F.peer->conn);
                return drain_client();
        }
        if (!pump_until(got_message, NULL))
                return NULL;
        reply = received;
        received = NULL;
        return reply;
}

typedef struct Input {
        const uint8_t *p;
        size_t n;
} Input;

static uint8_t take_byte(Input *in)
{
        uint8_t b = 0;

        if (in->n > 0) {
                b = *in->p++;
                in->n--;
        }
        return b;
}

static uint64_t take_u64(Input *in, unsigned bytes)
{
        uint64_t v = 0;

        for (unsigned i = 0; i < bytes; i++)
                v = v << 8 | take_byte(in);
        return v;
}

/* A string message with one argument of @len bytes marshalled, its bytes replaced by @bytes:
 * libdbus must refuse to demarshal it. */
static void check_wire_refuses(const char *bytes, size_t len)
{
        DBusMessage *m = dbus_message_new_method_call(NULL, CGM_DBUS_PATH, CGM_DBUS_INTERFACE,
                                                      "MoveSelf");
        char *placeholder = malloc(len + 1), *wire = NULL;
        DBusMessage *back;
        int wire_len = 0;

        FUZZ_CHECK(m && placeholder, "out of memory");
        memset(placeholder, 'a', len);
        placeholder[len] = '\0';
        dbus_message_set_serial(m, 7);
        FUZZ_CHECK(dbus_message_append_args(m, DBUS_TYPE_STRING, &placeholder, DBUS_TYPE_INVALID) &&
                           dbus_message_marshal(m, &wire, &wire_len),
                   "marshal");
        /* The body ends with the string and its NUL. */
        FUZZ_CHECK((size_t)wire_len > len + 1, "short wire");
        memcpy(wire + wire_len - 1 - len, bytes, len);
        back = dbus_message_demarshal(wire, wire_len, NULL);
        FUZZ_CHECK(!back, "libdbus accepted a string that is not UTF-8 off the wire");
        dbus_free(wire);
        free(placeholder);
        dbus_message_unref(m);
}

/* A string from the input; one that is not valid UTF-8 (or holds a NUL) is checked to be
 * refused by libdbus, then sent with '?' for every non-ASCII byte. Returns malloc()ed. */
static char *take_string(Input *in)
{
        size_t len = take_byte(in);
        char *s;

        if (len == 255)
                len = take_u64(in, 2) % 4096;
        if (len > in->n)
                len = in->n;
        s = fuzz_strndup(in->p, len);
        in->p += len;
        in->n -= len;
        if (!fuzz_utf8_valid(s, len) || strlen(s) != len) {
                if (strlen(s) == len)
                        FUZZ_CHECK(!dbus_validate_utf8(s, NULL),
                                   "dbus_validate_utf8 accepts what is not UTF-8");
                check_wire_refuses(s, len);
                for (size_t i = 0; i < len; i++)
                        if ((unsigned char)s[i] >= 0x80 || s[i] == '\0')
                                s[i] = '?';
        }
        return s;
}

/* Append values of the single complete type at @sig. */
static void append_value(DBusMessageIter *it, DBusSignatureIter *sig, Input *in, int depth)
{
        int type = dbus_signature_iter_get_current_type(sig);
        DBusMessageIter sub;

        switch (type) {
        case DBUS_TYPE_STRING: {
                char *s = take_string(in);
                FUZZ_CHECK(dbus_message_iter_append_basic(it, type, &s), "append string");
                free(s);
                return;
        }
        case DBUS_TYPE_OBJECT_PATH: {
                const char *paths[] = { CGM_DBUS_PATH, "/", "/org/cgm" };
                const char *s = paths[take_byte(in) % 3];
                FUZZ_CHECK(dbus_message_iter_append_basic(it, type, &s), "append path");
                return;
        }
        case DBUS_TYPE_SIGNATURE: {
                const char *s = "sa{ss}";
                FUZZ_CHECK(dbus_message_iter_append_basic(it, type, &s), "append signature");
                return;
        }
        case DBUS_TYPE_BOOLEAN: {
                dbus_bool_t b = take_byte(in) & 1;
                FUZZ_CHECK(dbus_message_iter_append_basic(it, type, &b), "append bool");
                return;
        }
        case DBUS_TYPE_UNIX_FD: {
                int fd = F.fds[take_byte(in) % 3];
                FUZZ_CHECK(dbus_message_iter_append_basic(it, type, &fd), "append fd");
                return;
        }
        case DBUS_TYPE_BYTE:
        case DBUS_TYPE_INT16:
        case DBUS_TYPE_UINT16:
        case DBUS_TYPE_INT32:
        case DBUS_TYPE_UINT32:
        case DBUS_TYPE_INT64:
        case DBUS_TYPE_UINT64:
        case DBUS_TYPE_DOUBLE: {
                /* Small numbers and the edges are the interesting ones. */
                uint8_t how = take_byte(in);
                uint64_t v = how < 128 ? how : how < 192 ? take_u64(in, 4) : take_u64(in, 8);
                if (type == DBUS_TYPE_DOUBLE) {
                        double d = (double)(int64_t)v;
                        FUZZ_CHECK(dbus_message_iter_append_basic(it, type, &d), "append double");
                } else {
                        FUZZ_CHECK(dbus_message_iter_append_basic(it, type, &v), "append number");
                }
                return;
        }
        case DBUS_TYPE_VARIANT: {
                DBusSignatureIter inner;
                const char *s = take_byte(in) & 1 ? "s" : "u";
                dbus_signature_iter_init(&inner, s);
                FUZZ_CHECK(dbus_message_iter_open_container(it, type, s, &sub), "open variant");
                append_value(&sub, &inner, in, depth + 1);
                FUZZ_CHECK(dbus_message_iter_close_container(it, &sub), "close variant");
                return;
        }
        case DBUS_TYPE_ARRAY: {
                DBusSignatureIter elem;
                char *esig;
                unsigned n = depth > 2 ? 0 : take_byte(in) % 72;
                dbus_signature_iter_recurse(sig, &elem);
                esig = dbus_signature_iter_get_signature(&elem);
                FUZZ_CHECK(esig && dbus_message_iter_open_container(it, type, esig, &sub),
                           "open array");
                for (unsigned i = 0; i < n && in->n > 0; i++) {
                        DBusSignatureIter e = elem;
                        append_value(&sub, &e, in, depth + 1);
                }
                FUZZ_CHECK(dbus_message_iter_close_container(it, &sub), "close array");
                dbus_free(esig);
                return;
        }
        case DBUS_TYPE_DICT_ENTRY:
        case DBUS_TYPE_STRUCT: {
                DBusSignatureIter member;
                dbus_signature_iter_recurse(sig, &member);
                FUZZ_CHECK(dbus_message_iter_open_container(it, type, NULL, &sub), "open struct");
                do
                        append_value(&sub, &member, in, depth + 1);
                while (dbus_signature_iter_next(&member));
                FUZZ_CHECK(dbus_message_iter_close_container(it, &sub), "close struct");
                return;
        }
        }
        FUZZ_CHECK(false, "type %c in a signature", type);
}

static void append_args(DBusMessage *msg, const char *signature, Input *in)
{
        DBusMessageIter it;
        DBusSignatureIter sig;

        if (!*signature)
                return;
        dbus_message_iter_init_append(msg, &it);
        dbus_signature_iter_init(&sig, signature);
        do
                append_value(&it, &sig, in, 0);
        while (dbus_signature_iter_next(&sig));
}

/* A signature the method did not ask for, from pieces the table uses and a few more. */
static void wrong_signature(Input *in, char *out, size_t n)
{
        static const char *const pieces[] = { "s", "u", "i", "b", "h", "t", "y", "d", "o", "v",
                                              "as", "ah", "au", "a{ss}", "a{sv}", "(su)", "g" };
        unsigned count = take_byte(in) % 5;

        out[0] = '\0';
        for (unsigned i = 0; i < count; i++)
                snprintf(out + strlen(out), n - strlen(out), "%s",
                         pieces[take_byte(in) % ELEMENTSOF(pieces)]);
}

typedef struct Target {
        const char *iface; /* NULL: none */
        const char *member;
        const char *in;
        const char *out; /* signature of a successful reply; NULL: not known */
} Target;

/* Standard interfaces, the bus emulation, and names that do not exist. */
static const Target standard[] = {
        { DBUS_INTERFACE_INTROSPECTABLE, "Introspect", "", "s" },
        { DBUS_INTERFACE_PEER, "Ping", "", "" },
        { DBUS_INTERFACE_PEER, "GetMachineId", "", "s" },
        { DBUS_INTERFACE_PROPERTIES, "Get", "ss", "v" },
        { DBUS_INTERFACE_PROPERTIES, "GetAll", "s", "a{sv}" },
        { DBUS_INTERFACE_PROPERTIES, "Set", "ssv", "" },
        { DBUS_INTERFACE_DBUS, "Hello", "", "s" },
        { DBUS_INTERFACE_DBUS, "AddMatch", "s", "" },
        { DBUS_INTERFACE_DBUS, "RemoveMatch", "s", "" },
        { DBUS_INTERFACE_DBUS, "ListNames", "", NULL },
        { CGM_DBUS_INTERFACE, "NoSuchMethod", "s", NULL },
        { "org.example.Other", "Ping", "", NULL },
};

static const char *expected_out(DBusMessage *call)
{
        const char *iface = dbus_message_get_interface(call);
        const char *member = dbus_message_get_member(call);

        if (!member)
                return NULL;
        if (!iface || strcmp(iface, CGM_DBUS_INTERFACE) == 0) {
                for (size_t i = 0; i < F.n_methods; i++)
                        if (strcmp(F.methods[i].name, member) == 0)
                                return F.methods[i].out;
                return NULL;
        }
        for (size_t i = 0; i < ELEMENTSOF(standard); i++)
                if (strcmp(standard[i].iface, iface) == 0 && strcmp(standard[i].member, member) == 0)
                        return standard[i].out;
        return NULL;
}

static void check_reply(DBusMessage *call, DBusMessage *reply)
{
        int type = dbus_message_get_type(reply);

        FUZZ_CHECK(dbus_message_get_reply_serial(reply) == dbus_message_get_serial(call),
                   "reply to serial %u, the call was %u", dbus_message_get_reply_serial(reply),
                   dbus_message_get_serial(call));
        if (type == DBUS_MESSAGE_TYPE_METHOD_RETURN) {
                const char *out = expected_out(call);
                if (out)
                        FUZZ_CHECK(strcmp(dbus_message_get_signature(reply), out) == 0,
                                   "%s returned (%s), declared (%s)", dbus_message_get_member(call),
                                   dbus_message_get_signature(reply), out);
                return;
        }
        FUZZ_CHECK(type == DBUS_MESSAGE_TYPE_ERROR, "a reply of type %d", type);
        {
                const char *name = dbus_message_get_error_name(reply), *text = NULL;

                FUZZ_CHECK(name && (strncmp(name, CGM_ERROR_PREFIX, strlen(CGM_ERROR_PREFIX)) == 0 ||
                                    strncmp(name, "org.freedesktop.DBus.Error.", 27) == 0),
                           "error name %s", name ? name : "(none)");
                FUZZ_CHECK(strcmp(dbus_message_get_signature(reply), "s") == 0 &&
                                   dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &text,
                                                         DBUS_TYPE_INVALID),
                           "error %s carries (%s), not one string", name,
                           dbus_message_get_signature(reply));
                FUZZ_CHECK(*text, "error %s has no text", name);
                FUZZ_CHECK(fuzz_text_clean(text), "error %s text is not clean: %s", name, text);
        }
}

static DBusMessage *build_structured(Input *in)
{
        uint8_t which = take_byte(in), flags = take_byte(in);
        const char *iface, *member, *in_sig, *path = CGM_DBUS_PATH;
        char wrong[64];
        DBusMessage *msg;
        size_t n = F.n_methods + ELEMENTSOF(standard);

        if (which % n < F.n_methods) {
                const FuzzMethod *fm = &F.methods[which % n];
                iface = CGM_DBUS_INTERFACE;
                member = fm->name;
                in_sig = fm->in;
        } else {
                const Target *t = &standard[which % n - F.n_methods];
                iface = t->iface;
                member = t->member;
                in_sig = t->in;
        }
        if (flags & 0x01)
                iface = NULL; /* allowed for method calls: the dispatcher looks at the member */
        if (flags & 0x02)
                path = (const char *[]){ "/", "/org", "/org/cgm", "/org/cgm/Manager/x" }[take_byte(in) % 4];
        if (flags & 0x04) {
                wrong_signature(in, wrong, sizeof(wrong));
                in_sig = wrong;
        }
        if (flags & 0x10) {
                msg = dbus_message_new_signal(path, iface ? iface : CGM_DBUS_INTERFACE, member);
        } else {
                msg = dbus_message_new_method_call(NULL, path, iface, member);
        }
        FUZZ_CHECK(msg, "out of memory");
        if (flags & 0x08)
                dbus_message_set_no_reply(msg, TRUE);
        dbus_message_set_serial(msg, 1 + (dbus_uint32_t)(flags >> 5));
        append_args(msg, in_sig, in);
        return msg;
}

/* FUZZ_DBUS_SEED_DIR: write each structured message as a raw-mode input too (how the raw
 * seeds of the corpus were made from the structured ones). */
static void dump_raw(uint8_t head, DBusMessage *msg)
{
        const char *dir = getenv("FUZZ_DBUS_SEED_DIR");
        static unsigned counter;
        char *wire = NULL, path[512];
        int len = 0;
        FILE *f;

        if (!dir || !dbus_message_marshal(msg, &wire, &len))
                return;
        snprintf(path, sizeof(path), "%s/raw-%s-%u", dir,
                 dbus_message_get_member(msg) ? dbus_message_get_member(msg) : "none", counter++);
        f = fopen(path, "we");
        if (f) {
                fputc(head | 0x80, f);
                fwrite(wire, 1, (size_t)len, f);
                fclose(f);
        }
        dbus_free(wire);
}

static bool peer_gone(void)
{
        return F.m.peers != F.peer || !F.peer;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        Input in = { data, size };
        DBusMessage *msg, *reply, *extra;
        uint8_t head;
        Peer *p;

        if (size > 16 * 1024)
                return 0;
        if (!F.ready)
                setup();
        head = take_byte(&in);

        if (head & 0x80) {
                DBusError err = DBUS_ERROR_INIT;
                msg = dbus_message_demarshal((const char *)in.p, (int)in.n, &err);
                dbus_error_free(&err);
                if (!msg)
                        return 0;
        } else {
                msg = build_structured(&in);
                dump_raw(head, msg);
        }

        /* The caller, its groups and its budget. */
        p = F.peer;
        F.m.requests_per_second = F.m.creates_per_second = 1000000;
        F.m.have_admin_gid = true;
        F.m.admin_gid = ADMIN_GID;
        switch (head & 3) {
        case 0:
                p->principal = (Principal){ .uid = 0, .is_root = true };
                break;
        case 1:
                p->principal = (Principal){ .uid = 1000, .is_root = false };
                break;
        case 2:
                p->principal = (Principal){ .uid = 1001, .is_root = false };
                break;
        case 3:
                p->principal = (Principal){ .uid = 0, .is_root = false };
                break;
        }
        p->gid = head & 4 ? ADMIN_GID : 100;
        p->n_groups = 0;
        p->charge->request_tokens = p->charge->create_tokens = head & 8 ? 0 : 1000000;
        if (head & 8) {
                struct timespec ts;

                /* Spent just now: the refill before the request gives less than one. */
                clock_gettime(CLOCK_MONOTONIC, &ts);
                p->charge->refilled_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
                F.m.requests_per_second = F.m.creates_per_second = 1;
        }

        reply = call_and_wait(msg);
        FUZZ_CHECK(!peer_gone(), "the dispatcher dropped the connection");
        if (dbus_message_get_type(msg) == DBUS_MESSAGE_TYPE_METHOD_CALL) {
                FUZZ_CHECK(reply || dbus_message_get_no_reply(msg), "no reply to %s.%s",
                           dbus_message_get_interface(msg) ? dbus_message_get_interface(msg) : "",
                           dbus_message_get_member(msg) ? dbus_message_get_member(msg) : "");
                if (reply)
                        check_reply(msg, reply);
        } else {
                FUZZ_CHECK(!reply, "a reply to a message of type %d", dbus_message_get_type(msg));
        }
        if (getenv("FUZZ_DBUS_VERBOSE")) {
                const char *text = "";

                if (reply && dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR)
                        (void)dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &text,
                                                    DBUS_TYPE_INVALID);
                fprintf(stderr, "uid %u%s: %s.%s(%s) -> %s %s %s\n", (unsigned)p->principal.uid,
                        p->principal.is_root ? " (root)" : "",
                        dbus_message_get_interface(msg) ? dbus_message_get_interface(msg) : "",
                        dbus_message_get_member(msg) ? dbus_message_get_member(msg) : "",
                        dbus_message_get_signature(msg),
                        !reply ? "no reply"
                        : dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR
                                ? dbus_message_get_error_name(reply)
                                : "return",
                        reply ? dbus_message_get_signature(reply) : "", text);
        }
        /* Exactly one reply: nothing else may follow, once the workers are done too. */
        FUZZ_CHECK(pump_until(no_requests, NULL), "background requests did not finish");
        dbus_connection_flush(F.peer->conn);
        extra = drain_client();
        FUZZ_CHECK(!extra, "a second message (type %d) after the reply",
                   extra ? dbus_message_get_type(extra) : 0);
        if (reply)
                dbus_message_unref(reply);
        dbus_message_unref(msg);

        {
                int changed = tree_repair();

                if (changed != 0 || F.m.sessions || F.m.home_waits)
                        state_reset(changed < 0);
        }
        return 0;
}
