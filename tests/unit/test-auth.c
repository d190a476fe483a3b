/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for privilege decisions: path resolution, access and moves (daemon/auth.c) */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#include "auth.h"
#include "protocol.h"

#define BASE "/cgm"
#define HOME "user-1000"

static const Principal root = { .uid = 0, .is_root = true };
static const Principal alice = { .uid = 1000, .is_root = false };

static void assert_msg_has(const CgmError *e, const char *needle)
{
        if (!strstr(e->msg, needle))
                fail_msg("message lacks `%s`: %s", needle, e->msg);
}

static void resolve_ok(const char *base, const char *home, const char *input, const char *want)
{
        CgmError e = CGM_ERROR_NULL;
        char out[CGM_PATH_MAX + 1];
        int r = auth_resolve(base, home, input, out, sizeof(out), &e);

        if (r != 0)
                fail_msg("resolving `%s` failed: %s", input, e.msg);
        if (strcmp(out, want) != 0)
                fail_msg("`%s` resolved to `%s`, expected `%s`", input, out, want);
}

static void resolve_bad(const char *base, const char *home, const char *input, int code,
                        const char *name, const char *needle)
{
        CgmError e = CGM_ERROR_NULL;
        char out[CGM_PATH_MAX + 1] = "untouched";
        int r = auth_resolve(base, home, input, out, sizeof(out), &e);

        if (r != code)
                fail_msg("resolving `%s` gave %d (`%s`), expected %d", input, r, out, code);
        assert_int_equal(e.code, code);
        assert_string_equal(e.name, name);
        assert_string_equal(out, "");
        if (needle)
                assert_msg_has(&e, needle);
}

static void test_resolve_absolute_paths(void **state)
{
        (void)state;
        resolve_ok(BASE, HOME, "/cgm", "");
        resolve_ok(BASE, HOME, "/cgm/", "");
        resolve_ok(BASE, HOME, "/cgm/user-1000", "user-1000");
        resolve_ok(BASE, HOME, "/cgm/user-1000/build/", "user-1000/build");
        resolve_ok(BASE, NULL, "/cgm/user-1001/x", "user-1001/x");
        resolve_ok("/cgm-test-42", "", "/cgm-test-42/a", "a");
}

static void test_resolve_relative_paths_join_home(void **state)
{
        (void)state;
        resolve_ok(BASE, HOME, "", "user-1000");
        resolve_ok(BASE, HOME, "build", "user-1000/build");
        resolve_ok(BASE, HOME, "build/", "user-1000/build");
        resolve_ok(BASE, HOME, "a/b/c", "user-1000/a/b/c");
        resolve_ok(BASE, "", "user-1000/x", "user-1000/x"); /* root's home is the base */
        resolve_ok(BASE, "", "", "");
}

static void test_resolve_absolute_path_outside_base(void **state)
{
        (void)state;
        resolve_bad(BASE, HOME, "/", -EACCES, CGM_ERR_PERMISSION_DENIED, "outside `/cgm`");
        resolve_bad(BASE, HOME, "/system.slice", -EACCES, CGM_ERR_PERMISSION_DENIED,
                    "`/system.slice` is outside `/cgm`");
        resolve_bad(BASE, HOME, "/cgmx/user-1000", -EACCES, CGM_ERR_PERMISSION_DENIED, NULL);
        resolve_bad(BASE, HOME, "/cg", -EACCES, CGM_ERR_PERMISSION_DENIED, NULL);
        resolve_bad(BASE, "", "/sys/fs/cgroup", -EACCES, CGM_ERR_PERMISSION_DENIED, NULL);
}

static void test_resolve_dotdot_escape_is_invalid_name(void **state)
{
        (void)state;
        resolve_bad(BASE, HOME, "..", -EINVAL, CGM_ERR_INVALID_NAME, "`..`");
        resolve_bad(BASE, HOME, "../user-1001", -EINVAL, CGM_ERR_INVALID_NAME, "`..`");
        resolve_bad(BASE, HOME, "a/../../user-1001", -EINVAL, CGM_ERR_INVALID_NAME, NULL);
        resolve_bad(BASE, HOME, "/cgm/..", -EINVAL, CGM_ERR_INVALID_NAME, NULL);
        resolve_bad(BASE, HOME, "/cgm/user-1000/../../etc", -EINVAL, CGM_ERR_INVALID_NAME, NULL);
        resolve_bad(BASE, HOME, "./x", -EINVAL, CGM_ERR_INVALID_NAME, NULL);
}

