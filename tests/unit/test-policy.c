/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the policy parser and precedence (daemon/policy.c), including hostile files */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <errno.h>

#include "policy.h"
#include "protocol.h"

static Policy *parse_ok(const char *text)
{
        Policy *p = NULL;
        CgmError e = CGM_ERROR_NULL;

        assert_int_equal(policy_new(&p), 0);
        if (policy_parse(p, "t.conf", text, &e) != 0)
                fail_msg("parse failed: %s", e.msg);
        return p;
}

/* The text must be refused with a message that starts "t.conf:LINE:" and contains @needle. */
static void parse_fails(const char *text, unsigned line, const char *needle)
{
        Policy *p = NULL;
        CgmError e = CGM_ERROR_NULL;
        char prefix[32];

        assert_int_equal(policy_new(&p), 0);
        if (policy_parse(p, "t.conf", text, &e) == 0)
                fail_msg("accepted, expected an error with `%s`", needle);
        snprintf(prefix, sizeof(prefix), "t.conf:%u:", line);
        if (strncmp(e.msg, prefix, strlen(prefix)) != 0)
                fail_msg("message `%s` does not start with `%s`", e.msg, prefix);
        if (!strstr(e.msg, needle))
                fail_msg("message `%s` lacks `%s`", e.msg, needle);
        policy_free(p);
}

static const PolicyValue *limit(const PolicyLimits *l, const char *key)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->values[i]->key, key) == 0)
                        return l->values[i];
        return NULL;
}

static void test_policy_defaults_without_file(void **state)
{
        Policy *p = NULL;
        (void)state;
        assert_int_equal(policy_new(&p), 0);
        assert_string_equal(p->base.value, CGM_DEFAULT_BASE);
        assert_string_equal(p->socket.value, CGM_DEFAULT_SOCKET);
        assert_string_equal(p->kill_on_logout.source, "default");
        assert_false(policy_bool(&p->kill_on_logout));
        assert_int_equal(policy_uint(&p->max_cgroups_per_user), 1000);
        policy_free(p);
}

static void test_policy_reads_options_and_limits(void **state)
{
        Policy *p = parse_ok("# comment\n"
                             "base = self:cgm\n"
                             "kill_on_logout = yes\n"
                             "kill_exempt = root alice\n"
                             "linger = bob\n"
                             "admin_group = wheel\n"
                             "[default]\n"
                             "memory.max = 4G\n"
                             "pids.max = 500\n"
                             "cpu.max = 200%\n");
        (void)state;
        assert_string_equal(p->base.value, "self:cgm");
        assert_string_equal(p->base.source, "t.conf:2");
        assert_true(policy_bool(&p->kill_on_logout));
        assert_true(policy_list_has(&p->kill_exempt, "alice"));
        assert_false(policy_list_has(&p->kill_exempt, "bob"));
        assert_true(policy_list_has(&p->linger, "bob"));
        assert_int_equal(p->n_sections, 1);
        assert_string_equal(p->sections[0].values[0].value, "4294967296");
        assert_string_equal(p->sections[0].values[2].value, "200000 100000");
        assert_string_equal(p->sections[0].values[2].source, "t.conf:10");
        policy_free(p);
}

