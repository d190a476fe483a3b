/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Human units: byte counts with binary suffixes, bounded integers, and their printing */

/*
 * Values reach the daemon from people ("2G", "1.5G", "512MiB") and from scripts ("max",
 * "2147483648"). The parsers here accept exactly that and nothing looser: no sign, no
 * surrounding or inner whitespace, no hex or octal ("0x10"), no exponents ("1e3"), no trailing
 * text. strtoull() is not used because it skips leading spaces, accepts a sign and wraps
 * negative numbers around; the digits are walked by hand with overflow checks instead.
 *
 * All suffixes are powers of 1024, whichever way they are written (K, Ki, KiB, KB, k, kib),
 * because cgroup limits are page multiples and nobody means 10^9 bytes by "memory.max=1G".
 * A fraction is computed exactly in 128-bit arithmetic and rounded down to a whole byte.
 * The ceiling is INT64_MAX: the kernel's page counters hold at most LONG_MAX bytes' worth,
 * and v1 files take signed 64-bit numbers.
 *
 * Printing goes the other way for `cgm get`, `tree`, `stat` and `top` on a terminal. What a
 * user may copy back into a setting must mean the same value again, so cgm_format_bytes()
 * and cgm_format_cpu_max() never round: "1.5G" is printed only where 1610612736 is exactly
 * 1.5 GiB, and a value with no short exact form stays a plain number. Only the live view
 * rounds (cgm_format_bytes_short()), because its numbers change every second anyway.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "text.h"
#include "units.h"

/* Fraction digits beyond this are refused: 10^18 * 2^50 still fits in 128 bits. */
#define FRACTION_DIGITS_MAX 18



static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* Length of a binary suffix at @s and its shift, or 0 when @s is not exactly one suffix. */
static size_t parse_suffix(const char *s, unsigned *shiftp)
{
        static const char letters[] = "kmgtp";
        const char *l;
        size_t len;

        if (s[0] == '\0') {
                *shiftp = 0;
                return 0;
        }
        if ((s[0] == 'b' || s[0] == 'B') && s[1] == '\0') {
                *shiftp = 0;
                return 1;
        }
        l = s[0] >= 'A' && s[0] <= 'Z' ? strchr(letters, s[0] - 'A' + 'a') : strchr(letters, s[0]);
        if (!l || !*l)
                return 0;
        *shiftp = 10 * (unsigned)(l - letters + 1);
        len = 1;
        if (s[len] == 'i' || s[len] == 'I')
                len++;
        if (s[len] == 'b' || s[len] == 'B')
                len++;
        return s[len] == '\0' ? len : 0;
}

/**
 * cgm_parse_bytes() - parse a byte count
 * @s:      "2G", "512M", "1.5G", "1KiB", "4096", "max"
 * @valuep: the value; CGM_UNLIMITED for "max"
 * @why:    filled with the reason on failure (may be NULL)
 * @n:      size of @why
 *
 * Return: 0, -EINVAL (not a size) or -ERANGE (above INT64_MAX), with @why filled.
 */
int cgm_parse_bytes(const char *s, uint64_t *valuep, char *why, size_t n)
{
        unsigned __int128 whole = 0, frac = 0, scale = 1, v;
        const char *p;
        unsigned shift = 0;
        size_t n_frac = 0;
        char q[80];

        if (!s || !*s)
                return cgm_why(-EINVAL, why, n, "empty value: give a size such as 512M, 2G or max");
        cgm_quote(s, SIZE_MAX, q, sizeof(q));
        if (strcmp(s, "max") == 0) {
                *valuep = CGM_UNLIMITED;
                return 0;
        }
        if (s[0] == '-')
                return cgm_why(-EINVAL, why, n, "`%s` is negative: sizes are 0 or more, or max", q);
        if (!is_digit(s[0]))
                return cgm_why(-EINVAL, why, n,
                            "`%s` is not a size: expected digits with an optional K, M, G, T or "
                            "P suffix, or max",
                            q);
        for (p = s; is_digit(*p); p++) {
                whole = whole * 10 + (unsigned)(*p - '0');
                if (whole > INT64_MAX)
                        return cgm_why(-ERANGE, why, n, "`%s` is too large: the limit is %lld bytes",
                                    q, (long long)INT64_MAX);
        }
        if (*p == '.') {
                p++;
                if (!is_digit(*p))
                        return cgm_why(-EINVAL, why, n,
                                    "`%s` is not a size: expected digits after the '.'", q);
                for (; is_digit(*p); p++) {
                        if (++n_frac > FRACTION_DIGITS_MAX)
                                return cgm_why(-EINVAL, why, n,
                                            "`%s` has more than %d digits after the '.'", q,
                                            FRACTION_DIGITS_MAX);
                        frac = frac * 10 + (unsigned)(*p - '0');
                        scale *= 10;
                }
        }
        if (*p && parse_suffix(p, &shift) == 0) {
                char tail[40];

                return cgm_why(-EINVAL, why, n,
                            "`%s` is not a size: unexpected `%s` (the suffixes are K, M, G, T, P, "
                            "optionally followed by iB or B)",
                            q, cgm_quote(p, SIZE_MAX, tail, sizeof(tail)));
        }
        v = (whole << shift) + ((frac << shift) / scale);
        if (v > INT64_MAX)
                return cgm_why(-ERANGE, why, n, "`%s` is too large: the limit is %lld bytes", q,
                            (long long)INT64_MAX);
        *valuep = (uint64_t)v;
        return 0;
}

