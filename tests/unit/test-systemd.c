/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for systemd mode's pure parts: cgm's keys as systemd unit properties
 * (daemon/systemd-props.c), their D-Bus encoding, the undo record's text, and the policy's
 * session_manager option */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#include "keys.h"
#include "policy.h"
#include "systemd-props.h"

/* key, user value, then the properties expected (name, device or "", value; list for cpusets) */
typedef struct Expect {
        const char *name, *dev;
        uint64_t value;
        const char *list;
} Expect;

static void expect_props(const char *key, const char *input, const Expect *want, size_t n_want)
{
        char canon[256], why[256];
        SdProp p[SD_PROPS_PER_KEY_MAX];
        size_t n = 99;

        if (key_parse(key, input, canon, sizeof(canon), why, sizeof(why)) < 0)
                fail_msg("key_parse(%s, %s): %s", key, input, why);
        if (sd_props_from_key(key, canon, p, &n, why, sizeof(why)) < 0)
                fail_msg("%s=%s (%s): %s", key, input, canon, why);
        if (n != n_want)
                fail_msg("%s=%s: %zu properties, want %zu", key, input, n, n_want);
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(p[i].name, want[i].name);
                assert_string_equal(p[i].dev, want[i].dev ? want[i].dev : "");
                if (want[i].list) {
                        assert_int_equal(p[i].type, SD_PROP_CPUSET);
                        assert_string_equal(p[i].list, want[i].list);
                } else {
                        assert_int_equal(p[i].type, want[i].dev ? SD_PROP_DEVICE : SD_PROP_U64);
                        if (p[i].value != want[i].value)
                                fail_msg("%s=%s: %s = %llu, want %llu", key, input, p[i].name,
                                         (unsigned long long)p[i].value,
                                         (unsigned long long)want[i].value);
                }
        }
}

#define EXPECT1(key, input, name, value)                                                           \
        expect_props(key, input, (const Expect[]){ { name, NULL, value, NULL } }, 1)

static void test_simple_keys(void **state)
{
        (void)state;
        EXPECT1("memory.max", "2G", "MemoryMax", 2ULL << 30);
        EXPECT1("memory.max", "max", "MemoryMax", UINT64_MAX);
        EXPECT1("memory.high", "512M", "MemoryHigh", 512ULL << 20);
        EXPECT1("memory.low", "1M", "MemoryLow", 1ULL << 20);
        EXPECT1("memory.min", "4096", "MemoryMin", 4096);
        EXPECT1("memory.swap.max", "0", "MemorySwapMax", 0);
        EXPECT1("pids.max", "512", "TasksMax", 512);
        EXPECT1("pids.max", "max", "TasksMax", UINT64_MAX);
        EXPECT1("cpu.weight", "250", "CPUWeight", 250);
        EXPECT1("io.weight", "default 300", "IOWeight", 300);
}

static void test_cpu_max(void **state)
{
        (void)state;
        expect_props("cpu.max", "200%",
                     (const Expect[]){ { "CPUQuotaPerSecUSec", NULL, 2000000, NULL },
                                       { "CPUQuotaPeriodUSec", NULL, 100000, NULL } },
                     2);
        expect_props("cpu.max", "50000 100000",
                     (const Expect[]){ { "CPUQuotaPerSecUSec", NULL, 500000, NULL },
                                       { "CPUQuotaPeriodUSec", NULL, 100000, NULL } },
                     2);
        expect_props("cpu.max", "max 250000",
                     (const Expect[]){ { "CPUQuotaPerSecUSec", NULL, UINT64_MAX, NULL },
                                       { "CPUQuotaPeriodUSec", NULL, 250000, NULL } },
                     2);
}

/* systemd writes cpu.max as PerSec * period / 10^6 rounded down: it must give back QUOTA. */
static void test_cpu_max_round_trip(void **state)
{
        static const uint64_t periods[] = { 1000, 3000, 7777, 100000, 300000, 333333, 1000000 };
        (void)state;
        for (size_t i = 0; i < sizeof(periods) / sizeof(periods[0]); i++)
                for (uint64_t q = 1000; q < 5000000; q = q * 3 + 7) {
                        char canon[64], why[128];
                        SdProp p[SD_PROPS_PER_KEY_MAX];
                        size_t n;
                        snprintf(canon, sizeof(canon), "%llu %llu", (unsigned long long)q,
                                 (unsigned long long)periods[i]);
                        assert_int_equal(sd_props_from_key("cpu.max", canon, p, &n, why, sizeof(why)), 0);
                        assert_int_equal(n, 2);
                        if (p[0].value * periods[i] / 1000000 != q)
                                fail_msg("cpu.max %s: PerSec %llu gives back %llu", canon,
                                         (unsigned long long)p[0].value,
                                         (unsigned long long)(p[0].value * periods[i] / 1000000));
                }
}

