/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for human units: byte sizes, bounded integers, printing (common/units.c), and
 * that every human form printed for a key sets the same kernel value again (common/keys.c) */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#include "keys.h"
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
        assert_string_equal(buf, "1.5G");
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

/* xorshift64*: the same sequence on every run, so a failure can be replayed. */
static uint64_t next_random(uint64_t *state)
{
        uint64_t x = *state;

        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        return x * UINT64_C(2685821657736338717);
}

static void format_is(uint64_t value, const char *want)
{
        char buf[CGM_FORMAT_BYTES_MAX];

        cgm_format_bytes(value, buf, sizeof(buf));
        if (strcmp(buf, want) != 0)
                fail_msg("%llu printed as `%s`, expected `%s`", (unsigned long long)value, buf,
                         want);
}

static void test_format_fractions_are_exact(void **state)
{
        (void)state;
        format_is(1610612736, "1.5G");
        format_is(3ULL << 29, "1.5G");
        format_is(1152, "1.125K");
        format_is(1280, "1.25K");
        format_is(2560ULL << 20, "2.5G");
        format_is((1ULL << 40) + (1ULL << 37), "1.125T");
        format_is(1ULL << 62, "4096P");
        format_is(1000000, "1000000"); /* 976.5625K: four decimals, so no suffix */
        format_is(1000448, "977K");
        format_is(1088, "1088");       /* 1.0625K */
        format_is(1024 + 128, "1.125K");
        format_is(1024 + 64, "1088");
        format_is(512, "512");         /* 0.5K: a leading 0 is never printed */
        format_is(1023, "1023");
        format_is(1, "1");
        format_is(INT64_MAX - 4095, "9007199254740988K"); /* v1's "no limit" */
        format_is((uint64_t)INT64_MAX + 1, "9223372036854775808"); /* no cgroup value */
        format_is(UINT64_MAX - 1, "18446744073709551614");
}

static void test_format_then_parse_gives_the_value_back(void **state)
{
        uint64_t seed = 0x2545F4914F6CDD1DULL;
        char buf[CGM_FORMAT_BYTES_MAX];
        char why[256];

        (void)state;
        /* Values with many trailing zero bits are the ones that get suffixes and fractions. */
        for (int i = 0; i < 200000; i++) {
                uint64_t v = next_random(&seed) >> 1; /* 0..INT64_MAX */
                unsigned zeros = (unsigned)(next_random(&seed) % 64);
                uint64_t back = 0;

                if (i % 2)
                        v &= ~((UINT64_C(1) << (zeros % 63)) - 1);
                if (i % 7 == 0)
                        v >>= next_random(&seed) % 63;
                cgm_format_bytes(v, buf, sizeof(buf));
                assert_true(strlen(buf) < sizeof(buf));
                if (cgm_parse_bytes(buf, &back, why, sizeof(why)) != 0)
                        fail_msg("`%s` (from %llu) refused: %s", buf, (unsigned long long)v, why);
                if (back != v)
                        fail_msg("%llu printed as `%s`, which parses as %llu",
                                 (unsigned long long)v, buf, (unsigned long long)back);
        }
        /* The edges: every power of two and its neighbours. */
        for (unsigned s = 0; s < 63; s++) {
                uint64_t p = UINT64_C(1) << s;
                uint64_t values[] = { p - 1, p, p + 1, p * 3 / 2 };

                for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
                        if (values[k] > INT64_MAX)
                                continue;
                        cgm_format_bytes(values[k], buf, sizeof(buf));
                        assert_int_equal(bytes_ok(buf), values[k]);
                }
        }
}

static void test_parse_then_format_is_canonical(void **state)
{
        static const char *const forms[] = { "0", "1", "1023", "1K", "1.5K", "1.125K", "4G",
                                             "1.5G", "2.25T", "8191P", "max", "123456" };
        char buf[CGM_FORMAT_BYTES_MAX];

        (void)state;
        for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
                cgm_format_bytes(bytes_ok(forms[i]), buf, sizeof(buf));
                assert_string_equal(buf, forms[i]);
        }
        /* Other spellings come back in the one canonical form. */
        cgm_format_bytes(bytes_ok("1536MiB"), buf, sizeof(buf));
        assert_string_equal(buf, "1.5G");
        cgm_format_bytes(bytes_ok("0.5G"), buf, sizeof(buf));
        assert_string_equal(buf, "512M");
        cgm_format_bytes(bytes_ok("1048576"), buf, sizeof(buf));
        assert_string_equal(buf, "1M");
}

static void cpu_is(const char *raw, const char *want)
{
        char buf[CGM_FORMAT_VALUE_MAX];

        assert_int_equal(cgm_format_cpu_max(raw, buf, sizeof(buf)), 0);
        if (strcmp(buf, want) != 0)
                fail_msg("cpu.max `%s` printed as `%s`, expected `%s`", raw, buf, want);
}

/* key_parse() is what the daemon does with a value: the printed form must give @raw again. */
static void sets_again(const char *key, const char *raw)
{
        char human[CGM_FORMAT_VALUE_MAX], canon[128], why[256] = "";

        cgm_format_value(key, raw, human, sizeof(human));
        if (key_parse(key, human, canon, sizeof(canon), why, sizeof(why)) != 0)
                fail_msg("%s `%s` printed as `%s`, which is refused: %s", key, raw, human, why);
        if (strcmp(canon, raw) != 0)
                fail_msg("%s `%s` printed as `%s`, which sets `%s`", key, raw, human, canon);
}

