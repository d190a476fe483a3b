/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for CgmError and the D-Bus error name <-> errno table (common/error.c) */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#include "error.h"
#include "protocol.h"

static void test_error_set_fills_and_returns_code(void **state)
{
        CgmError e = CGM_ERROR_NULL;

        (void)state;
        assert_int_equal(cgm_error_set(&e, -EACCES, CGM_ERR_PERMISSION_DENIED, "uid %u: %s",
                                       1000u, "no"),
                         -EACCES);
        assert_int_equal(e.code, -EACCES);
        assert_string_equal(e.name, CGM_ERR_PERMISSION_DENIED);
        assert_string_equal(e.msg, "uid 1000: no");
}

static void test_error_set_derives_name_from_code(void **state)
{
        CgmError e = CGM_ERROR_NULL;

        (void)state;
        cgm_error_set(&e, -ENOENT, NULL, "gone");
        assert_string_equal(e.name, CGM_ERR_NOT_FOUND);
        cgm_error_set(&e, -ENOMEM, NULL, "oom");
        assert_string_equal(e.name, CGM_ERR_FAILED);
}

static void test_error_set_accepts_null(void **state)
{
        (void)state;
        assert_int_equal(cgm_error_set(NULL, -EBUSY, NULL, "x"), -EBUSY);
        assert_int_equal(cgm_error_prefix(NULL, "ctx"), -EIO);
}

static void test_error_set_truncates_long_messages(void **state)
{
        CgmError e = CGM_ERROR_NULL;
        char big[1000];

        (void)state;
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        cgm_error_set(&e, -EINVAL, NULL, "%s", big);
        assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
}

/* A cut never splits a UTF-8 character: the message stays valid UTF-8 (D-Bus needs it). */
static void test_error_set_cuts_between_characters(void **state)
{
        CgmError e = CGM_ERROR_NULL;
        char big[1000];

        (void)state;
        for (size_t shift = 0; shift < 4; shift++) {
                size_t o = 0;

                memset(big, 'x', shift);
                o = shift;
                while (o + 4 < sizeof(big)) {
                        memcpy(big + o, "\xe2\x82\xac", 3); /* U+20AC, three bytes */
                        o += 3;
                }
                big[o] = '\0';
                cgm_error_set(&e, -EINVAL, NULL, "%s", big);
                /* The longest prefix of whole characters that fits. */
                assert_int_equal(strlen(e.msg), shift + (sizeof(e.msg) - 1 - shift) / 3 * 3);
                cgm_error_prefix(&e, "ab");
                assert_memory_equal(e.msg, "ab: ", 4);
                assert_int_equal((strlen(e.msg) - 4 - shift) % 3, 0);
        }
}

static void test_error_prefix_puts_context_first(void **state)
{
        CgmError e = CGM_ERROR_NULL;

        (void)state;
        cgm_error_set(&e, -EEXIST, NULL, "`a` exists");
        assert_int_equal(cgm_error_prefix(&e, "create %s", "x/a"), -EEXIST);
        assert_string_equal(e.msg, "create x/a: `a` exists");
        assert_string_equal(e.name, CGM_ERR_EXISTS);
}

static void test_error_prefix_on_empty_message(void **state)
{
        CgmError e = CGM_ERROR_NULL;

        (void)state;
        e.code = -EIO;
        cgm_error_prefix(&e, "reading %s", "memory.max");
        assert_string_equal(e.msg, "reading memory.max");
}

