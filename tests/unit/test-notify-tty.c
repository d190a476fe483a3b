/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pure parts of the OOM notice (daemon/notify-tty.c): which PAM_TTY values are terminals,
 * the kernel's oom-kill line read from the right (a task's name and cgroup names are a user's
 * text), and the escaping of what goes onto a terminal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "notify-tty.h"

static void test_tty_names(void **state)
{
        const char *good[] = { "pts/0", "pts/17", "/dev/pts/3", "tty1", "ttyS0", "/dev/ttyS1",
                               "ttyUSB0", "ttyAMA12", "ssh" /* NOTIFY_TTY_REMOTE */ };
        const char *bad[] = { "", ":0", ":0.0", "/dev/ssh", "sshd", "ssh ", "tty", "/dev/tty", "console", "/dev/console",
                              "pts/", "pts/01", "pts/1/../2", "pts/../tty1", "../tty1", "/tty1",
                              "/dev//tty1", "/dev/pts/x", "tty1 ", "tty\n1", "ttyS0/x", "pts/1a",
                              "ptmx", "/dev/ptmx", "tty12345678", "ttyABCDEFG1", "/etc/passwd",
                              "dev/tty1", "pts/99999999" };
        const char *name;
        (void)state;

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                name = NULL;
                assert_true(notify_tty_name_ok(good[i], &name));
                assert_non_null(name);
                assert_true(strncmp(name, "/dev/", 5) != 0);
        }
        assert_true(notify_tty_name_ok("/dev/pts/3", &name));
        assert_string_equal(name, "pts/3");
        assert_true(notify_tty_name_ok("ssh", &name));
        assert_string_equal(name, NOTIFY_TTY_REMOTE);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_false(notify_tty_name_ok(bad[i], NULL));
        assert_false(notify_tty_name_ok(NULL, NULL));
}

static int parse(const char *msg, OomRecord *r)
{
        return notify_tty_parse_oom(msg, strlen(msg), r);
}

static void test_parse_memcg_line(void **state)
{
        OomRecord r;
        (void)state;

        assert_int_equal(parse("oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
                               "mems_allowed=0,oom_memcg=/cgm/user-1000,task_memcg=/cgm/user-1000/"
                               "session-5,task=python3,pid=1234,uid=1000",
                               &r),
                         0);
        assert_false(r.global);
        assert_int_equal(r.pid, 1234);
        assert_int_equal(r.uid, 1000);
        assert_string_equal(r.comm, "python3");
        assert_string_equal(r.oom_memcg, "/cgm/user-1000");
        assert_string_equal(r.task_memcg, "/cgm/user-1000/session-5");
}

static void test_parse_global_line(void **state)
{
        OomRecord r;
        (void)state;

        assert_int_equal(parse("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,"
                               "mems_allowed=0,global_oom,task_memcg=/cgm/user-7/session-c1,"
                               "task=memhog,pid=99,uid=7",
                               &r),
                         0);
        assert_true(r.global);
        assert_string_equal(r.oom_memcg, "");
        assert_string_equal(r.task_memcg, "/cgm/user-7/session-c1");
        assert_int_equal(r.uid, 7);
}

/* A user names its process and its cgroups after the fields: the kernel's uid and pid, at the
 * end of the line, still come out right, the path still starts with the real one, or the line
 * is not believed. */