static void test_cpu_max_percent(void **state)
{
        char buf[CGM_FORMAT_VALUE_MAX];

        (void)state;
        cpu_is("150000 100000", "150%");
        cpu_is("100000 100000", "100%");
        cpu_is("1000 100000", "1%");
        cpu_is("2500 100000", "2.5%");
        cpu_is("1001 100000", "1.001%");
        cpu_is("1010 100000", "1.01%");
        cpu_is("max 100000", "max");
        /* No percentage sets another period: those stay as the kernel wrote them. */
        cpu_is("50000 50000", "50000 50000");
        cpu_is("max 50000", "max 50000");
        cpu_is("17592186044415 1000000", "17592186044415 1000000");
        /* Not a cpu.max value: copied, and said. */
        assert_int_equal(cgm_format_cpu_max("150000", buf, sizeof(buf)), -EINVAL);
        assert_string_equal(buf, "150000");
        assert_int_equal(cgm_format_cpu_max("x 100000", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(cgm_format_cpu_max("100000 ", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(cgm_format_cpu_max("", buf, sizeof(buf)), -EINVAL);
}

static void test_cpu_max_sets_the_same_value_again(void **state)
{
        uint64_t seed = 42;
        char raw[64];

        (void)state;
        sets_again("cpu.max", "max 100000");
        sets_again("cpu.max", "max 1000");
        sets_again("cpu.max", "1000 100000");
        sets_again("cpu.max", "17592186044415 100000"); /* the kernel's largest quota */
        sets_again("cpu.max", "75000 50000");
        for (int i = 0; i < 20000; i++) {
                uint64_t quota = 1000 + next_random(&seed) % ((1ULL << 44) - 1000);
                uint64_t period = i % 2 ? 100000 : 1000 + next_random(&seed) % 999001;

                if (i % 3 == 0)
                        quota = 1000 + quota % 1000000;
                snprintf(raw, sizeof(raw), "%llu %llu", (unsigned long long)quota,
                         (unsigned long long)period);
                sets_again("cpu.max", raw);
        }
}

static void test_value_units_by_key(void **state)
{
        static const char *const byte_keys[] = { "memory.max", "memory.high", "memory.low",
                                                 "memory.min", "memory.swap.max",
                                                 "hugetlb.2MB.max" };
        static const char *const raws[] = { "0", "4096", "1610612736", "1000000", "max",
                                            "9223372036854771712", "123456789" };
        char buf[CGM_FORMAT_VALUE_MAX];

        (void)state;
        assert_string_equal(cgm_format_value("memory.max", "1610612736", buf, sizeof(buf)),
                            "1.5G");
        assert_string_equal(cgm_format_value("memory.current", "2097152", buf, sizeof(buf)),
                            "2M");
        assert_string_equal(cgm_format_value("cpu.max", "150000 100000", buf, sizeof(buf)),
                            "150%");
        /* Counts, weights, microseconds and lists are not bytes. */
        assert_string_equal(cgm_format_value("pids.max", "2048", buf, sizeof(buf)), "2048");
        assert_string_equal(cgm_format_value("cpu.weight", "1024", buf, sizeof(buf)), "1024");
        assert_string_equal(cgm_format_value("cpu.max.burst", "1048576", buf, sizeof(buf)),
                            "1048576");
        assert_string_equal(cgm_format_value("cgroup.max.descendants", "1024", buf, sizeof(buf)),
                            "1024");
        assert_string_equal(cgm_format_value("cpu.usage_usec", "1048576", buf, sizeof(buf)),
                            "1048576");
        /* Not in the kernel's form: left alone. */
        assert_string_equal(cgm_format_value("memory.max", " 4096", buf, sizeof(buf)), " 4096");
        assert_string_equal(cgm_format_value("memory.max", "-1", buf, sizeof(buf)), "-1");
        for (size_t k = 0; k < sizeof(byte_keys) / sizeof(byte_keys[0]); k++)
                for (size_t i = 0; i < sizeof(raws) / sizeof(raws[0]); i++)
                        sets_again(byte_keys[k], raws[i]);
}

static void test_format_short_rounds_to_six_columns(void **state)
{
        static const struct {
                uint64_t value;
                const char *want;
        } cases[] = {
                { 0, "0" },
                { 1023, "1023" },
                { 1024, "1.0K" },
                { 1536, "1.5K" },
                { 1048575, "1.0M" },
                { 100ULL << 20, "100M" },
                { (1023ULL << 30) + (1ULL << 29), "1.0T" },
                { 39426457, "37.6M" },
                { INT64_MAX, "8.0E" },
                { CGM_UNLIMITED, "max" },
        };
        char buf[CGM_FORMAT_BYTES_MAX];

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                cgm_format_bytes_short(cases[i].value, buf, sizeof(buf));
                if (strcmp(buf, cases[i].want) != 0)
                        fail_msg("%llu printed as `%s`, expected `%s`",
                                 (unsigned long long)cases[i].value, buf, cases[i].want);
                assert_true(strlen(buf) <= 6);
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
                cmocka_unit_test(test_format_fractions_are_exact),
                cmocka_unit_test(test_format_then_parse_gives_the_value_back),
                cmocka_unit_test(test_parse_then_format_is_canonical),
                cmocka_unit_test(test_cpu_max_percent),
                cmocka_unit_test(test_cpu_max_sets_the_same_value_again),
                cmocka_unit_test(test_value_units_by_key),
                cmocka_unit_test(test_format_short_rounds_to_six_columns),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
