/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resource keys: the allowlist, value parsing, and the cgroup v1 translation */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* One file write (or read) in one controller hierarchy. */
typedef struct KeyFile {
        char name[64];   /* file name inside the cgroup directory */
        char value[256]; /* what to write / what was read */
} KeyFile;

#define KEY_V1_FILES_MAX 4

/**
 * key_controller() - controller that serves @key
 *
 * Return: "memory", "cpu", "pids", "io", "cpuset", "hugetlb", or "" for the core keys
 * (cgroup.max.depth, cgroup.max.descendants); NULL when @key is not an allowed key.
 */
const char *key_controller(const char *key);

/**
 * key_v1_controller() - the v1 controller hierarchy for @key: like key_controller() but "io"
 * is "blkio" on v1; NULL when the key has no v1 equivalent.
 */
const char *key_v1_controller(const char *key);

/**
 * key_names() - NULL-terminated list of every allowed key (hugetlb keys are listed as
 * "hugetlb.2MB.max" and "hugetlb.1GB.max").
 */
const char *const *key_names(void);

/**
 * key_parse() - check @key and turn @input into the canonical cgroup v2 value
 * @key:   requested key, e.g. "memory.max"
 * @input: user value, e.g. "2G", "max", "150%", "50000 100000"
 * @canon: receives the v2 file content, e.g. "2147483648", "150000 100000"
 *
 * Return: 0; -EPERM when @key names a file that is never writable through cgm
 * (cgroup.procs, tasks, release_agent, notify_on_release, devices.*, cgroup.type, ...);
 * -EOPNOTSUPP for any other unknown key; -EINVAL/-ERANGE for a bad value. @why says which.
 */
int key_parse(const char *key, const char *input, char *canon, size_t canon_size, char *why,
              size_t why_size);

/**
 * key_v1_writes() - the v1 files to write for a canonical v2 value
 * @mem_limit: current memory.limit_in_bytes of the cgroup (needed only for memory.swap.max,
 *             whose v1 form memsw is memory + swap); UINT64_MAX when unlimited
 * @out:       at least KEY_V1_FILES_MAX entries
 *
 * Return: 0 with *@n_out set; -EOPNOTSUPP with @why when the key has no v1 equivalent
 * (memory.high, memory.min, memory.low, memory.oom.group, cgroup.max.*); -ERANGE when the
 * value does not fit the v1 range (io.weight above 1000 for BFQ).
 */
int key_v1_writes(const char *key, const char *canon, uint64_t mem_limit, KeyFile *out,
                  size_t *n_out, char *why, size_t why_size);

/**
 * key_v1_reads() - the v1 files whose contents make up @key's value, in the order that
 * key_v1_value() expects them. Fills @out[i].name only.
 *
 * Return: 0 or -EOPNOTSUPP.
 */
int key_v1_reads(const char *key, KeyFile *out, size_t *n_out);

/**
 * key_v1_value() - canonical v2 value from the v1 contents listed by key_v1_reads()
 * @files: the entries from key_v1_reads() with .value filled (trailing newline allowed)
 *
 * Return: 0, or -EINVAL when the kernel's text cannot be understood.
 */
int key_v1_value(const char *key, const KeyFile *files, size_t n_files, char *canon,
                 size_t canon_size);
