/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd unit properties: cgm's resource keys as systemd's, and their D-Bus encoding
 *
 * In systemd mode (systemd.c) cgm does not write the cgroup files of a user's slice: systemd
 * owns that tree and would write its own values back (its single-writer rule,
 * docs/CGROUP_DELEGATION.md). cgm asks systemd instead, with SetUnitProperties() on
 * user-UID.slice, and this file says what to ask. Each of cgm's keys (canonical cgroup v2
 * values, keys.c) becomes one or more properties of systemd.resource-control(5) whose
 * cgroup file is the same: MemoryMax is memory.max, TasksMax is pids.max, CPUWeight is
 * cpu.weight, and so on. Two need arithmetic: cpu.max "QUOTA PERIOD" is CPUQuotaPerSecUSec
 * (quota per second of wall time) plus CPUQuotaPeriodUSec, and io.max's fields are four
 * properties keyed by a device node, /dev/block/MAJ:MIN. Keys that have no property (the OOM
 * group, burst, hugetlb, the cgroup.max.* counters) are refused with a sentence; the caller
 * logs it and applies the rest.
 *
 * The file is pure, like keys.c: no bus, no cgroupfs. The unit tests feed it every key and
 * read the D-Bus messages it builds.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "systemd-props.h"
#include "text.h"

#define USEC_PER_SEC 1000000ULL

