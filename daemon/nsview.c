/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A caller's namespaces, and the translation of answers into its terms
 *
 * cgmd runs in the initial user, pid and cgroup namespaces and thinks in host terms: host
 * uids, host pids, paths in the primary hierarchy. A caller in a container lives in its own
 * namespaces, and what it sends and reads must be in its terms (spec §4, §5). When a
 * connection is accepted, the process that connected (its pidfd) is asked for the inodes of
 * its user, pid and cgroup namespaces, its uid map, the depth of its pid namespace and the
 * root of its cgroup namespace. Those facts are fixed for the connection; every request of a
 * caller in a foreign namespace checks that the process still lives where it did, so a
 * process cannot connect in one place and act from another, and a uid map written after
 * connect (an empty map at connect) is noticed.
 *
 * The principal is still the host uid the kernel reports (SO_PEERCRED). The map only widens
 * what root of a user namespace may do for the uids it maps (auth.c), and translates uids
 * shown to the caller.
 *
 * Pids: a host pid is shown as the pid the caller's pid namespace gives it, found in
 * /proc/PID/status (NSpid, one pid per namespace level) after checking, through
 * NS_GET_PARENT on the process's pid namespace, that the namespace at the caller's level is
 * the caller's. Processes the caller cannot see are not shown.
 *
 * Paths: the kernel shows cgroup paths relative to the reader's cgroup namespace. The root of
 * the caller's namespace is found once, at connect, by reading the caller's /proc/PID/cgroup
 * from inside that namespace (setns on the daemon's main thread, which then returns at once to
 * its own namespace; cgmd aborts rather than run on in a foreign one). Replies, and the
 * backquoted paths of error messages, are shown relative to that root.
 *
 * Scope: a cgroup namespace is a delegation boundary, as the kernel's nsdelegate makes it. A
 * caller in one of its own acts only inside its root (nsview_scope()), so root of a rootless
 * container, which is the very uid that owns the home around it, cannot use the socket to
 * leave the limits its container was given.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "mountinfo.h"
#include "name.h"
#include "nsview.h"
#include "proc.h"
#include "protocol.h"
#include "text.h"

/* A uid_map of 340 lines of three 10-digit numbers, with room to notice a longer one. */
#define MAP_TEXT_MAX 16384

static unsigned long self_ns_ino(const char *type)
{
        char path[64];
        struct stat st;

        snprintf(path, sizeof(path), "/proc/self/ns/%s", type);
        return stat(path, &st) < 0 ? 0 : (unsigned long)st.st_ino;
}

int nsself_init(NsSelf *s, CgmError *e)
{
        char buf[32] = "";
        _cleanup_close_ int fd = open("/proc/sys/kernel/overflowuid", O_RDONLY | O_CLOEXEC);

        *s = (NsSelf)NS_SELF_NULL;
        s->user_ino = self_ns_ino("user");
        s->pid_ino = self_ns_ino("pid");
        s->cgroup_ino = self_ns_ino("cgroup");
        if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0)
                s->overflow_uid = (uid_t)strtoul(buf, NULL, 10);
        /* Kernels without cgroup namespaces (before 4.6) have no ns/cgroup: nobody then
         * lives in another one. */
        s->cgroupns_fd = open("/proc/self/ns/cgroup", O_RDONLY | O_CLOEXEC);
        if (!s->user_ino || !s->pid_ino)
                return cgm_error_set(e, -ENOENT, NULL, "cannot read /proc/self/ns: %m");
        return 0;
}

void nsself_deinit(NsSelf *s)
{
        safe_close(s->cgroupns_fd);
        s->cgroupns_fd = -1;
}

static int pid_level(int procdir, unsigned *levelp)
{
        char buf[4096], *line;
        unsigned n = 0;
        int r = proc_read_file(procdir, "status", buf, sizeof(buf));

        if (r < 0)
                return r;
        line = strstr(buf, "\nNSpid:");
        if (!line)
                return *levelp = 0, 0; /* kernels before 4.1: no pid namespaces to speak of */
        line += strlen("\nNSpid:");
        for (char *p = line; *p && *p != '\n';) {
                while (*p == ' ' || *p == '\t')
                        p++;
                if (*p >= '0' && *p <= '9')
                        n++;
                while (*p && *p != '\n' && *p != ' ' && *p != '\t')
                        p++;
        }
        *levelp = n > 0 ? n - 1 : 0;
        return 0;
}

