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

/**
 * cgm_format_bytes() - human form of a byte count
 * @value: bytes, or CGM_UNLIMITED
 * @buf:   output, 24 bytes always suffice
 * @n:     size of @buf
 *
 * Uses the largest binary suffix that divides @value exactly ("4G", "1536M", "123456",
 * "max"), so cgm_parse_bytes() of the result gives back @value.
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
        for (int i = 4; i >= 0; i--) {
                unsigned shift = 10 * (unsigned)(i + 1);
                uint64_t unit = UINT64_C(1) << shift;

                if (value != 0 && value % unit == 0) {
                        snprintf(buf, n, "%llu%c", (unsigned long long)(value >> shift),
                                 suffixes[i]);
                        return;
                }
        }
        snprintf(buf, n, "%llu", (unsigned long long)value);
}