static void test_policy_precedence_user_over_group_over_default(void **state)
{
        Policy *p = parse_ok("[default]\nmemory.max = 1G\npids.max = 100\ncpu.weight = 50\n"
                             "[group:students]\nmemory.max = 2G\npids.max = 200\n"
                             "[group:staff]\nmemory.max = 8G\n"
                             "[user:alice]\npids.max = 999\n");
        const char *both[] = { "students", "staff" };
        const char *students[] = { "students" };
        PolicyLimits l;
        (void)state;

        policy_resolve(p, "carol", NULL, 0, &l);
        assert_string_equal(limit(&l, "memory.max")->value, "1073741824");
        assert_string_equal(limit(&l, "memory.max")->source, "t.conf:2");

        policy_resolve(p, "dave", students, 1, &l);
        assert_string_equal(limit(&l, "memory.max")->value, "2147483648");
        assert_string_equal(limit(&l, "pids.max")->value, "200");
        assert_string_equal(limit(&l, "cpu.weight")->value, "50");

        /* Two groups: the later section ([group:staff]) wins for the keys it sets. */
        policy_resolve(p, "erin", both, 2, &l);
        assert_string_equal(limit(&l, "memory.max")->value, "8589934592");
        assert_string_equal(limit(&l, "memory.max")->source, "t.conf:9");
        assert_string_equal(limit(&l, "pids.max")->value, "200");

        /* The user's own section beats every group. */
        policy_resolve(p, "alice", both, 2, &l);
        assert_string_equal(limit(&l, "pids.max")->value, "999");
        assert_string_equal(limit(&l, "pids.max")->source, "t.conf:11");
        assert_string_equal(limit(&l, "memory.max")->value, "8589934592");
        policy_free(p);
}

static void test_policy_later_file_overrides(void **state)
{
        Policy *p = parse_ok("[group:students]\nmemory.max = 2G\n");
        CgmError e = CGM_ERROR_NULL;
        const char *g[] = { "students" };
        PolicyLimits l;
        (void)state;

        assert_int_equal(policy_parse(p, "drop-in.conf", "[group:students]\nmemory.max = 3G\n", &e), 0);
        policy_resolve(p, "x", g, 1, &l);
        assert_string_equal(limit(&l, "memory.max")->value, "3221225472");
        assert_string_equal(limit(&l, "memory.max")->source, "drop-in.conf:2");
        policy_free(p);
}

/* oom_notice: a global option that [default], [group:] and [user:] may override like a limit,
 * and that never comes out among the limits (nothing writes it into a cgroup). */
static void test_policy_oom_notice(void **state)
{
        Policy *p = parse_ok("oom_notice = yes\n"
                             "[default]\nmemory.max = 1G\n"
                             "[group:quiet]\noom_notice = no\n"
                             "[user:alice]\noom_notice = true\n");
        const char *quiet[] = { "quiet" };
        CgmError e = CGM_ERROR_NULL;
        Policy *q = NULL;
        PolicyLimits l;
        (void)state;

        policy_resolve(p, "bob", NULL, 0, &l);
        assert_true(l.oom_notice);
        assert_string_equal(l.oom_notice_source, "t.conf:1");
        assert_int_equal(l.n, 1);
        policy_resolve(p, "bob", quiet, 1, &l);
        assert_false(l.oom_notice);
        assert_string_equal(l.oom_notice_source, "t.conf:5");
        assert_null(limit(&l, "oom_notice"));
        assert_non_null(limit(&l, "memory.max"));
        policy_resolve(p, "alice", quiet, 1, &l);
        assert_true(l.oom_notice);
        assert_string_equal(l.oom_notice_source, "t.conf:7");
        policy_free(p);

        assert_int_equal(policy_new(&q), 0);
        policy_resolve(q, "x", NULL, 0, &l);
        assert_true(l.oom_notice); /* on by default */
        assert_string_equal(l.oom_notice_source, "default");
        assert_int_equal(policy_parse(q, "t.conf", "oom_notice = no\n", &e), 0);
        policy_resolve(q, "x", NULL, 0, &l);
        assert_false(l.oom_notice);
        assert_int_equal(policy_parse(q, "u.conf", "[user:x]\noom_notice = maybe\n", &e), -EINVAL);
        assert_non_null(strstr(e.msg, "u.conf:2: oom_notice takes yes or no"));
        policy_free(q);
}

