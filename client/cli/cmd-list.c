/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgm ls, tree: the cgroups below a path */

/*
 * `ls` prints what List returns, one absolute path per line. `tree` asks for the whole subtree
 * in one recursive List, then one Get per cgroup for the three limits people look for first
 * (memory.max, pids.max, cpu.max). The Get asks for every key rather than those three, because
 * a cgroup whose parent did not enable a controller has no such key, and a Get naming it would
 * fail as a whole.
 *
 * The list is sorted so that a parent precedes its children and siblings are in name order:
 * paths are compared with '/' ranking below every other byte (plain strcmp would put "a-b"
 * between "a" and "a/b"). After sorting, each cgroup's subtree is the run of deeper entries
 * that follows it, so the tree is drawn by a recursion over index ranges, with no tree built.
 *
 * The rails are box-drawing characters when the locale is UTF-8 and `|--`, `` `-- `` when it
 * is not (LANG=C on a serial console, an old terminal): a byte sequence the terminal cannot
 * show is worse than plain ASCII. Limits get units on a terminal (cli_value()).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "protocol.h"
#include "units.h"

static const struct option recursive_options[] = {
        { "recursive", no_argument, NULL, 'r' },
        {},
};

int cmd_ls(Cli *cli, int argc, char **argv)
{
        _cleanup_(cgm_freep) cgm *h = NULL;
        _cleanup_strv_ char **paths = NULL;
        bool recursive = false;
        const char *path = "";
        int code, opt, r;

        while ((opt = cli_getopt(cli, argc, argv, "r", recursive_options, &code)) != -1) {
                if (opt == CLI_OPT_STOP)
                        return code;
                if (opt == 'r')
                        recursive = true;
        }
        if (optind < argc)
                path = argv[optind++];
        if (optind < argc)
                return cli_usage_error(cli, "unexpected argument `%s`", argv[optind]);

        code = cli_connect(cli, &h);
        if (code)
                return code;
        r = cgm_list(h, path, recursive, &paths);
        if (r < 0)
                return cli_fail(cli, h, r, path);

        if (cli->json) {
                putchar('[');
                for (size_t i = 0; paths[i]; i++) {
                        if (i > 0)
                                putchar(',');
                        json_string(stdout, paths[i]);
                }
                puts("]");
        } else {
                for (size_t i = 0; paths[i]; i++)
                        puts(paths[i]);
        }
        return CLI_EXIT_OK;
}

typedef struct TreeNode {
        const char *path;
        const char *name; /* last component */
        size_t depth;     /* 0 for the root */
        cgm_kv *values;
        size_t n_values;
} TreeNode;

static const char *const tree_keys[] = { "memory.max", "pids.max", "cpu.max" };

/* The end of a string ranks first, then '/', then every other byte in its order. */
static int path_rank(unsigned char c)
{
        return c == '\0' ? 0 : c == '/' ? 1 : c + 1;
}

int cli_path_compare(const void *a, const void *b)
{
        const unsigned char *x = *(const unsigned char *const *)a;
        const unsigned char *y = *(const unsigned char *const *)b;

        for (; *x && *x == *y; x++, y++)
                ;
        return path_rank(*x) - path_rank(*y);
}

static size_t count_slashes(const char *s)
{
        size_t n = 0;

        for (; *s; s++)
                n += *s == '/';
        return n;
}

static const char *last_component(const char *path)
{
        const char *slash = strrchr(path, '/');

        return slash && slash[1] ? slash + 1 : path;
}

static const char *node_value(const TreeNode *node, const char *key)
{
        for (size_t i = 0; i < node->n_values; i++)
                if (strcmp(node->values[i].key, key) == 0)
                        return node->values[i].value;
        return NULL;
}

/* "max" and cpu.max's "max 100000" are the defaults, not limits worth showing. */
static bool is_unlimited(const char *value)
{
        return strcmp(value, "max") == 0 || strncmp(value, "max ", 4) == 0;
}

static void tree_print_line(const Cli *cli, const TreeNode *node, bool root)
{
        char buf[CGM_FORMAT_VALUE_MAX];

        fputs(root ? node->path : node->name, stdout);
        for (size_t k = 0; k < ELEMENTSOF(tree_keys); k++) {
                const char *value = node_value(node, tree_keys[k]);

                if (!value || !value[0] || is_unlimited(value))
                        continue;
                value = cli_value(cli, tree_keys[k], value, buf, sizeof(buf));
                if (strchr(value, ' '))
                        printf("  %s=\"%s\"", tree_keys[k], value);
                else
                        printf("  %s=%s", tree_keys[k], value);
        }
        putchar('\n');
}

static size_t subtree_end(const TreeNode *nodes, size_t n, size_t i)
{
        size_t j = i + 1;

        while (j < n && nodes[j].depth > nodes[i].depth)
                j++;
        return j;
}

typedef struct TreeRails {
        const char *branch, *last, *rail;
} TreeRails;

static const TreeRails rails_utf8 = { "\u251c\u2500\u2500 ", "\u2514\u2500\u2500 ", "\u2502   " };
static const TreeRails rails_ascii = { "|-- ", "`-- ", "|   " };

