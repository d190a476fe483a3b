/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the daemon's hash table of intrusive nodes (daemon/table.c) */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "table.h"

typedef struct Item {
        TableNode node;
        char key[16];
        unsigned value;
} Item;

#define ITEM(n) ((Item *)((char *)(n)-offsetof(Item, node)))

static Item *find(const Table *t, const char *key)
{
        TABLE_FOREACH_HASH(n, t, table_hash_string(t, key))
        if (strcmp(ITEM(n)->key, key) == 0)
                return ITEM(n);
        return NULL;
}

static void test_table_empty(void **state)
{
        Table t;

        (void)state;
        table_init(&t, 1);
        assert_null(find(&t, "a"));
        assert_null(table_first(&t, 0));
        table_deinit(&t);
        table_deinit(&t); /* twice is harmless */
}

/* 10,000 entries: all found, growth keeps chains short, removal gives the array back. */
static void test_table_growth_and_shrink(void **state)
{
        enum { N = 10000 };
        Item *items = calloc(N, sizeof(*items));
        Table t;
        size_t longest = 0;

        (void)state;
        assert_non_null(items);
        table_init(&t, 0x1234);
        for (unsigned i = 0; i < N; i++) {
                snprintf(items[i].key, sizeof(items[i].key), "c%u", i);
                items[i].value = i;
                uint64_t h = table_hash_string(&t, items[i].key);
                assert_int_equal(table_add(&t, &items[i].node, h), 0);
        }
        assert_int_equal(t.n, N);
        assert_true(t.n_buckets >= N && t.n_buckets <= 2 * 16384);
        for (unsigned i = 0; i < N; i++) {
                Item *it = find(&t, items[i].key);
                assert_non_null(it);
                assert_int_equal(it->value, i);
        }
        assert_null(find(&t, "c10000"));
        for (size_t b = 0; b < t.n_buckets; b++) {
                size_t l = 0;
                for (TableNode *n = t.buckets[b]; n; n = n->next)
                        l++;
                longest = l > longest ? l : longest;
        }
        assert_true(longest <= 12); /* ~ln N / ln ln N for a uniform hash; a bad mix fails */
        /* Remove all but the odd tens: those are still found, the rest are gone. */
        for (unsigned i = 0; i < N; i++)
                if (i % 20 != 10)
                        table_remove(&t, &items[i].node);
        assert_int_equal(t.n, N / 20);
        assert_true(t.n_buckets <= 8 * (N / 20)); /* it shrank */
        for (unsigned i = 0; i < N; i++)
                assert_true((find(&t, items[i].key) != NULL) == (i % 20 == 10));
        for (unsigned i = 10; i < N; i += 20)
                table_remove(&t, &items[i].node);
        assert_int_equal(t.n, 0);
        assert_null(t.buckets); /* empty: no array held */
        assert_null(find(&t, "c10"));
        /* and usable again */
        assert_int_equal(table_add(&t, &items[7].node, table_hash_string(&t, "c7")), 0);
        assert_ptr_equal(find(&t, "c7"), &items[7]);
        table_deinit(&t);
        free(items);
}

/* Entries with one hash (colliding keys, or a key twice): each is found and removed apart. */
static void test_table_collisions(void **state)
{
        Item a = { .key = "a" }, b = { .key = "b" }, c = { .key = "c" }, other = { .key = "o" };
        Table t;
        unsigned seen = 0;

        (void)state;
        table_init(&t, 7);
        assert_int_equal(table_add(&t, &a.node, 42), 0);
        assert_int_equal(table_add(&t, &b.node, 42), 0);
        assert_int_equal(table_add(&t, &c.node, 42), 0);
        /* the same bucket (42 + n_buckets), another hash: never returned for 42 */
        assert_int_equal(table_add(&t, &other.node, 42 + t.n_buckets), 0);
        TABLE_FOREACH_HASH(n, &t, 42)
        {
                assert_true(n != &other.node);
                seen |= n == &a.node ? 1 : n == &b.node ? 2 : n == &c.node ? 4 : 8;
        }
        assert_int_equal(seen, 7);
        table_remove(&t, &b.node);
        seen = 0;
        TABLE_FOREACH_HASH(n, &t, 42)
        seen |= n == &a.node ? 1 : n == &b.node ? 2 : n == &c.node ? 4 : 8;
        assert_int_equal(seen, 5);
        assert_ptr_equal(table_first(&t, 42 + t.n_buckets), &other.node);
        assert_null(table_next(&other.node));
        table_remove(&t, &a.node);
        table_remove(&t, &c.node);
        assert_null(table_first(&t, 42));
        assert_int_equal(t.n, 1);
        table_deinit(&t);
}

/* The seed keys the hash: the same key lands elsewhere under another seed. */
static void test_table_seeded(void **state)
{
        Table t1, t2;
        unsigned differ = 0;

        (void)state;
        table_init(&t1, 1);
        table_init(&t2, 2);
        for (unsigned i = 0; i < 64; i++) {
                char k[16];
                snprintf(k, sizeof(k), "%u", i);
                differ += table_hash_string(&t1, k) != table_hash_string(&t2, k);
                differ += table_hash_u64(&t1, i) != table_hash_u64(&t2, i);
        }
        assert_int_equal(differ, 128);
        assert_true(table_hash_u64(&t1, 1) != table_hash_u64(&t1, 2));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table_empty),
                cmocka_unit_test(test_table_growth_and_shrink),
                cmocka_unit_test(test_table_collisions),
                cmocka_unit_test(test_table_seeded),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
