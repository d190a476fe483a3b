/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the fuzz targets: the replay main(), a NUL-terminated copy of the input, checks
 *
 * Every target defines LLVMFuzzerTestOneInput(). Built by automake (make check), the replay
 * main() below runs it once on each file named on the command line, which is how
 * tests/fuzz/replay.sh feeds it the committed corpus. Built by tests/fuzz/run-fuzz.sh with
 * clang -fsanitize=fuzzer -DFUZZ_LIBFUZZER, libFuzzer supplies main() instead.
 *
 * A broken promise is reported with FUZZ_CHECK(), which prints what failed and aborts, so
 * libFuzzer (and the replay) stop with the input that shows it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                      \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);   \
                        fprintf(stderr, __VA_ARGS__);                                              \
                        fputc('\n', stderr);                                                       \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

/* A NUL-terminated copy of the input (NUL bytes inside stay and end the C string early). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);

        if (!s)
                abort();
        memcpy(s, data, size);
        s[size] = '\0';
        return s;
}

/* Well-formed UTF-8 as D-Bus defines it: shortest forms, no surrogates, at most U+10FFFF. */
static inline bool fuzz_utf8_valid(const char *s, size_t len)
{
        const unsigned char *p = (const unsigned char *)s, *end = p + len;

        while (p < end) {
                unsigned c = *p, n, cp;

                if (c < 0x80) {
                        p++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf)
                        n = 1, cp = c & 0x1f;
                else if (c >= 0xe0 && c <= 0xef)
                        n = 2, cp = c & 0x0f;
                else if (c >= 0xf0 && c <= 0xf4)
                        n = 3, cp = c & 0x07;
                else
                        return false;
                if ((size_t)(end - p) <= n)
                        return false;
                for (unsigned i = 1; i <= n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (p[i] & 0x3f);
                }
                if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                p += n + 1;
        }
        return true;
}

/* A message for a person or a log: valid UTF-8, no control characters (no forged lines). */
static inline bool fuzz_text_clean(const char *s)
{
        for (const char *c = s; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        return false;
        return fuzz_utf8_valid(s, strlen(s));
}

#ifndef FUZZ_LIBFUZZER
int main(int argc, char **argv)
{
        static uint8_t buf[1024 * 1024];

        for (int i = 1; i < argc; i++) {
                FILE *f = fopen(argv[i], "rb");
                size_t n;

                if (!f) {
                        fprintf(stderr, "%s: cannot open %s\n", argv[0], argv[i]);
                        return 1;
                }
                n = fread(buf, 1, sizeof(buf), f);
                fclose(f);
                LLVMFuzzerTestOneInput(buf, n);
        }
        return 0;
}
#endif
