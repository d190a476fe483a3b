/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for resource keys: allowlist, values, and the v1 translation (daemon/keys.c) */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#include "keys.h"
#include "protocol.h"
#include "units.h"

/* key_parse() must succeed with @want, and the canonical value must parse to itself. */
static void parse_ok(const char *key, const char *input, const char *want)
{
        char canon[CGM_VALUE_MAX], again[CGM_VALUE_MAX], why[512] = "";
        int r = key_parse(key, input, canon, sizeof(canon), why, sizeof(why));

        if (r != 0)
                fail_msg("%s=%s refused (%d): %s", key, input, r, why);
        if (strcmp(canon, want) != 0)
                fail_msg("%s=%s gave `%s`, expected `%s`", key, input, canon, want);
        r = key_parse(key, canon, again, sizeof(again), why, sizeof(why));
        if (r != 0 || strcmp(again, canon) != 0)
                fail_msg("canonical %s=%s does not parse to itself: %s", key, canon, why);
}

/* key_parse() must fail with @code and a reason containing @needle. */
static void parse_bad(const char *key, const char *input, int code, const char *needle)
{
        char canon[CGM_VALUE_MAX] = "untouched", why[512] = "";
        int r = key_parse(key, input, canon, sizeof(canon), why, sizeof(why));

        if (r != code)
                fail_msg("%s=%s gave %d (`%s`, %s), expected %d", key, input, r, canon, why,
                         code);
        if (!why[0])
                fail_msg("%s=%s refused without a reason", key, input);
        if (needle && !strstr(why, needle))
                fail_msg("reason for %s=%s lacks `%s`: %s", key, input, needle, why);
        assert_string_equal(canon, "");
}

static void test_keys_forbidden_files_are_eperm(void **state)
{
        static const char *const keys[] = {
                "cgroup.procs",          "cgroup.threads", "cgroup.subtree_control",
                "cgroup.type",           "cgroup.kill",    "cgroup.freeze",
                "cgroup.clone_children", "tasks",          "release_agent",
                "notify_on_release",     "devices.allow",  "devices.deny",
                "devices.list",
        };

        (void)state;
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                parse_bad(keys[i], "1", -EPERM, keys[i]);
        parse_bad("cgroup.procs", "0", -EPERM, "processes are moved with Move");
        parse_bad("release_agent", "/bin/sh", -EPERM, "never");
}

static void test_keys_unknown_key_is_eopnotsupp_and_lists_keys(void **state)
{
        (void)state;
        parse_bad("memory.foo", "1", -EOPNOTSUPP, "unknown key `memory.foo`; known keys:");
        parse_bad("memory.foo", "1", -EOPNOTSUPP, "memory.{max,high,low,min,swap.max");
        parse_bad("cpu.shares", "1024", -EOPNOTSUPP, "cpu.{max,weight,max.burst}");
        parse_bad("x", "1", -EOPNOTSUPP, "cgroup.max.{depth,descendants}");
        parse_bad("memory.limit_in_bytes", "1", -EOPNOTSUPP, NULL);
        parse_bad("", "1", -EOPNOTSUPP, NULL);
        parse_bad("../memory.max", "1", -EOPNOTSUPP, NULL);
        parse_bad("memory.max\n", "1", -EOPNOTSUPP, "\\x0a");
        parse_bad("hugetlb.2XB.max", "1", -EOPNOTSUPP, NULL);
        parse_bad("hugetlb.02MB.max", "1", -EOPNOTSUPP, NULL);
        parse_bad("hugetlb.2MB.current", "1", -EOPNOTSUPP, NULL);
        parse_bad("hugetlb..max", "1", -EOPNOTSUPP, NULL);
}

