/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A user namespace's uid map, as the daemon reads it: which host uids it maps, and to what */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The kernel allows 340 lines per map (Linux 4.15); an older kernel allows 5. */
#define UIDMAP_EXTENTS_MAX 340

typedef struct UidExtent {
        uint32_t inside;  /* first uid as the namespace sees it */
        uint32_t outside; /* first host uid (the daemon lives in the initial namespace) */
        uint32_t count;
} UidExtent;

typedef struct UidMap {
        UidExtent *extents;
        size_t n;
} UidMap;

/**
 * uidmap_parse() - read the text of /proc/PID/uid_map ("inside outside count" lines)
 *
 * Return: 0; -EINVAL when a line is malformed, overflows or there are more than
 * UIDMAP_EXTENTS_MAX; -ENOMEM. An empty text is an empty map (the namespace's map was not
 * written yet): it maps nothing.
 */
int uidmap_parse(UidMap *map, const char *text);
void uidmap_free(UidMap *map);

/** uidmap_has() - is host uid @host mapped? */
bool uidmap_has(const UidMap *map, uid_t host);

/** uidmap_to_host() - the host uid of @inside, or (uid_t)-1 when it is not mapped */
uid_t uidmap_to_host(const UidMap *map, uid_t inside);

/** uidmap_to_inside() - the namespace's uid for host uid @host, or (uid_t)-1 when unmapped */
uid_t uidmap_to_inside(const UidMap *map, uid_t host);
