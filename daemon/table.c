/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Table: a chained hash table of intrusive nodes, for the daemon's indexes
 *
 * The daemon finds a session by id (CloseSession, every OpenSession's choice of id), by
 * inotify watch (every event) and counts them by uid (every logout, the Users listing). A
 * list walk per lookup made each of those O(sessions), and a mass logout O(sessions²). The
 * nodes live inside the indexed objects (no allocation per entry, one object in several
 * tables); the table owns only its bucket array: at 10,000 entries 16,384 pointers, 128 kB.
 *
 * Chains are kept at most one node per bucket on average: the array doubles when n passes
 * n_buckets and halves when n falls below n_buckets / 8 (never below TABLE_MIN_BUCKETS).
 * The hash is keyed with a random seed per table, so a user who picks session ids (through
 * XDG_SESSION_ID) cannot aim them at one bucket without knowing it; and a chain can never get
 * longer than the list it replaced.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

#define TABLE_MIN_BUCKETS 16

void table_init(Table *t, uint64_t seed)
{
        *t = (Table)TABLE_NULL;
        t->seed = seed;
}

void table_deinit(Table *t)
{
        free(t->buckets);
        t->buckets = NULL;
        t->n_buckets = 0;
        t->n = 0;
}

/* The final mix of splitmix64: every input bit reaches every output bit. */
static uint64_t mix64(uint64_t x)
{
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebULL;
        x ^= x >> 31;
        return x;
}

uint64_t table_hash_string(const Table *t, const char *s)
{
        uint64_t h = 0xcbf29ce484222325ULL ^ t->seed; /* FNV-1a, then mixed with the seed */

        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= 0x100000001b3ULL;
        }
        return mix64(h ^ mix64(t->seed));
}

uint64_t table_hash_u64(const Table *t, uint64_t v)
{
        return mix64(v ^ mix64(t->seed));
}

static void table_resize(Table *t, size_t n_buckets)
{
        TableNode **b = calloc(n_buckets, sizeof(*b));

        if (!b)
                return; /* keep the old array: longer chains, still correct */
        for (size_t i = 0; i < t->n_buckets; i++)
                for (TableNode *node = t->buckets[i], *next; node; node = next) {
                        TableNode **head = &b[node->hash & (n_buckets - 1)];
                        next = node->next;
                        node->next = *head;
                        *head = node;
                }
        free(t->buckets);
        t->buckets = b;
        t->n_buckets = n_buckets;
}

int table_add(Table *t, TableNode *node, uint64_t hash)
{
        TableNode **head;

        if (t->n >= t->n_buckets)
                table_resize(t, t->n_buckets ? t->n_buckets * 2 : TABLE_MIN_BUCKETS);
        if (!t->buckets)
                return -ENOMEM; /* not even the first array: the caller keeps its list */
        node->hash = hash;
        head = &t->buckets[hash & (t->n_buckets - 1)];
        node->next = *head;
        *head = node;
        t->n++;
        return 0;
}

void table_remove(Table *t, TableNode *node)
{
        if (!t->buckets)
                return;
        for (TableNode **p = &t->buckets[node->hash & (t->n_buckets - 1)]; *p; p = &(*p)->next)
                if (*p == node) {
                        *p = node->next;
                        node->next = NULL;
                        t->n--;
                        break;
                }
        if (t->n == 0) {
                table_deinit(t); /* an idle daemon holds no array */
                return;
        }
        if (t->n_buckets > TABLE_MIN_BUCKETS && t->n < t->n_buckets / 8)
                table_resize(t, t->n_buckets / 2);
}

TableNode *table_first(const Table *t, uint64_t hash)
{
        TableNode *node;

        if (!t->buckets)
                return NULL;
        for (node = t->buckets[hash & (t->n_buckets - 1)]; node && node->hash != hash;)
                node = node->next;
        return node;
}

TableNode *table_next(const TableNode *node)
{
        uint64_t hash = node->hash;

        for (node = node->next; node && node->hash != hash;)
                node = node->next;
        return (TableNode *)node;
}
