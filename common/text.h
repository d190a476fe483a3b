/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Message text: client input made printable, and the "why" buffers of the parsers */
#pragma once

#include <stddef.h>
#include <stdint.h> /* SIZE_MAX, for cgm_quote(s, SIZE_MAX, ...) */

/**
 * cgm_quote() - a printable, bounded rendering of untrusted text for a message
 * @s:   the text
 * @len: at most this many bytes of @s (SIZE_MAX for all of it)
 * @buf: where the rendering goes
 * @n:   size of @buf
 *
 * Control characters, non-ASCII bytes, backslashes and backquotes become \xNN, so a message
 * quoting client input can neither forge a log line nor break the `...` quoting; text that
 * does not fit ends in "...".
 *
 * Return: @buf.
 */
const char *cgm_quote(const char *s, size_t len, char *buf, size_t n);

/**
 * cgm_why() - fill a parser's why buffer (may be NULL) and return @code
 */
int cgm_why(int code, char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
