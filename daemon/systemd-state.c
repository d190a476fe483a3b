/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd mode's records: small files in a directory of root's beside the socket
 *
 * systemd mode keeps two kinds of record across restarts of cgmd (systemd.c says what they
 * hold): not in cgroupfs, since the base lies in cgmd.service's cgroup, which systemd removes
 * with everything in it when cgmd stops, but in /run/cgm/cgm-systemd, the unit's
 * RuntimeDirectory, kept across restarts and emptied at boot as the runtime properties are.
 * The directory is cgmd's own (mode 0700, refused when someone else made it); records are
 * opened without following links and replaced by rename, so a cgmd killed on the way leaves
 * the old record or the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "systemd-internal.h"

/* Open (and make) SD_STATE_DIR beside the socket: a directory of cgmd's user, mode 0700. */
int sd_state_open(const char *socket_path)
{
        char dir[CGM_PATH_MAX + 1], *slash;
        _cleanup_close_ int parent = -1;
        struct stat st;
        int fd;

        snprintf(dir, sizeof(dir), "%s", socket_path);
        slash = strrchr(dir, '/');
        if (!slash)
                return -EINVAL;
        if (slash == dir)
                slash[1] = '\0';
        else
                *slash = '\0';
        /* The socket's directory, made as server.c makes it (the server starts later). */
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        parent = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0)
                return -errno;
        if (mkdirat(parent, SD_STATE_DIR, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(parent, SD_STATE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* Made by someone else (the socket's directory may be writable by others): not ours. */
        if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
                close(fd);
                return -EPERM;
        }
        return fd;
}

/* Read record file @name into @buf (NUL-terminated); -ENOENT when there is none. */
int sd_state_read(int dir_fd, const char *name, char *buf, size_t n)
{
        _cleanup_close_ int fd = -1;
        size_t l = 0;

        if (dir_fd < 0)
                return -ENOENT;
        fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while (l < n - 1) {
                ssize_t k = read(fd, buf + l, n - 1 - l);
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                l += (size_t)k;
        }
        buf[l] = '\0';
        return 0;
}

/* Replace record file @name by @len bytes of @buf: a new file renamed over the old one, so
 * that a cgmd killed on the way leaves the old record or the new one, never half of one. */
int sd_state_write(int dir_fd, const char *name, const char *buf, size_t len)
{
        char tmp[128];
        _cleanup_close_ int fd = -1;
        int r = 0;

        if (dir_fd < 0)
                return -EBADF;
        snprintf(tmp, sizeof(tmp), ".%s.new", name);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                    0600);
        if (fd < 0)
                return -errno;
        for (size_t o = 0; o < len;) {
                ssize_t k = write(fd, buf + o, len - o);
                if (k < 0) {
                        r = -errno;
                        break;
                }
                o += (size_t)k;
        }
        if (r == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0)
                (void)unlinkat(dir_fd, tmp, 0);
        return r;
}

int sd_state_remove(int dir_fd, const char *name)
{
        if (dir_fd < 0)
                return 0;
        return unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
}
