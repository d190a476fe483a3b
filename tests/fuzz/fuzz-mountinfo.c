/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzer for the /proc/self/mountinfo and /proc/PID/cgroup parsers (daemon/mountinfo.c)
 *
 * The same text goes to both parsers. Checked besides crashes:
 *  - mountinfo_parse_cgroups(): on success at most @max hierarchies, each with absolute,
 *    NUL-terminated mount point and root, at most one cgroup2, no two v1 hierarchies with
 *    the same controller list, and v1 lists free of empty items and of generic options
 *    (rw, ro, ...); on failure a documented code and no result. With room for fewer
 *    hierarchies the parse gives the same answer, or -E2BIG exactly when they do not fit.
 *  - proc_cgroup_lookup() for the v2 line, common controllers, a named hierarchy and the
 *    controller field of the first line: a found path is absolute, one line of the text,
 *    and a smaller buffer gives the same path or -ENAMETOOLONG exactly when it does not fit.
 */

#include <errno.h>

#include "fuzz-util.h"
#include "mountinfo.h"

static const char *const generic_options[] = { "rw", "ro", "xattr", "noprefix", "clone_children",
                                               "none", "nsdelegate" };

static void check_hierarchies(const MountedHierarchy *h, size_t n)
{
        size_t v2 = 0;

        for (size_t i = 0; i < n; i++) {
                FUZZ_CHECK(memchr(h[i].mount_point, '\0', sizeof(h[i].mount_point)) &&
                                   h[i].mount_point[0] == '/',
                           "mount point `%s`", h[i].mount_point);
                FUZZ_CHECK(memchr(h[i].root, '\0', sizeof(h[i].root)) && h[i].root[0] == '/',
                           "root `%s`", h[i].root);
                FUZZ_CHECK(memchr(h[i].controllers, '\0', sizeof(h[i].controllers)), "controllers");
                if (h[i].is_v2) {
                        v2++;
                        FUZZ_CHECK(h[i].controllers[0] == '\0', "v2 with controllers `%s`",
                                   h[i].controllers);
                        continue;
                }
                for (size_t j = i + 1; j < n; j++)
                        FUZZ_CHECK(h[j].is_v2 || strcmp(h[i].controllers, h[j].controllers) != 0,
                                   "v1 hierarchy `%s` twice", h[i].controllers);
                if (h[i].controllers[0]) {
                        char copy[sizeof(h[i].controllers)], *save = NULL;
                        size_t l = strlen(h[i].controllers);

                        FUZZ_CHECK(h[i].controllers[0] != ',' && h[i].controllers[l - 1] != ',' &&
                                           !strstr(h[i].controllers, ",,"),
                                   "empty item in `%s`", h[i].controllers);
                        memcpy(copy, h[i].controllers, l + 1);
                        for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
                                for (size_t g = 0; g < sizeof(generic_options) / sizeof(generic_options[0]); g++)
                                        FUZZ_CHECK(strcmp(c, generic_options[g]) != 0,
                                                   "generic option `%s` taken for a controller", c);
                                FUZZ_CHECK(strncmp(c, "release_agent=", 14) != 0,
                                           "release_agent taken for a controller");
                        }
                }
        }
        FUZZ_CHECK(v2 <= 1, "%zu cgroup2 hierarchies", v2);
}

static void check_mountinfo(const char *text)
{
        MountedHierarchy all[MOUNTINFO_HIERARCHIES_MAX], few[2];
        size_t n = 99, n_few = 99;
        int r, r_few;

        r = mountinfo_parse_cgroups(text, all, MOUNTINFO_HIERARCHIES_MAX, &n);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENAMETOOLONG || r == -E2BIG, "returned %d", r);
        if (r < 0) {
                FUZZ_CHECK(n == 0, "%zu results on failure", n);
                return;
        }
        FUZZ_CHECK(n <= MOUNTINFO_HIERARCHIES_MAX, "%zu results", n);
        check_hierarchies(all, n);

        r_few = mountinfo_parse_cgroups(text, few, 2, &n_few);
        if (n <= 2) {
                FUZZ_CHECK(r_few == 0 && n_few == n, "%d/%zu with room for 2, %zu with room for %d",
                           r_few, n_few, n, MOUNTINFO_HIERARCHIES_MAX);
                for (size_t i = 0; i < n; i++)
                        FUZZ_CHECK(memcmp(&few[i], &all[i], sizeof(few[i])) == 0,
                                   "hierarchy %zu differs", i);
        } else {
                FUZZ_CHECK(r_few == -E2BIG && n_few == 0, "%d/%zu for %zu hierarchies in 2",
                           r_few, n_few, n);
        }
}

static void check_lookup(const char *text, const char *controller)
{
        char path[4096], small[8];
        int r, r_small;

        r = proc_cgroup_lookup(text, controller, path, sizeof(path));
        FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EINVAL || r == -ENAMETOOLONG, "returned %d", r);
        r_small = proc_cgroup_lookup(text, controller, small, sizeof(small));
        if (r != 0) {
                FUZZ_CHECK(path[0] == '\0', "path `%s` on failure", path);
                FUZZ_CHECK(r_small == r, "%d with a large buffer, %d with a small one", r, r_small);
                return;
        }
        FUZZ_CHECK(path[0] == '/', "path `%s`", path);
        FUZZ_CHECK(!strchr(path, '\n'), "path holds a newline");
        FUZZ_CHECK(strstr(text, path) != NULL, "path `%s` is not in the text", path);
        if (strlen(path) < sizeof(small))
                FUZZ_CHECK(r_small == 0 && strcmp(small, path) == 0, "small buffer: %d `%s`",
                           r_small, small);
        else
                FUZZ_CHECK(r_small == -ENAMETOOLONG, "small buffer: %d for `%s`", r_small, path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const controllers[] = { "", "memory", "cpu", "cpuacct", "name=systemd" };
        char *text, first[64] = "";
        const char *c1, *c2;

        if (size > 64 * 1024)
                return 0;
        text = fuzz_strndup(data, size);
        check_mountinfo(text);
        for (size_t i = 0; i < sizeof(controllers) / sizeof(controllers[0]); i++)
                check_lookup(text, controllers[i]);
        /* The controller field of the first line, so that lookups also find things. */
        c1 = strchr(text, ':');
        c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2 && (size_t)(c2 - c1 - 1) < sizeof(first) && !memchr(c1 + 1, '\n', (size_t)(c2 - c1 - 1))) {
                memcpy(first, c1 + 1, (size_t)(c2 - c1 - 1));
                first[c2 - c1 - 1] = '\0';
                first[strcspn(first, ",")] = '\0';
                check_lookup(text, first);
        }
        free(text);
        return 0;
}