static void test_io_max(void **state)
{
        (void)state;
        expect_props("io.max", "8:16 rbps=1M wiops=max",
                     (const Expect[]){ { "IOReadBandwidthMax", "/dev/block/8:16", 1ULL << 20, NULL },
                                       { "IOWriteIOPSMax", "/dev/block/8:16", UINT64_MAX, NULL } },
                     2);
        expect_props("io.max", "259:0 rbps=100 wbps=200 riops=300 wiops=400",
                     (const Expect[]){ { "IOReadBandwidthMax", "/dev/block/259:0", 100, NULL },
                                       { "IOWriteBandwidthMax", "/dev/block/259:0", 200, NULL },
                                       { "IOReadIOPSMax", "/dev/block/259:0", 300, NULL },
                                       { "IOWriteIOPSMax", "/dev/block/259:0", 400, NULL } },
                     4);
}

static void test_cpusets(void **state)
{
        (void)state;
        expect_props("cpuset.cpus", "0-3,9", (const Expect[]){ { "AllowedCPUs", NULL, 0, "0-3,9" } }, 1);
        expect_props("cpuset.mems", "0", (const Expect[]){ { "AllowedMemoryNodes", NULL, 0, "0" } }, 1);
        expect_props("cpuset.cpus", "", (const Expect[]){ { "AllowedCPUs", NULL, 0, "" } }, 1);
}

static void test_cpuset_mask(void **state)
{
        uint8_t mask[4];
        (void)state;
        assert_int_equal(sd_cpuset_mask("0-3,9", mask, sizeof(mask)), 2);
        assert_int_equal(mask[0], 0x0f);
        assert_int_equal(mask[1], 0x02);
        assert_int_equal(sd_cpuset_mask("", mask, sizeof(mask)), 0);
        assert_int_equal(sd_cpuset_mask("31", mask, sizeof(mask)), 4);
        assert_int_equal(mask[3], 0x80);
        assert_int_equal(sd_cpuset_mask("32", mask, sizeof(mask)), -ENOBUFS);
        assert_int_equal(sd_cpuset_mask("32", NULL, 0), 5); /* sizing only */
        assert_int_equal(sd_cpuset_mask("3-1", mask, sizeof(mask)), -EINVAL);
        assert_int_equal(sd_cpuset_mask("1,", mask, sizeof(mask)), -EINVAL);
        assert_int_equal(sd_cpuset_mask("a", mask, sizeof(mask)), -EINVAL);
        assert_int_equal(sd_cpuset_mask("70000", mask, sizeof(mask)), -EINVAL);
}

/* Every key cgm knows either maps, or is refused with a sentence saying systemd lacks it. */
static void test_every_key(void **state)
{
        static const char *const not_applicable[] = { "memory.oom.group", "cpu.max.burst",
                                                      "hugetlb.2MB.max", "hugetlb.1GB.max",
                                                      "cgroup.max.depth",
                                                      "cgroup.max.descendants" };
        static const struct {
                const char *key, *value;
        } samples[] = { { "memory.oom.group", "1" }, { "cpu.max", "150%" },
                        { "cpu.max.burst", "1000" }, { "io.max", "8:0 rbps=1M" },
                        { "cpuset.cpus", "0" },      { "cpuset.mems", "0" },
                        { "io.weight", "100" },      { "cpu.weight", "100" } };
        const char *const *keys = key_names();
        (void)state;
        for (size_t i = 0; keys[i]; i++) {
                const char *value = "1";
                char canon[256], why[256];
                SdProp p[SD_PROPS_PER_KEY_MAX];
                size_t n = 0;
                bool na = false;
                int r;
                for (size_t j = 0; j < sizeof(samples) / sizeof(samples[0]); j++)
                        if (strcmp(samples[j].key, keys[i]) == 0)
                                value = samples[j].value;
                for (size_t j = 0; j < sizeof(not_applicable) / sizeof(not_applicable[0]); j++)
                        na |= strcmp(not_applicable[j], keys[i]) == 0;
                if (key_parse(keys[i], value, canon, sizeof(canon), why, sizeof(why)) < 0)
                        fail_msg("key_parse(%s, %s): %s", keys[i], value, why);
                r = sd_props_from_key(keys[i], canon, p, &n, why, sizeof(why));
                if (na) {
                        if (r != -EOPNOTSUPP || !strstr(why, "systemd has no property"))
                                fail_msg("%s: %d `%s`, want not applicable", keys[i], r, why);
                        assert_int_equal(n, 0);
                } else if (r != 0 || n == 0)
                        fail_msg("%s=%s: %d `%s`", keys[i], canon, r, why);
        }
}

