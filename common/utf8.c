/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* UTF-8 as D-Bus takes it: the check, and the escape of what is not
 *
 * libdbus aborts the process on a string that is not valid UTF-8, and cgroup names, /proc and
 * NSS hand over arbitrary bytes. One implementation of the rule for everyone who puts strings
 * on the wire or answers in the daemon's stead: cgmd's replies, pam_cgm's wire client, and
 * libcgm's direct reads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

size_t cgm_utf8_char_len(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;
        unsigned char c;
        uint32_t cp, min;
        size_t len;

        if (n == 0 || (c = p[0]) == 0)
                return 0;
        if (c < 0x80)
                return 1;
        if ((c & 0xe0) == 0xc0)
                len = 2, cp = c & 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0)
                len = 3, cp = c & 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0)
                len = 4, cp = c & 0x07, min = 0x10000;
        else
                return 0;
        if (n < len)
                return 0;
        for (size_t k = 1; k < len; k++) {
                if ((p[k] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

bool cgm_utf8_valid(const char *s, size_t n)
{
        for (size_t i = 0, l; i < n; i += l)
                if ((l = cgm_utf8_char_len(s + i, n - i)) == 0)
                        return false;
        return true;
}

char *cgm_utf8_escape(const char *s, bool all, bool *oom)
{
        static const char hex[] = "0123456789abcdef";
        size_t n = strlen(s), i, o = 0;
        char *out;

        *oom = false;
        if (!all && cgm_utf8_valid(s, n))
                return NULL;
        out = malloc(4 * n + 1);
        if (!out) {
                *oom = true;
                return NULL;
        }
        for (i = 0; i < n;) {
                size_t l = all ? 0 : cgm_utf8_char_len(s + i, n - i);
                if (l == 0) {
                        out[o++] = '\\';
                        out[o++] = 'x';
                        out[o++] = hex[(unsigned char)s[i] >> 4];
                        out[o++] = hex[(unsigned char)s[i] & 15];
                        i++;
                } else {
                        memcpy(out + o, s + i, l);
                        o += l;
                        i += l;
                }
        }
        out[o] = '\0';
        return out;
}
