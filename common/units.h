/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Human units: "2G", "512M", "1.5G", "max", "150%" */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGM_UNLIMITED UINT64_MAX

/**
 * cgm_parse_bytes() - parse a byte count
 * @s: decimal number, optionally with a fraction ("1.5"), optionally followed by one binary
 *     suffix K, M, G, T, P (also written Ki/KiB/KB, case-insensitive; all are powers of 1024),
 *     or "max" meaning no limit.
 * @valuep: the value; CGM_UNLIMITED for "max"
 *
 * Rejects empty strings, signs, spaces, trailing garbage, and values that overflow 63 bits
 * (the kernel's page counter maximum is below 2^63).
 *
 * Return: 0, -EINVAL (not a size) or -ERANGE (too large), with @why filled.
 */
int cgm_parse_bytes(const char *s, uint64_t *valuep, char *why, size_t n);

/**
 * cgm_parse_uint() - parse a plain decimal integer in [min, max], or "max" if @allow_max
 *
 * Return: 0, -EINVAL or -ERANGE, with @why filled. "max" gives CGM_UNLIMITED.
 */
int cgm_parse_uint(const char *s, uint64_t min, uint64_t max, bool allow_max, uint64_t *valuep,
                   char *why, size_t n);

/**
 * cgm_format_bytes() - human form of a byte count ("4G", "1536M", "123456", "max")
 *
 * Uses the largest binary suffix that divides the value exactly, so parsing the result gives
 * back the same number.
 */
void cgm_format_bytes(uint64_t value, char *buf, size_t n);