/* "max" or a decimal number, as the canonical values hold them. */
static int parse_u64(const char *s, uint64_t *v)
{
        char *end;
        unsigned long long x;

        if (strcmp(s, "max") == 0) {
                *v = UINT64_MAX;
                return 0;
        }
        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        x = strtoull(s, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *v = x;
        return 0;
}

static SdProp *prop_u64(SdProp *p, const char *name, uint64_t v)
{
        *p = (SdProp){ .type = SD_PROP_U64, .value = v };
        snprintf(p->name, sizeof(p->name), "%s", name);
        return p;
}

static const struct {
        const char *key, *prop;
} simple[] = {
        { "memory.max", "MemoryMax" },   { "memory.high", "MemoryHigh" },
        { "memory.low", "MemoryLow" },   { "memory.min", "MemoryMin" },
        { "memory.swap.max", "MemorySwapMax" }, { "pids.max", "TasksMax" },
        { "cpu.weight", "CPUWeight" },   { "io.weight", "IOWeight" },
};

static const char *const io_fields[4] = { "rbps", "wbps", "riops", "wiops" };
static const char *const io_props[4] = { "IOReadBandwidthMax", "IOWriteBandwidthMax",
                                         "IOReadIOPSMax", "IOWriteIOPSMax" };

static int from_cpu_max(const char *canon, SdProp *out, size_t *n)
{
        char quota[32];
        uint64_t q, period;
        const char *sp = strchr(canon, ' ');

        if (!sp || (size_t)(sp - canon) >= sizeof(quota))
                return -EINVAL;
        memcpy(quota, canon, (size_t)(sp - canon));
        quota[sp - canon] = '\0';
        if (parse_u64(quota, &q) < 0 || parse_u64(sp + 1, &period) < 0 || period == 0 ||
            period == UINT64_MAX || period > USEC_PER_SEC)
                return -EINVAL;
        /* systemd writes cpu.max as PerSec * period / 10^6, rounded down: rounding PerSec up
         * gives back exactly Q (PerSec * P lies in [Q * 10^6, Q * 10^6 + P) and P <= 10^6). */
        if (q != UINT64_MAX) {
                if (q > UINT64_MAX / USEC_PER_SEC)
                        return -EINVAL;
                q = (q * USEC_PER_SEC + period - 1) / period;
        }
        prop_u64(&out[0], "CPUQuotaPerSecUSec", q);
        prop_u64(&out[1], "CPUQuotaPeriodUSec", period);
        *n = 2;
        return 0;
}

static int from_io_max(const char *canon, SdProp *out, size_t *n)
{
        const char *p = strchr(canon, ' ');
        unsigned maj, min;
        char tail;

        if (!p || sscanf(canon, "%u:%u%c", &maj, &min, &tail) != 3 || tail != ' ')
                return -EINVAL;
        *n = 0;
        while (p && *p == ' ') {
                const char *tok = p + 1, *eq = strchr(tok, '='), *end = strchr(tok, ' ');
                char value[32];
                size_t vl;
                int f;

                if (!eq || (end && eq > end))
                        return -EINVAL;
                for (f = 0; f < 4; f++)
                        if ((size_t)(eq - tok) == strlen(io_fields[f]) &&
                            strncmp(tok, io_fields[f], (size_t)(eq - tok)) == 0)
                                break;
                vl = end ? (size_t)(end - eq - 1) : strlen(eq + 1);
                if (f == 4 || vl == 0 || vl >= sizeof(value) || *n >= SD_PROPS_PER_KEY_MAX)
                        return -EINVAL;
                memcpy(value, eq + 1, vl);
                value[vl] = '\0';
                out[*n] = (SdProp){ .type = SD_PROP_DEVICE };
                snprintf(out[*n].name, sizeof(out[*n].name), "%s", io_props[f]);
                snprintf(out[*n].dev, sizeof(out[*n].dev), "/dev/block/%u:%u", maj, min);
                if (parse_u64(value, &out[*n].value) < 0)
                        return -EINVAL;
                (*n)++;
                p = end;
        }
        return *n ? 0 : -EINVAL;
}

int sd_props_from_key(const char *key, const char *canon, SdProp *out, size_t *n, char *why,
                      size_t why_size)
{
        char q[80];
        int r;

        *n = 0;
        for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
                if (strcmp(key, simple[i].key) == 0) {
                        uint64_t v;
                        if (parse_u64(canon, &v) < 0)
                                return cgm_why(-EINVAL, why, why_size,
                                               "`%s` value `%s` is not a number or max", key,
                                               cgm_quote(canon, SIZE_MAX, q, sizeof(q)));
                        prop_u64(&out[0], simple[i].prop, v);
                        *n = 1;
                        return 0;
                }
        if (strcmp(key, "cpu.max") == 0 || strcmp(key, "io.max") == 0) {
                r = key[0] == 'c' ? from_cpu_max(canon, out, n) : from_io_max(canon, out, n);
                if (r < 0) {
                        *n = 0;
                        return cgm_why(r, why, why_size, "`%s` value `%s` is not canonical", key,
                                       cgm_quote(canon, SIZE_MAX, q, sizeof(q)));
                }
                return 0;
        }
        if (strcmp(key, "cpuset.cpus") == 0 || strcmp(key, "cpuset.mems") == 0) {
                if (sd_cpuset_mask(canon, NULL, 0) == -EINVAL || strlen(canon) >= sizeof(out[0].list))
                        return cgm_why(-EINVAL, why, why_size, "`%s` value `%s` is not a list",
                                       key, cgm_quote(canon, SIZE_MAX, q, sizeof(q)));
                out[0] = (SdProp){ .type = SD_PROP_CPUSET };
                snprintf(out[0].name, sizeof(out[0].name), "%s",
                         key[7] == 'c' ? "AllowedCPUs" : "AllowedMemoryNodes");
                snprintf(out[0].list, sizeof(out[0].list), "%s", canon);
                *n = 1;
                return 0;
        }
        if (strcmp(key, "memory.oom.group") == 0)
                return cgm_why(-EOPNOTSUPP, why, why_size,
                               "systemd has no property for memory.oom.group on a slice "
                               "(OOMPolicy= is for services and scopes)");
        if (strcmp(key, "cpu.max.burst") == 0)
                return cgm_why(-EOPNOTSUPP, why, why_size,
                               "systemd has no property for cpu.max.burst");
        if (strncmp(key, "hugetlb.", 8) == 0)
                return cgm_why(-EOPNOTSUPP, why, why_size,
                               "systemd has no property for hugetlb limits");
        if (strncmp(key, "cgroup.max.", 11) == 0)
                return cgm_why(-EOPNOTSUPP, why, why_size,
                               "systemd has no property for %s (cgroup counters are its own)",
                               key);
        return cgm_why(-EOPNOTSUPP, why, why_size, "`%s` has no systemd property",
                       cgm_quote(key, SIZE_MAX, q, sizeof(q)));
}

/* One id of a cpu list at @p; advances @p. */
static int list_id(const char **p, unsigned long *v)
{
        char *end;

        if (**p < '0' || **p > '9')
                return -EINVAL;
        errno = 0;
        *v = strtoul(*p, &end, 10);
        if (errno || *v > 65535)
                return -EINVAL;
        *p = end;
        return 0;
}

int sd_cpuset_mask(const char *list, uint8_t *mask, size_t size)
{
        const char *p = list;
        size_t used = 0;

        if (mask && size)
                memset(mask, 0, size);
        while (*p) {
                unsigned long a, b;
                if (list_id(&p, &a) < 0)
                        return -EINVAL;
                b = a;
                if (*p == '-') {
                        p++;
                        if (list_id(&p, &b) < 0 || b < a)
                                return -EINVAL;
                }
                if (*p == ',') {
                        p++;
                        if (!*p)
                                return -EINVAL;
                } else if (*p)
                        return -EINVAL;
                if (b / 8 + 1 > used)
                        used = b / 8 + 1;
                if (!mask)
                        continue;
                if (used > size)
                        return -ENOBUFS;
                for (unsigned long i = a; i <= b; i++)
                        mask[i / 8] |= (uint8_t)(1u << (i % 8));
        }
        return (int)used;
}

bool sd_prop_same_slot(const SdProp *a, const SdProp *b)
{
        return strcmp(a->name, b->name) == 0 && strcmp(a->dev, b->dev) == 0;
}

void sd_prop_reset(SdProp *p)
{
        p->list[0] = '\0';
        p->value = strcmp(p->name, "MemoryLow") == 0 || strcmp(p->name, "MemoryMin") == 0
                           ? 0
                           : UINT64_MAX;
}

void sd_prop_format(const SdProp *p, char *out, size_t n)
{
        char value[32];

        if (p->type == SD_PROP_CPUSET) {
                snprintf(out, n, "%s=%s", p->name, p->list);
                return;
        }
        if (p->value == UINT64_MAX)
                snprintf(value, sizeof(value), "infinity");
        else
                snprintf(value, sizeof(value), "%" PRIu64, p->value);
        if (p->type == SD_PROP_DEVICE)
                snprintf(out, n, "%s@%s=%s", p->name, p->dev, value);
        else
                snprintf(out, n, "%s=%s", p->name, value);
}

static bool name_is(const char *name, size_t l, const char *const *names, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strlen(names[i]) == l && strncmp(name, names[i], l) == 0)
                        return true;
        return false;
}

