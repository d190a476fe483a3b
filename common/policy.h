/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Policy: cgm.conf and cgm.conf.d — global options and per-user limits */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define POLICY_DEFAULT_PATH SYSCONFDIR "/cgm/cgm.conf"
#define POLICY_SOURCE_MAX 320

typedef enum PolicySectionKind {
        POLICY_DEFAULT,
        POLICY_GROUP,
        POLICY_USER,
} PolicySectionKind;

typedef struct PolicyValue {
        char key[64];
        char value[256];                /* canonical cgroup v2 value (key_parse) */
        char source[POLICY_SOURCE_MAX]; /* "FILE:LINE" */
} PolicyValue;

typedef struct PolicySection {
        PolicySectionKind kind;
        char name[256]; /* group or user name; "" for [default] */
        char source[POLICY_SOURCE_MAX];
        unsigned file_index; /* order of the file it came from */
        PolicyValue *values;
        size_t n_values;
} PolicySection;

/* A global option's value and where it was set ("default" when built in). */
typedef struct PolicyOption {
        char value[1024];
        char source[POLICY_SOURCE_MAX];
} PolicyOption;

typedef struct Policy {
        PolicyOption base;                /* base = /cgm | self:NAME */
        PolicyOption socket;              /* socket = /run/cgm/cgm.sock */
        PolicyOption kill_on_logout;      /* yes | no */
        PolicyOption kill_exempt;         /* user names, space separated */
        PolicyOption linger;              /* user names, space separated, or "*" */
        PolicyOption home_grace_ms;       /* a login home outlives its last session by this */
        PolicyOption exclude;             /* user names that get no session cgroup */
        PolicyOption admin_group;         /* group allowed Sessions/Users/Explain/Reload */
        PolicyOption max_cgroups_per_user;   /* cgroup.max.descendants of each home */
        PolicyOption requests_per_second;    /* per non-root uid */
        PolicyOption creates_per_second;     /* per non-root uid */
        PolicyOption connections_per_uid;
        PolicyOption nss_timeout_ms;
        PolicyOption session_manager;     /* auto | cgm | systemd (daemon/systemd.c) */
        PolicyOption oom_notice;          /* yes | no: OOM notices on a login's terminal;
                                           * also per [group:] and [user:] */
        PolicySection *sections;
        size_t n_sections;
        char **files; /* every file read, in order */
        size_t n_files;
} Policy;

/**
 * policy_new() - a policy holding only the built-in defaults
 */
int policy_new(Policy **policyp);
void policy_free(Policy *p);

/**
 * policy_load() - read the main file and, in lexical order, every *.conf in the directory
 * "<main>.d" (for /etc/cgm/cgm.conf: /etc/cgm/cgm.conf.d/)
 * @path: the main file; NULL means POLICY_DEFAULT_PATH, which may then be absent (defaults)
 *
 * Return: 0 and a new policy; or a negative errno with @e as "FILE:LINE: problem" and no
 * policy.
 */
int policy_load(Policy **policyp, const char *path, CgmError *e);

/**
 * policy_parse() - add the contents of one file, named @name in messages (for tests and
 * `cgm policy check`)
 *
 * Syntax: `key = value` lines, `#` or `;` comment lines, `[section]` headers. Options before
 * any section or in `[global]`; limits in `[default]`, `[group:NAME]`, `[user:NAME]`, each
 * a resource key of cgm(1) with its value, checked as Set would check it. A section defined
 * twice in one file, a key given twice in one section, an unknown option, key or section, a
 * bad value, a line over 4 KiB or a NUL byte is an error. A section met again in a later
 * file adds to it, later values winning (drop-in files).
 *
 * Return: 0, or -EINVAL/-E2BIG/-ENOMEM with @e as "NAME:LINE: problem".
 */
int policy_parse(Policy *p, const char *name, const char *text, CgmError *e);

/* The limits for one user: user sections over group sections over [default]. Among several
 * groups of the user, the section that comes later wins, key by key: sections are ordered by
 * where they first appear (files in reading order, then position in the file); a drop-in that
 * adds to an existing section keeps that section's place. */
typedef struct PolicyLimits {
        const PolicyValue *values[64]; /* pointers into the Policy */
        size_t n;
        /* oom_notice: not a resource key, so never among the values; from the sections in the
         * same order, over the global option. */
        bool oom_notice;
        const char *oom_notice_source; /* "FILE:LINE" or "default" */
} PolicyLimits;

/**
 * policy_resolve() - the effective limits of @user, member of @groups (names from NSS)
 */
void policy_resolve(const Policy *p, const char *user, const char *const *groups,
                    size_t n_groups, PolicyLimits *out);

/** policy_list_has() - is @user in the space-separated list option @o ("*" = everyone)? */
bool policy_list_has(const PolicyOption *o, const char *user);

/** policy_bool() - value of a yes/no option */
bool policy_bool(const PolicyOption *o);

/** policy_uint() - value of a numeric option (validated at parse time) */
unsigned policy_uint(const PolicyOption *o);
