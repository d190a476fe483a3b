/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the pure parts of namespace translation: uid maps (daemon/uidmap.c), paths
 * in and out of a caller's cgroup namespace (daemon/nsview.c), and moves by root of a user
 * namespace (daemon/auth.c) */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#include "auth.h"
#include "nsview.h"
#include "protocol.h"

static void test_uidmap_parse(void **state)
{
        UidMap m;

        (void)state;
        assert_int_equal(uidmap_parse(&m, "         0     100000      65536\n"), 0);
        assert_int_equal(m.n, 1);
        assert_int_equal(uidmap_to_host(&m, 0), 100000);
        assert_int_equal(uidmap_to_host(&m, 65535), 165535);
        assert_int_equal(uidmap_to_host(&m, 65536), (uid_t)-1);
        assert_int_equal(uidmap_to_inside(&m, 101000), 1000);
        assert_int_equal(uidmap_to_inside(&m, 99999), (uid_t)-1);
        assert_true(uidmap_has(&m, 100000));
        assert_false(uidmap_has(&m, 1000));
        assert_false(uidmap_has(&m, (uid_t)-1));
        uidmap_free(&m);

        /* Two lines, as rootless podman writes them: 0 -> the user, 1.. -> its subuids. */
        assert_int_equal(uidmap_parse(&m, "0 1000 1\n1 100000 65536\n"), 0);
        assert_int_equal(m.n, 2);
        assert_int_equal(uidmap_to_host(&m, 0), 1000);
        assert_int_equal(uidmap_to_host(&m, 1000), 100999);
        assert_int_equal(uidmap_to_inside(&m, 1000), 0);
        uidmap_free(&m);

        /* Not written yet: maps nothing. */
        assert_int_equal(uidmap_parse(&m, ""), 0);
        assert_int_equal(m.n, 0);
        assert_false(uidmap_has(&m, 0));
        assert_int_equal(uidmap_to_inside(&m, 0), (uid_t)-1);
        uidmap_free(&m);
        assert_false(uidmap_has(NULL, 5));

        assert_int_equal(uidmap_parse(&m, "0 100000\n"), -EINVAL);
        assert_int_equal(uidmap_parse(&m, "0 100000 0\n"), -EINVAL);
        assert_int_equal(uidmap_parse(&m, "0 4294967295 2\n"), -EINVAL);
        assert_int_equal(uidmap_parse(&m, "0 1 2 x\n"), -EINVAL);
        assert_int_equal(uidmap_parse(&m, "-1 1 2\n"), -EINVAL);
}

static void out_is(const char *root, const char *host, const char *want)
{
        NsView v = { .cgroup_root = (char *)root };
        char out[256];

        nsview_path_out(&v, host, out, sizeof(out));
        if (strcmp(out, want) != 0)
                fail_msg("root `%s`: `%s` shown as `%s`, expected `%s`", root ? root : "(none)",
                         host, out, want);
}

static void in_is(const char *root, const char *input, const char *want)
{
        NsView v = { .cgroup_root = (char *)root };
        CgmError e = CGM_ERROR_NULL;
        char out[256];

        if (nsview_path_in(&v, input, out, sizeof(out), &e) < 0)
                fail_msg("root `%s`: `%s` refused: %s", root, input, e.msg);
        if (strcmp(out, want) != 0)
                fail_msg("root `%s`: `%s` read as `%s`, expected `%s`", root, input, out, want);
}

static void test_path_out(void **state)
{
        (void)state;
        out_is(NULL, "/cgm/user-1000", "/cgm/user-1000");
        out_is("/", "/cgm/user-1000", "/cgm/user-1000");
        out_is("/cgm/user-1000/ctr", "/cgm/user-1000/ctr", "/");
        out_is("/cgm/user-1000/ctr", "/cgm/user-1000/ctr/a/b", "/a/b");
        out_is("/cgm/user-1000/ctr", "/cgm/user-1000", "/..");
        out_is("/cgm/user-1000/ctr", "/cgm/user-1000/other", "/../other");
        out_is("/cgm/user-1000/ctr", "/cgm/user-1000/ctrl", "/../ctrl"); /* not a prefix */
        out_is("/cgm/user-1000/ctr", "/cgm", "/../..");
        out_is("/cgm/user-1000/ctr", "/", "/../../..");
        out_is("/a", "/b/c", "/../b/c");
}