static void test_bad_canon(void **state)
{
        char why[256];
        SdProp p[SD_PROPS_PER_KEY_MAX];
        size_t n;
        (void)state;
        assert_int_equal(sd_props_from_key("memory.max", "2G", p, &n, why, sizeof(why)), -EINVAL);
        assert_int_equal(sd_props_from_key("cpu.max", "150%", p, &n, why, sizeof(why)), -EINVAL);
        assert_int_equal(sd_props_from_key("cpu.max", "1000 0", p, &n, why, sizeof(why)), -EINVAL);
        assert_int_equal(sd_props_from_key("io.max", "8:0", p, &n, why, sizeof(why)), -EINVAL);
        assert_int_equal(sd_props_from_key("io.max", "8:0 xbps=1", p, &n, why, sizeof(why)), -EINVAL);
        assert_int_equal(sd_props_from_key("cpuset.cpus", "0-", p, &n, why, sizeof(why)), -EINVAL);
        assert_int_equal(sd_props_from_key("devices.allow", "a", p, &n, why, sizeof(why)),
                         -EOPNOTSUPP);
}

static void round_trip(const char *text)
{
        SdProp p;
        char out[SD_PROP_TEXT_MAX];

        if (sd_prop_parse(text, &p) < 0)
                fail_msg("`%s` does not parse", text);
        sd_prop_format(&p, out, sizeof(out));
        assert_string_equal(out, text);
}

static void test_record_text(void **state)
{
        SdProp p;
        (void)state;
        round_trip("MemoryMax=1073741824");
        round_trip("TasksMax=infinity");
        round_trip("CPUQuotaPerSecUSec=2000000");
        round_trip("IOReadBandwidthMax@/dev/block/8:0=infinity");
        round_trip("IOWriteIOPSMax@/dev/block/259:3=400");
        round_trip("AllowedCPUs=0-3,9");
        round_trip("AllowedMemoryNodes=");
        /* What a tampered or foreign record may hold is refused, line by line. */
        assert_int_equal(sd_prop_parse("Frobnicate=1", &p), -EINVAL);
        assert_int_equal(sd_prop_parse("MemoryMax=max", &p), -EINVAL);
        assert_int_equal(sd_prop_parse("MemoryMax=", &p), -EINVAL);
        assert_int_equal(sd_prop_parse("MemoryMax=-1", &p), -EINVAL);
        assert_int_equal(sd_prop_parse("MemoryMax@/dev/block/8:0=1", &p), -EINVAL);
        assert_int_equal(sd_prop_parse("IOReadBandwidthMax@/etc/passwd=1", &p), -EINVAL);
        assert_int_equal(sd_prop_parse("IOReadBandwidthMax=1", &p), -EINVAL);
        assert_int_equal(sd_prop_parse("AllowedCPUs=zero", &p), -EINVAL);
        assert_int_equal(sd_prop_parse("MemoryMax", &p), -EINVAL);
}

static void test_reset_and_slots(void **state)
{
        SdProp a, b;
        (void)state;
        assert_int_equal(sd_prop_parse("MemoryLow=5", &a), 0);
        sd_prop_reset(&a);
        assert_int_equal(a.value, 0); /* no protection, not "protect everything" */
        assert_int_equal(sd_prop_parse("CPUWeight=5", &a), 0);
        sd_prop_reset(&a);
        assert_true(a.value == UINT64_MAX); /* systemd's "unset" */
        assert_int_equal(sd_prop_parse("IOReadIOPSMax@/dev/block/8:0=5", &a), 0);
        assert_int_equal(sd_prop_parse("IOReadIOPSMax@/dev/block/8:16=5", &b), 0);
        assert_false(sd_prop_same_slot(&a, &b));
        assert_int_equal(sd_prop_parse("IOReadIOPSMax@/dev/block/8:0=7", &b), 0);
        assert_true(sd_prop_same_slot(&a, &b));
}