/* Where the caller is, as the daemon sees it and as the caller's cgroup namespace shows it;
 * the namespace's root is the first less the second. */
static int cgroup_root_capture(NsView *v, const NsSelf *self, int procdir,
                               const char *controller)
{
        char text[16384], host[4096], seen[4096];
        _cleanup_close_ int nsfd = openat(procdir, "ns/cgroup", O_RDONLY | O_CLOEXEC);
        size_t hl, sl;
        int r;

        if (nsfd < 0)
                return -errno;
        r = proc_read_cgroup(procdir, text, sizeof(text));
        if (r < 0)
                return r;
        r = proc_cgroup_lookup(text, controller, host, sizeof(host));
        if (r < 0)
                return r;
        if (self->cgroupns_fd < 0)
                return -EOPNOTSUPP;
        if (setns(nsfd, CLONE_NEWCGROUP) < 0)
                return -errno;
        r = proc_read_cgroup(procdir, text, sizeof(text));
        if (setns(self->cgroupns_fd, CLONE_NEWCGROUP) < 0) {
                /* Every path this thread reads from now on would be wrong. */
                log_error("cannot return to cgmd's own cgroup namespace: %m; stopping");
                abort();
        }
        if (r < 0)
                return r;
        r = proc_cgroup_lookup(text, controller, seen, sizeof(seen));
        if (r < 0)
                return r;
        if (strcmp(seen, "/..") == 0 || strncmp(seen, "/../", 4) == 0) {
                v->cgroup_root_unknown = true; /* it sits above its own namespace's root */
                return 0;
        }
        hl = strlen(host);
        sl = strcmp(seen, "/") == 0 ? 0 : strlen(seen);
        if (sl > hl || (sl > 0 && strcmp(host + hl - sl, seen) != 0))
                return -EINVAL;
        if (hl - sl == 0)
                v->cgroup_root = strdup("/");
        else
                v->cgroup_root = strndup(host, hl - sl);
        return v->cgroup_root ? 0 : -ENOMEM;
}

int nsview_capture(NsView *v, const NsSelf *self, int pidfd, const char *controller)
{
        pid_t pid = 0;
        _cleanup_close_ int procdir = proc_pidfd_procdir(pidfd, &pid);
        char *text;
        int r;

        *v = (NsView){ .overflow_uid = self->overflow_uid };
        if (procdir < 0)
                return procdir;
        v->user_ino = proc_ns_ino(procdir, "user");
        v->pid_ino = proc_ns_ino(procdir, "pid");
        v->cgroup_ino = proc_ns_ino(procdir, "cgroup");
        if (!v->user_ino || !v->pid_ino)
                return -ESRCH;
        v->in_userns = v->user_ino != self->user_ino;
        v->foreign = v->in_userns || v->pid_ino != self->pid_ino ||
                     v->cgroup_ino != self->cgroup_ino;
        if (!v->foreign)
                return 0;
        if (v->in_userns) {
                text = calloc(1, MAP_TEXT_MAX);
                if (!text)
                        return -ENOMEM;
                v->map_text = text;
                r = proc_read_file(procdir, "uid_map", text, MAP_TEXT_MAX);
                if (r < 0)
                        return r;
                r = uidmap_parse(&v->map, text);
                if (r < 0)
                        return r;
                /* Keep only what was read: a few bytes for the usual one-line map. */
                v->map_text = realloc(text, strlen(text) + 1) ?: text;
        }
        if (v->pid_ino != self->pid_ino) {
                r = pid_level(procdir, &v->pid_level);
                if (r < 0)
                        return r;
        }
        if (v->cgroup_ino != self->cgroup_ino) {
                r = cgroup_root_capture(v, self, procdir, controller);
                if (r == -ESRCH || r == -ENOMEM)
                        return r;
                if (r < 0) {
                        /* Serve it still: relative paths work, absolute ones are refused. */
                        log_warning("cannot find the root of the cgroup namespace of pid %d: "
                                    "%s; its absolute paths will be refused",
                                    (int)pid, strerror(-r));
                        v->cgroup_root_unknown = true;
                }
        }
        return 0;
}