static void test_keys_controllers(void **state)
{
        (void)state;
        assert_string_equal(key_controller("memory.max"), "memory");
        assert_string_equal(key_controller("memory.oom.group"), "memory");
        assert_string_equal(key_controller("cpu.max.burst"), "cpu");
        assert_string_equal(key_controller("pids.max"), "pids");
        assert_string_equal(key_controller("io.max"), "io");
        assert_string_equal(key_controller("cpuset.mems"), "cpuset");
        assert_string_equal(key_controller("hugetlb.64KB.max"), "hugetlb");
        assert_string_equal(key_controller("cgroup.max.depth"), "");
        assert_null(key_controller("cgroup.procs"));
        assert_null(key_controller("memory.foo"));
        assert_null(key_controller(NULL));

        assert_string_equal(key_v1_controller("io.weight"), "blkio");
        assert_string_equal(key_v1_controller("memory.swap.max"), "memory");
        assert_string_equal(key_v1_controller("hugetlb.1GB.max"), "hugetlb");
        assert_null(key_v1_controller("memory.high"));
        assert_null(key_v1_controller("memory.oom.group"));
        assert_null(key_v1_controller("cgroup.max.descendants"));
        assert_null(key_v1_controller("tasks"));
}

static void test_keys_names_list_every_key_once(void **state)
{
        const char *const *names = key_names();
        size_t n = 0;

        (void)state;
        for (; names[n]; n++) {
                assert_non_null(key_controller(names[n]));
                for (size_t j = 0; j < n; j++)
                        assert_string_not_equal(names[j], names[n]);
        }
        assert_int_equal(n, 18);
        assert_true(n <= CGM_SETTINGS_MAX);
}

static void test_keys_memory_bytes_and_units(void **state)
{
        (void)state;
        parse_ok("memory.max", "2G", "2147483648");
        parse_ok("memory.max", "512M", "536870912");
        parse_ok("memory.max", "1.5G", "1610612736");
        parse_ok("memory.max", "1KiB", "1024");
        parse_ok("memory.max", "max", "max");
        parse_ok("memory.high", "4096", "4096");
        parse_ok("memory.low", "0", "0");
        parse_ok("memory.min", "1M", "1048576");
        parse_ok("memory.swap.max", "0", "0");
        parse_ok("memory.swap.max", "max", "max");
        parse_bad("memory.max", "-1", -EINVAL, "memory.max");
        parse_bad("memory.max", " 1", -EINVAL, NULL);
        parse_bad("memory.max", "1 ", -EINVAL, NULL);
        parse_bad("memory.max", "1e3", -EINVAL, NULL);
        parse_bad("memory.max", "0x10", -EINVAL, NULL);
        parse_bad("memory.max", "", -EINVAL, NULL);
        parse_bad("memory.max", "9223372036854775808", -ERANGE, NULL);
        parse_bad("memory.max", "8192P", -ERANGE, NULL);
}

static void test_keys_oom_group_is_boolean(void **state)
{
        (void)state;
        parse_ok("memory.oom.group", "0", "0");
        parse_ok("memory.oom.group", "1", "1");
        parse_bad("memory.oom.group", "2", -EINVAL, "0 or 1");
        parse_bad("memory.oom.group", "true", -EINVAL, NULL);
        parse_bad("memory.oom.group", "01", -EINVAL, NULL);
}

static void test_keys_cpu_max_forms(void **state)
{
        (void)state;
        parse_ok("cpu.max", "max", "max 100000");
        parse_ok("cpu.max", "max 50000", "max 50000");
        parse_ok("cpu.max", "50000", "50000 100000");
        parse_ok("cpu.max", "50000 100000", "50000 100000");
        parse_ok("cpu.max", "200000 1000000", "200000 1000000");
        parse_ok("cpu.max", "1000 1000", "1000 1000");
}

static void test_keys_cpu_max_percent(void **state)
{
        (void)state;
        parse_ok("cpu.max", "150%", "150000 100000");
        parse_ok("cpu.max", "100%", "100000 100000");
        parse_ok("cpu.max", "1%", "1000 100000");
        parse_ok("cpu.max", "2.5%", "2500 100000");
        parse_ok("cpu.max", "33.3333%", "33333 100000"); /* below 1 us rounds down */
        parse_ok("cpu.max", "2.0009%", "2000 100000");
        parse_ok("cpu.max", "6400%", "6400000 100000");
}