/* SetUnitProperties(s, b, a(sv)) as systemd reads it. */
static void test_message(void **state)
{
        SdProp p[4];
        DBusMessage *m = dbus_message_new_method_call("org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                                      "org.freedesktop.systemd1.Manager",
                                                      "SetUnitProperties");
        const char *unit = "user-1000.slice";
        dbus_bool_t runtime = TRUE;
        DBusMessageIter it, arr, st, var, inner, dev;
        const char *name, *s;
        dbus_uint64_t v;
        const uint8_t *bytes;
        int n;
        (void)state;
        assert_non_null(m);
        assert_int_equal(sd_prop_parse("MemoryMax=1073741824", &p[0]), 0);
        assert_int_equal(sd_prop_parse("IOWriteBandwidthMax@/dev/block/8:0=infinity", &p[1]), 0);
        assert_int_equal(sd_prop_parse("AllowedCPUs=0-1,8", &p[2]), 0);
        assert_int_equal(sd_prop_parse("TasksMax=infinity", &p[3]), 0);
        dbus_message_iter_init_append(m, &it);
        dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &unit);
        dbus_message_iter_append_basic(&it, DBUS_TYPE_BOOLEAN, &runtime);
        assert_int_equal(sd_props_append(&it, p, 4), 0);
        assert_string_equal(dbus_message_get_signature(m), "sba(sv)");

        assert_true(dbus_message_iter_init(m, &it));
        dbus_message_iter_next(&it);
        dbus_message_iter_next(&it);
        dbus_message_iter_recurse(&it, &arr);
        /* MemoryMax <t> */
        dbus_message_iter_recurse(&arr, &st);
        dbus_message_iter_get_basic(&st, &name);
        assert_string_equal(name, "MemoryMax");
        dbus_message_iter_next(&st);
        dbus_message_iter_recurse(&st, &var);
        assert_int_equal(dbus_message_iter_get_arg_type(&var), DBUS_TYPE_UINT64);
        dbus_message_iter_get_basic(&var, &v);
        assert_true(v == 1073741824ULL);
        /* IOWriteBandwidthMax <a(st)> */
        dbus_message_iter_next(&arr);
        dbus_message_iter_recurse(&arr, &st);
        dbus_message_iter_get_basic(&st, &name);
        assert_string_equal(name, "IOWriteBandwidthMax");
        dbus_message_iter_next(&st);
        dbus_message_iter_recurse(&st, &var);
        s = dbus_message_iter_get_signature(&var);
        assert_string_equal(s, "a(st)");
        dbus_free((void *)s);
        dbus_message_iter_recurse(&var, &inner);
        dbus_message_iter_recurse(&inner, &dev);
        dbus_message_iter_get_basic(&dev, &s);
        assert_string_equal(s, "/dev/block/8:0");
        dbus_message_iter_next(&dev);
        dbus_message_iter_get_basic(&dev, &v);
        assert_true(v == UINT64_MAX);
        /* AllowedCPUs <ay> */
        dbus_message_iter_next(&arr);
        dbus_message_iter_recurse(&arr, &st);
        dbus_message_iter_get_basic(&st, &name);
        assert_string_equal(name, "AllowedCPUs");
        dbus_message_iter_next(&st);
        dbus_message_iter_recurse(&st, &var);
        dbus_message_iter_recurse(&var, &inner);
        dbus_message_iter_get_fixed_array(&inner, &bytes, &n);
        assert_int_equal(n, 2);
        assert_int_equal(bytes[0], 0x03);
        assert_int_equal(bytes[1], 0x01);
        /* TasksMax <t> infinity */
        dbus_message_iter_next(&arr);
        dbus_message_iter_recurse(&arr, &st);
        dbus_message_iter_get_basic(&st, &name);
        assert_string_equal(name, "TasksMax");
        assert_false(dbus_message_iter_next(&arr));
        dbus_message_unref(m);
}

