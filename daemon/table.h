/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Table: a chained hash table of intrusive nodes, for the daemon's indexes */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Embedded in the indexed object; one per table the object is in. */
typedef struct TableNode {
        struct TableNode *next;
        uint64_t hash;
} TableNode;

typedef struct Table {
        TableNode **buckets;
        size_t n_buckets; /* 0 or a power of two */
        size_t n;
        uint64_t seed;
} Table;

#define TABLE_NULL                                                                                 \
        {                                                                                          \
                .buckets = NULL, .n_buckets = 0, .n = 0, .seed = 0                                 \
        }

/**
 * table_init() - an empty table; @seed keys the hashes (random in the daemon, fixed in tests)
 */
void table_init(Table *t, uint64_t seed);
/** table_deinit() - free the buckets; the nodes belong to their objects and stay */
void table_deinit(Table *t);

/** table_hash_string() - the table's keyed hash of a string */
uint64_t table_hash_string(const Table *t, const char *s);
/** table_hash_u64() - the table's keyed hash of a number (a uid, an inotify wd) */
uint64_t table_hash_u64(const Table *t, uint64_t v);

/**
 * table_add() - insert @node under @hash (duplicates allowed: lookups walk them all)
 *
 * Grows the buckets to keep chains short. A failed growth still inserts: the table only
 * gets slower. Return: 0; -ENOMEM when not even the first bucket array could be allocated
 * (@node is not in the table then).
 */
int table_add(Table *t, TableNode *node, uint64_t hash);
/** table_remove() - take @node out (it must be in @t); may shrink the buckets */
void table_remove(Table *t, TableNode *node);

/**
 * table_first() - the first node with @hash, or NULL; table_next() the next one after @node
 *
 * Nodes with equal hashes may hold different keys: callers compare their key.
 */
TableNode *table_first(const Table *t, uint64_t hash);
TableNode *table_next(const TableNode *node);

#define TABLE_FOREACH_HASH(node, t, h)                                                             \
        for (TableNode *node = table_first((t), (h)); node; node = table_next(node))