static void test_resolve_rejects_doubled_slashes_and_control_files(void **state)
{
        (void)state;
        resolve_bad(BASE, HOME, "//", -EACCES, CGM_ERR_PERMISSION_DENIED, NULL);
        resolve_bad(BASE, HOME, "/cgm//", -EINVAL, CGM_ERR_INVALID_NAME, "//");
        resolve_bad(BASE, HOME, "/cgm//user-1000", -EINVAL, CGM_ERR_INVALID_NAME, "//");
        resolve_bad(BASE, HOME, "/cgm/user-1000//", -EINVAL, CGM_ERR_INVALID_NAME, "//");
        resolve_bad(BASE, HOME, "a//b", -EINVAL, CGM_ERR_INVALID_NAME, "//");
        resolve_bad(BASE, HOME, "build//", -EINVAL, CGM_ERR_INVALID_NAME, NULL);
        resolve_bad(BASE, HOME, "cgroup.procs", -EINVAL, CGM_ERR_INVALID_NAME, NULL);
        resolve_bad(BASE, HOME, "x/memory.max", -EINVAL, CGM_ERR_INVALID_NAME, NULL);
        resolve_bad(BASE, HOME, "a\nb", -EINVAL, CGM_ERR_INVALID_NAME, "\\x0a");
}

static void test_resolve_relative_path_without_home(void **state)
{
        (void)state;
        resolve_bad(BASE, NULL, "build", -EACCES, CGM_ERR_PERMISSION_DENIED,
                    "ask root to delegate one (cgm chown)");
        resolve_bad(BASE, NULL, "", -EACCES, CGM_ERR_PERMISSION_DENIED, "no home under `/cgm`");
}

static void test_resolve_depth_and_length_limits(void **state)
{
        char path[CGM_DEPTH_MAX * 2 + 8];
        size_t o = 0;

        (void)state;
        /* 31 levels below a 1-level home: 32 in all, the limit. */
        for (int i = 0; i < CGM_DEPTH_MAX - 1; i++) {
                if (i)
                        path[o++] = '/';
                path[o++] = 'd';
        }
        path[o] = '\0';
        {
                CgmError e = CGM_ERROR_NULL;
                char out[CGM_PATH_MAX + 1];

                assert_int_equal(auth_resolve(BASE, HOME, path, out, sizeof(out), &e), 0);
        }
        memcpy(path + o, "/d", 3);
        resolve_bad(BASE, HOME, path, -EINVAL, CGM_ERR_INVALID_NAME, "deeper");
        {
                static char big[CGM_PATH_MAX + 50];

                memset(big, 'a', sizeof(big) - 1);
                big[sizeof(big) - 1] = '\0';
                resolve_bad(BASE, HOME, big, -EINVAL, CGM_ERR_INVALID_NAME, "longer");
        }
}

static void test_resolve_small_output_buffer(void **state)
{
        CgmError e = CGM_ERROR_NULL;
        char out[8];

        (void)state;
        assert_int_equal(auth_resolve(BASE, HOME, "build", out, sizeof(out), &e), -EINVAL);
        assert_string_equal(out, "");
}

static void test_resolve_with_root_base(void **state)
{
        (void)state;
        resolve_ok("/", "", "/", "");
        resolve_ok("/", "", "/a/b", "a/b");
        resolve_ok("/", "user-1000", "x", "user-1000/x");
        resolve_bad("/", "", "//", -EINVAL, CGM_ERR_INVALID_NAME, NULL);
        resolve_bad("/", "", "//a", -EINVAL, CGM_ERR_INVALID_NAME, NULL);
}

/* --- auth_check ------------------------------------------------------------------------------ */

static void check_ok(const Principal *p, const char *home, const char *target, AuthAction a)
{
        CgmError e = CGM_ERROR_NULL;

        if (auth_check(p, BASE, home, target, a, &e) != 0)
                fail_msg("uid %u refused on `%s`: %s", (unsigned)p->uid, target, e.msg);
}

static CgmError check_denied(const Principal *p, const char *home, const char *target,
                             AuthAction a)
{
        CgmError e = CGM_ERROR_NULL;

        assert_int_equal(auth_check(p, BASE, home, target, a, &e), -EACCES);
        assert_int_equal(e.code, -EACCES);
        assert_string_equal(e.name, CGM_ERR_PERMISSION_DENIED);
        return e;
}

static void test_check_root_may_do_anything_in_base(void **state)
{
        (void)state;
        for (AuthAction a = AUTH_READ; a <= AUTH_ROOT; a++) {
                check_ok(&root, "", "", a);
                check_ok(&root, "", "user-1000", a);
                check_ok(&root, "", "user-1001/x/y", a);
                check_ok(&root, NULL, "user-1000", a);
        }
}