static void add_entry(DBusMessageIter *arr, const char *name, int type, const void *value)
{
        DBusMessageIter e, var;
        char sig[2] = { (char)type, 0 };
        dbus_message_iter_open_container(arr, DBUS_TYPE_DICT_ENTRY, NULL, &e);
        dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &name);
        dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, sig, &var);
        dbus_message_iter_append_basic(&var, type, value);
        dbus_message_iter_close_container(&e, &var);
        dbus_message_iter_close_container(arr, &e);
}

/* The values before cgm's first write come from Properties.GetAll. */
static void test_getall(void **state)
{
        DBusMessage *call = dbus_message_new_method_call("a.b", "/", "a.b", "GetAll"), *reply;
        DBusMessageIter it, arr;
        dbus_uint64_t mem = 8ULL << 30, tasks = 4915;
        const char *str = "not a number";
        SdProp p[4];
        bool found[4];
        (void)state;
        dbus_message_set_serial(call, 7);
        reply = dbus_message_new_method_return(call);
        dbus_message_iter_init_append(reply, &it);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &arr);
        add_entry(&arr, "MemoryMax", DBUS_TYPE_UINT64, &mem);
        add_entry(&arr, "MemoryHigh", DBUS_TYPE_STRING, &str); /* wrong type: not taken */
        add_entry(&arr, "TasksMax", DBUS_TYPE_UINT64, &tasks);
        dbus_message_iter_close_container(&it, &arr);
        assert_int_equal(sd_prop_parse("MemoryMax=1", &p[0]), 0);
        assert_int_equal(sd_prop_parse("MemoryHigh=1", &p[1]), 0);
        assert_int_equal(sd_prop_parse("TasksMax=1", &p[2]), 0);
        assert_int_equal(sd_prop_parse("CPUWeight=1", &p[3]), 0);
        assert_int_equal(sd_props_from_getall(reply, p, found, 4), 0);
        assert_true(found[0] && !found[1] && found[2] && !found[3]);
        assert_true(p[0].value == mem);
        assert_true(p[2].value == 4915);
        assert_true(p[1].value == 1);
        dbus_message_unref(reply);
        /* Not an a{sv}: refused. */
        reply = dbus_message_new_method_return(call);
        dbus_message_append_args(reply, DBUS_TYPE_STRING, &str, DBUS_TYPE_INVALID);
        assert_int_equal(sd_props_from_getall(reply, p, found, 4), -EBADMSG);
        dbus_message_unref(reply);
        dbus_message_unref(call);
}

static void test_policy_option(void **state)
{
        static const char *const good[] = { "auto", "cgm", "systemd" };
        (void)state;
        for (size_t i = 0; i < 3; i++) {
                Policy *p = NULL;
                CgmError e = CGM_ERROR_NULL;
                char text[64];
                snprintf(text, sizeof(text), "session_manager = %s\n", good[i]);
                assert_int_equal(policy_new(&p), 0);
                assert_string_equal(p->session_manager.value, "auto");
                assert_string_equal(p->session_manager.source, "default");
                if (policy_parse(p, "t.conf", text, &e) < 0)
                        fail_msg("%s: %s", text, e.msg);
                assert_string_equal(p->session_manager.value, good[i]);
                assert_string_equal(p->session_manager.source, "t.conf:1");
                policy_free(p);
        }
        {
                Policy *p = NULL;
                CgmError e = CGM_ERROR_NULL;
                assert_int_equal(policy_new(&p), 0);
                assert_int_equal(policy_parse(p, "t.conf", "\nsession_manager = logind\n", &e),
                                 -EINVAL);
                assert_non_null(strstr(e.msg, "t.conf:2: session_manager takes auto, cgm or systemd"));
                policy_free(p);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_simple_keys),   cmocka_unit_test(test_cpu_max),
                cmocka_unit_test(test_cpu_max_round_trip), cmocka_unit_test(test_io_max),
                cmocka_unit_test(test_cpusets),       cmocka_unit_test(test_cpuset_mask),
                cmocka_unit_test(test_every_key),     cmocka_unit_test(test_bad_canon),
                cmocka_unit_test(test_record_text),   cmocka_unit_test(test_reset_and_slots),
                cmocka_unit_test(test_message),       cmocka_unit_test(test_getall),
                cmocka_unit_test(test_policy_option),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
