/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the reads cgmd and libcgm share (common/cgread.c), on a fake cgroupfs
 *
 * A temporary directory stands in for two hierarchies: "v2" (cgroup2, with pids and cpu
 * enabled for the base's children) and "mem" (a v1 memory hierarchy). The files hold what
 * the kernel would show; the tests check the answers both sides give: values in v2 form, the
 * v1 translation, the errors' names and sentences, counters, listings and pids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgread.h"
#include "cleanup.h"
#include "protocol.h"

static char root[256];
static Cgfs cg;

static void put_file(const char *rel, const char *text)
{
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void put_dir(const char *rel)
{
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
        char path[512];

        (void)state;
        snprintf(root, sizeof(root), "/tmp/test-cgread-%d-XXXXXX", (int)getpid());
        assert_non_null(mkdtemp(root));
        put_dir("v2");
        put_dir("v2/cgm");
        put_dir("v2/cgm/a");
        put_dir("v2/cgm/a/b");
        put_dir("v2/cgm/a/bad name"); /* not a name cgm can address: never listed */
        put_dir("mem");
        put_dir("mem/cgm");
        put_dir("mem/cgm/a");
        put_dir("mem/cgm/a/b");
        put_file("v2/cgm/a/pids.max", "50\n");
        put_file("v2/cgm/a/cpu.max", "max 100000\n");
        put_file("v2/cgm/a/cgroup.procs", "101\n102\n");
        put_file("v2/cgm/a/b/cgroup.procs", "103\n");
        put_file("v2/cgm/a/cgroup.events", "populated 1\nfrozen 0\n");
        put_file("v2/cgm/a/cpu.stat", "usage_usec 1234\nuser_usec 1000\n");
        put_file("v2/cgm/a/pids.current", "3\n");
        put_file("mem/cgm/a/memory.limit_in_bytes", "67108864\n");
        put_file("mem/cgm/a/b/memory.limit_in_bytes", "9223372036854771712\n");
        put_file("mem/cgm/a/memory.usage_in_bytes", "4096\n");
        put_file("mem/cgm/a/memory.max_usage_in_bytes", "8192\n");
        put_file("mem/cgm/a/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
        {
                char target[512];
                snprintf(target, sizeof(target), "%s/v2/cgm/a/pids.max", root);
                snprintf(path, sizeof(path), "%s/v2/cgm/a/b/pids.max", root);
                assert_int_equal(symlink(target, path), 0);
        }

        cg = (Cgfs){ .layout = CGFS_HYBRID, .n = 2, .v2 = 0, .primary = 0 };
        snprintf(cg.base_api, sizeof(cg.base_api), "/cgm");
        cg.h[0] = (Hierarchy){ .is_v2 = true, .controllers = "cpu pids" };
        cg.h[1] = (Hierarchy){ .is_v2 = false, .controllers = "memory" };
        snprintf(path, sizeof(path), "%s/v2/cgm", root);
        cg.h[0].base_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        snprintf(path, sizeof(path), "%s/mem/cgm", root);
        cg.h[1].base_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(cg.h[0].base_fd >= 0 && cg.h[1].base_fd >= 0);
        return 0;
}

static int teardown(void **state)
{
        char cmd[600];

        (void)state;
        close(cg.h[0].base_fd);
        close(cg.h[1].base_fd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_cgread_key_hierarchy_prefers_v2_then_v1(void **state)
{
        CgmError e = CGM_ERROR_NULL;

        (void)state;
        assert_int_equal(cg_key_hierarchy(&cg, "pids.max", &e), 0);
        assert_int_equal(cg_key_hierarchy(&cg, "memory.max", &e), 1);
        assert_int_equal(cg_key_hierarchy(&cg, "cgroup.max.depth", &e), 0);
        assert_int_equal(cg_key_hierarchy(&cg, "io.weight", &e), -EOPNOTSUPP);
        assert_string_equal(e.name, CGM_ERR_NOT_SUPPORTED);
        assert_non_null(strstr(e.msg, "the io controller is not available"));
}

static void test_cgread_get_v2_value_without_newline(void **state)
{
        CgmError e = CGM_ERROR_NULL;
        char v[CGM_VALUE_MAX];

        (void)state;
        assert_int_equal(cg_get_one(&cg, "a", "pids.max", v, sizeof(v), &e), 0);
        assert_string_equal(v, "50");
        assert_int_equal(cg_get_one(&cg, "a", "cpu.max", v, sizeof(v), &e), 0);
        assert_string_equal(v, "max 100000");
}

static void test_cgread_get_translates_v1(void **state)
{
        CgmError e = CGM_ERROR_NULL;
        char v[CGM_VALUE_MAX];

        (void)state;
        assert_int_equal(cg_get_one(&cg, "a", "memory.max", v, sizeof(v), &e), 0);
        assert_string_equal(v, "67108864");
        /* v1's "unlimited" (a page-rounded LONG_MAX) is v2's "max". */
        assert_int_equal(cg_get_one(&cg, "a/b", "memory.max", v, sizeof(v), &e), 0);
        assert_string_equal(v, "max");
}

static void test_cgread_get_missing_cgroup_is_not_found(void **state)
{
        CgmError e = CGM_ERROR_NULL;
        char v[CGM_VALUE_MAX];

        (void)state;
        assert_int_equal(cg_get_one(&cg, "nope", "pids.max", v, sizeof(v), &e), -ENOENT);
        assert_string_equal(e.name, CGM_ERR_NOT_FOUND);
        assert_string_equal(e.msg, "cgroup `/cgm/nope` does not exist");
        e = (CgmError)CGM_ERROR_NULL;
        assert_int_equal(cg_get_one(&cg, "nope", "memory.max", v, sizeof(v), &e), -ENOENT);
        assert_string_equal(e.name, CGM_ERR_NOT_FOUND);
}

static void test_cgread_get_missing_file_says_why(void **state)
{
        CgmError e = CGM_ERROR_NULL;
        char v[CGM_VALUE_MAX];

        (void)state;
        /* a/b has no cpu.max, and its parent a holds processes: the no-internal-process
         * rule. */
        assert_int_equal(cg_get_one(&cg, "a/b", "cpu.max", v, sizeof(v), &e), -EOPNOTSUPP);
        assert_string_equal(e.name, CGM_ERR_NOT_SUPPORTED);
        assert_non_null(strstr(e.msg, "`/cgm/a/b` has no cpu.max: its parent holds processes"));
        /* Its pids.max is a link here, which is never followed. */
        e = (CgmError)CGM_ERROR_NULL;
        assert_int_equal(cg_get_one(&cg, "a/b", "pids.max", v, sizeof(v), &e), -ELOOP);
}

static void test_cgread_get_refuses_keys_as_set_does(void **state)
{
        CgmError e = CGM_ERROR_NULL;
        char v[CGM_VALUE_MAX];

        (void)state;
        assert_int_equal(cg_get_one(&cg, "a", "cgroup.procs", v, sizeof(v), &e), -EPERM);
        assert_string_equal(e.name, CGM_ERR_PERMISSION_DENIED);
        e = (CgmError)CGM_ERROR_NULL;
        assert_int_equal(cg_get_one(&cg, "a", "no.such.key", v, sizeof(v), &e), -EOPNOTSUPP);
        assert_string_equal(e.name, CGM_ERR_NOT_SUPPORTED);
}

static void test_cgread_stat_hybrid(void **state)
{
        CgmError e = CGM_ERROR_NULL;
        CgCounter c[CG_COUNTERS_MAX];
        size_t n = 0;
        const char *want[] = { "memory.current", "memory.peak", "memory.events.oom_kill",
                               "cpu.usage_usec", "pids.current", "pids.max", "populated",
                               "frozen" };
        const uint64_t values[] = { 4096, 8192, 2, 1234, 3, 50, 1, 0 };

        (void)state;
        assert_int_equal(cg_stat(&cg, "a", c, &n, &e), 0);
        assert_int_equal(n, ELEMENTSOF(want));
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(c[i].name, want[i]);
                assert_int_equal(c[i].value, values[i]);
        }
        assert_int_equal(cg_stat(&cg, "nope", c, &n, &e), -ENOENT);
}

static int collect(const char *rel, void *userdata)
{
        char *buf = userdata;

        strcat(buf, rel);
        strcat(buf, ";");
        return 0;
}

static void test_cgread_walk_lists_addressable_children(void **state)
{
        CgmError e = CGM_ERROR_NULL;
        char buf[256] = "";

        (void)state;
        assert_int_equal(cg_walk(&cg, "", true, collect, buf, &e), 0);
        assert_string_equal(buf, "a;a/b;");
        buf[0] = '\0';
        assert_int_equal(cg_walk(&cg, "a/b", false, collect, buf, &e), 0);
        assert_string_equal(buf, "");
        assert_int_equal(cg_walk(&cg, "nope", false, collect, buf, &e), -ENOENT);
        assert_string_equal(e.name, CGM_ERR_NOT_FOUND);
}

static void test_cgread_procs(void **state)
{
        CgmError e = CGM_ERROR_NULL;
        pid_t *pids = NULL;
        size_t n = 0;

        (void)state;
        assert_int_equal(cg_procs(&cg, "a", &pids, &n, &e), 0);
        assert_int_equal(n, 2);
        assert_int_equal(pids[0], 101);
        assert_int_equal(pids[1], 102);
        free(pids);
        pids = NULL;
        n = 0;
        assert_int_equal(cg_procs_subtree(&cg, "a", &pids, &n, &e), 0);
        assert_int_equal(n, 3);
        assert_int_equal(pids[2], 103);
        free(pids);
}

static void test_cgread_openat_is_confined(void **state)
{
        char buf[64];

        (void)state;
        /* No symlink is followed, and nothing above the base is reached. */
        assert_true(cgfs_read(&cg, 0, "a/b", "pids.max", buf, sizeof(buf)) < 0);
        assert_true(cgfs_openat(&cg, 0, "..", NULL, O_RDONLY) < 0);
        assert_int_equal(cgfs_openat(&cg, 7, "a", NULL, O_RDONLY), -EINVAL);
}

static void test_cgread_api_path_and_proc_key(void **state)
{
        char buf[128];

        (void)state;
        cgfs_api_path(&cg, "", buf, sizeof(buf));
        assert_string_equal(buf, "/cgm");
        cgfs_api_path(&cg, "a/b", buf, sizeof(buf));
        assert_string_equal(buf, "/cgm/a/b");
        assert_string_equal(cgfs_proc_key(&cg, buf, sizeof(buf)), "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cgread_key_hierarchy_prefers_v2_then_v1),
                cmocka_unit_test(test_cgread_get_v2_value_without_newline),
                cmocka_unit_test(test_cgread_get_translates_v1),
                cmocka_unit_test(test_cgread_get_missing_cgroup_is_not_found),
                cmocka_unit_test(test_cgread_get_missing_file_says_why),
                cmocka_unit_test(test_cgread_get_refuses_keys_as_set_does),
                cmocka_unit_test(test_cgread_stat_hybrid),
                cmocka_unit_test(test_cgread_walk_lists_addressable_children),
                cmocka_unit_test(test_cgread_procs),
                cmocka_unit_test(test_cgread_openat_is_confined),
                cmocka_unit_test(test_cgread_api_path_and_proc_key),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
