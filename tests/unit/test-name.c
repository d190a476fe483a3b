/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the cgroup name and path allowlist (common/name.c) */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#include "name.h"
#include "protocol.h"

static void assert_name_ok(const char *name)
{
        char why[256] = "";
        int r = cgm_name_check(name, why, sizeof(why));

        if (r != 0)
                fail_msg("`%s` refused: %s", name, why);
}

/* Refused with -EINVAL, and the reason mentions @needle. */
static void assert_name_bad(const char *name, const char *needle)
{
        char why[256] = "";

        assert_int_equal(cgm_name_check(name, why, sizeof(why)), -EINVAL);
        assert_true(why[0] != '\0');
        if (needle && !strstr(why, needle))
                fail_msg("reason for refusing `%s` lacks `%s`: %s", name, needle, why);
        /* Never echo raw control characters into a message. */
        for (const char *p = why; *p; p++)
                assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

static void test_name_accepts_ordinary_names(void **state)
{
        (void)state;
        assert_name_ok("build");
        assert_name_ok("session-42");
        assert_name_ok("user-1000");
        assert_name_ok("a");
        assert_name_ok("A_b-c.d");
        assert_name_ok("0");
        assert_name_ok("memory");    /* no '.', not a control file */
        assert_name_ok("cgroup");    /* same */
        assert_name_ok("memoryx.y"); /* prefix must be the whole controller name */
        assert_name_ok("_private");
        assert_name_ok("-dash");
        assert_name_ok("x.");
}

static void test_name_rejects_dotdot(void **state)
{
        (void)state;
        assert_name_bad("..", "..");
}

static void test_name_rejects_dot(void **state)
{
        (void)state;
        assert_name_bad(".", NULL);
}

static void test_name_rejects_slash(void **state)
{
        (void)state;
        assert_name_bad("/", "'/'");
        assert_name_bad("a/b", "'/'");
        assert_name_bad("/a", "'/'");
}

static void test_name_rejects_control_characters(void **state)
{
        (void)state;
        assert_name_bad("a\nb", "0x0a");
        assert_name_bad("a\tb", "0x09");
        assert_name_bad("\x01", "0x01");
        assert_name_bad("x\x7f", "0x7f");
        assert_name_bad("\x1b[31m", "0x1b");
}

static void test_name_rejects_control_file_names(void **state)
{
        (void)state;
        assert_name_bad("cgroup.procs", "cgroup.");
        assert_name_bad("cgroup.subtree_control", "cgroup.");
        assert_name_bad("memory.max", "memory.");
        assert_name_bad("cpu.weight", "cpu.");
        assert_name_bad("cpuacct.usage", "cpuacct.");
        assert_name_bad("io.max", "io.");
        assert_name_bad("pids.max", "pids.");
        assert_name_bad("hugetlb.2MB.max", "hugetlb.");
        assert_name_bad("devices.allow", "devices.");
        assert_name_bad("net_cls.classid", "net_cls.");
        assert_name_bad("perf_event.x", "perf_event.");
        assert_name_bad("tasks", "v1");
        assert_name_bad("release_agent", "v1");
        assert_name_bad("notify_on_release", "v1");
}

static void test_name_length_limit_is_64_bytes(void **state)
{
        char name[301];

        (void)state;
        memset(name, 'a', sizeof(name) - 1);
        name[64] = '\0';
        assert_name_ok(name);
        name[64] = 'a';
        name[65] = '\0';
        assert_name_bad(name, "64");
        name[65] = 'a';
        name[300] = '\0';
        assert_name_bad(name, "64");
}

static void test_name_rejects_deleted_suffix_and_spaces(void **state)
{
        (void)state;
        assert_name_bad("x (deleted)", "' '");
        assert_name_bad(" ", NULL);
        assert_name_bad("a:b", "':'");
        assert_name_bad("a\\b", NULL);
}

static void test_name_rejects_empty(void **state)
{
        (void)state;
        assert_name_bad("", "empty");
}

static void test_name_rejects_leading_dot(void **state)
{
        (void)state;
        assert_name_bad(".hidden", "'.'");
        assert_name_bad("...", NULL);
}

static void test_name_rejects_utf8(void **state)
{
        (void)state;
        assert_name_bad("caf\xc3\xa9", "0xc3");
        assert_name_bad("\xe2\x80\xae", NULL); /* right-to-left override */
}

static void test_name_why_may_be_null(void **state)
{
        (void)state;
        assert_int_equal(cgm_name_check("..", NULL, 0), -EINVAL);
        assert_int_equal(cgm_name_check("ok", NULL, 0), 0);
        assert_int_equal(cgm_path_check("a//b", NULL, 0), -EINVAL);
}

static void test_name_why_is_truncated_safely(void **state)
{
        char why[8];

        (void)state;
        assert_int_equal(cgm_name_check("cgroup.procs", why, sizeof(why)), -EINVAL);
        assert_int_equal(strlen(why), sizeof(why) - 1);
}

static void test_path_accepts_empty_and_nested(void **state)
{
        (void)state;
        assert_int_equal(cgm_path_check("", NULL, 0), 0);
        assert_int_equal(cgm_path_check("user-1000", NULL, 0), 0);
        assert_int_equal(cgm_path_check("user-1000/build/a.b", NULL, 0), 0);
}

static void test_path_rejects_bad_slashes(void **state)
{
        char why[256];

        (void)state;
        assert_int_equal(cgm_path_check("/a", why, sizeof(why)), -EINVAL);
        assert_int_equal(cgm_path_check("a/", why, sizeof(why)), -EINVAL);
        assert_int_equal(cgm_path_check("a//b", why, sizeof(why)), -EINVAL);
        assert_non_null(strstr(why, "//"));
        assert_int_equal(cgm_path_check("/", why, sizeof(why)), -EINVAL);
}

static void test_path_rejects_dotdot_component(void **state)
{
        char why[256];

        (void)state;
        assert_int_equal(cgm_path_check("user-1000/../user-1001", why, sizeof(why)), -EINVAL);
        assert_non_null(strstr(why, "`..`"));
        assert_int_equal(cgm_path_check("..", why, sizeof(why)), -EINVAL);
        assert_int_equal(cgm_path_check("a/.", why, sizeof(why)), -EINVAL);
        assert_int_equal(cgm_path_check("a/cgroup.procs", why, sizeof(why)), -EINVAL);
        assert_int_equal(cgm_path_check("a/b\nc", why, sizeof(why)), -EINVAL);
}

static void test_path_depth_limit(void **state)
{
        char path[CGM_DEPTH_MAX * 2 + 4];
        size_t o = 0;

        (void)state;
        for (int i = 0; i < CGM_DEPTH_MAX; i++) {
                if (i)
                        path[o++] = '/';
                path[o++] = 'a';
        }
        path[o] = '\0';
        assert_int_equal(cgm_path_check(path, NULL, 0), 0);
        path[o++] = '/';
        path[o++] = 'a';
        path[o] = '\0';
        assert_int_equal(cgm_path_check(path, NULL, 0), -EINVAL);
}

static void test_path_length_limit(void **state)
{
        static char path[CGM_PATH_MAX + 100];
        char why[256];

        (void)state;
        memset(path, 'a', sizeof(path) - 1);
        path[sizeof(path) - 1] = '\0';
        assert_int_equal(cgm_path_check(path, why, sizeof(why)), -EINVAL);
        assert_non_null(strstr(why, "longer"));
        /* 32 components of 64 bytes: the longest valid path, below CGM_PATH_MAX. */
        for (int i = 0; i < CGM_DEPTH_MAX; i++) {
                memset(path + i * 65, 'b', 64);
                path[i * 65 + 64] = '/';
        }
        path[CGM_DEPTH_MAX * 65 - 1] = '\0';
        assert_true(strlen(path) <= CGM_PATH_MAX);
        assert_int_equal(cgm_path_check(path, why, sizeof(why)), 0);
}

static void test_path_within_and_below(void **state)
{
        (void)state;
        assert_true(cgm_path_is_within("user-1000", "user-1000"));
        assert_true(cgm_path_is_within("user-1000/a", "user-1000"));
        assert_true(cgm_path_is_within("anything", ""));
        assert_true(cgm_path_is_within("", ""));
        assert_false(cgm_path_is_within("user-10000", "user-1000"));
        assert_false(cgm_path_is_within("user-1000", "user-1000/a"));
        assert_false(cgm_path_is_within("", "user-1000"));
        assert_false(cgm_path_is_within(NULL, ""));

        assert_true(cgm_path_is_below("user-1000/a", "user-1000"));
        assert_true(cgm_path_is_below("user-1000", ""));
        assert_false(cgm_path_is_below("user-1000", "user-1000"));
        assert_false(cgm_path_is_below("", ""));
        assert_false(cgm_path_is_below("user-10001/a", "user-1000"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_name_accepts_ordinary_names),
                cmocka_unit_test(test_name_rejects_dotdot),
                cmocka_unit_test(test_name_rejects_dot),
                cmocka_unit_test(test_name_rejects_slash),
                cmocka_unit_test(test_name_rejects_control_characters),
                cmocka_unit_test(test_name_rejects_control_file_names),
                cmocka_unit_test(test_name_length_limit_is_64_bytes),
                cmocka_unit_test(test_name_rejects_deleted_suffix_and_spaces),
                cmocka_unit_test(test_name_rejects_empty),
                cmocka_unit_test(test_name_rejects_leading_dot),
                cmocka_unit_test(test_name_rejects_utf8),
                cmocka_unit_test(test_name_why_may_be_null),
                cmocka_unit_test(test_name_why_is_truncated_safely),
                cmocka_unit_test(test_path_accepts_empty_and_nested),
                cmocka_unit_test(test_path_rejects_bad_slashes),
                cmocka_unit_test(test_path_rejects_dotdot_component),
                cmocka_unit_test(test_path_depth_limit),
                cmocka_unit_test(test_path_length_limit),
                cmocka_unit_test(test_path_within_and_below),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