/**
 * cgm_parse_uint() - parse a plain decimal integer in [@min, @max], or "max" if @allow_max
 * @s:         digits only (leading zeros allowed)
 * @min:       smallest accepted value
 * @max:       largest accepted value
 * @allow_max: accept the word "max", which gives CGM_UNLIMITED
 * @valuep:    the value
 * @why:       filled with the reason on failure (may be NULL)
 * @n:         size of @why
 *
 * Return: 0, -EINVAL (not an integer) or -ERANGE (outside [@min, @max]), with @why filled.
 */
int cgm_parse_uint(const char *s, uint64_t min, uint64_t max, bool allow_max, uint64_t *valuep,
                   char *why, size_t n)
{
        uint64_t v = 0;
        char q[80];

        if (!s || !*s)
                return cgm_why(-EINVAL, why, n, "empty value: give a number%s",
                            allow_max ? " or max" : "");
        cgm_quote(s, SIZE_MAX, q, sizeof(q));
        if (strcmp(s, "max") == 0) {
                if (!allow_max)
                        return cgm_why(-EINVAL, why, n, "`max` is not accepted here: give a number");
                *valuep = CGM_UNLIMITED;
                return 0;
        }
        for (const char *p = s; *p; p++) {
                if (!is_digit(*p))
                        return cgm_why(-EINVAL, why, n, "`%s` is not a decimal integer%s", q,
                                    allow_max ? " or max" : "");
                if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
                        return cgm_why(-ERANGE, why, n, "`%s` is out of range %llu..%llu", q,
                                    (unsigned long long)min, (unsigned long long)max);
                v = v * 10 + (uint64_t)(*p - '0');
        }
        if (v < min || v > max)
                return cgm_why(-ERANGE, why, n, "`%s` is out of range %llu..%llu", q,
                            (unsigned long long)min, (unsigned long long)max);
        *valuep = v;
        return 0;
}

/* Digits of @frac / 2^@shift after the point, at most 3, trailing zeros dropped: "5", "25",
 * "125". The caller made sure the fraction has at most three decimals. */
static void format_fraction(uint64_t frac, unsigned shift, char *buf, size_t n)
{
        unsigned long long thousandths = (unsigned long long)((frac * 1000) >> shift);
        char digits[4];

        snprintf(digits, sizeof(digits), "%03llu", thousandths % 1000);
        for (int i = 2; i > 0 && digits[i] == '0'; i--)
                digits[i] = '\0';
        snprintf(buf, n, "%s", digits);
}

/**
 * cgm_format_bytes() - human form of a byte count that parses back to the same number
 * @value: bytes, or CGM_UNLIMITED
 * @buf:   output, CGM_FORMAT_BYTES_MAX bytes always suffice
 * @n:     size of @buf
 *
 * The largest binary suffix under which @value is at least 1 and needs at most three decimals
 * to be written exactly ("4G", "1.5G", "1.125K", "max"); when no suffix does, the plain number
 * ("123456", "1000000"). A value has at most three decimals under a suffix of 2^s exactly when
 * 2^(s-3) divides it (k/8 = k * 0.125). Nothing is rounded, so cgm_parse_bytes() of the
 * result gives back @value for every value it accepts (0..INT64_MAX and max); values above
 * INT64_MAX other than CGM_UNLIMITED, which no cgroup file holds, print as plain numbers.
 */
void cgm_format_bytes(uint64_t value, char *buf, size_t n)
{
        static const char suffixes[] = "KMGTP";

        if (!buf || n == 0)
                return;
        if (value == CGM_UNLIMITED) {
                snprintf(buf, n, "max");
                return;
        }
        for (int i = 4; i >= 0 && value <= INT64_MAX; i--) {
                unsigned shift = 10 * (unsigned)(i + 1);
                uint64_t unit = UINT64_C(1) << shift;
                uint64_t frac = value & (unit - 1);
                char digits[4];

                if (value < unit || value % (unit >> 3) != 0)
                        continue;
                if (frac == 0) {
                        snprintf(buf, n, "%llu%c", (unsigned long long)(value >> shift),
                                 suffixes[i]);
                        return;
                }
                format_fraction(frac, shift, digits, sizeof(digits));
                snprintf(buf, n, "%llu.%s%c", (unsigned long long)(value >> shift), digits,
                         suffixes[i]);
                return;
        }
        snprintf(buf, n, "%llu", (unsigned long long)value);
}

/**
 * cgm_format_bytes_short() - a byte count in at most 6 columns, rounded: "512", "1.2K",
 * "37.6M", "1023G", "max"
 * @value: bytes, or CGM_UNLIMITED
 * @buf:   output, CGM_FORMAT_BYTES_MAX bytes always suffice
 * @n:     size of @buf
 *
 * For columns that change every second (cgm top): one decimal below 100 of a unit, none
 * above, rounded to nearest. Not for values a user may copy into a setting: it does not
 * parse back exactly (cgm_format_bytes() does).
 */
