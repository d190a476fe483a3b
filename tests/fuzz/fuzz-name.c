/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzer for the cgroup name and path allowlist (cgm_name_check, cgm_path_check) */

/*
 * Besides looking for crashes, the fuzzer checks the promise the rest of the daemon relies
 * on: whatever cgm_path_check() accepts is made only of allowlisted bytes, has no empty,
 * "." or ".." component, stays within the depth and length limits, and each of its
 * components passes cgm_name_check() on its own. A violation aborts.
 *
 * Built normally, main() replays the files named on the command line (the seed corpus in
 * make check). With -DFUZZ_LIBFUZZER and clang -fsanitize=fuzzer it is a libFuzzer target:
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZ_LIBFUZZER \
 *         -Icommon $(pkg-config --cflags dbus-1) tests/fuzz/fuzz-name.c common/name.c \
 *         -o fuzz-name && ./fuzz-name tests/fuzz/corpus/name
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"
#include "fuzz-util.h"
#include "protocol.h"


static void check_accepted_path(const char *path)
{
        size_t len = strlen(path), depth = 0;
        const char *p = path;
        char comp[CGM_NAME_MAX + 1];

        if (len > CGM_PATH_MAX)
                abort();
        if (len == 0)
                return;
        for (;;) {
                const char *slash = strchr(p, '/');
                size_t clen = slash ? (size_t)(slash - p) : strlen(p);

                if (clen == 0 || clen > CGM_NAME_MAX || p[0] == '.')
                        abort();
                memcpy(comp, p, clen);
                comp[clen] = '\0';
                if (cgm_name_check(comp, NULL, 0) != 0)
                        abort();
                for (size_t i = 0; i < clen; i++) {
                        char c = comp[i];

                        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
                                abort();
                }
                if (++depth > CGM_DEPTH_MAX)
                        abort();
                if (!slash)
                        break;
                p = slash + 1;
        }
        if (!cgm_path_is_within(path, "") || !cgm_path_is_within(path, path) ||
            cgm_path_is_below(path, path))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char why[256];
        char *s;

        if (size > CGM_PATH_MAX * 2)
                return 0;
        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';

        if (cgm_name_check(s, why, sizeof(why)) == 0) {
                if (strlen(s) == 0 || strlen(s) > CGM_NAME_MAX || strchr(s, '/') || s[0] == '.')
                        abort();
        } else if (strlen(why) >= sizeof(why)) {
                abort();
        }
        if (cgm_path_check(s, why, sizeof(why)) == 0)
                check_accepted_path(s);
        /* Tiny reason buffers must be handled too. */
        (void)cgm_path_check(s, why, 1);
        (void)cgm_name_check(s, why, 2);
        free(s);
        return 0;
}