static void test_policy_rejects_garbage(void **state)
{
        (void)state;
        parse_fails("this is not a config\n", 1, "expected `key = value`");
        parse_fails("\n\n[default\n", 3, "malformed section header");
        parse_fails("[nonsense]\n", 1, "unknown section");
        parse_fails("frobnicate = 1\n", 1, "unknown option");
        parse_fails("= 1\n", 1, "key is missing");
        parse_fails("[group:]\n", 1, "bad name");
        parse_fails("[user:a b]\n", 1, "bad name");
        parse_fails("kill_on_logout = maybe\n", 1, "yes or no");
        parse_fails("socket = relative.sock\n", 1, "absolute path");
}

/* The file's text reaches a message only quoted: escapes, a cut character, a forged line. */
static void test_policy_messages_quote_the_file(void **state)
{
        (void)state;
        parse_fails("\x1b[31mred = 1\n", 1, "unknown option `\\x1b[31mred`");
        parse_fails("kill_on_logout = \xc3\xa9\r\n", 1, "not `\\xc3\\xa9`");
        parse_fails("[us\001er:x]\n", 1, "unknown section `[us\\x01er:x]`");
        parse_fails("no equals here \x7f\n", 1, "got `no equals here \\x7f`");
}

static void test_policy_rejects_bad_limits(void **state)
{
        (void)state;
        parse_fails("[default]\nmemory.max = lots\n", 2, "memory.max");
        parse_fails("[default]\nmemory.max = 99999999999999999999999G\n", 2, "memory.max");
        parse_fails("[default]\nmemory.foo = 1\n", 2, "memory.foo");
        parse_fails("[default]\ncgroup.procs = 1\n", 2, "cgroup.procs");
        parse_fails("[default]\nrelease_agent = /bin/sh\n", 2, "release_agent");
        parse_fails("[default]\npids.max = -1\n", 2, "pids.max");
        parse_fails("max_cgroups_per_user = 0\n", 1, "max_cgroups_per_user");
        parse_fails("requests_per_second = 99999999999\n", 1, "requests_per_second");
}

static void test_policy_rejects_duplicates_in_one_file(void **state)
{
        (void)state;
        parse_fails("[group:a]\npids.max = 1\n[default]\n[group:a]\n", 4, "already defined at t.conf:1");
        parse_fails("[default]\npids.max = 1\npids.max = 2\n", 3, "already set at t.conf:2");
}

static void test_policy_rejects_overlong_lines(void **state)
{
        char *text = malloc(10000);
        (void)state;
        memset(text, 'a', 9000);
        memcpy(text, "base = ", 7);
        text[9000] = '\0';
        parse_fails(text, 1, "longer than");
        free(text);
}

static void test_policy_caps_the_number_of_sections(void **state)
{
        size_t n = 10000, size = n * 32 + 1;
        char *text = malloc(size), *p = text;
        Policy *pol = NULL;
        CgmError e = CGM_ERROR_NULL;
        (void)state;

        for (size_t i = 0; i < n; i++)
                p += sprintf(p, "[user:u%zu]\npids.max = %zu\n", i, i + 1);
        assert_int_equal(policy_new(&pol), 0);
        assert_int_equal(policy_parse(pol, "t.conf", text, &e), -E2BIG);
        assert_non_null(strstr(e.msg, "more than"));
        assert_int_equal(strncmp(e.msg, "t.conf:", 7), 0);
        policy_free(pol);
        free(text);
}

static void test_policy_many_sections_within_the_cap_load(void **state)
{
        size_t n = CGM_POLICY_SECTIONS_MAX, size = n * 40 + 1;
        char *text = malloc(size), *p = text;
        Policy *pol;
        PolicyLimits l;
        (void)state;

        for (size_t i = 0; i < n; i++)
                p += sprintf(p, "[user:u%zu]\npids.max = %zu\n", i, i + 1);
        pol = parse_ok(text);
        policy_resolve(pol, "u4000", NULL, 0, &l);
        assert_string_equal(limit(&l, "pids.max")->value, "4001");
        policy_free(pol);
        free(text);
}

