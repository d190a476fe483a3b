/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Minimal JSON output for cgm --json */

/*
 * The CLI only writes JSON, never reads it, and what it writes is small: strings, unsigned
 * numbers, arrays and objects. So there is no JSON library, only an escaper. Strings from the
 * daemon are valid UTF-8 (libdbus checks every string it receives), but the escaper does not
 * rely on that: any byte that does not start a well-formed UTF-8 sequence (overlong forms and
 * surrogates included) is written as U+FFFD, so the output is always valid JSON. Control
 * characters are escaped, everything else is copied as is.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

/* Length of the well-formed UTF-8 sequence at @s, or 0 when there is none (RFC 3629). */
static size_t utf8_sequence_length(const unsigned char *s)
{
        unsigned char c = s[0];

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                return (s[1] & 0xc0) == 0x80 ? 2 : 0;
        if (c >= 0xe0 && c <= 0xef) {
                unsigned char lo = c == 0xe0 ? 0xa0 : 0x80; /* no overlong forms */
                unsigned char hi = c == 0xed ? 0x9f : 0xbf; /* no surrogates */

                if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80)
                        return 0;
                return 3;
        }
        if (c >= 0xf0 && c <= 0xf4) {
                unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
                unsigned char hi = c == 0xf4 ? 0x8f : 0xbf; /* nothing above U+10FFFF */

                if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
                        return 0;
                return 4;
        }
        return 0;
}

void json_string(FILE *f, const char *s)
{
        const unsigned char *p = (const unsigned char *)s;

        if (!s) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        while (*p) {
                size_t len = utf8_sequence_length(p);

                if (len == 0) {
                        fputs("\\ufffd", f);
                        p++;
                        continue;
                }
                if (len > 1) {
                        fwrite(p, 1, len, f);
                        p += len;
                        continue;
                }
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\b':
                        fputs("\\b", f);
                        break;
                case '\f':
                        fputs("\\f", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
                p++;
        }
        fputc('"', f);
}

void json_kv_object(FILE *f, const cgm_kv *kv, size_t n)
{
        fputc('{', f);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        fputc(',', f);
                json_string(f, kv[i].key);
                fputc(':', f);
                json_string(f, kv[i].value);
        }
        fputc('}', f);
}
