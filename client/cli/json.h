/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Minimal JSON output for cgm --json */
#pragma once

#include <stdio.h>

#include "cgm.h"

/**
 * json_string() - write @s as a JSON string literal, quotes included
 * @f: stream
 * @s: UTF-8 text; NULL is written as null; invalid bytes become U+FFFD
 */
void json_string(FILE *f, const char *s);

/** json_kv_object() - write {"key": "value", ...} for @n pairs */
void json_kv_object(FILE *f, const cgm_kv *kv, size_t n);
