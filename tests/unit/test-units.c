/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for human units: byte sizes, bounded integers, printing (common/units.c) */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#include "units.h"

static uint64_t bytes_ok(const char *s)
{
        char why[256] = "";
        uint64_t v = 0;

        if (cgm_parse_bytes(s, &v, why, sizeof(why)) != 0)
                fail_msg("`%s` refused: %s", s, why);
        return v;
}

static void bytes_bad(const char *s, int code)
{
        char why[256] = "";
        uint64_t v = 12345;

        assert_int_equal(cgm_parse_bytes(s, &v, why, sizeof(why)), code);
        assert_true(why[0] != '\0');
        assert_int_equal(v, 12345); /* untouched on failure */
}

static void test_bytes_plain_decimal(void **state)
{
        (void)state;
        assert_int_equal(bytes_ok("0"), 0);
        assert_int_equal(bytes_ok("4096"), 4096);
        assert_int_equal(bytes_ok("007"), 7);
}

static void test_bytes_binary_suffixes(void **state)
{
        (void)state;
        assert_int_equal(bytes_ok("2G"), 2ULL << 30);
        assert_int_equal(bytes_ok("512M"), 512ULL << 20);
        assert_int_equal(bytes_ok("1K"), 1024);
        assert_int_equal(bytes_ok("3T"), 3ULL << 40);
        assert_int_equal(bytes_ok("1P"), 1ULL << 50);
}

static void test_bytes_suffix_spellings_are_case_insensitive(void **state)
{
        (void)state;
        assert_int_equal(bytes_ok("1KiB"), 1024);
        assert_int_equal(bytes_ok("1Ki"), 1024);
        assert_int_equal(bytes_ok("1KB"), 1024);
        assert_int_equal(bytes_ok("1k"), 1024);
        assert_int_equal(bytes_ok("1kib"), 1024);
        assert_int_equal(bytes_ok("2gb"), 2ULL << 30);
        assert_int_equal(bytes_ok("2GiB"), 2ULL << 30);
        assert_int_equal(bytes_ok("100B"), 100);
}

static void test_bytes_fractions_round_down(void **state)
{
        (void)state;
        assert_int_equal(bytes_ok("1.5G"), 3ULL << 29);
        assert_int_equal(bytes_ok("0.5K"), 512);
        assert_int_equal(bytes_ok("1.0009765625K"), 1025);
        assert_int_equal(bytes_ok("1.001K"), 1025); /* 1025.024 -> 1025 */
        assert_int_equal(bytes_ok("1.5"), 1);
        assert_int_equal(bytes_ok("0.999999999999999999K"), 1023);
}

static void test_bytes_max_means_unlimited(void **state)
{
        (void)state;
        assert_true(bytes_ok("max") == CGM_UNLIMITED);
        bytes_bad("maximum", -EINVAL);
        bytes_bad("max ", -EINVAL);
}

static void test_bytes_rejects_overflow(void **state)
{
        (void)state;
        assert_true(bytes_ok("9223372036854775807") == INT64_MAX);
        bytes_bad("9223372036854775808", -ERANGE);
        bytes_bad("18446744073709551616", -ERANGE);
        bytes_bad("99999999999999999999999999999", -ERANGE);
        bytes_bad("8192P", -ERANGE);
        assert_true(bytes_ok("8191P") == 8191ULL << 50);
        bytes_bad("8388608T", -ERANGE);
}

static void test_bytes_rejects_negative(void **state)
{
        (void)state;
        bytes_bad("-1", -EINVAL);
        bytes_bad("-0", -EINVAL);
        bytes_bad("+1", -EINVAL);
}

static void test_bytes_rejects_spaces(void **state)
{
        (void)state;
        bytes_bad(" 1", -EINVAL);
        bytes_bad("1 ", -EINVAL);
        bytes_bad("1 G", -EINVAL);
        bytes_bad("1\n", -EINVAL);
        bytes_bad("\t1", -EINVAL);
}

static void test_bytes_rejects_garbage(void **state)
{
        (void)state;
        bytes_bad("", -EINVAL);
        bytes_bad("1e3", -EINVAL);
        bytes_bad("0x10", -EINVAL);
        bytes_bad("G", -EINVAL);
        bytes_bad(".5G", -EINVAL);
        bytes_bad("1.G", -EINVAL);
        bytes_bad("1..5G", -EINVAL);
        bytes_bad("1GG", -EINVAL);
        bytes_bad("1Gi B", -EINVAL);
        bytes_bad("1Bi", -EINVAL);
        bytes_bad("1X", -EINVAL);
        bytes_bad("1E", -EINVAL); /* exbibytes do not fit anyway: no E suffix */
        bytes_bad("1,5G", -EINVAL);
        bytes_bad("1.0000000000000000001G", -EINVAL); /* 19 fraction digits */
}

