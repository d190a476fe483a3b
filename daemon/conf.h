/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Configuration file: the daemon's global options */
#pragma once

#include "error.h"

#define CONF_DEFAULT_PATH "/etc/cgm/cgm.conf"

typedef struct Conf {
        char base[1024];
        char socket[108];
        unsigned requests_per_second;
        unsigned creates_per_second;
        unsigned connections_per_uid;
} Conf;

/**
 * conf_load() - defaults, then the options of @path
 * @path: the file; NULL means CONF_DEFAULT_PATH if it exists, else defaults only
 *
 * Syntax: `key = value` lines, `#` comments, `[section]` headers. Global options sit before
 * any section or in `[global]`: base, socket, requests_per_second, creates_per_second,
 * connections_per_uid. The policy sections `[default]`, `[group:NAME]` and `[user:NAME]` are
 * reserved for per-user limits and skipped by this version.
 *
 * Return: 0, or a negative errno with @e as "FILE:LINE: problem".
 */
int conf_load(Conf *conf, const char *path, CgmError *e);

/** conf_parse() - parse @text as if read from @name (for tests) */
int conf_parse(Conf *conf, const char *name, const char *text, CgmError *e);
