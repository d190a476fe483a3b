/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A user namespace's uid map, as the daemon reads it
 *
 * cgmd runs in the initial user namespace, so the second field of every line of a caller's
 * /proc/PID/uid_map, as cgmd reads it, is a host uid, however deep the caller's namespace
 * is nested (the kernel translates the lower ids into the reader's namespace). A namespace
 * nested in another maps a subset of its parent's uids, so the rules that use the map (which
 * uids a namespace root may act for) narrow level by level without the daemon walking the
 * tree. Pure functions, tested in tests/unit/test-uidmap.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "uidmap.h"

static int parse_u32(const char **p, uint32_t *out)
{
        char *end;
        unsigned long long v;

        while (**p == ' ' || **p == '\t')
                (*p)++;
        if (**p < '0' || **p > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(*p, &end, 10);
        if (errno || v > UINT32_MAX)
                return -EINVAL;
        *p = end;
        *out = (uint32_t)v;
        return 0;
}

int uidmap_parse(UidMap *map, const char *text)
{
        UidExtent ext[UIDMAP_EXTENTS_MAX];
        size_t n = 0;
        const char *p = text;

        *map = (UidMap){ 0 };
        while (*p) {
                UidExtent x;
                while (*p == ' ' || *p == '\t' || *p == '\n')
                        p++;
                if (!*p)
                        break;
                if (parse_u32(&p, &x.inside) < 0 || parse_u32(&p, &x.outside) < 0 ||
                    parse_u32(&p, &x.count) < 0 || x.count == 0 ||
                    (uint64_t)x.inside + x.count > (uint64_t)UINT32_MAX + 1 ||
                    (uint64_t)x.outside + x.count > (uint64_t)UINT32_MAX + 1 ||
                    n >= UIDMAP_EXTENTS_MAX || (*p && *p != '\n' && *p != ' '))
                        return -EINVAL;
                ext[n++] = x;
                while (*p == ' ' || *p == '\t')
                        p++;
        }
        if (n == 0)
                return 0;
        map->extents = malloc(n * sizeof(*ext));
        if (!map->extents)
                return -ENOMEM;
        memcpy(map->extents, ext, n * sizeof(*ext));
        map->n = n;
        return 0;
}

void uidmap_free(UidMap *map)
{
        free(map->extents);
        *map = (UidMap){ 0 };
}

uid_t uidmap_to_inside(const UidMap *map, uid_t host)
{
        for (size_t i = 0; map && i < map->n; i++) {
                const UidExtent *x = &map->extents[i];
                if ((uint64_t)host >= x->outside && (uint64_t)host < (uint64_t)x->outside + x->count)
                        return (uid_t)(x->inside + (host - x->outside));
        }
        return (uid_t)-1;
}

uid_t uidmap_to_host(const UidMap *map, uid_t inside)
{
        for (size_t i = 0; map && i < map->n; i++) {
                const UidExtent *x = &map->extents[i];
                if ((uint64_t)inside >= x->inside && (uint64_t)inside < (uint64_t)x->inside + x->count)
                        return (uid_t)(x->outside + (inside - x->inside));
        }
        return (uid_t)-1;
}

bool uidmap_has(const UidMap *map, uid_t host)
{
        return host != (uid_t)-1 && uidmap_to_inside(map, host) != (uid_t)-1;
}