static void test_policy_load_missing_default_is_fine(void **state)
{
        Policy *p = NULL;
        CgmError e = CGM_ERROR_NULL;
        (void)state;
        assert_int_equal(policy_load(&p, "/nonexistent/cgm.conf", &e), -ENOENT);
        assert_non_null(strstr(e.msg, "/nonexistent/cgm.conf"));
}

static void test_policy_load_reads_dropins_in_order(void **state)
{
        char dir[] = "/tmp/cgm-policy-XXXXXX", path[128], d[160], f[200];
        Policy *p = NULL;
        CgmError e = CGM_ERROR_NULL;
        PolicyLimits l;
        FILE *fp;
        (void)state;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/cgm.conf", dir);
        snprintf(d, sizeof(d), "%s.d", path);
        fp = fopen(path, "w");
        fputs("[default]\npids.max = 1\n", fp);
        fclose(fp);
        assert_int_equal(mkdir(d, 0755), 0);
        snprintf(f, sizeof(f), "%s/20-b.conf", d);
        fp = fopen(f, "w");
        fputs("[default]\npids.max = 3\n", fp);
        fclose(fp);
        snprintf(f, sizeof(f), "%s/10-a.conf", d);
        fp = fopen(f, "w");
        fputs("[default]\npids.max = 2\n", fp);
        fclose(fp);
        snprintf(f, sizeof(f), "%s/ignored.txt", d);
        fp = fopen(f, "w");
        fputs("garbage\n", fp);
        fclose(fp);

        assert_int_equal(policy_load(&p, path, &e), 0);
        assert_int_equal(p->n_files, 3);
        policy_resolve(p, "x", NULL, 0, &l);
        assert_string_equal(limit(&l, "pids.max")->value, "3");
        assert_non_null(strstr(limit(&l, "pids.max")->source, "20-b.conf:2"));
        policy_free(p);

        snprintf(f, sizeof(f), "%s/30-bad.conf", d);
        fp = fopen(f, "w");
        fputs("[default]\nmemory.max = nope\n", fp);
        fclose(fp);
        p = NULL;
        assert_true(policy_load(&p, path, &e) < 0);
        assert_null(p);
        assert_non_null(strstr(e.msg, "30-bad.conf:2:"));

        snprintf(f, sizeof(f), "rm -rf '%s'", dir);
        assert_int_equal(system(f), 0);
}

static void test_policy_refuses_nul_bytes(void **state)
{
        char dir[] = "/tmp/cgm-policy-XXXXXX", path[128], cmd[200];
        Policy *p = NULL;
        CgmError e = CGM_ERROR_NULL;
        FILE *fp;
        (void)state;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/cgm.conf", dir);
        fp = fopen(path, "w");
        fwrite("base = /x\0y\n", 1, 12, fp);
        fclose(fp);
        assert_int_equal(policy_load(&p, path, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "NUL"));
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_policy_defaults_without_file),
                cmocka_unit_test(test_policy_reads_options_and_limits),
                cmocka_unit_test(test_policy_precedence_user_over_group_over_default),
                cmocka_unit_test(test_policy_later_file_overrides),
                cmocka_unit_test(test_policy_rejects_garbage),
                cmocka_unit_test(test_policy_messages_quote_the_file),
                cmocka_unit_test(test_policy_rejects_bad_limits),
                cmocka_unit_test(test_policy_rejects_duplicates_in_one_file),
                cmocka_unit_test(test_policy_rejects_overlong_lines),
                cmocka_unit_test(test_policy_caps_the_number_of_sections),
                cmocka_unit_test(test_policy_many_sections_within_the_cap_load),
                cmocka_unit_test(test_policy_load_missing_default_is_fine),
                cmocka_unit_test(test_policy_load_reads_dropins_in_order),
                cmocka_unit_test(test_policy_refuses_nul_bytes),
                cmocka_unit_test(test_policy_oom_notice),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
