/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzer for resource keys and values (key_parse, the v1 translation, cgm_parse_bytes) */

/*
 * The input is split at its first '=' into key and value, as "cgm set NAME KEY=VALUE" does,
 * and goes through key_parse(). When it is accepted, the fuzzer checks that the canonical
 * value parses to itself and that the v1 translation accepts it; the v1 reader is fed the
 * value as the content of every file it asks for. The whole input also goes through
 * cgm_parse_bytes(), and an accepted size must survive cgm_format_bytes() unchanged. Every
 * refusal's reason is clean text (it becomes the text of a D-Bus error). Violations abort.
 *
 * Built normally, main() replays the files named on the command line. With -DFUZZ_LIBFUZZER:
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZ_LIBFUZZER \
 *         -Icommon -Idaemon $(pkg-config --cflags dbus-1) tests/fuzz/fuzz-keys.c \
 *         daemon/keys.c common/units.c -o fuzz-keys && ./fuzz-keys tests/fuzz/corpus/keys
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "fuzz-util.h"
#include "protocol.h"
#include "units.h"


/* Valid UTF-8 (D-Bus refuses anything else) without control characters (no forged lines). */
static int text_clean(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;

        while (*p) {
                unsigned n = *p < 0x80 ? 0 : *p >= 0xc2 && *p <= 0xdf ? 1 : *p >= 0xe0 && *p <= 0xef ? 2
                             : *p >= 0xf0 && *p <= 0xf4 ? 3 : 4;
                if (n == 4 || (n == 0 && (*p < 0x20 || *p == 0x7f)))
                        return 0;
                for (unsigned i = 1; i <= n; i++)
                        if ((p[i] & 0xc0) != 0x80)
                                return 0;
                p += n + 1;
        }
        return 1;
}

static void check_key(const char *key, const char *value)
{
        char canon[CGM_VALUE_MAX], again[CGM_VALUE_MAX], why[512];
        KeyFile files[KEY_V1_FILES_MAX];
        size_t n;
        int r;

        r = key_parse(key, value, canon, sizeof(canon), why, sizeof(why));
        if (r != 0 && r != -EPERM && r != -EOPNOTSUPP && r != -EINVAL && r != -ERANGE)
                abort();
        if (r != 0 && !why[0])
                abort(); /* every refusal says why */
        if (r != 0 && !text_clean(why))
                abort(); /* ... in text fit for a D-Bus error and a log line */
        if (r == 0) {
                if (key_parse(key, canon, again, sizeof(again), why, sizeof(why)) != 0 ||
                    strcmp(canon, again) != 0)
                        abort();
                if (!key_controller(key))
                        abort();
                r = key_v1_writes(key, canon, 1ULL << 30, files, &n, why, sizeof(why));
                if (r == 0 && (n == 0 || n > KEY_V1_FILES_MAX))
                        abort();
                if (r != 0 && r != -EOPNOTSUPP && r != -ERANGE)
                        abort();
        }
        if (key_v1_reads(key, files, &n) == 0) {
                if (n == 0 || n > KEY_V1_FILES_MAX)
                        abort();
                for (size_t i = 0; i < n; i++)
                        snprintf(files[i].value, sizeof(files[i].value), "%s", value);
                if (key_v1_value(key, files, n, canon, sizeof(canon)) == 0 &&
                    strlen(canon) >= sizeof(canon))
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char why[256], buf[32];
        char *s, *eq;
        uint64_t v, v2;

        if (size > 4096)
                return 0;
        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';

        if (cgm_parse_bytes(s, &v, why, sizeof(why)) == 0) {
                if (v != CGM_UNLIMITED && v > INT64_MAX)
                        abort();
                cgm_format_bytes(v, buf, sizeof(buf));
                if (cgm_parse_bytes(buf, &v2, why, sizeof(why)) != 0 || v2 != v)
                        abort();
        }
        eq = strchr(s, '=');
        if (eq) {
                *eq = '\0';
                check_key(s, eq + 1);
        } else {
                check_key(s, "max");
        }
        free(s);
        return 0;
}