static void test_error_prefix_truncates(void **state)
{
        CgmError e = CGM_ERROR_NULL;
        char big[400];

        (void)state;
        memset(big, 'y', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        cgm_error_set(&e, -EINVAL, NULL, "%s", big);
        cgm_error_prefix(&e, "ctx");
        assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
        assert_memory_equal(e.msg, "ctx: yyy", 8);
        cgm_error_prefix(&e, "%s", big);
        assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
}

static void test_errno_to_name_table(void **state)
{
        (void)state;
        assert_string_equal(cgm_errno_to_error_name(-EACCES), CGM_ERR_PERMISSION_DENIED);
        assert_string_equal(cgm_errno_to_error_name(-EPERM), CGM_ERR_PERMISSION_DENIED);
        assert_string_equal(cgm_errno_to_error_name(EPERM), CGM_ERR_PERMISSION_DENIED);
        assert_string_equal(cgm_errno_to_error_name(-ENOENT), CGM_ERR_NOT_FOUND);
        assert_string_equal(cgm_errno_to_error_name(-EINVAL), CGM_ERR_INVALID_ARGS);
        assert_string_equal(cgm_errno_to_error_name(-ERANGE), CGM_ERR_INVALID_VALUE);
        assert_string_equal(cgm_errno_to_error_name(-EEXIST), CGM_ERR_EXISTS);
        assert_string_equal(cgm_errno_to_error_name(-EBUSY), CGM_ERR_BUSY);
        assert_string_equal(cgm_errno_to_error_name(-EDQUOT), CGM_ERR_LIMIT_EXCEEDED);
        assert_string_equal(cgm_errno_to_error_name(-EAGAIN), CGM_ERR_LIMIT_EXCEEDED);
        assert_string_equal(cgm_errno_to_error_name(-EUSERS), CGM_ERR_LIMIT_EXCEEDED);
        assert_string_equal(cgm_errno_to_error_name(-EOPNOTSUPP), CGM_ERR_NOT_SUPPORTED);
        assert_string_equal(cgm_errno_to_error_name(-ESRCH), CGM_ERR_NO_PROCESS);
        assert_string_equal(cgm_errno_to_error_name(-EIO), CGM_ERR_FAILED);
        assert_string_equal(cgm_errno_to_error_name(-ENOSPC), CGM_ERR_FAILED);
        assert_string_equal(cgm_errno_to_error_name(0), CGM_ERR_FAILED);
}

static void test_name_to_errno_table(void **state)
{
        (void)state;
        assert_int_equal(cgm_error_name_to_errno(CGM_ERR_PERMISSION_DENIED), EACCES);
        assert_int_equal(cgm_error_name_to_errno(CGM_ERR_NOT_FOUND), ENOENT);
        assert_int_equal(cgm_error_name_to_errno(CGM_ERR_INVALID_NAME), EINVAL);
        assert_int_equal(cgm_error_name_to_errno(CGM_ERR_INVALID_VALUE), EINVAL);
        assert_int_equal(cgm_error_name_to_errno(CGM_ERR_INVALID_ARGS), EINVAL);
        assert_int_equal(cgm_error_name_to_errno(CGM_ERR_EXISTS), EEXIST);
        assert_int_equal(cgm_error_name_to_errno(CGM_ERR_BUSY), EBUSY);
        assert_int_equal(cgm_error_name_to_errno(CGM_ERR_LIMIT_EXCEEDED), EDQUOT);
        assert_int_equal(cgm_error_name_to_errno(CGM_ERR_NOT_SUPPORTED), EOPNOTSUPP);
        assert_int_equal(cgm_error_name_to_errno(CGM_ERR_NO_PROCESS), ESRCH);
        assert_int_equal(cgm_error_name_to_errno(CGM_ERR_FAILED), EIO);
        assert_int_equal(cgm_error_name_to_errno("org.freedesktop.DBus.Error.NoReply"), EIO);
        assert_int_equal(cgm_error_name_to_errno(""), EIO);
        assert_int_equal(cgm_error_name_to_errno(NULL), EIO);
        assert_int_equal(cgm_error_name_to_errno(CGM_ERROR_PREFIX "Busyx"), EIO);
}

static void test_names_round_trip_through_errno(void **state)
{
        static const char *const names[] = {
                CGM_ERR_PERMISSION_DENIED, CGM_ERR_NOT_FOUND, CGM_ERR_EXISTS,
                CGM_ERR_BUSY,              CGM_ERR_LIMIT_EXCEEDED, CGM_ERR_NOT_SUPPORTED,
                CGM_ERR_NO_PROCESS,        CGM_ERR_FAILED,
        };

        (void)state;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                assert_string_equal(cgm_errno_to_error_name(cgm_error_name_to_errno(names[i])),
                                    names[i]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_error_set_fills_and_returns_code),
                cmocka_unit_test(test_error_set_derives_name_from_code),
                cmocka_unit_test(test_error_set_accepts_null),
                cmocka_unit_test(test_error_set_truncates_long_messages),
                cmocka_unit_test(test_error_set_cuts_between_characters),
                cmocka_unit_test(test_error_prefix_puts_context_first),
                cmocka_unit_test(test_error_prefix_on_empty_message),
                cmocka_unit_test(test_error_prefix_truncates),
                cmocka_unit_test(test_errno_to_name_table),
                cmocka_unit_test(test_name_to_errno_table),
                cmocka_unit_test(test_names_round_trip_through_errno),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
