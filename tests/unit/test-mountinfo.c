/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for /proc/self/mountinfo and /proc/PID/cgroup parsing (daemon/mountinfo.c) */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#include "mountinfo.h"

/* /proc/self/mountinfo of the development machines (hybrid: v1 controllers + cgroup2). */
static const char hybrid[] =
        "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
        "23 27 0:22 / /sys rw,relatime - sysfs sysfs rw\n"
        "24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs "
        "rw,size=12334460k,nr_inodes=3083615,mode=755\n"
        "25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684084k\n"
        "26 24 0:24 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000\n"
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda "
        "rw,discard,resv_strict,resuid=65534,resgid=65534\n"
        "29 26 0:26 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000\n"
        "30 25 0:27 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684084k\n"
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
        "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
        "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
        "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
        "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

/* Their /proc/self/cgroup: the memory hierarchy nests everything below the machine's cgroup. */
static const char hybrid_cgroup[] =
        "9:name=systemd:/\n"
        "8:pids:/\n"
        "7:blkio:/\n"
        "6:freezer:/\n"
        "5:devices:/\n"
        "4:memory:/process_api/dc9d1cf52bc6f590cf47df57b86942d6\n"
        "3:cpuset:/\n"
        "2:cpuacct:/\n"
        "1:cpu:/\n"
        "0::/\n";

/* A pure cgroup v2 host (Fedora, Debian 11+, Arch with systemd). */
static const char pure_v2[] =
        "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
        "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
        "24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"
        "25 24 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 "
        "cgroup2 rw,nsdelegate,memory_recursiveprot\n"
        "26 24 0:24 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:5 - bpf bpf "
        "rw,mode=700\n";

/* A pure v1 host as systemd set it up before the unified hierarchy (CentOS 7), with a bind
 * mount of the memory hierarchy into a container and a mount point with a space. */
static const char pure_v1[] =
        "18 60 0:17 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw\n"
        "24 18 0:20 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:7 - tmpfs tmpfs ro,mode=755\n"
        "25 24 0:21 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:8 - cgroup "
        "cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd\n"
        "28 24 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - "
        "cgroup cgroup rw,cpu,cpuacct\n"
        "29 24 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:10 - cgroup "
        "cgroup rw,memory\n"
        "30 24 0:26 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime "
        "shared:11 - cgroup cgroup rw,net_cls,net_prio\n"
        "31 24 0:27 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:12 - cgroup "
        "cgroup rw,cpuset,clone_children\n"
        "32 24 0:28 / /sys/fs/cgroup/my\\040pids rw,relatime - cgroup none rw,pids\n"
        "90 60 0:25 /machine/c1 /var/lib/c1/sys/fs/cgroup/memory rw,relatime master:10 "
        "propagate_from:10 - cgroup cgroup rw,memory\n";

static void test_mountinfo_parses_hybrid_text_of_this_machine(void **state)
{
        MountedHierarchy h[MOUNTINFO_HIERARCHIES_MAX];
        size_t n = 99;

        (void)state;
        assert_int_equal(mountinfo_parse_cgroups(hybrid, h, MOUNTINFO_HIERARCHIES_MAX, &n), 0);
        assert_int_equal(n, 10);
        assert_false(h[0].is_v2);
        assert_string_equal(h[0].mount_point, "/sys/fs/cgroup/cpu");
        assert_string_equal(h[0].root, "/");
        assert_string_equal(h[0].controllers, "cpu");
        assert_string_equal(h[3].mount_point, "/sys/fs/cgroup/memory");
        assert_string_equal(h[3].controllers, "memory");
        assert_string_equal(h[8].mount_point, "/sys/fs/cgroup/systemd");
        assert_string_equal(h[8].controllers, "name=systemd");
        assert_true(h[9].is_v2);
        assert_string_equal(h[9].mount_point, "/sys/fs/cgroup/unified");
        assert_string_equal(h[9].controllers, "");
        for (size_t i = 0; i < 9; i++)
                assert_false(h[i].is_v2);
}