static void test_path_in(void **state)
{
        NsView v = { .cgroup_root_unknown = true };
        CgmError e = CGM_ERROR_NULL;
        char out[256];

        (void)state;
        in_is("/cgm/user-1000/ctr", "/", "/cgm/user-1000/ctr");
        in_is("/cgm/user-1000/ctr", "/a/b", "/cgm/user-1000/ctr/a/b");
        in_is("/cgm/user-1000/ctr", "a/b", "a/b"); /* relative: to the home, untouched */
        in_is("/cgm/user-1000/ctr", "/..", "/cgm/user-1000");
        in_is("/cgm/user-1000/ctr", "/../other/x", "/cgm/user-1000/other/x");
        in_is("/cgm/user-1000/ctr", "/../..", "/cgm");
        in_is("/cgm/user-1000/ctr", "/../../..", "/");
        in_is("/", "/cgm/x", "/cgm/x");
        /* Only leading ".." are read; others reach the name check, which refuses them. */
        in_is("/cgm/user-1000/ctr", "/a/../b", "/cgm/user-1000/ctr/a/../b");
        assert_int_equal(nsview_path_in(&(NsView){ .cgroup_root = (char *)"/cgm" }, "/../..",
                                        out, sizeof(out), &e),
                         -EINVAL);
        /* Every path out reads back as itself. */
        {
                static const char *const hosts[] = { "/cgm/user-1000/ctr", "/cgm/user-1000/ctr/a",
                                                     "/cgm/user-1000", "/cgm/user-1000/b/c",
                                                     "/cgm", "/" };
                NsView w = { .cgroup_root = (char *)"/cgm/user-1000/ctr" };
                for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
                        char shown[256], back[256];
                        nsview_path_out(&w, hosts[i], shown, sizeof(shown));
                        assert_int_equal(nsview_path_in(&w, shown, back, sizeof(back), &e), 0);
                        assert_string_equal(back, hosts[i]);
                }
        }
        assert_int_equal(nsview_path_in(&v, "/x", out, sizeof(out), &e), -EOPNOTSUPP);
        assert_string_equal(e.name, CGM_ERR_NOT_SUPPORTED);
        assert_int_equal(nsview_path_in(&v, "x", out, sizeof(out), &e), 0);
}

static void test_uid_out(void **state)
{
        NsView v = { .in_userns = true, .overflow_uid = 65534 };

        (void)state;
        assert_int_equal(uidmap_parse(&v.map, "0 100000 65536\n"), 0);
        assert_int_equal(nsview_uid_out(&v, 100000), 0);
        assert_int_equal(nsview_uid_out(&v, 101000), 1000);
        assert_int_equal(nsview_uid_out(&v, 0), 65534);
        assert_int_equal(nsview_uid_out(&(NsView){ 0 }, 1234), 1234);
        uidmap_free(&v.map);
}

static void test_scope(void **state)
{
        NsView v = { .cgroup_root = (char *)"/cgm/user-1000/ctr" };

        (void)state;
        /* No cgroup namespace of its own: the home. */
        assert_string_equal(nsview_scope(&(NsView){ 0 }, "user-1000"), "user-1000");
        assert_null(nsview_scope(&(NsView){ 0 }, NULL));
        /* Its namespace's root lies in its home: the root is its home. */
        assert_int_equal(nsview_set_base(&v, "/cgm"), 0);
        assert_string_equal(v.root_rel, "user-1000/ctr");
        assert_string_equal(nsview_scope(&v, "user-1000"), "user-1000/ctr");
        assert_string_equal(nsview_scope(&v, "user-1000/ctr"), "user-1000/ctr");
        /* The root holds the home: the home. Apart: none. */
        assert_string_equal(nsview_scope(&v, "user-1000/ctr/x"), "user-1000/ctr/x");
        assert_null(nsview_scope(&v, "user-2000"));
        assert_null(nsview_scope(&v, NULL));
        free(v.root_rel);
        /* A root at or above the base holds every home. */
        v = (NsView){ .cgroup_root = (char *)"/" };
        assert_int_equal(nsview_set_base(&v, "/cgm"), 0);
        assert_true(v.root_above_base);
        assert_string_equal(nsview_scope(&v, "user-1000"), "user-1000");
        v = (NsView){ .cgroup_root = (char *)"/cgm" };
        assert_int_equal(nsview_set_base(&v, "/cgm"), 0);
        assert_true(v.root_above_base);
        /* Beside the base ("/cgmx" is not below "/cgm"), or unknown: none. */
        v = (NsView){ .cgroup_root = (char *)"/cgmx/a" };
        assert_int_equal(nsview_set_base(&v, "/cgm"), 0);
        assert_false(v.root_above_base);
        assert_null(v.root_rel);
        assert_null(nsview_scope(&v, "user-1000"));
        assert_null(nsview_scope(&(NsView){ .cgroup_root_unknown = true }, "user-1000"));
}