int nsview_set_base(NsView *v, const char *base)
{
        const char *root = v->cgroup_root;
        size_t rl;

        if (!root)
                return 0;
        rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
        if (strncmp(base, root, rl) == 0 && (base[rl] == '\0' || base[rl] == '/' || rl == 0)) {
                v->root_above_base = true;
                return 0;
        }
        rl = strlen(base);
        if (strcmp(base, "/") == 0)
                rl = 0;
        if (strncmp(root, base, rl) == 0 && root[rl] == '/') {
                v->root_rel = strdup(root + rl + 1);
                return v->root_rel ? 0 : -ENOMEM;
        }
        return 0; /* beside the base: nothing of cgmd's is in its namespace */
}

const char *nsview_scope(const NsView *v, const char *home)
{
        if (!home || (!v->cgroup_root && !v->cgroup_root_unknown) || v->root_above_base)
                return home;
        if (!v->root_rel)
                return NULL; /* unknown, or beside the base */
        if (cgm_path_is_within(v->root_rel, home))
                return v->root_rel;
        if (cgm_path_is_within(home, v->root_rel))
                return home;
        return NULL;
}

void nsview_free(NsView *v)
{
        uidmap_free(&v->map);
        free(v->map_text);
        free(v->cgroup_root);
        free(v->root_rel);
        *v = (NsView){ 0 };
}

int nsview_verify(const NsView *v, int pidfd, CgmError *e)
{
        _cleanup_close_ int procdir = -1;
        char text[MAP_TEXT_MAX];
        const char *what = NULL;

        if (!v->foreign)
                return 0;
        procdir = proc_pidfd_procdir(pidfd, NULL);
        if (procdir < 0)
                what = "has exited";
        else if (proc_ns_ino(procdir, "user") != v->user_ino)
                what = "has left the user namespace it connected from";
        else if (proc_ns_ino(procdir, "pid") != v->pid_ino)
                what = "has left the pid namespace it connected from";
        else if (proc_ns_ino(procdir, "cgroup") != v->cgroup_ino)
                what = "has left the cgroup namespace it connected from";
        else if (v->in_userns && (proc_read_file(procdir, "uid_map", text, sizeof(text)) < 0 ||
                                  strcmp(text, v->map_text) != 0))
                what = "has a uid map other than at connect (written after it connected)";
        if (!what)
                return 0;
        return cgm_error_set(e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                             "the process that opened this connection %s; cgmd answers a caller "
                             "in a container only while that process lives where it connected "
                             "from: connect again",
                             what);
}

void nsview_message_out(const NsView *v, char *msg, size_t n)
{
        char out[1024], path[512], shown[512];
        size_t o = 0;
        const char *p = msg;

        if (!v->cgroup_root || strcmp(v->cgroup_root, "/") == 0)
                return;
        while (*p && o + 1 < sizeof(out)) {
                const char *end;
                size_t len;
                if (p[0] != '`' || p[1] != '/' || !(end = strchr(p + 1, '`')) ||
                    (len = (size_t)(end - p - 1)) >= sizeof(path)) {
                        out[o++] = *p++;
                        continue;
                }
                memcpy(path, p + 1, len);
                path[len] = '\0';
                nsview_path_out(v, path, shown, sizeof(shown));
                o += (size_t)snprintf(out + o, sizeof(out) - o, "`%s`", shown);
                if (o >= sizeof(out))
                        o = sizeof(out) - 1;
                p = end + 1;
        }
        out[o] = '\0';
        snprintf(msg, n, "%s", out);
}

uid_t nsview_uid_out(const NsView *v, uid_t host)
{
        uid_t u;

        if (!v->in_userns)
                return host;
        u = uidmap_to_inside(&v->map, host);
        return u == (uid_t)-1 ? v->overflow_uid : u;
}

/* Is the pid namespace @levels above the one at @nsfd the caller's? Takes @nsfd. */
static bool pidns_ancestor_is(int nsfd, unsigned levels, unsigned long want)
{
        struct stat st;

        for (unsigned i = 0; nsfd >= 0 && i < levels; i++) {
                int parent = ioctl(nsfd, NS_GET_PARENT);
                close(nsfd);
                nsfd = parent;
        }
        if (nsfd < 0)
                return false;
        if (fstat(nsfd, &st) < 0) {
                close(nsfd);
                return false;
        }
        close(nsfd);
        return (unsigned long)st.st_ino == want;
}