static void test_mountinfo_parses_pure_v2(void **state)
{
        MountedHierarchy h[MOUNTINFO_HIERARCHIES_MAX];
        size_t n = 99;

        (void)state;
        assert_int_equal(mountinfo_parse_cgroups(pure_v2, h, MOUNTINFO_HIERARCHIES_MAX, &n), 0);
        assert_int_equal(n, 1);
        assert_true(h[0].is_v2);
        assert_string_equal(h[0].mount_point, "/sys/fs/cgroup");
        assert_string_equal(h[0].root, "/");
        assert_string_equal(h[0].controllers, "");
}

static void test_mountinfo_parses_pure_v1_systemd_layout(void **state)
{
        MountedHierarchy h[MOUNTINFO_HIERARCHIES_MAX];
        size_t n = 99;

        (void)state;
        assert_int_equal(mountinfo_parse_cgroups(pure_v1, h, MOUNTINFO_HIERARCHIES_MAX, &n), 0);
        assert_int_equal(n, 6); /* the container's bind mount of memory is skipped */
        assert_string_equal(h[0].controllers, "name=systemd");
        assert_string_equal(h[0].mount_point, "/sys/fs/cgroup/systemd");
        assert_string_equal(h[1].controllers, "cpu,cpuacct");
        assert_string_equal(h[1].mount_point, "/sys/fs/cgroup/cpu,cpuacct");
        assert_string_equal(h[2].controllers, "memory");
        assert_string_equal(h[3].controllers, "net_cls,net_prio");
        assert_string_equal(h[4].controllers, "cpuset");
        assert_string_equal(h[5].controllers, "pids");
        for (size_t i = 0; i < n; i++)
                assert_false(h[i].is_v2);
}

static void test_mountinfo_unescapes_spaces(void **state)
{
        MountedHierarchy h[MOUNTINFO_HIERARCHIES_MAX];
        size_t n;

        (void)state;
        assert_int_equal(mountinfo_parse_cgroups(pure_v1, h, MOUNTINFO_HIERARCHIES_MAX, &n), 0);
        assert_string_equal(h[5].mount_point, "/sys/fs/cgroup/my pids");
}