int sd_prop_parse(const char *text, SdProp *p)
{
        static const char *const u64_names[] = { "MemoryMax",     "MemoryHigh",         "MemoryLow",
                                                 "MemoryMin",     "MemorySwapMax",      "TasksMax",
                                                 "CPUWeight",     "IOWeight",           "CPUQuotaPerSecUSec",
                                                 "CPUQuotaPeriodUSec" };
        static const char *const set_names[] = { "AllowedCPUs", "AllowedMemoryNodes" };
        const char *eq = strchr(text, '='), *at = strchr(text, '@');
        size_t l;

        if (!eq)
                return -EINVAL;
        if (at > eq)
                at = NULL;
        l = (size_t)((at ? at : eq) - text);
        *p = (SdProp){ 0 };
        if (l >= sizeof(p->name))
                return -EINVAL;
        memcpy(p->name, text, l);
        if (name_is(text, l, set_names, 2)) {
                if (at || strlen(eq + 1) >= sizeof(p->list) || sd_cpuset_mask(eq + 1, NULL, 0) < 0)
                        return -EINVAL;
                p->type = SD_PROP_CPUSET;
                snprintf(p->list, sizeof(p->list), "%s", eq + 1);
                return 0;
        }
        if (at) {
                size_t dl = (size_t)(eq - at - 1);
                if (!name_is(text, l, io_props, 4) || dl == 0 || dl >= sizeof(p->dev) ||
                    strncmp(at + 1, "/dev/block/", 11) != 0)
                        return -EINVAL;
                memcpy(p->dev, at + 1, dl);
                p->type = SD_PROP_DEVICE;
        } else if (name_is(text, l, u64_names, sizeof(u64_names) / sizeof(u64_names[0])))
                p->type = SD_PROP_U64;
        else
                return -EINVAL;
        if (strcmp(eq + 1, "infinity") == 0) {
                p->value = UINT64_MAX;
                return 0;
        }
        if (strcmp(eq + 1, "max") == 0 || parse_u64(eq + 1, &p->value) < 0)
                return -EINVAL;
        return 0;
}

