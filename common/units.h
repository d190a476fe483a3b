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

/* Enough for every cgm_format_bytes() / cgm_format_bytes_short() result ("9223372036854775807"). */
#define CGM_FORMAT_BYTES_MAX 24
/* Enough for every cgm_format_value() / cgm_format_cpu_max() of a value the kernel wrote. */
#define CGM_FORMAT_VALUE_MAX 64

/**
 * cgm_format_bytes() - human form of a byte count that parses back exactly ("4G", "1.5G",
 * "1.125K", "123456", "max")
 *
 * The largest binary suffix under which the value is at least 1 and is written exactly with
 * at most three decimals; else the plain number. cgm_parse_bytes() of the result gives back
 * the value, for every value from 0 to INT64_MAX and for CGM_UNLIMITED.
 */
void cgm_format_bytes(uint64_t value, char *buf, size_t n);

/**
 * cgm_format_bytes_short() - a byte count rounded to fit 6 columns ("37.6M", "1023G"), for
 * live views; does NOT parse back exactly
 */
void cgm_format_bytes_short(uint64_t value, char *buf, size_t n);

/**
 * cgm_format_cpu_max() - "150000 100000" -> "150%", "max 100000" -> "max"; other periods
 * unchanged, so that the result sets the same cpu.max again
 *
 * Return: 0, or -EINVAL when @raw is not a cpu.max value (@buf holds @raw then).
 */
int cgm_format_cpu_max(const char *raw, char *buf, size_t n);

/**
 * cgm_format_value() - human form of @raw, the value of @key (a resource key or a Stat
 * counter): byte counts and cpu.max get units, the rest is copied; returns @buf
 */
const char *cgm_format_value(const char *key, const char *raw, char *buf, size_t n);