static void test_check_user_reads_home_and_below(void **state)
{
        (void)state;
        check_ok(&alice, HOME, "user-1000", AUTH_READ);
        check_ok(&alice, HOME, "user-1000/session-1", AUTH_READ);
        check_ok(&alice, HOME, "user-1000/a/b", AUTH_READ);
}

static void test_check_user_cannot_write_home(void **state)
{
        CgmError e;

        (void)state;
        e = check_denied(&alice, HOME, "user-1000", AUTH_WRITE);
        assert_string_equal(e.msg,
                            "uid 1000 may not change `/cgm/user-1000`: it is your home, whose "
                            "limits the administrator sets; create a child below it");
}

static void test_check_user_writes_child(void **state)
{
        (void)state;
        check_ok(&alice, HOME, "user-1000/build", AUTH_WRITE);
        check_ok(&alice, HOME, "user-1000/build/deep/er", AUTH_WRITE);
}

static void test_check_user_cannot_touch_sibling_home(void **state)
{
        CgmError e;

        (void)state;
        e = check_denied(&alice, HOME, "user-1001/x", AUTH_WRITE);
        assert_msg_has(&e, "uid 1000");
        assert_msg_has(&e, "`/cgm/user-1001/x` is outside your home `/cgm/user-1000`");
        e = check_denied(&alice, HOME, "user-1001", AUTH_READ);
        assert_msg_has(&e, "outside your home `/cgm/user-1000`");
        /* A name that merely starts with the home's name is a sibling too. */
        check_denied(&alice, HOME, "user-10000", AUTH_READ);
        check_denied(&alice, HOME, "user-10000/x", AUTH_WRITE);
}

static void test_check_user_cannot_touch_base(void **state)
{
        CgmError e;

        (void)state;
        e = check_denied(&alice, HOME, "", AUTH_READ);
        assert_msg_has(&e, "`/cgm`");
        check_denied(&alice, HOME, "", AUTH_WRITE);
}

static void test_check_user_without_home(void **state)
{
        CgmError e;

        (void)state;
        e = check_denied(&alice, NULL, "user-1000/x", AUTH_READ);
        assert_string_equal(e.msg, "uid 1000 has no home under `/cgm`: ask root to delegate one "
                                   "(cgm chown)");
        check_denied(&alice, NULL, "user-1000/x", AUTH_WRITE);
}

static void test_check_root_only_actions_refused_to_users(void **state)
{
        CgmError e;

        (void)state;
        e = check_denied(&alice, HOME, "user-1000/x", AUTH_ROOT);
        assert_msg_has(&e, "only root");
}

static void test_check_rejects_invalid_target(void **state)
{
        CgmError e = CGM_ERROR_NULL;

        (void)state;
        assert_int_equal(auth_check(&root, BASE, "", "user-1000/../x", AUTH_READ, &e), -EINVAL);
        assert_string_equal(e.name, CGM_ERR_INVALID_NAME);
        assert_int_equal(auth_check(&alice, BASE, HOME, "user-1000/..", AUTH_WRITE, &e), -EINVAL);
        assert_int_equal(auth_check(NULL, BASE, HOME, "user-1000", AUTH_READ, &e), -EACCES);
}

static void test_resolve_then_check_blocks_escapes(void **state)
{
        static const char *const hostile[] = { "..", "../user-1001", "/cgm/user-1001",
                                               "/cgm", "/", "/cgm/../cgm/user-1001",
                                               "/cgm/user-1000/../user-1001" };

        (void)state;
        for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
                CgmError e = CGM_ERROR_NULL;
                char out[CGM_PATH_MAX + 1];
                int r = auth_resolve(BASE, HOME, hostile[i], out, sizeof(out), &e);

                if (r == 0)
                        r = auth_check(&alice, BASE, HOME, out, AUTH_WRITE, &e);
                if (r == 0)
                        fail_msg("`%s` was allowed for writing", hostile[i]);
        }
}

/* --- auth_check_move --------------------------------------------------------------------- */

static CgmError move_denied(const Principal *p, const char *home, uid_t ruid, uid_t euid,
                            const char *from, const char *dest)
{
        CgmError e = CGM_ERROR_NULL;

        assert_int_equal(auth_check_move(p, BASE, home, ruid, euid, from, dest, &e), -EACCES);
        assert_string_equal(e.name, CGM_ERR_PERMISSION_DENIED);
        assert_msg_has(&e, "uid ");
        return e;
}