static void test_keys_cpu_max_limits(void **state)
{
        (void)state;
        parse_bad("cpu.max", "500", -ERANGE, "`cpu.max` quota 500 is below the kernel's minimum "
                                            "of 1000 us");
        parse_bad("cpu.max", "0.5%", -ERANGE, "500 us (0.5%)");
        parse_bad("cpu.max", "0%", -ERANGE, "minimum");
        parse_bad("cpu.max", "50000 999", -ERANGE, "period 999");
        parse_bad("cpu.max", "50000 1000001", -ERANGE, "1000000");
        parse_bad("cpu.max", "max 100", -ERANGE, "period");
        parse_bad("cpu.max", "17592186044416", -ERANGE, "maximum");
        parse_bad("cpu.max", "150% 100000", -EINVAL, "stands alone");
        parse_bad("cpu.max", "50000  100000", -EINVAL, NULL);
        parse_bad("cpu.max", " 50000", -EINVAL, NULL);
        parse_bad("cpu.max", "50000 ", -EINVAL, NULL);
        parse_bad("cpu.max", "50000 100000 1", -EINVAL, NULL);
        parse_bad("cpu.max", "-1", -EINVAL, NULL);
        parse_bad("cpu.max", "%", -EINVAL, NULL);
        parse_bad("cpu.max", "1.%", -EINVAL, NULL);
        parse_bad("cpu.max", "10%%", -EINVAL, NULL);
        parse_bad("cpu.max", "max max", -EINVAL, NULL);
        parse_bad("cpu.max", "", -EINVAL, NULL);
}

static void test_keys_cpu_weight_burst_pids(void **state)
{
        (void)state;
        parse_ok("cpu.weight", "1", "1");
        parse_ok("cpu.weight", "100", "100");
        parse_ok("cpu.weight", "10000", "10000");
        parse_bad("cpu.weight", "0", -ERANGE, "1..10000");
        parse_bad("cpu.weight", "10001", -ERANGE, NULL);
        parse_bad("cpu.weight", "max", -EINVAL, NULL);
        parse_ok("cpu.max.burst", "0", "0");
        parse_ok("cpu.max.burst", "20000", "20000");
        parse_bad("cpu.max.burst", "20ms", -EINVAL, NULL);
        parse_ok("pids.max", "max", "max");
        parse_ok("pids.max", "0", "0");
        parse_ok("pids.max", "512", "512");
        parse_ok("pids.max", "4194304", "4194304");
        parse_bad("pids.max", "4194305", -ERANGE, NULL);
        parse_bad("pids.max", "-1", -EINVAL, NULL);
}

static void test_keys_io_weight(void **state)
{
        (void)state;
        parse_ok("io.weight", "100", "100");
        parse_ok("io.weight", "default 200", "200");
        parse_ok("io.weight", "10000", "10000");
        parse_bad("io.weight", "0", -ERANGE, NULL);
        parse_bad("io.weight", "default", -EINVAL, NULL);
        parse_bad("io.weight", "8:0 100", -EINVAL, NULL);
}

static void test_keys_io_max(void **state)
{
        (void)state;
        parse_ok("io.max", "8:0 rbps=1M wbps=max", "8:0 rbps=1048576 wbps=max");
        parse_ok("io.max", "8:16 wiops=100 riops=200 wbps=2G rbps=1K",
                 "8:16 rbps=1024 wbps=2147483648 riops=200 wiops=100");
        parse_ok("io.max", "259:0 riops=max", "259:0 riops=max");
        parse_bad("io.max", "8:0", -EINVAL, "sets nothing");
        parse_bad("io.max", "8:0 rbps=2 rbps=3", -EINVAL, "twice");
        parse_bad("io.max", "8:0 rbps=0", -ERANGE, "rbps=max");
        parse_bad("io.max", "8:0 foo=1", -EINVAL, "foo=1");
        parse_bad("io.max", "8:0 riops=1K", -EINVAL, NULL);
        parse_bad("io.max", "8:0 riops=4294967296", -ERANGE, NULL);
        parse_bad("io.max", "8 rbps=1", -EINVAL, "MAJOR:MINOR");
        parse_bad("io.max", "4096:0 rbps=2", -EINVAL, NULL);
        parse_bad("io.max", "8:0  rbps=2", -EINVAL, NULL);
        parse_bad("io.max", "8:0 rbps=2 ", -EINVAL, NULL);
        parse_bad("io.max", "8:0 rbps=", -EINVAL, NULL);
        parse_bad("io.max", "8:0 rbps=2\n8:16 rbps=2", -EINVAL, NULL);
}