void cgm_format_bytes_short(uint64_t value, char *buf, size_t n)
{
        static const char suffixes[] = "KMGTPE";
        double v = (double)value;
        int i = -1;

        if (!buf || n == 0)
                return;
        if (value == CGM_UNLIMITED) {
                snprintf(buf, n, "max");
                return;
        }
        if (value < 1024) {
                snprintf(buf, n, "%llu", (unsigned long long)value);
                return;
        }
        /* 1023.5K would print as "1024K": move up a unit before rounding can reach 1024. */
        while (i < 5 && v >= 1023.5) {
                v /= 1024;
                i++;
        }
        if (v < 99.95)
                snprintf(buf, n, "%.1f%c", v, suffixes[i]);
        else
                snprintf(buf, n, "%.0f%c", v, suffixes[i]);
}

/* "123" and nothing else, as the kernel writes a number. */
static bool parse_kernel_u64(const char *s, size_t len, uint64_t *valuep)
{
        uint64_t v = 0;

        if (len == 0)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (!is_digit(s[i]) || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
                        return false;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        *valuep = v;
        return true;
}

/**
 * cgm_format_cpu_max() - human form of a cpu.max value that parses back to the same value
 * @raw: the kernel's "QUOTA PERIOD" or "max PERIOD"
 * @buf: output, CGM_FORMAT_VALUE_MAX bytes always suffice
 * @n:   size of @buf
 *
 * With the default period of 100000 us, which is what "N%" means when it is set, the quota
 * becomes a percentage of one CPU with up to three decimals ("150%", "2.5%", "1.001%": one
 * microsecond is 0.001%), and "max 100000" becomes "max". Any other period has no
 * percentage that would set it again, so the value stays as the kernel wrote it.
 *
 * Return: 0, or -EINVAL when @raw is not a cpu.max value (@buf then holds @raw).
 */
int cgm_format_cpu_max(const char *raw, char *buf, size_t n)
{
        const char *sp = raw ? strchr(raw, ' ') : NULL;
        uint64_t quota, period;
        char digits[8];

        if (!buf || n == 0)
                return -EINVAL;
        snprintf(buf, n, "%s", raw ? raw : "");
        if (!sp || !parse_kernel_u64(sp + 1, strlen(sp + 1), &period))
                return -EINVAL;
        if ((size_t)(sp - raw) == 3 && strncmp(raw, "max", 3) == 0) {
                if (period == 100000)
                        snprintf(buf, n, "max");
                return 0;
        }
        if (!parse_kernel_u64(raw, (size_t)(sp - raw), &quota))
                return -EINVAL;
        if (period != 100000)
                return 0;
        if (quota % 1000 == 0) {
                snprintf(buf, n, "%llu%%", (unsigned long long)(quota / 1000));
                return 0;
        }
        snprintf(digits, sizeof(digits), "%03llu", (unsigned long long)(quota % 1000));
        for (int i = 2; i > 0 && digits[i] == '0'; i--)
                digits[i] = '\0';
        snprintf(buf, n, "%llu.%s%%", (unsigned long long)(quota / 1000), digits);
        return 0;
}

/* Keys and Stat counters that hold a byte count. */
static bool key_is_bytes(const char *key)
{
        static const char *const bytes[] = { "memory.max",     "memory.high",  "memory.low",
                                              "memory.min",     "memory.swap.max",
                                              "memory.current", "memory.peak",
                                              "memory.swap.current", "io.rbytes", "io.wbytes" };
        size_t len = strlen(key);

        for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++)
                if (strcmp(key, bytes[i]) == 0)
                        return true;
        return strncmp(key, "hugetlb.", 8) == 0 && len > 12 && strcmp(key + len - 4, ".max") == 0;
}

/**
 * cgm_format_value() - human form of a key's or a counter's value as the kernel wrote it
 * @key: a resource key ("memory.max", "cpu.max", ...) or a Stat counter ("memory.current")
 * @raw: the value as Get or Stat gave it
 * @buf: output, CGM_FORMAT_VALUE_MAX bytes always suffice
 * @n:   size of @buf
 *
 * Byte counts get cgm_format_bytes(), cpu.max cgm_format_cpu_max(); everything else, and
 * anything that is not in the kernel's form, is copied as it is. For every resource key, the
 * result is an accepted input of that key that sets the same value again.
 *
 * Return: @buf.
 */
const char *cgm_format_value(const char *key, const char *raw, char *buf, size_t n)
{
        uint64_t v;

        if (!buf || n == 0)
                return buf;
        snprintf(buf, n, "%s", raw ? raw : "");
        if (!key || !raw)
                return buf;
        if (strcmp(key, "cpu.max") == 0) {
                (void)cgm_format_cpu_max(raw, buf, n);
                return buf;
        }
        if (key_is_bytes(key) && parse_kernel_u64(raw, strlen(raw), &v) && v <= INT64_MAX)
                cgm_format_bytes(v, buf, n);
        return buf;
}