static void test_move_own_process_within_home(void **state)
{
        CgmError e = CGM_ERROR_NULL;

        (void)state;
        assert_int_equal(auth_check_move(&alice, BASE, HOME, 1000, 1000, "user-1000/session-1",
                                         "user-1000/build", &e),
                         0);
        assert_int_equal(auth_check_move(&alice, BASE, HOME, 1000, 1000, "user-1000",
                                         "user-1000/a/b", &e),
                         0);
}

static void test_move_refuses_foreign_ruid(void **state)
{
        CgmError e;

        (void)state;
        e = move_denied(&alice, HOME, 1001, 1001, "user-1000/session-1", "user-1000/build");
        assert_msg_has(&e, "uid 1001");
        move_denied(&alice, HOME, 0, 1000, "user-1000/session-1", "user-1000/build");
}

static void test_move_refuses_foreign_euid_setuid(void **state)
{
        CgmError e;

        (void)state;
        e = move_denied(&alice, HOME, 1000, 0, "user-1000/session-1", "user-1000/build");
        assert_msg_has(&e, "setuid");
        assert_msg_has(&e, "effective uid 0");
}

static void test_move_refuses_process_outside_home(void **state)
{
        CgmError e;

        (void)state;
        e = move_denied(&alice, HOME, 1000, 1000, "user-1001/x", "user-1000/build");
        assert_msg_has(&e, "`/cgm/user-1001/x`");
        assert_msg_has(&e, "`/cgm/user-1000`");
        e = move_denied(&alice, HOME, 1000, 1000, NULL, "user-1000/build");
        assert_msg_has(&e, "outside `/cgm`");
        move_denied(&alice, HOME, 1000, 1000, "", "user-1000/build");
        move_denied(&alice, HOME, 1000, 1000, "user-10000", "user-1000/build");
}

static void test_move_refuses_dest_home_or_outside(void **state)
{
        CgmError e;

        (void)state;
        e = move_denied(&alice, HOME, 1000, 1000, "user-1000/session-1", "user-1000");
        assert_msg_has(&e, "it is your home");
        assert_msg_has(&e, "child below it");
        e = move_denied(&alice, HOME, 1000, 1000, "user-1000/session-1", "user-1001/x");
        assert_msg_has(&e, "outside your home `/cgm/user-1000`");
        move_denied(&alice, HOME, 1000, 1000, "user-1000/session-1", "");
        move_denied(&alice, NULL, 1000, 1000, "user-1000/session-1", "user-1000/x");
}

static void test_move_root_moves_anything(void **state)
{
        CgmError e = CGM_ERROR_NULL;

        (void)state;
        assert_int_equal(auth_check_move(&root, BASE, "", 1001, 0, NULL, "user-1000", &e), 0);
        assert_int_equal(auth_check_move(&root, BASE, "", 5, 7, "user-1001/x", "", &e), 0);
        assert_int_equal(auth_check_move(&root, BASE, NULL, 0, 0, "a", "b/c", &e), 0);
        assert_int_equal(auth_check_move(&root, BASE, "", 0, 0, "a", "b/../c", &e), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_resolve_absolute_paths),
                cmocka_unit_test(test_resolve_relative_paths_join_home),
                cmocka_unit_test(test_resolve_absolute_path_outside_base),
                cmocka_unit_test(test_resolve_dotdot_escape_is_invalid_name),
                cmocka_unit_test(test_resolve_rejects_doubled_slashes_and_control_files),
                cmocka_unit_test(test_resolve_relative_path_without_home),
                cmocka_unit_test(test_resolve_depth_and_length_limits),
                cmocka_unit_test(test_resolve_small_output_buffer),
                cmocka_unit_test(test_resolve_with_root_base),
                cmocka_unit_test(test_check_root_may_do_anything_in_base),
                cmocka_unit_test(test_check_user_reads_home_and_below),
                cmocka_unit_test(test_check_user_cannot_write_home),
                cmocka_unit_test(test_check_user_writes_child),
                cmocka_unit_test(test_check_user_cannot_touch_sibling_home),
                cmocka_unit_test(test_check_user_cannot_touch_base),
                cmocka_unit_test(test_check_user_without_home),
                cmocka_unit_test(test_check_root_only_actions_refused_to_users),
                cmocka_unit_test(test_check_rejects_invalid_target),
                cmocka_unit_test(test_resolve_then_check_blocks_escapes),
                cmocka_unit_test(test_move_own_process_within_home),
                cmocka_unit_test(test_move_refuses_foreign_ruid),
                cmocka_unit_test(test_move_refuses_foreign_euid_setuid),
                cmocka_unit_test(test_move_refuses_process_outside_home),
                cmocka_unit_test(test_move_refuses_dest_home_or_outside),
                cmocka_unit_test(test_move_root_moves_anything),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
