/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzer for units and message text (common/units.c, common/text.c)
 *
 * Input: one byte of flags (allow_max; the size of the why and quote buffers), sixteen bytes
 * giving the bounds of cgm_parse_uint(), then the text.
 *
 * Checked besides crashes: cgm_parse_uint() agrees with a plain reference implementation
 * (value, -EINVAL or -ERANGE); cgm_parse_bytes() accepts nothing above INT64_MAX but "max",
 * and its result survives cgm_format_bytes() unchanged; a value key_parse() accepts for
 * memory.max or cpu.max, printed with units by cgm_format_value(), is accepted again and sets
 * the same kernel value, and cgm_format_value() of any text fits its buffer; every "why" fits
 * its buffer and is clean text even when the input is not; cgm_quote() never reads past @len,
 * never writes past @n, and turns anything into printable ASCII in which a backslash always
 * starts \xNN and no backquote is left, while plain text that fits comes back unchanged.
 */

#include <errno.h>

#include "fuzz-util.h"
#include "keys.h"
#include "text.h"
#include "units.h"

/* The human form of what @key's parser made of @s must parse to the same kernel value. */
static void check_value_round_trip(const char *key, const char *s)
{
        char canon[128], human[CGM_FORMAT_VALUE_MAX], again[128];

        memset(human, 'Z', sizeof(human));
        cgm_format_value(key, s, human, sizeof(human));
        FUZZ_CHECK(memchr(human, '\0', sizeof(human)) != NULL, "format_value overflows");
        if (key_parse(key, s, canon, sizeof(canon), NULL, 0) != 0)
                return;
        cgm_format_value(key, canon, human, sizeof(human));
        FUZZ_CHECK(key_parse(key, human, again, sizeof(again), NULL, 0) == 0,
                   "%s `%s` printed as `%s`, which is refused", key, canon, human);
        FUZZ_CHECK(strcmp(again, canon) == 0, "%s `%s` printed as `%s`, which sets `%s`", key,
                   canon, human, again);
}

static void check_why(const char *why, size_t n)
{
        FUZZ_CHECK(strlen(why) < n, "why overflows");
        FUZZ_CHECK(fuzz_text_clean(why), "why is not clean text: `%s`", why);
}

/* The reference: digits only, in range; or "max" where allowed; the first problem in
 * reading order decides. */
static int reference_uint(const char *s, uint64_t min, uint64_t max, bool allow_max, uint64_t *v)
{
        unsigned __int128 acc = 0;

        if (!*s)
                return -EINVAL;
        if (strcmp(s, "max") == 0) {
                *v = CGM_UNLIMITED;
                return allow_max ? 0 : -EINVAL;
        }
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                acc = acc * 10 + (unsigned)(*p - '0');
                if (acc > UINT64_MAX)
                        return -ERANGE; /* reported where it happens, before later bytes */
        }
        if (acc < min || acc > max)
                return -ERANGE;
        *v = (uint64_t)acc;
        return 0;
}

static void check_quote(const uint8_t *data, size_t size, size_t n)
{
        char buf[96];
        const char *q;
        size_t plain = 0;

        memset(buf, 'Z', sizeof(buf));
        q = cgm_quote((const char *)data, size, buf, n); /* @data has no NUL at its end */
        FUZZ_CHECK(q == buf, "quote returned another buffer");
        FUZZ_CHECK(strlen(buf) < n, "quote overflows %zu bytes", n);
        for (size_t i = n; i < sizeof(buf); i++)
                FUZZ_CHECK(buf[i] == 'Z', "quote wrote past %zu bytes", n);
        for (const char *c = buf; *c; c++) {
                FUZZ_CHECK(*c >= 0x20 && *c < 0x7f && *c != '`', "quote left byte 0x%02x",
                           (unsigned char)*c);
                if (*c == '\\') {
                        FUZZ_CHECK(c[1] == 'x' && strchr("0123456789abcdef", c[2]) && c[2] &&
                                           strchr("0123456789abcdef", c[3]) && c[3],
                                   "a lone backslash in `%s`", buf);
                        c += 3;
                }
        }
        while (plain < size && data[plain] && data[plain] >= 0x20 && data[plain] < 0x7f &&
               data[plain] != '\\' && data[plain] != '`')
                plain++;
        if ((plain == size || !data[plain]) && plain + 8 < n)
                FUZZ_CHECK(strlen(buf) == plain && memcmp(buf, data, plain) == 0,
                           "plain text `%s` changed", buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint64_t min, max, v = 0, ref = 0, again;
        size_t why_size, quote_size;
        bool allow_max;
        char why[160], buf[32], *s;
        int r, rr;

        if (size < 17 || size > 4096)
                return 0;
        allow_max = data[0] & 1;
        why_size = 1 + (size_t)((data[0] >> 1) & 0x7f) % sizeof(why);
        quote_size = 1 + (size_t)(data[0] >> 1) % 95;
        memcpy(&min, data + 1, sizeof(min));
        memcpy(&max, data + 9, sizeof(max));
        data += 17;
        size -= 17;
        s = fuzz_strndup(data, size);

        why[0] = '\0';
        r = cgm_parse_uint(s, min, max, allow_max, &v, why, why_size);
        rr = reference_uint(s, min, max, allow_max, &ref);
        FUZZ_CHECK(r == rr, "cgm_parse_uint returned %d, the reference %d", r, rr);
        if (r == 0)
                FUZZ_CHECK(v == ref, "cgm_parse_uint gave %llu, the reference %llu",
                           (unsigned long long)v, (unsigned long long)ref);
        else
                check_why(why, why_size);

        why[0] = '\0';
        r = cgm_parse_bytes(s, &v, why, why_size);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE, "cgm_parse_bytes returned %d", r);
        if (r == 0) {
                FUZZ_CHECK(v == CGM_UNLIMITED ? strcmp(s, "max") == 0 : v <= INT64_MAX,
                           "cgm_parse_bytes gave %llu", (unsigned long long)v);
                cgm_format_bytes(v, buf, sizeof(buf));
                FUZZ_CHECK(cgm_parse_bytes(buf, &again, NULL, 0) == 0 && again == v,
                           "`%s` does not give %llu back", buf, (unsigned long long)v);
        } else {
                check_why(why, why_size);
        }

        check_value_round_trip("memory.max", s);
        check_value_round_trip("cpu.max", s);
        check_quote(data, size, quote_size);
        free(s);
        return 0;
}