static int append_one(DBusMessageIter *arr, const SdProp *p)
{
        DBusMessageIter st, var, inner, dev;
        dbus_uint64_t v = p->value;
        const char *sig = p->type == SD_PROP_U64 ? "t" : p->type == SD_PROP_DEVICE ? "a(st)" : "ay";
        uint8_t mask[8192];
        const uint8_t *mp = mask;
        int used = 0;
        bool ok;

        if (p->type == SD_PROP_CPUSET) {
                used = sd_cpuset_mask(p->list, mask, sizeof(mask));
                if (used < 0)
                        return -EINVAL;
        }
        ok = dbus_message_iter_open_container(arr, DBUS_TYPE_STRUCT, NULL, &st) &&
             reply_append_string(&st, p->name) &&
             dbus_message_iter_open_container(&st, DBUS_TYPE_VARIANT, sig, &var);
        if (!ok)
                return -ENOMEM;
        switch (p->type) {
        case SD_PROP_U64:
                ok = dbus_message_iter_append_basic(&var, DBUS_TYPE_UINT64, &v);
                break;
        case SD_PROP_DEVICE:
                ok = dbus_message_iter_open_container(&var, DBUS_TYPE_ARRAY, "(st)", &inner) &&
                     dbus_message_iter_open_container(&inner, DBUS_TYPE_STRUCT, NULL, &dev) &&
                     reply_append_string(&dev, p->dev) &&
                     dbus_message_iter_append_basic(&dev, DBUS_TYPE_UINT64, &v) &&
                     dbus_message_iter_close_container(&inner, &dev) &&
                     dbus_message_iter_close_container(&var, &inner);
                break;
        case SD_PROP_CPUSET:
                ok = dbus_message_iter_open_container(&var, DBUS_TYPE_ARRAY, "y", &inner) &&
                     dbus_message_iter_append_fixed_array(&inner, DBUS_TYPE_BYTE, &mp, used) &&
                     dbus_message_iter_close_container(&var, &inner);
                break;
        }
        ok = ok && dbus_message_iter_close_container(&st, &var) &&
             dbus_message_iter_close_container(arr, &st);
        return ok ? 0 : -ENOMEM;
}

int sd_props_append(DBusMessageIter *it, const SdProp *props, size_t n)
{
        DBusMessageIter arr;

        if (!dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "(sv)", &arr))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int r = append_one(&arr, &props[i]);
                if (r < 0) {
                        dbus_message_iter_abandon_container(it, &arr);
                        return r;
                }
        }
        return dbus_message_iter_close_container(it, &arr) ? 0 : -ENOMEM;
}

int sd_props_from_getall(DBusMessage *reply, SdProp *props, bool *found, size_t n)
{
        DBusMessageIter it, arr;

        for (size_t i = 0; i < n; i++)
                found[i] = false;
        if (!dbus_message_iter_init(reply, &it) ||
            dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_ARRAY ||
            dbus_message_iter_get_element_type(&it) != DBUS_TYPE_DICT_ENTRY)
                return -EBADMSG;
        dbus_message_iter_recurse(&it, &arr);
        while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY) {
                DBusMessageIter entry, var;
                const char *name;
                dbus_message_iter_recurse(&arr, &entry);
                if (dbus_message_iter_get_arg_type(&entry) != DBUS_TYPE_STRING)
                        return -EBADMSG;
                dbus_message_iter_get_basic(&entry, &name);
                dbus_message_iter_next(&entry);
                if (dbus_message_iter_get_arg_type(&entry) != DBUS_TYPE_VARIANT)
                        return -EBADMSG;
                dbus_message_iter_recurse(&entry, &var);
                for (size_t i = 0; i < n; i++) {
                        dbus_uint64_t v;
                        if (props[i].type != SD_PROP_U64 || strcmp(props[i].name, name) != 0 ||
                            dbus_message_iter_get_arg_type(&var) != DBUS_TYPE_UINT64)
                                continue;
                        dbus_message_iter_get_basic(&var, &v);
                        props[i].value = v;
                        found[i] = true;
                }
                dbus_message_iter_next(&arr);
        }
        return 0;
}
