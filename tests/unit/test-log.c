/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Log lines: whatever a caller formats, no control byte reaches syslog or the terminal */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static char seen[1024];
static int n_seen;

static void sink(int priority, const char *line)
{
        (void)priority;
        snprintf(seen, sizeof(seen), "%s", line);
        n_seen++;
}

/* A cgroup name or process name with a newline cannot forge a second line. */
static void test_log_newline_is_escaped(void **state)
{
        (void)state;
        n_seen = 0;
        log_set_sink(sink);
        log_msg(LOG_WARNING, "login in `%s`", "/x\ncgmd[1]: forged\x1b[2J");
        log_set_sink(NULL);
        assert_int_equal(n_seen, 1);
        assert_string_equal(seen, "login in `/x\\x0acgmd[1]: forged\\x1b[2J`");
        assert_null(strchr(seen, '\n'));
}

static void test_log_escape_bounds(void **state)
{
        char out[8];

        (void)state;
        log_escape_controls("ab\tcdef", out, sizeof(out));
        assert_string_equal(out, "ab\\x09c");
        log_escape_controls("\x7f", out, sizeof(out));
        assert_string_equal(out, "\\x7f");
        log_escape_controls("abcdef\n", out, sizeof(out));
        assert_string_equal(out, "abcdef"); /* no room for a whole escape: cut before it */
        log_escape_controls("héllo", out, sizeof(out));
        assert_string_equal(out, "héllo"); /* UTF-8 passes unchanged */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_log_newline_is_escaped),
                cmocka_unit_test(test_log_escape_bounds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