/* @prefix holds the rails of the ancestors; it grows by one rail per level while it fits. */
static void tree_print_children(const Cli *cli, const TreeRails *rails, const TreeNode *nodes,
                                size_t n, size_t i, char *prefix, size_t cap)
{
        size_t len = strlen(prefix);
        size_t j = i + 1;

        while (j < n && nodes[j].depth > nodes[i].depth) {
                size_t end = subtree_end(nodes, n, j);
                bool last = end >= n || nodes[end].depth <= nodes[i].depth;
                const char *rail = last ? "    " : rails->rail;

                printf("%s%s", prefix, last ? rails->last : rails->branch);
                tree_print_line(cli, &nodes[j], false);
                if (len + strlen(rail) < cap)
                        strcpy(prefix + len, rail);
                tree_print_children(cli, rails, nodes, n, j, prefix, cap);
                prefix[len] = '\0';
                j = end;
        }
}

static void tree_print_json(const TreeNode *nodes, size_t n, size_t i)
{
        bool first = true;
        size_t j = i + 1;

        printf("{\"path\":");
        json_string(stdout, nodes[i].path);
        printf(",\"name\":");
        json_string(stdout, nodes[i].name);
        printf(",\"values\":{");
        for (size_t k = 0; k < ELEMENTSOF(tree_keys); k++) {
                const char *value = node_value(&nodes[i], tree_keys[k]);

                if (!value)
                        continue;
                if (!first)
                        putchar(',');
                first = false;
                json_string(stdout, tree_keys[k]);
                putchar(':');
                json_string(stdout, value);
        }
        printf("},\"children\":[");
        first = true;
        while (j < n && nodes[j].depth > nodes[i].depth) {
                if (!first)
                        putchar(',');
                first = false;
                tree_print_json(nodes, n, j);
                j = subtree_end(nodes, n, j);
        }
        printf("]}");
}

static void tree_free(TreeNode *nodes, size_t n)
{
        if (!nodes)
                return;
        for (size_t i = 0; i < n; i++)
                cgm_kv_free(nodes[i].values, nodes[i].n_values);
        free(nodes);
}

int cmd_tree(Cli *cli, int argc, char **argv)
{
        _cleanup_(cgm_freep) cgm *h = NULL;
        _cleanup_strv_ char **paths = NULL;
        _cleanup_free_ char *root = NULL;
        TreeNode *nodes = NULL;
        const char *path = "";
        size_t n_paths = 0, n = 0, root_len;
        size_t min_depth = SIZE_MAX, shallowest = 0;
        int code, opt, r;

        while ((opt = cli_getopt(cli, argc, argv, "", NULL, &code)) != -1)
                if (opt == CLI_OPT_STOP)
                        return code;
        if (optind < argc)
                path = argv[optind++];
        if (optind < argc)
                return cli_usage_error(cli, "unexpected argument `%s`", argv[optind]);

        code = cli_connect(cli, &h);
        if (code)
                return code;
        r = cgm_list(h, path, true, &paths);
        if (r < 0)
                return cli_fail(cli, h, r, path);
        code = cli_absolute_path(cli, h, path, &root);
        if (code)
                return code;

        for (; paths[n_paths]; n_paths++) {
                size_t d = count_slashes(paths[n_paths]);

                if (d < min_depth) {
                        min_depth = d;
                        shallowest = n_paths;
                }
        }
        /* The daemon's spelling of the root wins over ours: its children's parent. */
        if (n_paths > 0) {
                const char *slash = strrchr(paths[shallowest], '/');
                size_t len = slash ? (size_t)(slash - paths[shallowest]) : 0;
                char *canonical = strndup(paths[shallowest], len ? len : 1);

                if (!canonical) {
                        cli_warn(cli, "out of memory");
                        return CLI_EXIT_FAILURE;
                }
                free(root);
                root = canonical;
        }
        root_len = strcmp(root, "/") == 0 ? 0 : strlen(root);
        qsort(paths, n_paths, sizeof(*paths), cli_path_compare);

        nodes = calloc(n_paths + 1, sizeof(*nodes));
        if (!nodes) {
                cli_warn(cli, "out of memory");
                return CLI_EXIT_FAILURE;
        }
        nodes[n++] = (TreeNode){ .path = root, .name = last_component(root), .depth = 0 };
        for (size_t i = 0; i < n_paths; i++) {
                /* Anything not below the root would be a daemon bug; leave it out. */
                if (strncmp(paths[i], root, root_len) != 0 || paths[i][root_len] != '/')
                        continue;
                nodes[n++] = (TreeNode){
                        .path = paths[i],
                        .name = last_component(paths[i]),
                        .depth = count_slashes(paths[i] + root_len),
                };
        }

        for (size_t i = 0; i < n; i++) {
                r = cgm_get(h, nodes[i].path, NULL, &nodes[i].values, &nodes[i].n_values);
                /* A cgroup that vanished or cannot be read is still drawn, without values;
                 * but when the daemon is gone there is no point in going on. */
                if (r < 0 && cli_exit_code(h, r) == CLI_EXIT_UNREACHABLE) {
                        code = cli_fail(cli, h, r, nodes[i].path);
                        tree_free(nodes, n);
                        return code;
                }
        }

        if (cli->json) {
                tree_print_json(nodes, n, 0);
                putchar('\n');
        } else {
                char prefix[512] = "";

                tree_print_line(cli, &nodes[0], true);
                tree_print_children(cli, cli_utf8() ? &rails_utf8 : &rails_ascii, nodes, n, 0,
                                    prefix, sizeof(prefix));
        }
        tree_free(nodes, n);
        return CLI_EXIT_OK;
}