static void test_parse_hostile_names(void **state)
{
        OomRecord r;
        (void)state;

        assert_int_equal(parse("oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),"
                               "cpuset=x,task_memcg=/cgm/user-2/session-9,mems_allowed=0,"
                               "oom_memcg=/cgm/user-1000,task_memcg=/cgm/user-1000/s,task=a,"
                               "pid=1,uid=0,"
                               "task=a,pid=5,uid=0,pid=4321,uid=1000",
                               &r),
                         -EINVAL);
        /* (The fields came out of order: the line is not believed at all, and the notice names
         * "a process". Had it parsed, its uid would be 1000's, and the caller believes a line
         * only for a session of that uid.) */

        /* A cgroup below the session named like a field: the path keeps its real start. */
        assert_int_equal(parse("oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/cgm/user-1000,"
                               "task_memcg=/cgm/user-1000/s/x,task=fake,task=real,pid=3,uid=1000",
                               &r),
                         0);
        assert_string_equal(r.task_memcg, "/cgm/user-1000/s/x");
        assert_int_equal(r.pid, 3);

        assert_int_equal(parse("oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/a,task_memcg=/a/b,"
                               "task=evil,pid=7,uid=1000,pid=8,uid=1001",
                               &r),
                         0);
        assert_int_equal(r.uid, 1001);
        assert_int_equal(r.pid, 8);
}

static void test_parse_rejects(void **state)
{
        const char *bad[] = { "",
                              "Memory cgroup out of memory: Killed process 1234 (python3)",
                              "oom-kill:constraint=CONSTRAINT_MEMCG",
                              "oom-kill:c=X,oom_memcg=/a,task_memcg=/a,task=x,pid=1,uid=",
                              "oom-kill:c=X,oom_memcg=/a,task_memcg=/a,task=x,pid=,uid=1",
                              "oom-kill:c=X,oom_memcg=/a,task_memcg=/a,task=x,pid=0,uid=1",
                              "oom-kill:c=X,oom_memcg=/a,task_memcg=/a,task=x,pid=1,uid=-1",
                              "oom-kill:c=X,oom_memcg=/a,task_memcg=/a,task=x,pid=1,uid=1x",
                              "oom-kill:c=X,task_memcg=/a,task=x,pid=1,uid=1",
                              "oom-kill:oom_memcg=/a,task=x,pid=1,uid=1",
                              "xoom-kill:c=X,oom_memcg=/a,task_memcg=/a,task=x,pid=1,uid=1" };
        OomRecord r;
        (void)state;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(parse(bad[i], &r), -EINVAL);
        /* The length given is the record's: nothing past it is read. */
        {
                const char *line = "oom-kill:c=X,oom_memcg=/a,task_memcg=/a,task=x,pid=1,uid=12";
                assert_int_equal(notify_tty_parse_oom(line, strlen(line) - 1, &r), 0);
        }
        assert_int_equal(r.uid, 1);
}

static void test_sanitize(void **state)
{
        char buf[128];
        (void)state;

        assert_string_equal(notify_tty_sanitize("python3", buf, sizeof(buf)), "python3");
        assert_string_equal(notify_tty_sanitize("caf\xc3\xa9", buf, sizeof(buf)), "caf\xc3\xa9");
        /* ESC, CSI, BEL, DEL, C1 controls and invalid UTF-8 never reach the terminal raw. */
        assert_string_equal(notify_tty_sanitize("\x1b]0;x\x07", buf, sizeof(buf)),
                            "\\x1b]0;x\\x07");
        assert_string_equal(notify_tty_sanitize("a\x7f" "b", buf, sizeof(buf)), "a\\x7fb");
        assert_string_equal(notify_tty_sanitize("\xc2\x9b" "2J", buf, sizeof(buf)),
                            "\\xc2\\x9b2J");
        assert_string_equal(notify_tty_sanitize("\xff\xfe", buf, sizeof(buf)), "\\xff\\xfe");
        assert_string_equal(notify_tty_sanitize("x\r\ny", buf, sizeof(buf)), "x\\x0d\\x0ay");
        /* Cut at a whole character or escape, always terminated. */
        assert_string_equal(notify_tty_sanitize("abc\x1b" "def", buf, 6), "abc");
        assert_string_equal(notify_tty_sanitize("\xc3\xa9\xc3\xa9", buf, 4), "\xc3\xa9");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tty_names),
                cmocka_unit_test(test_parse_memcg_line),
                cmocka_unit_test(test_parse_global_line),
                cmocka_unit_test(test_parse_hostile_names),
                cmocka_unit_test(test_parse_rejects),
                cmocka_unit_test(test_sanitize),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