static void test_keys_cpuset_lists(void **state)
{
        char big[300];

        (void)state;
        parse_ok("cpuset.cpus", "0-3,5", "0-3,5");
        parse_ok("cpuset.cpus", "0", "0");
        parse_ok("cpuset.mems", "0", "0");
        parse_ok("cpuset.cpus", "", "");
        parse_ok("cpuset.cpus", "1,3,5-7", "1,3,5-7");
        parse_bad("cpuset.cpus", "3-1", -EINVAL, "backwards");
        parse_bad("cpuset.cpus", "0-", -EINVAL, NULL);
        parse_bad("cpuset.cpus", "0,", -EINVAL, NULL);
        parse_bad("cpuset.cpus", ",0", -EINVAL, NULL);
        parse_bad("cpuset.cpus", "0 1", -EINVAL, NULL);
        parse_bad("cpuset.cpus", "a", -EINVAL, NULL);
        parse_bad("cpuset.mems", "0-3:2", -EINVAL, NULL);
        parse_bad("cpuset.cpus", "99999999999999999999", -ERANGE, NULL);
        memset(big, '1', sizeof(big) - 1);
        for (size_t i = 1; i < sizeof(big) - 1; i += 2)
                big[i] = ',';
        big[sizeof(big) - 1] = '\0';
        parse_bad("cpuset.cpus", big, -EINVAL, "longer than 255 bytes");
}

static void test_keys_hugetlb_any_size(void **state)
{
        (void)state;
        parse_ok("hugetlb.2MB.max", "4M", "4194304");
        parse_ok("hugetlb.1GB.max", "max", "max");
        parse_ok("hugetlb.64KB.max", "0", "0");
        parse_ok("hugetlb.32MB.max", "1G", "1073741824");
}

static void test_keys_cgroup_max(void **state)
{
        (void)state;
        parse_ok("cgroup.max.depth", "16", "16");
        parse_ok("cgroup.max.depth", "max", "max");
        parse_ok("cgroup.max.descendants", "1000", "1000");
        parse_bad("cgroup.max.descendants", "2147483648", -ERANGE, NULL);
}