static void test_bytes_message_escapes_input(void **state)
{
        char why[256];
        uint64_t v;

        (void)state;
        assert_int_equal(cgm_parse_bytes("1\x1b[2J", &v, why, sizeof(why)), -EINVAL);
        assert_null(strchr(why, '\x1b'));
        assert_non_null(strstr(why, "\\x1b"));
}

static void test_uint_range_and_max(void **state)
{
        char why[256];
        uint64_t v = 0;

        (void)state;
        assert_int_equal(cgm_parse_uint("1", 1, 10000, false, &v, why, sizeof(why)), 0);
        assert_int_equal(v, 1);
        assert_int_equal(cgm_parse_uint("10000", 1, 10000, false, &v, why, sizeof(why)), 0);
        assert_int_equal(v, 10000);
        assert_int_equal(cgm_parse_uint("0", 1, 10000, false, &v, why, sizeof(why)), -ERANGE);
        assert_non_null(strstr(why, "1..10000"));
        assert_int_equal(cgm_parse_uint("10001", 1, 10000, false, &v, why, sizeof(why)), -ERANGE);
        assert_int_equal(cgm_parse_uint("max", 0, 10, true, &v, why, sizeof(why)), 0);
        assert_true(v == CGM_UNLIMITED);
        assert_int_equal(cgm_parse_uint("max", 0, 10, false, &v, why, sizeof(why)), -EINVAL);
        assert_int_equal(cgm_parse_uint("18446744073709551615", 0, UINT64_MAX, false, &v, why,
                                        sizeof(why)),
                         0);
        assert_true(v == UINT64_MAX);
        assert_int_equal(cgm_parse_uint("18446744073709551616", 0, UINT64_MAX, false, &v, why,
                                        sizeof(why)),
                         -ERANGE);
}

static void test_uint_rejects_non_decimal(void **state)
{
        static const char *const bad[] = { "", "-1", " 1", "1 ", "1e3", "0x10", "1.5", "1K",
                                           "+5", "MAX" };
        uint64_t v;

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char why[256] = "";

                assert_int_equal(cgm_parse_uint(bad[i], 0, 100, true, &v, why, sizeof(why)),
                                 -EINVAL);
                assert_true(why[0] != '\0');
        }
}

static void test_format_uses_largest_exact_suffix(void **state)
{
        char buf[32];

        (void)state;
        cgm_format_bytes(4ULL << 30, buf, sizeof(buf));
        assert_string_equal(buf, "4G");
        cgm_format_bytes(1536ULL << 20, buf, sizeof(buf));
        assert_string_equal(buf, "1536M");
        cgm_format_bytes(123456, buf, sizeof(buf));
        assert_string_equal(buf, "123456");
        cgm_format_bytes(0, buf, sizeof(buf));
        assert_string_equal(buf, "0");
        cgm_format_bytes(CGM_UNLIMITED, buf, sizeof(buf));
        assert_string_equal(buf, "max");
        cgm_format_bytes(1ULL << 50, buf, sizeof(buf));
        assert_string_equal(buf, "1P");
        cgm_format_bytes(INT64_MAX, buf, sizeof(buf));
        assert_string_equal(buf, "9223372036854775807");
}

static void test_format_round_trips_through_parse(void **state)
{
        static const uint64_t values[] = { 0, 1, 1023, 1024, 4096, 1536ULL << 20, 3ULL << 29,
                                           (1ULL << 62) + 1, INT64_MAX, 8191ULL << 50,
                                           CGM_UNLIMITED };
        char buf[32];

        (void)state;
        for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
                cgm_format_bytes(values[i], buf, sizeof(buf));
                assert_true(bytes_ok(buf) == values[i]);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bytes_plain_decimal),
                cmocka_unit_test(test_bytes_binary_suffixes),
                cmocka_unit_test(test_bytes_suffix_spellings_are_case_insensitive),
                cmocka_unit_test(test_bytes_fractions_round_down),
                cmocka_unit_test(test_bytes_max_means_unlimited),
                cmocka_unit_test(test_bytes_rejects_overflow),
                cmocka_unit_test(test_bytes_rejects_negative),
                cmocka_unit_test(test_bytes_rejects_spaces),
                cmocka_unit_test(test_bytes_rejects_garbage),
                cmocka_unit_test(test_bytes_message_escapes_input),
                cmocka_unit_test(test_uint_range_and_max),
                cmocka_unit_test(test_uint_rejects_non_decimal),
                cmocka_unit_test(test_format_uses_largest_exact_suffix),
                cmocka_unit_test(test_format_round_trips_through_parse),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