static void test_message_out(void **state)
{
        NsView v = { .cgroup_root = (char *)"/cgm/user-1000/ctr" };
        char msg[320];

        (void)state;
        snprintf(msg, sizeof(msg), "`/cgm/user-1000` is outside your home `/cgm/user-1000/ctr`; "
                                   "`a/b` and `x` stay");
        nsview_message_out(&v, msg, sizeof(msg));
        assert_string_equal(msg, "`/..` is outside your home `/`; `a/b` and `x` stay");
        snprintf(msg, sizeof(msg), "`/cgm/user-1000/ctr/x/y` exists; unclosed `/cgm");
        nsview_message_out(&v, msg, sizeof(msg));
        assert_string_equal(msg, "`/x/y` exists; unclosed `/cgm");
        /* No namespace of its own: untouched. */
        snprintf(msg, sizeof(msg), "`/cgm/user-1000`");
        nsview_message_out(&(NsView){ 0 }, msg, sizeof(msg));
        assert_string_equal(msg, "`/cgm/user-1000`");
}

static void test_move_by_namespace_root(void **state)
{
        UidMap m;
        Principal ns_root = { .uid = 100000, .ns_root = true };
        CgmError e = CGM_ERROR_NULL;

        (void)state;
        assert_int_equal(uidmap_parse(&m, "0 100000 65536\n"), 0);
        ns_root.map = &m;
        /* A mapped uid's process inside the home, to a child of the home. */
        assert_int_equal(auth_check_move(&ns_root, "/cgm", "ctr", 101000, 101000, "ctr/a",
                                         "ctr/b", &e),
                         0);
        /* An unmapped uid (the host user who started the container, root). */
        assert_int_equal(auth_check_move(&ns_root, "/cgm", "ctr", 1000, 1000, "ctr/a", "ctr/b",
                                         &e),
                         -EACCES);
        assert_non_null(strstr(e.msg, "not mapped"));
        assert_int_equal(auth_check_move(&ns_root, "/cgm", "ctr", 101000, 0, "ctr/a", "ctr/b",
                                         &e),
                         -EACCES);
        /* Mapped, but outside its home; or to its home itself; or out of it. */
        assert_int_equal(auth_check_move(&ns_root, "/cgm", "ctr", 101000, 101000, "other",
                                         "ctr/b", &e),
                         -EACCES);
        assert_int_equal(auth_check_move(&ns_root, "/cgm", "ctr", 101000, 101000, "ctr/a", "ctr",
                                         &e),
                         -EACCES);
        assert_int_equal(auth_check_move(&ns_root, "/cgm", "ctr", 101000, 101000, "ctr/a",
                                         "other", &e),
                         -EACCES);
        /* Without the namespace root's standing, the same uid moves only its own. */
        ns_root.ns_root = false;
        ns_root.map = NULL;
        assert_int_equal(auth_check_move(&ns_root, "/cgm", "ctr", 101000, 101000, "ctr/a",
                                         "ctr/b", &e),
                         -EACCES);
        uidmap_free(&m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_uidmap_parse),
                cmocka_unit_test(test_path_out),
                cmocka_unit_test(test_path_in),
                cmocka_unit_test(test_uid_out),
                cmocka_unit_test(test_scope),
                cmocka_unit_test(test_message_out),
                cmocka_unit_test(test_move_by_namespace_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