static void test_mountinfo_keeps_first_cgroup2_mount(void **state)
{
        static const char text[] =
                "25 24 0:23 / /sys/fs/cgroup rw,relatime shared:4 - cgroup2 cgroup2 rw\n"
                "80 79 0:23 /user.slice /run/c/sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n";
        MountedHierarchy h[2];
        size_t n;

        (void)state;
        assert_int_equal(mountinfo_parse_cgroups(text, h, 2, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(h[0].mount_point, "/sys/fs/cgroup");
}

static void test_mountinfo_reports_mount_root(void **state)
{
        static const char text[] = "80 79 0:23 /lxc/c\\0401 /sys/fs/cgroup rw - cgroup2 cgroup2 "
                                   "rw";
        MountedHierarchy h[2];
        size_t n;

        (void)state;
        assert_int_equal(mountinfo_parse_cgroups(text, h, 2, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(h[0].root, "/lxc/c 1");
}

static void test_mountinfo_strips_non_controller_options(void **state)
{
        static const char text[] =
                "31 24 0:27 / /c rw - cgroup cgroup rw,noprefix,cpuset,clone_children,"
                "cpuset_v2_mode,xattr,release_agent=/bin/x\n"
                "32 24 0:28 / /n ro - cgroup none ro,none,name=mine\n";
        MountedHierarchy h[4];
        size_t n;

        (void)state;
        assert_int_equal(mountinfo_parse_cgroups(text, h, 4, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(h[0].controllers, "cpuset");
        assert_string_equal(h[1].controllers, "name=mine");
}

static void test_mountinfo_without_cgroups_is_empty(void **state)
{
        static const char text[] = "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/vda rw\n";
        MountedHierarchy h[1];
        size_t n = 5;

        (void)state;
        assert_int_equal(mountinfo_parse_cgroups(text, h, 1, &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(mountinfo_parse_cgroups("", h, 1, &n), 0);
        assert_int_equal(n, 0);
}

static void test_mountinfo_rejects_malformed_text(void **state)
{
        static const char *const bad[] = {
                "garbage\n",
                "25 24 0:23 / /sys/fs/cgroup rw,relatime shared:4 cgroup2 cgroup2 rw\n",
                "25 24 0:23 / /sys/fs/cgroup rw - cgroup2\n",
                "25 24 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw extra field\n",
                "25 24 0:23 / relative rw - cgroup2 cgroup2 rw\n",
                "25 24 0:23 / /a\\000b rw - cgroup2 cgroup2 rw\n",
        };
        MountedHierarchy h[4];

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                size_t n = 7;
                char text[512];

                /* A valid cgroup line first: no partial result may leak out. */
                snprintf(text, sizeof(text), "%s%s",
                         "1 0 0:1 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", bad[i]);
                if (mountinfo_parse_cgroups(text, h, 4, &n) != -EINVAL)
                        fail_msg("accepted: %s", bad[i]);
                assert_int_equal(n, 0);
        }
}

static void test_mountinfo_too_many_hierarchies(void **state)
{
        MountedHierarchy h[3];
        size_t n = 7;

        (void)state;
        assert_int_equal(mountinfo_parse_cgroups(hybrid, h, 3, &n), -E2BIG);
        assert_int_equal(n, 0);
}

static void test_mountinfo_long_mount_point(void **state)
{
        char text[1024], mp[400];
        MountedHierarchy h[2];
        size_t n;

        (void)state;
        memset(mp, 'm', sizeof(mp) - 1);
        mp[0] = '/';
        mp[sizeof(mp) - 1] = '\0';
        snprintf(text, sizeof(text), "1 0 0:1 / %s rw - cgroup2 cgroup2 rw\n", mp);
        assert_int_equal(mountinfo_parse_cgroups(text, h, 2, &n), -ENAMETOOLONG);
        /* The same length on a non-cgroup line does not matter. */
        snprintf(text, sizeof(text), "1 0 0:1 / %s rw - ext4 /dev/x rw\n", mp);
        assert_int_equal(mountinfo_parse_cgroups(text, h, 2, &n), 0);
}

/* --- /proc/PID/cgroup --------------------------------------------------------------------- */

static void lookup_ok(const char *text, const char *controller, const char *want)
{
        char path[256];
        int r = proc_cgroup_lookup(text, controller, path, sizeof(path));

        if (r != 0)
                fail_msg("lookup of `%s` failed: %d", controller, r);
        assert_string_equal(path, want);
}

static void test_proc_cgroup_v2_line(void **state)
{
        (void)state;
        lookup_ok(hybrid_cgroup, "", "/");
        lookup_ok("0::/user.slice/user-1000.slice/session-2.scope\n", "",
                  "/user.slice/user-1000.slice/session-2.scope");
        lookup_ok("0::/cgm/user-1000/build", "", "/cgm/user-1000/build");
}

static void test_proc_cgroup_v1_memory_nested_path(void **state)
{
        (void)state;
        lookup_ok(hybrid_cgroup, "memory", "/process_api/dc9d1cf52bc6f590cf47df57b86942d6");
        lookup_ok("4:memory:/a/b/c\n0::/\n", "memory", "/a/b/c");
}

static void test_proc_cgroup_named_hierarchy(void **state)
{
        (void)state;
        lookup_ok(hybrid_cgroup, "name=systemd", "/");
        lookup_ok("1:name=systemd:/user.slice\n", "name=systemd", "/user.slice");
}

static void test_proc_cgroup_comma_listed_controllers(void **state)
{
        static const char text[] = "3:net_cls,net_prio:/n\n2:cpu,cpuacct:/x\n0::/v2\n";

        (void)state;
        lookup_ok(text, "cpu", "/x");
        lookup_ok(text, "cpuacct", "/x");
        lookup_ok(text, "net_prio", "/n");
        lookup_ok(text, "", "/v2");
}

static void test_proc_cgroup_missing_controller(void **state)
{
        char path[64];

        (void)state;
        assert_int_equal(proc_cgroup_lookup(hybrid_cgroup, "hugetlb", path, sizeof(path)),
                         -ENOENT);
        assert_int_equal(proc_cgroup_lookup("2:cpu,cpuacct:/x\n", "cpuac", path, sizeof(path)),
                         -ENOENT);
        assert_int_equal(proc_cgroup_lookup("2:cpu,cpuacct:/x\n", "", path, sizeof(path)),
                         -ENOENT);
        assert_int_equal(proc_cgroup_lookup("0::/\n", "memory", path, sizeof(path)), -ENOENT);
        assert_int_equal(proc_cgroup_lookup("", "", path, sizeof(path)), -ENOENT);
}

static void test_proc_cgroup_path_with_spaces_and_colons(void **state)
{
        (void)state;
        lookup_ok("0::/cgm/a b/c:d (deleted)\n", "", "/cgm/a b/c:d (deleted)");
        lookup_ok("4:memory:/x y\n", "memory", "/x y");
}

static void test_proc_cgroup_rejects_malformed(void **state)
{
        static const char *const bad[] = { "junk\n", "0:/\n", "x::/\n", ":memory:/\n",
                                           "0::relative\n", "0::\n", "4:memory:/\nbad\n" };
        char path[64];

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (proc_cgroup_lookup(bad[i], "memory", path, sizeof(path)) != -EINVAL)
                        fail_msg("accepted: %s", bad[i]);
}

static void test_proc_cgroup_path_too_long(void **state)
{
        char path[8];

        (void)state;
        assert_int_equal(proc_cgroup_lookup("0::/0123456789\n", "", path, sizeof(path)),
                         -ENAMETOOLONG);
        assert_int_equal(proc_cgroup_lookup("0::/0123456\n", "", path, sizeof(path)),
                         -ENAMETOOLONG);
        assert_int_equal(proc_cgroup_lookup("0::/012345\n", "", path, sizeof(path)), 0);
        assert_string_equal(path, "/012345");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mountinfo_parses_hybrid_text_of_this_machine),
                cmocka_unit_test(test_mountinfo_parses_pure_v2),
                cmocka_unit_test(test_mountinfo_parses_pure_v1_systemd_layout),
                cmocka_unit_test(test_mountinfo_unescapes_spaces),
                cmocka_unit_test(test_mountinfo_keeps_first_cgroup2_mount),
                cmocka_unit_test(test_mountinfo_reports_mount_root),
                cmocka_unit_test(test_mountinfo_strips_non_controller_options),
                cmocka_unit_test(test_mountinfo_without_cgroups_is_empty),
                cmocka_unit_test(test_mountinfo_rejects_malformed_text),
                cmocka_unit_test(test_mountinfo_too_many_hierarchies),
                cmocka_unit_test(test_mountinfo_long_mount_point),
                cmocka_unit_test(test_proc_cgroup_v2_line),
                cmocka_unit_test(test_proc_cgroup_v1_memory_nested_path),
                cmocka_unit_test(test_proc_cgroup_named_hierarchy),
                cmocka_unit_test(test_proc_cgroup_comma_listed_controllers),
                cmocka_unit_test(test_proc_cgroup_missing_controller),
                cmocka_unit_test(test_proc_cgroup_path_with_spaces_and_colons),
                cmocka_unit_test(test_proc_cgroup_rejects_malformed),
                cmocka_unit_test(test_proc_cgroup_path_too_long),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
