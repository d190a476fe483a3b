/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* wire: the PAM module's own minimal D-Bus client, for OpenSession and CloseSession only */
#pragma once

/*
 * pam_cgm is loaded into every login process, and what it links is loaded with it. Through
 * libcgm it linked libdbus-1, which brings libsystemd, libgcrypt, lz4, zstd, lzma and
 * libgpg-error: loading the module took about 0.6 ms of each login, most of it relocating
 * libraries a login never uses. The module makes one call per hook, so it speaks the few bytes
 * of peer-to-peer D-Bus those calls need itself (client/wire.c), and links libc and libpam
 * only. libcgm, for every other client, stays on libdbus.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgm.h" /* cgm_kv; a header without libdbus */

typedef struct CgmWire CgmWire;

int cgm_wire_connect(CgmWire **wp, const char *socket, int timeout_ms);
CgmWire *cgm_wire_free(CgmWire *w);
void cgm_wire_set_timeout(CgmWire *w, int timeout_ms);
const char *cgm_wire_error_message(const CgmWire *w);
const char *cgm_wire_error_name(const CgmWire *w);
int cgm_wire_open_session(CgmWire *w, const char *user, const cgm_kv *info, size_t n_info,
                          char **idp, char **pathp);
int cgm_wire_close_session(CgmWire *w, const char *id);


/* ---- the marshaller and the parser, exposed for tests/unit/test-wire and fuzz-wire -------- */

/* Fixed part of every message: endianness, type, flags, version, body length, serial, and
 * the length of the header field array. */
#define CGM_WIRE_FIXED_HEADER 16

enum {
        CGM_WIRE_REPLY_OTHER,  /* a valid message that is not the reply looked for: skip it */
        CGM_WIRE_REPLY_RETURN, /* METHOD_RETURN for the serial, with the expected signature */
        CGM_WIRE_REPLY_ERROR,  /* ERROR for the serial */
};

typedef struct CgmWireReply {
        int kind;               /* CGM_WIRE_REPLY_* */
        const char *error_name; /* ERROR: points into the message */
        const char *strings[2]; /* RETURN: the body's strings; ERROR: strings[0], the message or NULL */
        size_t n_strings;
} CgmWireReply;

int cgm_wire_call_new(uint8_t **msgp, size_t *sizep, uint32_t serial, const char *member,
                      const char *arg, bool has_dict, const cgm_kv *dict, size_t n_dict);
int cgm_wire_message_size(const uint8_t *head, size_t n, size_t *sizep);
int cgm_wire_reply_parse(CgmWireReply *rp, const uint8_t *msg, size_t size, uint32_t serial,
                         const char *signature);
