/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd unit properties: cgm's resource keys as systemd's, and their D-Bus encoding */
#pragma once

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The shapes of the properties cgm sets (systemd.resource-control(5), org.freedesktop.systemd1(5)) */
typedef enum SdPropType {
        SD_PROP_U64,    /* "t": bytes, µs, a count or a weight; UINT64_MAX = infinity/unset */
        SD_PROP_DEVICE, /* "a(st)" with one entry: a block device and a limit (IO…Max) */
        SD_PROP_CPUSET, /* "ay": a bitmask of CPUs or memory nodes (Allowed…) */
} SdPropType;

typedef struct SdProp {
        char name[32];   /* MemoryMax, CPUQuotaPerSecUSec, IOReadBandwidthMax, AllowedCPUs, ... */
        char dev[40];    /* SD_PROP_DEVICE: "/dev/block/MAJ:MIN" */
        SdPropType type;
        uint64_t value;  /* SD_PROP_U64, SD_PROP_DEVICE */
        char list[256];  /* SD_PROP_CPUSET: "0-3,5" as cgm's key holds it; "" = none set */
} SdProp;

/* cpu.max gives two properties, io.max up to four. */
#define SD_PROPS_PER_KEY_MAX 4
/* Longest text form of one property (sd_prop_format()). */
#define SD_PROP_TEXT_MAX 384

/**
 * sd_props_from_key() - the systemd properties that carry one of cgm's keys on a unit
 * @key:   a resource key (memory.max, cpu.max, ...)
 * @canon: its canonical value, as key_parse() gives it ("max", "150000 100000", ...)
 * @out:   at least SD_PROPS_PER_KEY_MAX entries
 *
 * memory.{max,high,low,min,swap.max} -> Memory{Max,High,Low,Min,SwapMax}; pids.max ->
 * TasksMax; cpu.weight -> CPUWeight; io.weight -> IOWeight; cpu.max "Q P" ->
 * CPUQuotaPerSecUSec (Q per second, rounded so that systemd writes Q back) and
 * CPUQuotaPeriodUSec = P; io.max "M:N rbps=… wbps=… riops=… wiops=…" -> IO{Read,Write}
 * {Bandwidth,IOPS}Max of /dev/block/M:N, one per field given; cpuset.cpus -> AllowedCPUs;
 * cpuset.mems -> AllowedMemoryNodes. "max" is UINT64_MAX (systemd's infinity).
 *
 * Return: 0 with *@n set; -EOPNOTSUPP with @why for a key systemd has no property for
 * (memory.oom.group, cpu.max.burst, hugetlb.*, cgroup.max.*); -EINVAL for a value that is
 * not canonical.
 */
int sd_props_from_key(const char *key, const char *canon, SdProp *out, size_t *n, char *why,
                      size_t why_size);

/**
 * sd_cpuset_mask() - a CPU (or node) list "0-3,5" as systemd's bitmask (byte i, bit j = id
 * 8i+j), in @mask of @size bytes
 *
 * Return: the number of bytes used (0 for ""); -EINVAL for a bad list; -ENOBUFS when an id
 * does not fit.
 */
int sd_cpuset_mask(const char *list, uint8_t *mask, size_t size);

/** sd_prop_same_slot() - do @a and @b set the same thing (name, and device for IO…Max)? */
bool sd_prop_same_slot(const SdProp *a, const SdProp *b);

/**
 * sd_prop_reset() - what @p's slot is when nobody set it: infinity for the U64 and device
 * properties (no limit; for the weights systemd's "unset"), no CPUs for the cpusets. For
 * MemoryLow and MemoryMin, 0.
 */
void sd_prop_reset(SdProp *p);

/**
 * sd_prop_format() - "Name=value" or "Name@/dev/block/8:0=value", the value in decimal or
 * "infinity", or the cpu list. The text form is what cgm records (systemd.c) and logs.
 */
void sd_prop_format(const SdProp *p, char *out, size_t n);

/**
 * sd_prop_parse() - the reverse of sd_prop_format() for the names cgm sets
 *
 * Return: 0; -EINVAL for text that is not such a line.
 */
int sd_prop_parse(const char *text, SdProp *p);

/**
 * sd_props_append() - append @props as SetUnitProperties' "a(sv)" at @it
 *
 * Return: 0, or -ENOMEM (libdbus) or -EINVAL (a cpuset list that does not convert).
 */
int sd_props_append(DBusMessageIter *it, const SdProp *props, size_t n);

/**
 * sd_props_from_getall() - fill the value of each SD_PROP_U64 entry of @props from a
 * Properties.GetAll reply ("a{sv}"); @found[i] says whether props[i] was in it with type "t"
 *
 * Return: 0, or -EBADMSG when the reply is not an a{sv}.
 */
int sd_props_from_getall(DBusMessage *reply, SdProp *props, bool *found, size_t n);
