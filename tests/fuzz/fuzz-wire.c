/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzer for pam_cgm's reply parser (cgm_wire_message_size, cgm_wire_reply_parse) */

/*
 * The input is what cgmd (or whatever listens on its socket) sends pam_cgm after a call. The
 * parser must never read outside it, and what it accepts must keep its promises: a reply to
 * the serial asked for, with the expected number of strings, each nul-terminated inside the
 * input, NUL-free and valid UTF-8; an error with a name. A violation aborts. Each input is
 * parsed as the reply to serial 1 of OpenSession ("ss") and of CloseSession ("").
 *
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZ_LIBFUZZER \
 *         -include config.h -Icommon -Iclient $(pkg-config --cflags dbus-1) \
 *         tests/fuzz/fuzz-wire.c client/wire.c common/error.c -o fuzz-wire \
 *         && ./fuzz-wire tests/fuzz/corpus/wire
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "protocol.h"
#include "wire.h"

static void check(const uint8_t *msg, size_t size, const char *signature)
{
        CgmWireReply r;
        size_t full;

        if (cgm_wire_message_size(msg, size, &full) < 0 || full != size)
                return;
        FUZZ_CHECK(full <= CGM_MESSAGE_SIZE_MAX, "%zu bytes", full);
        if (cgm_wire_reply_parse(&r, msg, size, 1, signature) < 0)
                return;
        if (r.kind == CGM_WIRE_REPLY_OTHER)
                return;
        if (r.kind == CGM_WIRE_REPLY_RETURN)
                FUZZ_CHECK(r.n_strings == strlen(signature), "%zu strings for `%s`", r.n_strings,
                           signature);
        else
                FUZZ_CHECK(r.kind == CGM_WIRE_REPLY_ERROR && r.error_name && r.n_strings <= 1,
                           "kind %d", r.kind);
        for (size_t i = 0; i < r.n_strings; i++) {
                const uint8_t *s = (const uint8_t *)r.strings[i];

                FUZZ_CHECK(s >= msg && s < msg + size, "string %zu outside the input", i);
                FUZZ_CHECK(memchr(s, '\0', (size_t)(msg + size - s)) != NULL,
                           "string %zu not terminated", i);
                FUZZ_CHECK(fuzz_utf8_valid(r.strings[i], strlen(r.strings[i])),
                           "string %zu not UTF-8", i);
        }
        if (r.error_name)
                FUZZ_CHECK(fuzz_utf8_valid(r.error_name, strlen(r.error_name)),
                           "error name not UTF-8");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* An exact-size copy, so that an overread is caught by ASan in the replay too. */
        uint8_t *msg = malloc(size ? size : 1);

        if (!msg)
                abort();
        memcpy(msg, data, size);
        check(msg, size, "ss");
        check(msg, size, "");
        free(msg);
        return 0;
}