pid_t nsview_pid_out(const NsView *v, pid_t host)
{
        char path[64], buf[4096], *line, *p;
        long pids[33];
        unsigned n = 0;
        _cleanup_close_ int procdir = -1;
        int nsfd;

        if (v->pid_level == 0)
                return host; /* the daemon's pid namespace: host pids are its pids */
        snprintf(path, sizeof(path), "/proc/%d", (int)host);
        procdir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (procdir < 0 || proc_read_file(procdir, "status", buf, sizeof(buf)) < 0)
                return 0;
        line = strstr(buf, "\nNSpid:");
        if (!line)
                return v->pid_level == 0 ? host : 0;
        p = line + strlen("\nNSpid:");
        while (*p && *p != '\n' && n < ELEMENTSOF(pids)) {
                char *end;
                while (*p == ' ' || *p == '\t')
                        p++;
                pids[n] = strtol(p, &end, 10);
                if (end == p)
                        break;
                n++;
                p = end;
        }
        if (n == 0 || n - 1 < v->pid_level)
                return 0; /* its namespace is above or beside the caller's */
        if (v->pid_level == 0)
                return (pid_t)pids[0];
        nsfd = openat(procdir, "ns/pid", O_RDONLY | O_CLOEXEC);
        if (nsfd < 0 || !pidns_ancestor_is(nsfd, n - 1 - v->pid_level, v->pid_ino))
                return 0;
        return (pid_t)pids[v->pid_level];
}

int nsview_path_in(const NsView *v, const char *input, char *out, size_t n, CgmError *e)
{
        char root[4096];
        size_t rl;

        if (input[0] != '/' || (!v->cgroup_root && !v->cgroup_root_unknown)) {
                if (strlen(input) >= n)
                        return cgm_error_set(e, -ENAMETOOLONG, CGM_ERR_INVALID_NAME,
                                             "path is too long");
                strcpy(out, input);
                return 0;
        }
        if (v->cgroup_root_unknown)
                return cgm_error_set(e, -EOPNOTSUPP, CGM_ERR_NOT_SUPPORTED,
                                     "your process was outside the root of its own cgroup "
                                     "namespace when it connected, so cgmd cannot tell where "
                                     "`/` is for you, nor what you may act on; connect from a "
                                     "process inside your namespace's root");
        snprintf(root, sizeof(root), "%s", strcmp(v->cgroup_root, "/") == 0 ? "" : v->cgroup_root);
        /* Leading "/.." as nsview_path_out() writes them (and the kernel does): up from the
         * root. Any other ".." is left for the name check to refuse. */
        while (strncmp(input, "/..", 3) == 0 && (input[3] == '\0' || input[3] == '/')) {
                char *slash = strrchr(root, '/');
                if (!slash)
                        return cgm_error_set(e, -EINVAL, CGM_ERR_INVALID_NAME,
                                             "path goes above the top of the hierarchy");
                *slash = '\0';
                input += 3;
        }
        rl = strlen(root);
        if ((size_t)snprintf(out, n, "%s%s", root, *input ? input : (rl ? "" : "/")) >= n)
                return cgm_error_set(e, -ENAMETOOLONG, CGM_ERR_INVALID_NAME,
                                     "path is too long");
        if (strcmp(out, "/") != 0 && out[strlen(out) - 1] == '/' && strcmp(input, "/") == 0)
                out[strlen(out) - 1] = '\0';
        return 0;
}

const char *nsview_path_out(const NsView *v, const char *host, char *out, size_t n)
{
        const char *root = v->cgroup_root, *rest;
        size_t common = 0, o = 0;

        if (!root || strcmp(root, "/") == 0) {
                snprintf(out, n, "%s", host);
                return out;
        }
        /* Longest common prefix made of whole components. */
        for (size_t i = 0;; i++) {
                bool end_r = root[i] == '\0' || root[i] == '/';
                bool end_h = host[i] == '\0' || host[i] == '/';
                if (end_r && end_h)
                        common = i;
                if (root[i] != host[i] || root[i] == '\0')
                        break;
        }
        if (root[common] == '\0') {
                /* At or below the root. */
                rest = host + common;
                snprintf(out, n, "%s", *rest ? rest : "/");
                return out;
        }
        /* Elsewhere: up from the root to the common ancestor, then down, as the kernel does. */
        out[0] = '\0';
        for (const char *p = root + common; *p; p++)
                if (*p == '/' && o + 4 < n) {
                        memcpy(out + o, "/..", 4);
                        o += 3;
                }
        rest = host + common;
        snprintf(out + o, n - o, "%s", strcmp(rest, "/") == 0 ? "" : rest);
        return out;
}