static void test_keys_value_too_long_or_null(void **state)
{
        char canon[CGM_VALUE_MAX], why[256];
        char big[CGM_VALUE_MAX + 10];

        (void)state;
        memset(big, '1', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        parse_bad("memory.max", big, -EINVAL, "longer");
        assert_int_equal(key_parse("memory.max", NULL, canon, sizeof(canon), why, sizeof(why)),
                         -EINVAL);
        assert_int_equal(key_parse(NULL, "1", canon, sizeof(canon), why, sizeof(why)),
                         -EOPNOTSUPP);
        /* A canonical value that does not fit the caller's buffer is not silently cut. */
        assert_int_equal(key_parse("memory.max", "2G", canon, 4, why, sizeof(why)), -ENOBUFS);
        assert_string_equal(canon, "");
}

/* --- cgroup v1 ---------------------------------------------------------------------------- */

static size_t v1_writes(const char *key, const char *input, uint64_t mem, KeyFile *out)
{
        char canon[CGM_VALUE_MAX], why[512] = "";
        size_t n = 99;
        int r;

        assert_int_equal(key_parse(key, input, canon, sizeof(canon), why, sizeof(why)), 0);
        r = key_v1_writes(key, canon, mem, out, &n, why, sizeof(why));
        if (r != 0)
                fail_msg("v1 writes for %s=%s failed (%d): %s", key, canon, r, why);
        assert_true(n >= 1 && n <= KEY_V1_FILES_MAX);
        return n;
}

/* Read back through key_v1_reads/key_v1_value with file contents @texts. */
static void v1_value(const char *key, const char *const *texts, size_t n_texts, const char *want)
{
        KeyFile files[KEY_V1_FILES_MAX];
        char canon[CGM_VALUE_MAX];
        size_t n = 0;
        int r;

        assert_int_equal(key_v1_reads(key, files, &n), 0);
        assert_int_equal(n, n_texts);
        for (size_t i = 0; i < n; i++)
                snprintf(files[i].value, sizeof(files[i].value), "%s", texts[i]);
        r = key_v1_value(key, files, n, canon, sizeof(canon));
        if (r != 0)
                fail_msg("v1 value of %s failed: %d", key, r);
        if (strcmp(canon, want) != 0)
                fail_msg("v1 value of %s is `%s`, expected `%s`", key, canon, want);
}

/* Write through v1, feed the written values back as file contents, expect @want. */
static void v1_round_trip(const char *key, const char *input, const char *want)
{
        KeyFile w[KEY_V1_FILES_MAX], rd[KEY_V1_FILES_MAX];
        char canon[CGM_VALUE_MAX];
        size_t nw = v1_writes(key, input, UINT64_MAX, w), nr = 0;

        assert_int_equal(key_v1_reads(key, rd, &nr), 0);
        for (size_t i = 0; i < nr; i++) {
                rd[i].value[0] = '\0';
                for (size_t j = 0; j < nw; j++)
                        if (strcmp(rd[i].name, w[j].name) == 0) {
                                const char *v = w[j].value;

                                /* What the kernel shows for what was written. */
                                if (strcmp(v, "-1") == 0 && strstr(w[j].name, "bytes"))
                                        v = "9223372036854771712";
                                if (strstr(w[j].name, "throttle") && strstr(v, " 0"))
                                        v = "";
                                snprintf(rd[i].value, sizeof(rd[i].value), "%s\n", v);
                        }
        }
        assert_int_equal(key_v1_value(key, rd, nr, canon, sizeof(canon)), 0);
        if (strcmp(canon, want) != 0)
                fail_msg("v1 round trip of %s=%s gave `%s`, expected `%s`", key, input, canon,
                         want);
}

static void test_v1_memory_max(void **state)
{
        KeyFile f[KEY_V1_FILES_MAX];

        (void)state;
        assert_int_equal(v1_writes("memory.max", "2G", UINT64_MAX, f), 1);
        assert_string_equal(f[0].name, "memory.limit_in_bytes");
        assert_string_equal(f[0].value, "2147483648");
        v1_writes("memory.max", "max", UINT64_MAX, f);
        assert_string_equal(f[0].value, "-1");
        v1_round_trip("memory.max", "2G", "2147483648");
        v1_round_trip("memory.max", "max", "max");
}

static void test_v1_unlimited_memory_text_reads_as_max(void **state)
{
        (void)state;
        v1_value("memory.max", (const char *const[]){ "9223372036854771712\n" }, 1, "max");
        v1_value("memory.max", (const char *const[]){ "9223372036854710272\n" }, 1, "max");
        v1_value("memory.max", (const char *const[]){ "4611686018427387904" }, 1, "max");
        v1_value("memory.max", (const char *const[]){ "4611686018427387903\n" }, 1,
                 "4611686018427387903");
        v1_value("memory.max", (const char *const[]){ "-1\n" }, 1, "max");
        v1_value("memory.max", (const char *const[]){ "1073741824\n" }, 1, "1073741824");
}

static void test_v1_memsw_is_memory_plus_swap(void **state)
{
        KeyFile f[KEY_V1_FILES_MAX];

        (void)state;
        assert_int_equal(v1_writes("memory.swap.max", "1G", 2ULL << 30, f), 1);
        assert_string_equal(f[0].name, "memory.memsw.limit_in_bytes");
        assert_string_equal(f[0].value, "3221225472");
        v1_writes("memory.swap.max", "0", 2ULL << 30, f);
        assert_string_equal(f[0].value, "2147483648");
        v1_writes("memory.swap.max", "max", 2ULL << 30, f);
        assert_string_equal(f[0].value, "-1");
        /* Unlimited memory makes memory + swap unlimited too. */
        v1_writes("memory.swap.max", "1G", UINT64_MAX, f);
        assert_string_equal(f[0].value, "-1");
        v1_writes("memory.swap.max", "1G", 9223372036854771712ULL, f);
        assert_string_equal(f[0].value, "-1");
        /* A sum past INT64_MAX saturates to unlimited instead of wrapping. */
        v1_writes("memory.swap.max", "9223372036854775807", 1ULL << 61, f);
        assert_string_equal(f[0].value, "-1");

        v1_value("memory.swap.max", (const char *const[]){ "2147483648\n", "3221225472\n" }, 2,
                 "1073741824");
        v1_value("memory.swap.max", (const char *const[]){ "2147483648\n", "2147483648\n" }, 2,
                 "0");
        v1_value("memory.swap.max",
                 (const char *const[]){ "2147483648\n", "9223372036854771712\n" }, 2, "max");
        v1_value("memory.swap.max",
                 (const char *const[]){ "9223372036854771712\n", "9223372036854771712\n" }, 2,
                 "max");
}

static void test_v1_cpu_max_writes_period_first(void **state)
{
        KeyFile f[KEY_V1_FILES_MAX];

        (void)state;
        assert_int_equal(v1_writes("cpu.max", "150%", UINT64_MAX, f), 2);
        assert_string_equal(f[0].name, "cpu.cfs_period_us");
        assert_string_equal(f[0].value, "100000");
        assert_string_equal(f[1].name, "cpu.cfs_quota_us");
        assert_string_equal(f[1].value, "150000");
        v1_writes("cpu.max", "max 50000", UINT64_MAX, f);
        assert_string_equal(f[0].value, "50000");
        assert_string_equal(f[1].value, "-1");
        v1_round_trip("cpu.max", "150%", "150000 100000");
        v1_round_trip("cpu.max", "max", "max 100000");
        v1_round_trip("cpu.max", "20000 50000", "20000 50000");
        v1_value("cpu.max", (const char *const[]){ "-1\n", "100000\n" }, 2, "max 100000");
}

static void test_v1_cpu_burst(void **state)
{
        KeyFile f[KEY_V1_FILES_MAX];

        (void)state;
        v1_writes("cpu.max.burst", "5000", UINT64_MAX, f);
        assert_string_equal(f[0].name, "cpu.cfs_burst_us");
        assert_string_equal(f[0].value, "5000");
        v1_round_trip("cpu.max.burst", "5000", "5000");
}

static void test_v1_cpu_weight_to_shares_endpoints(void **state)
{
        KeyFile f[KEY_V1_FILES_MAX];

        (void)state;
        v1_writes("cpu.weight", "1", UINT64_MAX, f);
        assert_string_equal(f[0].name, "cpu.shares");
        assert_string_equal(f[0].value, "10");
        v1_writes("cpu.weight", "100", UINT64_MAX, f);
        assert_string_equal(f[0].value, "1024");
        v1_writes("cpu.weight", "10000", UINT64_MAX, f);
        assert_string_equal(f[0].value, "102400");
}

static void test_v1_shares_to_cpu_weight_endpoints(void **state)
{
        (void)state;
        v1_value("cpu.weight", (const char *const[]){ "2\n" }, 1, "1");
        v1_value("cpu.weight", (const char *const[]){ "1024\n" }, 1, "100");
        v1_value("cpu.weight", (const char *const[]){ "262144\n" }, 1, "10000");
        v1_round_trip("cpu.weight", "1", "1");
        v1_round_trip("cpu.weight", "100", "100");
        v1_round_trip("cpu.weight", "10000", "10000");
}

static void test_v1_pids_and_cpuset_keep_their_files(void **state)
{
        KeyFile f[KEY_V1_FILES_MAX];

        (void)state;
        v1_writes("pids.max", "max", UINT64_MAX, f);
        assert_string_equal(f[0].name, "pids.max");
        assert_string_equal(f[0].value, "max");
        v1_round_trip("pids.max", "max", "max");
        v1_round_trip("pids.max", "100", "100");
        v1_writes("cpuset.cpus", "0-3,5", UINT64_MAX, f);
        assert_string_equal(f[0].name, "cpuset.cpus");
        assert_string_equal(f[0].value, "0-3,5");
        v1_round_trip("cpuset.cpus", "0-3,5", "0-3,5");
        v1_round_trip("cpuset.mems", "0", "0");
}

static void test_v1_io_weight_is_bfq_weight(void **state)
{
        KeyFile f[KEY_V1_FILES_MAX];
        char why[512] = "";
        size_t n;

        (void)state;
        v1_writes("io.weight", "default 500", UINT64_MAX, f);
        assert_string_equal(f[0].name, "blkio.bfq.weight");
        assert_string_equal(f[0].value, "500");
        v1_round_trip("io.weight", "1000", "1000");
        v1_value("io.weight", (const char *const[]){ "default 100\n8:0 200\n" }, 1, "100");
        assert_int_equal(key_v1_writes("io.weight", "1001", UINT64_MAX, f, &n, why, sizeof(why)),
                         -ERANGE);
        assert_non_null(strstr(why, "1 to 1000"));
        assert_int_equal(n, 0);
}

static void test_v1_io_max_splits_into_throttle_files(void **state)
{
        KeyFile f[KEY_V1_FILES_MAX];

        (void)state;
        assert_int_equal(v1_writes("io.max", "8:0 rbps=1M wbps=max riops=100 wiops=200",
                                   UINT64_MAX, f),
                         4);
        assert_string_equal(f[0].name, "blkio.throttle.read_bps_device");
        assert_string_equal(f[0].value, "8:0 1048576");
        assert_string_equal(f[1].name, "blkio.throttle.write_bps_device");
        assert_string_equal(f[1].value, "8:0 0");
        assert_string_equal(f[2].name, "blkio.throttle.read_iops_device");
        assert_string_equal(f[2].value, "8:0 100");
        assert_string_equal(f[3].name, "blkio.throttle.write_iops_device");
        assert_string_equal(f[3].value, "8:0 200");
        assert_int_equal(v1_writes("io.max", "8:16 wiops=50", UINT64_MAX, f), 1);
        assert_string_equal(f[0].name, "blkio.throttle.write_iops_device");
        assert_string_equal(f[0].value, "8:16 50");
        v1_round_trip("io.max", "8:0 rbps=1M wbps=max riops=100",
                      "8:0 rbps=1048576 wbps=max riops=100 wiops=max");
}

static void test_v1_io_max_combines_devices(void **state)
{
        (void)state;
        v1_value("io.max",
                 (const char *const[]){ "8:0 1048576\n8:16 2097152\n", "", "8:16 300\n", "\n" },
                 4,
                 "8:0 rbps=1048576 wbps=max riops=max wiops=max\n"
                 "8:16 rbps=2097152 wbps=max riops=300 wiops=max");
        v1_value("io.max", (const char *const[]){ "", "", "", "" }, 4, "");
        v1_value("io.max", (const char *const[]){ "", "", "", "259:0 7" }, 4,
                 "259:0 rbps=max wbps=max riops=max wiops=7");
}

static void test_v1_hugetlb_limit_in_bytes(void **state)
{
        KeyFile f[KEY_V1_FILES_MAX];

        (void)state;
        v1_writes("hugetlb.2MB.max", "4M", UINT64_MAX, f);
        assert_string_equal(f[0].name, "hugetlb.2MB.limit_in_bytes");
        assert_string_equal(f[0].value, "4194304");
        v1_writes("hugetlb.1GB.max", "max", UINT64_MAX, f);
        assert_string_equal(f[0].name, "hugetlb.1GB.limit_in_bytes");
        assert_string_equal(f[0].value, "-1");
        v1_round_trip("hugetlb.64KB.max", "max", "max");
        v1_round_trip("hugetlb.2MB.max", "4M", "4194304");
}

static void test_v1_untranslatable_keys_are_eopnotsupp(void **state)
{
        static const char *const keys[][2] = {
                { "memory.high", "1G" },     { "memory.low", "1G" },
                { "memory.min", "1G" },      { "memory.oom.group", "1" },
                { "cgroup.max.depth", "5" }, { "cgroup.max.descendants", "5" },
        };
        KeyFile f[KEY_V1_FILES_MAX];

        (void)state;
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                char canon[CGM_VALUE_MAX], why[512] = "";
                size_t n = 7;

                assert_int_equal(key_parse(keys[i][0], keys[i][1], canon, sizeof(canon), why,
                                           sizeof(why)),
                                 0);
                assert_int_equal(key_v1_writes(keys[i][0], canon, UINT64_MAX, f, &n, why,
                                               sizeof(why)),
                                 -EOPNOTSUPP);
                assert_int_equal(n, 0);
                assert_non_null(strstr(why, keys[i][0]));
                assert_non_null(strstr(why, "no cgroup v1 equivalent"));
                assert_int_equal(key_v1_reads(keys[i][0], f, &n), -EOPNOTSUPP);
        }
}

