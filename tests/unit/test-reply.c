/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replies: every string that leaves the daemon is valid UTF-8 (daemon/reply.c)
 *
 * libdbus aborts the process on a string that is not UTF-8; these tests hand the reply
 * helpers what users can make the daemon quote (non-UTF-8 cgroup names, a character cut at a
 * buffer's end, overlong forms, surrogates) and check that what comes out is valid and says
 * which bytes were escaped. A test that aborted here would be the daemon crashing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reply.h"

static void check_escape(const char *in, const char *want)
{
        bool oom;
        char *out = reply_utf8_escape(in, &oom);

        assert_false(oom);
        if (!want) {
                assert_null(out);
                return;
        }
        assert_non_null(out);
        assert_string_equal(out, want);
        assert_true(dbus_validate_utf8(out, NULL));
        free(out);
}

static void test_valid_passes_unchanged(void **state)
{
        (void)state;
        check_escape("", NULL);
        check_escape("/cgm/user-1000/build", NULL);
        check_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7", NULL);
        check_escape("already quoted: \\xff", NULL);
}

static void test_invalid_bytes_are_escaped(void **state)
{
        (void)state;
        check_escape("x\xffy", "x\\xffy");
        /* a two-byte character cut after its first byte, as %.40s did */
        check_escape("aaaa\xc3", "aaaa\\xc3");
        /* overlong "/" and NUL, a surrogate, above U+10FFFF, a stray continuation byte */
        check_escape("\xc0\xaf", "\\xc0\\xaf");
        check_escape("\xed\xa0\x80", "\\xed\\xa0\\x80");
        check_escape("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
        check_escape("\x80z", "\\x80z");
        /* valid characters around an invalid byte survive */
        check_escape("\xc3\xa9\xfe\xc3\xa9", "\xc3\xa9\\xfe\xc3\xa9");
}

static void test_messages_never_abort(void **state)
{
        static const char *const hostile[] = { "\xff", "a\xc3", "\xed\xbf\xbf", "\xf8\x88\x80\x80\x80",
                                                "ok" };
        DBusMessage *call = dbus_message_new_method_call(NULL, "/org/cgm/Manager",
                                                         "org.cgm.Manager1", "Ping");
        DBusMessageIter it;
        DBusMessage *r;
        const char *s;

        (void)state;
        assert_non_null(call);
        dbus_message_set_serial(call, 7);
        r = dbus_message_new_method_return(call);
        dbus_message_iter_init_append(r, &it);
        for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
                assert_true(reply_append_string(&it, hostile[i]));
        dbus_message_iter_init(r, &it);
        dbus_message_iter_get_basic(&it, &s);
        assert_string_equal(s, "\\xff");
        dbus_message_unref(r);

        r = reply_error(call, "org.cgm.Error.Failed", "setting `aaaa\xc3` is too long");
        assert_non_null(r);
        assert_true(dbus_message_get_args(r, NULL, DBUS_TYPE_STRING, &s, DBUS_TYPE_INVALID));
        assert_string_equal(s, "setting `aaaa\\xc3` is too long");
        dbus_message_unref(r);

        r = reply_strings(call, 2, hostile);
        assert_non_null(r);
        dbus_message_unref(r);
        dbus_message_unref(call);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid_passes_unchanged),
                cmocka_unit_test(test_invalid_bytes_are_escaped),
                cmocka_unit_test(test_messages_never_abort),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
