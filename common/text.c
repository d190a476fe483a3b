/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Message text: client input made printable, and the "why" buffers of the parsers
 *
 * The parsers (names, units, keys) and the privilege checks explain every refusal in a
 * sentence that often quotes what the client sent. They share these two helpers so that the
 * quoting rule is one rule: what a client sends is never echoed raw.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

const char *cgm_quote(const char *s, size_t len, char *buf, size_t n)
{
        size_t o = 0;

        if (n == 0)
                return "";
        for (size_t i = 0; i < len && s[i]; i++) {
                unsigned char c = (unsigned char)s[i];

                if (o + 8 >= n) {
                        /* At most three dots, and fewer in a buffer too small for them. */
                        size_t dots = n - 1 - o < 3 ? n - 1 - o : 3;

                        memcpy(buf + o, "...", dots);
                        o += dots;
                        break;
                }
                if (c >= 0x20 && c < 0x7f && c != '\\' && c != '`') {
                        buf[o++] = (char)c;
                } else {
                        snprintf(buf + o, n - o, "\\x%02x", c);
                        o += 4;
                }
        }
        buf[o] = '\0';
        return buf;
}

int cgm_why(int code, char *why, size_t n, const char *fmt, ...)
{
        va_list ap;

        if (why && n > 0) {
                va_start(ap, fmt);
                vsnprintf(why, n, fmt, ap);
                va_end(ap);
        }
        return code;
}