static void test_v1_writes_recheck_the_value(void **state)
{
        KeyFile f[KEY_V1_FILES_MAX];
        char why[512];
        size_t n;

        (void)state;
        assert_int_equal(key_v1_writes("memory.max", "2X", UINT64_MAX, f, &n, why, sizeof(why)),
                         -EINVAL);
        assert_int_equal(key_v1_writes("cgroup.procs", "1", UINT64_MAX, f, &n, why, sizeof(why)),
                         -EPERM);
}

static void test_v1_value_rejects_garbage(void **state)
{
        KeyFile f[KEY_V1_FILES_MAX];
        char canon[CGM_VALUE_MAX];
        size_t n;

        (void)state;
        assert_int_equal(key_v1_reads("memory.max", f, &n), 0);
        snprintf(f[0].value, sizeof(f[0].value), "lots");
        assert_int_equal(key_v1_value("memory.max", f, n, canon, sizeof(canon)), -EINVAL);
        assert_int_equal(key_v1_value("memory.max", f, 2, canon, sizeof(canon)), -EINVAL);
        assert_int_equal(key_v1_reads("io.max", f, &n), 0);
        snprintf(f[0].value, sizeof(f[0].value), "8:0\n");
        f[1].value[0] = f[2].value[0] = f[3].value[0] = '\0';
        assert_int_equal(key_v1_value("io.max", f, n, canon, sizeof(canon)), -EINVAL);
        snprintf(f[0].value, sizeof(f[0].value), "8:0 12x\n");
        assert_int_equal(key_v1_value("io.max", f, n, canon, sizeof(canon)), -EINVAL);
        assert_int_equal(key_v1_reads("cpu.weight", f, &n), 0);
        snprintf(f[0].value, sizeof(f[0].value), " 1024");
        assert_int_equal(key_v1_value("cpu.weight", f, n, canon, sizeof(canon)), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_keys_forbidden_files_are_eperm),
                cmocka_unit_test(test_keys_unknown_key_is_eopnotsupp_and_lists_keys),
                cmocka_unit_test(test_keys_controllers),
                cmocka_unit_test(test_keys_names_list_every_key_once),
                cmocka_unit_test(test_keys_memory_bytes_and_units),
                cmocka_unit_test(test_keys_oom_group_is_boolean),
                cmocka_unit_test(test_keys_cpu_max_forms),
                cmocka_unit_test(test_keys_cpu_max_percent),
                cmocka_unit_test(test_keys_cpu_max_limits),
                cmocka_unit_test(test_keys_cpu_weight_burst_pids),
                cmocka_unit_test(test_keys_io_weight),
                cmocka_unit_test(test_keys_io_max),
                cmocka_unit_test(test_keys_cpuset_lists),
                cmocka_unit_test(test_keys_hugetlb_any_size),
                cmocka_unit_test(test_keys_cgroup_max),
                cmocka_unit_test(test_keys_value_too_long_or_null),
                cmocka_unit_test(test_v1_memory_max),
                cmocka_unit_test(test_v1_unlimited_memory_text_reads_as_max),
                cmocka_unit_test(test_v1_memsw_is_memory_plus_swap),
                cmocka_unit_test(test_v1_cpu_max_writes_period_first),
                cmocka_unit_test(test_v1_cpu_burst),
                cmocka_unit_test(test_v1_cpu_weight_to_shares_endpoints),
                cmocka_unit_test(test_v1_shares_to_cpu_weight_endpoints),
                cmocka_unit_test(test_v1_pids_and_cpuset_keep_their_files),
                cmocka_unit_test(test_v1_io_weight_is_bfq_weight),
                cmocka_unit_test(test_v1_io_max_splits_into_throttle_files),
                cmocka_unit_test(test_v1_io_max_combines_devices),
                cmocka_unit_test(test_v1_hugetlb_limit_in_bytes),
                cmocka_unit_test(test_v1_untranslatable_keys_are_eopnotsupp),
                cmocka_unit_test(test_v1_writes_recheck_the_value),
                cmocka_unit_test(test_v1_value_rejects_garbage),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
