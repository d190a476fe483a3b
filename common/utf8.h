/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* UTF-8 as D-Bus takes it: the check, and the escape of what is not */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/**
 * cgm_utf8_char_len() - length (1..4) of the valid character at @s within @n bytes, or 0
 *
 * Shortest forms only, no surrogates, nothing above U+10FFFF, and no NUL (a D-Bus string
 * cannot hold one): the rule of libdbus' dbus_validate_utf8().
 */
size_t cgm_utf8_char_len(const char *s, size_t n);

/** cgm_utf8_valid() - whether the @n bytes at @s are all valid characters (see above) */
bool cgm_utf8_valid(const char *s, size_t n);

/**
 * cgm_utf8_escape() - @s with every byte that is not part of a valid character as `\xNN`
 * @all: escape every byte, valid or not (for a string a stricter checker still refused)
 * @oom: set when the copy could not be allocated
 *
 * Return: NULL when @s is valid as it is (and !@all), else a malloc()ed copy (NULL with @oom
 * on failure). cgmd sends every string through this (daemon/reply.c), and libcgm's direct
 * reads (client/direct.c) do the same, so that a cgroup name of arbitrary bytes reads the
 * same whichever side answered.
 */
char *cgm_utf8_escape(const char *s, bool all, bool *oom);
