/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resource keys: the allowlist, value parsing, and the cgroup v1 translation */

/*
 * Clients name resources with cgroup v2 file names (spec §6) and the daemon writes only the
 * files listed in keys[] below. Everything else is refused before any file is opened: files
 * that move processes, kill, freeze, change the cgroup type or run release agents with -EPERM
 * (cgm has its own methods for the safe ones), anything unknown with -EOPNOTSUPP.
 *
 * key_parse() turns the human value into the exact text the v2 file takes: sizes become
 * decimal bytes, "150%" becomes "150000 100000", "default 200" becomes "200". The canonical
 * text is itself an accepted input and parses to itself, so later stages (the v1 writers, the
 * audit log, the fuzzers) can re-check it cheaply. Limits that the kernel would refuse with a
 * bare EINVAL (cpu.max quota below 1 ms, a period outside 1 ms..1 s, an io.max of 0) are
 * refused here with a sentence that says which limit was hit.
 *
 * The v1 half implements the table of kernel.md §4. A v2 key maps to up to four v1 files
 * (io.max: one blkio.throttle file per field); key_v1_writes() lists them in the order they
 * must be written (cpu.cfs_period_us before cpu.cfs_quota_us) and key_v1_value() rebuilds the
 * canonical v2 text from what those files read. cpu.weight <-> cpu.shares uses systemd's
 * linear mapping (100 <-> 1024), which keeps the defaults equal. Keys with no v1 meaning are
 * refused with -EOPNOTSUPP rather than approximated (memory.high is not soft_limit_in_bytes).
 */

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "keys.h"
#include "text.h"
#include "protocol.h"
#include "units.h"

/* Kernel limits (kernel/sched/fair.c, core.c): quota and burst in microseconds. */
#define CPU_QUOTA_MIN 1000ULL
#define CPU_PERIOD_MIN 1000ULL
#define CPU_PERIOD_MAX 1000000ULL
#define CPU_PERIOD_DEFAULT 100000ULL
/* max_cfs_runtime = MAX_BW us, MAX_BW = 2^(64 - BW_SHIFT) - 1 with BW_SHIFT 20. */
#define CPU_QUOTA_MAX ((1ULL << 44) - 1)
/* PID_MAX_LIMIT on 64-bit; pids.max refuses anything above (kernel/cgroup/pids.c). */
#define PIDS_MAX_LIMIT 4194304ULL
/* MINORBITS is 20, majors are 12 bits (include/linux/kdev_t.h). */
#define DEV_MAJOR_MAX 4095ULL
#define DEV_MINOR_MAX 1048575ULL
/* Far above any NR_CPUS / MAX_NUMNODES; the kernel gives ERANGE for ids it does not have. */
#define CPUSET_ID_MAX 65535ULL
/* BFQ's blkio.bfq.weight range (block/bfq-iosched.h BFQ_MAX_WEIGHT). */
#define BFQ_WEIGHT_MAX 1000ULL
/* Any v1 memory value at or above this reads as "no limit": the unlimited value is LONG_MAX
 * rounded down to the page size (9223372036854771712 with 4 KiB pages). */
#define V1_UNLIMITED_MIN (1ULL << 62)

typedef enum KeyType {
        KT_BYTES,     /* memory.max, memory.high, memory.low, memory.min, memory.swap.max */
        KT_BOOL,      /* memory.oom.group */
        KT_CPU_MAX,   /* cpu.max */
        KT_WEIGHT,    /* cpu.weight */
        KT_USEC,      /* cpu.max.burst */
        KT_PIDS,      /* pids.max */
        KT_IO_WEIGHT, /* io.weight */
        KT_IO_MAX,    /* io.max */
        KT_CPUSET,    /* cpuset.cpus, cpuset.mems */
        KT_HUGETLB,   /* hugetlb.<size>.max */
        KT_COUNT,     /* cgroup.max.depth, cgroup.max.descendants */
} KeyType;

typedef struct KeyDef {
        const char *name;
        const char *controller;
        const char *v1_controller; /* NULL: no v1 equivalent */
        KeyType type;
} KeyDef;

static const KeyDef keys[] = {
        { "memory.max", "memory", "memory", KT_BYTES },
        { "memory.high", "memory", NULL, KT_BYTES },
        { "memory.low", "memory", NULL, KT_BYTES },
        { "memory.min", "memory", NULL, KT_BYTES },
        { "memory.swap.max", "memory", "memory", KT_BYTES },
        { "memory.oom.group", "memory", NULL, KT_BOOL },
        { "cpu.max", "cpu", "cpu", KT_CPU_MAX },
        { "cpu.weight", "cpu", "cpu", KT_WEIGHT },
        { "cpu.max.burst", "cpu", "cpu", KT_USEC },
        { "pids.max", "pids", "pids", KT_PIDS },
        { "io.weight", "io", "blkio", KT_IO_WEIGHT },
        { "io.max", "io", "blkio", KT_IO_MAX },
        { "cpuset.cpus", "cpuset", "cpuset", KT_CPUSET },
        { "cpuset.mems", "cpuset", "cpuset", KT_CPUSET },
        { "cgroup.max.depth", "", NULL, KT_COUNT },
        { "cgroup.max.descendants", "", NULL, KT_COUNT },
};

/* Stands for every hugetlb.<size>.max. */
static const KeyDef hugetlb_key = { "hugetlb.<size>.max", "hugetlb", "hugetlb", KT_HUGETLB };

static const char *const key_list[] = {
        "memory.max",       "memory.high",     "memory.low",      "memory.min",
        "memory.swap.max",  "memory.oom.group", "cpu.max",        "cpu.weight",
        "cpu.max.burst",    "pids.max",        "io.weight",       "io.max",
        "cpuset.cpus",      "cpuset.mems",     "hugetlb.2MB.max", "hugetlb.1GB.max",
        "cgroup.max.depth", "cgroup.max.descendants", NULL,
};

typedef struct Forbidden {
        const char *name;
        bool prefix;
        const char *reason;
} Forbidden;

static const Forbidden forbidden[] = {
        { "cgroup.procs", false, "processes are moved with Move" },
        { "cgroup.threads", false, "processes are moved with Move, and threads are not managed" },
        { "tasks", false, "processes are moved with Move" },
        { "cgroup.subtree_control", false, "the daemon enables controllers itself" },
        { "cgroup.type", false, "threaded cgroups are not supported" },
        { "cgroup.kill", false, "processes are killed with Kill" },
        { "cgroup.freeze", false, "cgroups are frozen with Freeze and thawed with Thaw" },
        { "cgroup.clone_children", false, "the daemon sets it where cpusets need it" },
        { "release_agent", false,
          "release agents run as root and are never written (CVE-2022-0492)" },
        { "notify_on_release", false, "release notification is never enabled; cgm watches "
                                      "cgroup.events instead" },
        { "devices.", true, "device access is not managed through cgm" },
};



static int put(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* snprintf that reports truncation as -ENOBUFS. */
static int put(char *buf, size_t n, const char *fmt, ...)
{
        va_list ap;
        int r;

        if (!buf || n == 0)
                return -ENOBUFS;
        va_start(ap, fmt);
        r = vsnprintf(buf, n, fmt, ap);
        va_end(ap);
        if (r < 0 || (size_t)r >= n) {
                buf[0] = '\0';
                return -ENOBUFS;
        }
        return 0;
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* "hugetlb.<digits>(KB|MB|GB).max"; stores the size token's span. */
static bool hugetlb_match(const char *key, const char **sizep, size_t *size_lenp)
{
        const char *p, *start;

        if (strncmp(key, "hugetlb.", 8) != 0)
                return false;
        start = p = key + 8;
        if (*p == '0' || !is_digit(*p))
                return false;
        while (is_digit(*p))
                p++;
        if (p - start > 10)
                return false;
        if ((p[0] != 'K' && p[0] != 'M' && p[0] != 'G') || p[1] != 'B')
                return false;
        p += 2;
        if (strcmp(p, ".max") != 0)
                return false;
        if (sizep)
                *sizep = start;
        if (size_lenp)
                *size_lenp = (size_t)(p - start);
        return true;
}

static const KeyDef *key_find(const char *key)
{
        if (!key)
                return NULL;
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                if (strcmp(keys[i].name, key) == 0)
                        return &keys[i];
        if (hugetlb_match(key, NULL, NULL))
                return &hugetlb_key;
        return NULL;
}

/**
 * key_controller() - controller that serves @key
 * @key: a key such as "memory.max"
 *
 * Return: "memory", "cpu", "pids", "io", "cpuset", "hugetlb", or "" for the core keys; NULL
 * when @key is not an allowed key.
 */
const char *key_controller(const char *key)
{
        const KeyDef *k = key_find(key);

        return k ? k->controller : NULL;
}

/**
 * key_v1_controller() - the v1 hierarchy for @key
 * @key: a key such as "io.max"
 *
 * Return: like key_controller() but "blkio" for the io keys; NULL when @key is unknown or
 * has no v1 equivalent.
 */
const char *key_v1_controller(const char *key)
{
        const KeyDef *k = key_find(key);

        return k ? k->v1_controller : NULL;
}

/**
 * key_names() - every allowed key
 *
 * Return: a static NULL-terminated list; hugetlb keys appear as "hugetlb.2MB.max" and
 * "hugetlb.1GB.max".
 */
const char *const *key_names(void)
{
        return key_list;
}

static const Forbidden *forbidden_find(const char *key)
{
        for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
                const Forbidden *f = &forbidden[i];

                if (f->prefix ? strncmp(key, f->name, strlen(f->name)) == 0
                              : strcmp(key, f->name) == 0)
                        return f;
        }
        return NULL;
}

/* --- value parsers: each writes the canonical v2 text or a reason ------------------------- */

static int parse_bytes(const char *in, char *canon, size_t cn, char *why, size_t wn)
{
        uint64_t v;
        int r = cgm_parse_bytes(in, &v, why, wn);

        if (r < 0)
                return r;
        if (v == CGM_UNLIMITED)
                return put(canon, cn, "max");
        return put(canon, cn, "%llu", (unsigned long long)v);
}

static int parse_count(const char *in, uint64_t min, uint64_t max, bool allow_max, char *canon,
                       size_t cn, char *why, size_t wn)
{
        uint64_t v;
        int r = cgm_parse_uint(in, min, max, allow_max, &v, why, wn);

        if (r < 0)
                return r;
        if (v == CGM_UNLIMITED)
                return put(canon, cn, "max");
        return put(canon, cn, "%llu", (unsigned long long)v);
}

static int parse_bool(const char *in, char *canon, size_t cn, char *why, size_t wn)
{
        char q[80];

        if (strcmp(in, "0") != 0 && strcmp(in, "1") != 0)
                return cgm_why(-EINVAL, why, wn, "`%s` is not 0 or 1", cgm_quote(in, SIZE_MAX, q, sizeof(q)));
        return put(canon, cn, "%s", in);
}

/* "N%" or "N.F%": microseconds of quota per CPU_PERIOD_DEFAULT (1% = 1000 us). */
static int parse_percent(const char *in, uint64_t *quotap, char *why, size_t wn)
{
        uint64_t whole = 0, frac = 0;
        unsigned n_frac = 0;
        const char *p = in;
        char q[80];

        cgm_quote(in, SIZE_MAX, q, sizeof(q));
        if (!is_digit(*p))
                return cgm_why(-EINVAL, why, wn, "`%s` is not a percentage such as 150%%", q);
        for (; is_digit(*p); p++) {
                whole = whole * 10 + (uint64_t)(*p - '0');
                if (whole > CPU_QUOTA_MAX / 1000)
                        return cgm_why(-ERANGE, why, wn,
                                    "`%s` is more CPU than the kernel can express", q);
        }
        if (*p == '.') {
                p++;
                if (!is_digit(*p))
                        return cgm_why(-EINVAL, why, wn, "`%s` is not a percentage such as 2.5%%", q);
                /* Digits past the third are below 1 us and are dropped (rounding down). */
                for (; is_digit(*p); p++)
                        if (n_frac < 3) {
                                frac = frac * 10 + (uint64_t)(*p - '0');
                                n_frac++;
                        }
        }
        while (n_frac < 3) {
                frac *= 10;
                n_frac++;
        }
        if (strcmp(p, "%") != 0)
                return cgm_why(-EINVAL, why, wn, "`%s` is not a percentage such as 150%%", q);
        *quotap = whole * 1000 + frac;
        return 0;
}

static int check_quota(uint64_t quota, const char *as_given, char *why, size_t wn)
{
        if (quota < CPU_QUOTA_MIN)
                return cgm_why(-ERANGE, why, wn,
                            "`cpu.max` quota %llu%s is below the kernel's minimum of %llu us (1%% "
                            "of one CPU per 100000 us period)",
                            (unsigned long long)quota, as_given, CPU_QUOTA_MIN);
        if (quota > CPU_QUOTA_MAX)
                return cgm_why(-ERANGE, why, wn,
                            "`cpu.max` quota %llu%s is above the kernel's maximum of %llu us",
                            (unsigned long long)quota, as_given, CPU_QUOTA_MAX);
        return 0;
}

static int parse_cpu_max(const char *in, char *canon, size_t cn, char *why, size_t wn)
{
        char qtok[64], ptok[64], q[80];
        const char *sp = strchr(in, ' ');
        uint64_t quota = 0, period = CPU_PERIOD_DEFAULT;
        bool quota_max = false;
        int r;

        cgm_quote(in, SIZE_MAX, q, sizeof(q));
        if (strchr(in, '%')) {
                char given[100];

                if (sp)
                        return cgm_why(-EINVAL, why, wn,
                                    "`cpu.max` `%s`: a percentage stands alone (period %llu us); "
                                    "write `QUOTA PERIOD` to choose the period",
                                    q, CPU_PERIOD_DEFAULT);
                r = parse_percent(in, &quota, why, wn);
                if (r < 0)
                        return r;
                snprintf(given, sizeof(given), " us (%s)", q);
                r = check_quota(quota, given, why, wn);
                if (r < 0)
                        return r;
                return put(canon, cn, "%llu %llu", (unsigned long long)quota, CPU_PERIOD_DEFAULT);
        }
        if (sp) {
                size_t ql = (size_t)(sp - in);

                if (ql == 0 || ql >= sizeof(qtok) || !sp[1] ||
                    strlen(sp + 1) >= sizeof(ptok) || strchr(sp + 1, ' '))
                        return cgm_why(-EINVAL, why, wn,
                                    "`cpu.max` `%s` is not `max`, `QUOTA`, `max PERIOD`, `QUOTA "
                                    "PERIOD` or `N%%` (one space between fields)",
                                    q);
                memcpy(qtok, in, ql);
                qtok[ql] = '\0';
                strcpy(ptok, sp + 1);
        } else {
                if (strlen(in) >= sizeof(qtok))
                        return cgm_why(-EINVAL, why, wn, "`cpu.max` `%s` is not a quota", q);
                strcpy(qtok, in);
                ptok[0] = '\0';
        }
        if (strcmp(qtok, "max") == 0) {
                quota_max = true;
        } else {
                char inner[200];

                r = cgm_parse_uint(qtok, 0, UINT64_MAX - 1, false, &quota, inner, sizeof(inner));
                if (r < 0)
                        return cgm_why(-EINVAL, why, wn,
                                    "`cpu.max` quota: %s (give microseconds, max, or N%%)", inner);
                r = check_quota(quota, "", why, wn);
                if (r < 0)
                        return r;
        }
        if (ptok[0]) {
                char inner[200];

                r = cgm_parse_uint(ptok, 0, UINT64_MAX - 1, false, &period, inner, sizeof(inner));
                if (r < 0)
                        return cgm_why(-EINVAL, why, wn, "`cpu.max` period: %s", inner);
                if (period < CPU_PERIOD_MIN || period > CPU_PERIOD_MAX)
                        return cgm_why(-ERANGE, why, wn,
                                    "`cpu.max` period %llu is outside the kernel's range of "
                                    "%llu to %llu us",
                                    (unsigned long long)period, CPU_PERIOD_MIN, CPU_PERIOD_MAX);
        }
        if (quota_max)
                return put(canon, cn, "max %llu", (unsigned long long)period);
        return put(canon, cn, "%llu %llu", (unsigned long long)quota, (unsigned long long)period);
}

static int parse_io_weight(const char *in, char *canon, size_t cn, char *why, size_t wn)
{
        if (strncmp(in, "default ", 8) == 0)
                in += 8;
        return parse_count(in, 1, 10000, false, canon, cn, why, wn);
}

/* "MAJ:MIN" at the start of @s; returns the length consumed or 0. */
static size_t parse_dev(const char *s, unsigned long long *majp, unsigned long long *minp)
{
        unsigned long long v[2] = { 0, 0 };
        const char *p = s;

        for (int i = 0; i < 2; i++) {
                const char *start = p;

                while (is_digit(*p)) {
                        v[i] = v[i] * 10 + (unsigned long long)(*p - '0');
                        if (v[i] > DEV_MINOR_MAX)
                                return 0;
                        p++;
                }
                if (p == start || p - start > 7)
                        return 0;
                if (i == 0 && *p++ != ':')
                        return 0;
        }
        if (v[0] > DEV_MAJOR_MAX)
                return 0;
        *majp = v[0];
        *minp = v[1];
        return (size_t)(p - s);
}

static const char *const io_fields[4] = { "rbps", "wbps", "riops", "wiops" };

static int parse_io_max(const char *in, char *canon, size_t cn, char *why, size_t wn)
{
        uint64_t val[4];
        bool have[4] = { false, false, false, false };
        unsigned long long maj, min;
        size_t used, o;
        const char *p;
        char q[80];
        int r;

        cgm_quote(in, SIZE_MAX, q, sizeof(q));
        used = parse_dev(in, &maj, &min);
        if (used == 0 || (in[used] != ' ' && in[used] != '\0'))
                return cgm_why(-EINVAL, why, wn,
                            "`io.max` `%s` does not start with a device `MAJOR:MINOR` (e.g. 8:0)",
                            q);
        if (in[used] == '\0')
                return cgm_why(-EINVAL, why, wn,
                            "`io.max` `%s` sets nothing: add rbps=, wbps=, riops= or wiops=", q);
        p = in + used;
        while (*p == ' ') {
                char tok[80], inner[200];
                const char *end, *eq;
                size_t tl;
                int f;

                p++;
                end = strchr(p, ' ');
                tl = end ? (size_t)(end - p) : strlen(p);
                if (tl == 0 || tl >= sizeof(tok))
                        return cgm_why(-EINVAL, why, wn,
                                    "`io.max` `%s`: fields are separated by one space", q);
                memcpy(tok, p, tl);
                tok[tl] = '\0';
                p += tl;
                eq = strchr(tok, '=');
                for (f = 0; f < 4; f++)
                        if (eq && (size_t)(eq - tok) == strlen(io_fields[f]) &&
                            strncmp(tok, io_fields[f], (size_t)(eq - tok)) == 0)
                                break;
                if (f == 4) {
                        char tq[100];

                        return cgm_why(-EINVAL, why, wn,
                                    "`io.max` field `%s` is not rbps=, wbps=, riops= or wiops=",
                                    cgm_quote(tok, SIZE_MAX, tq, sizeof(tq)));
                }
                if (have[f])
                        return cgm_why(-EINVAL, why, wn, "`io.max` `%s` sets %s twice", q,
                                    io_fields[f]);
                have[f] = true;
                if (f < 2)
                        r = cgm_parse_bytes(eq + 1, &val[f], inner, sizeof(inner));
                else
                        r = cgm_parse_uint(eq + 1, 0, UINT32_MAX, true, &val[f], inner,
                                           sizeof(inner));
                if (r < 0)
                        return cgm_why(r, why, wn, "`io.max` %s: %s", io_fields[f], inner);
                /* The kernel refuses 0 (ERANGE) and, before 6.x, silently ignored 1. */
                if (val[f] < 2)
                        return cgm_why(-ERANGE, why, wn,
                                    "`io.max` %s=%llu is not a usable limit: the smallest is 2; "
                                    "write %s=max to remove the limit",
                                    io_fields[f], (unsigned long long)val[f], io_fields[f]);
        }
        if (*p != '\0')
                return cgm_why(-EINVAL, why, wn, "`io.max` `%s` is malformed", q);
        r = put(canon, cn, "%llu:%llu", maj, min);
        if (r < 0)
                return r;
        for (int f = 0; f < 4; f++) {
                if (!have[f])
                        continue;
                o = strlen(canon);
                if (val[f] == CGM_UNLIMITED)
                        r = put(canon + o, cn - o, " %s=max", io_fields[f]);
                else
                        r = put(canon + o, cn - o, " %s=%llu", io_fields[f],
                                (unsigned long long)val[f]);
                if (r < 0) {
                        canon[0] = '\0';
                        return r;
                }
        }
        return 0;
}

/* "0-3,5": ids and ascending ranges separated by commas; "" means "inherit" on v2. */
static int parse_cpuset(const char *key, const char *in, char *canon, size_t cn, char *why,
                        size_t wn)
{
        const char *p = in;
        char q[80];

        cgm_quote(in, SIZE_MAX, q, sizeof(q));
        while (*p) {
                unsigned long long a = 0, b;
                const char *start = p;

                if (!is_digit(*p))
                        goto bad;
                for (; is_digit(*p); p++) {
                        a = a * 10 + (unsigned long long)(*p - '0');
                        if (a > CPUSET_ID_MAX)
                                return cgm_why(-ERANGE, why, wn, "`%s` `%s`: %.*s... is above %llu",
                                            key, q, (int)(p - start + 1), start, CPUSET_ID_MAX);
                }
                b = a;
                if (*p == '-') {
                        p++;
                        if (!is_digit(*p))
                                goto bad;
                        for (b = 0; is_digit(*p); p++) {
                                b = b * 10 + (unsigned long long)(*p - '0');
                                if (b > CPUSET_ID_MAX)
                                        return cgm_why(-ERANGE, why, wn,
                                                    "`%s` `%s`: an id is above %llu", key, q,
                                                    CPUSET_ID_MAX);
                        }
                        if (b < a)
                                return cgm_why(-EINVAL, why, wn,
                                            "`%s` `%s`: range %llu-%llu runs backwards", key, q, a,
                                            b);
                }
                if (*p == ',') {
                        p++;
                        if (*p == '\0')
                                goto bad;
                } else if (*p != '\0') {
                        goto bad;
                }
        }
        return put(canon, cn, "%s", in);
bad:
        return cgm_why(-EINVAL, why, wn,
                    "`%s` `%s` is not a list such as `0-3,5` (ids and ranges separated by commas, "
                    "no spaces)",
                    key, q);
}

/**
 * key_parse() - check @key and turn @input into the canonical cgroup v2 value
 * @key:        requested key, e.g. "memory.max"
 * @input:      user value, e.g. "2G", "max", "150%", "50000 100000"
 * @canon:      receives the v2 file content, e.g. "2147483648", "150000 100000"
 * @canon_size: size of @canon; CGM_VALUE_MAX always suffices
 * @why:        receives the reason on failure (may be NULL)
 * @why_size:   size of @why
 *
 * Values longer than CGM_VALUE_MAX - 1 bytes are refused. The canonical value parses to
 * itself.
 *
 * Return: 0; -EPERM for files never writable through cgm; -EOPNOTSUPP for other unknown
 * keys; -EINVAL or -ERANGE for a bad value; -ENOBUFS when @canon is too small.
 */
int key_parse(const char *key, const char *input, char *canon, size_t canon_size, char *why,
              size_t why_size)
{
        const Forbidden *f;
        const KeyDef *k;
        char kq[80], inner[256];
        int r;

        if (canon && canon_size > 0)
                canon[0] = '\0';
        if (why && why_size > 0)
                why[0] = '\0';
        if (!key || !*key)
                return cgm_why(-EOPNOTSUPP, why, why_size, "no key given");
        cgm_quote(key, SIZE_MAX, kq, sizeof(kq));
        f = forbidden_find(key);
        if (f)
                return cgm_why(-EPERM, why, why_size, "`%s` is not a resource key: %s", kq,
                            f->reason);
        k = key_find(key);
        if (!k)
                return cgm_why(-EOPNOTSUPP, why, why_size,
                            "unknown key `%s`; known keys: memory.{max,high,low,min,swap.max,"
                            "oom.group}, cpu.{max,weight,max.burst}, pids.max, io.{weight,max}, "
                            "cpuset.{cpus,mems}, hugetlb.<size>.max, "
                            "cgroup.max.{depth,descendants}",
                            kq);
        if (!input)
                return cgm_why(-EINVAL, why, why_size, "`%s`: no value given", kq);
        if (strnlen(input, CGM_VALUE_MAX) >= CGM_VALUE_MAX)
                return cgm_why(-EINVAL, why, why_size, "`%s`: the value is longer than %d bytes", kq,
                            CGM_VALUE_MAX - 1);

        inner[0] = '\0';
        switch (k->type) {
        case KT_BYTES:
        case KT_HUGETLB:
                r = parse_bytes(input, canon, canon_size, inner, sizeof(inner));
                break;
        case KT_BOOL:
                r = parse_bool(input, canon, canon_size, inner, sizeof(inner));
                break;
        case KT_CPU_MAX:
                /* Messages already name the key. */
                r = parse_cpu_max(input, canon, canon_size, why, why_size);
                if (r == -ENOBUFS)
                        return cgm_why(r, why, why_size, "`%s`: value buffer too small", kq);
                return r;
        case KT_WEIGHT:
                r = parse_count(input, 1, 10000, false, canon, canon_size, inner, sizeof(inner));
                break;
        case KT_USEC:
                r = parse_count(input, 0, CPU_QUOTA_MAX, false, canon, canon_size, inner,
                                sizeof(inner));
                break;
        case KT_PIDS:
                r = parse_count(input, 0, PIDS_MAX_LIMIT, true, canon, canon_size, inner,
                                sizeof(inner));
                break;
        case KT_IO_WEIGHT:
                r = parse_io_weight(input, canon, canon_size, inner, sizeof(inner));
                break;
        case KT_IO_MAX:
                r = parse_io_max(input, canon, canon_size, why, why_size);
                if (r == -ENOBUFS)
                        return cgm_why(r, why, why_size, "`%s`: value buffer too small", kq);
                return r;
        case KT_CPUSET:
                r = parse_cpuset(k->name, input, canon, canon_size, why, why_size);
                if (r == -ENOBUFS)
                        return cgm_why(r, why, why_size, "`%s`: value buffer too small", kq);
                return r;
        case KT_COUNT:
                r = parse_count(input, 0, INT_MAX, true, canon, canon_size, inner,
                                sizeof(inner));
                break;
        default:
                r = -EOPNOTSUPP;
                snprintf(inner, sizeof(inner), "not implemented");
                break;
        }
        if (r == -ENOBUFS)
                return cgm_why(r, why, why_size, "`%s`: value buffer too small", kq);
        if (r < 0)
                return cgm_why(r, why, why_size, "invalid value for `%s`: %s", kq, inner);
        return 0;
}

/* --- cgroup v1 ---------------------------------------------------------------------------- */

static int no_v1(const char *key, char *why, size_t wn)
{
        char kq[80];

        return cgm_why(-EOPNOTSUPP, why, wn,
                    "`%s` has no cgroup v1 equivalent, and the controller is on a v1 hierarchy "
                    "here",
                    cgm_quote(key, SIZE_MAX, kq, sizeof(kq)));
}

static int set_file(KeyFile *f, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int set_file(KeyFile *f, const char *name, const char *fmt, ...)
{
        va_list ap;
        int r;

        if (strlen(name) >= sizeof(f->name))
                return -ENOBUFS;
        strcpy(f->name, name);
        va_start(ap, fmt);
        r = vsnprintf(f->value, sizeof(f->value), fmt, ap);
        va_end(ap);
        return r < 0 || (size_t)r >= sizeof(f->value) ? -ENOBUFS : 0;
}

static int hugetlb_v1_name(const char *key, char *buf, size_t n)
{
        const char *size;
        size_t len;

        if (!hugetlb_match(key, &size, &len))
                return -EOPNOTSUPP;
        return put(buf, n, "hugetlb.%.*s.limit_in_bytes", (int)len, size);
}

/* Plain decimal from a canonical value ("max" handled by the caller). */
static uint64_t canon_u64(const char *s)
{
        uint64_t v = 0;

        for (; is_digit(*s); s++)
                v = v * 10 + (uint64_t)(*s - '0');
        return v;
}

static const char *const io_v1_files[4] = {
        "blkio.throttle.read_bps_device",
        "blkio.throttle.write_bps_device",
        "blkio.throttle.read_iops_device",
        "blkio.throttle.write_iops_device",
};

/**
 * key_v1_writes() - the v1 files to write for a canonical v2 value
 * @key:       an allowed key
 * @canon:     its canonical value from key_parse() (re-checked here)
 * @mem_limit: current memory.limit_in_bytes, UINT64_MAX (or any value >= 2^62) when unlimited
 * @out:       at least KEY_V1_FILES_MAX entries, filled in write order
 * @n_out:     number of entries filled
 * @why:       reason on failure (may be NULL)
 * @why_size:  size of @why
 *
 * Return: 0; -EOPNOTSUPP when the key has no v1 equivalent; -ERANGE when the value does not
 * fit the v1 range; the errors of key_parse() when @canon is not a valid value.
 */
int key_v1_writes(const char *key, const char *canon, uint64_t mem_limit, KeyFile *out,
                  size_t *n_out, char *why, size_t why_size)
{
        char value[CGM_VALUE_MAX], name[64];
        const KeyDef *k;
        int r;

        if (n_out)
                *n_out = 0;
        if (!out || !n_out)
                return -EINVAL;
        r = key_parse(key, canon, value, sizeof(value), why, why_size);
        if (r < 0)
                return r;
        k = key_find(key);
        if (!k || !k->v1_controller)
                return no_v1(key, why, why_size);

        bool is_max = strcmp(value, "max") == 0;

        switch (k->type) {
        case KT_BYTES:
                if (strcmp(key, "memory.max") == 0) {
                        r = set_file(&out[0], "memory.limit_in_bytes", "%s", is_max ? "-1" : value);
                } else {
                        /* memory.swap.max: v1 limits memory + swap together. */
                        uint64_t swap = canon_u64(value);

                        if (is_max || mem_limit >= V1_UNLIMITED_MIN ||
                            swap > (uint64_t)INT64_MAX - mem_limit)
                                r = set_file(&out[0], "memory.memsw.limit_in_bytes", "-1");
                        else
                                r = set_file(&out[0], "memory.memsw.limit_in_bytes", "%llu",
                                             (unsigned long long)(mem_limit + swap));
                }
                *n_out = 1;
                break;
        case KT_HUGETLB:
                r = hugetlb_v1_name(key, name, sizeof(name));
                if (r < 0)
                        return r;
                r = set_file(&out[0], name, "%s", is_max ? "-1" : value);
                *n_out = 1;
                break;
        case KT_CPU_MAX: {
                const char *sp = strchr(value, ' ');

                /* Period first: the quota is checked against the period the kernel holds. */
                r = set_file(&out[0], "cpu.cfs_period_us", "%s", sp + 1);
                if (r == 0 && strncmp(value, "max ", 4) == 0)
                        r = set_file(&out[1], "cpu.cfs_quota_us", "-1");
                else if (r == 0)
                        r = set_file(&out[1], "cpu.cfs_quota_us", "%.*s", (int)(sp - value),
                                     value);
                *n_out = 2;
                break;
        }
        case KT_USEC:
                r = set_file(&out[0], "cpu.cfs_burst_us", "%s", value);
                *n_out = 1;
                break;
        case KT_WEIGHT: {
                uint64_t w = canon_u64(value), shares = w * 1024 / 100;

                if (shares < 2)
                        shares = 2;
                if (shares > 262144)
                        shares = 262144;
                r = set_file(&out[0], "cpu.shares", "%llu", (unsigned long long)shares);
                *n_out = 1;
                break;
        }
        case KT_PIDS:
                r = set_file(&out[0], "pids.max", "%s", value);
                *n_out = 1;
                break;
        case KT_IO_WEIGHT: {
                uint64_t w = canon_u64(value);

                if (w > BFQ_WEIGHT_MAX)
                        return cgm_why(-ERANGE, why, why_size,
                                    "`io.weight` %llu does not fit cgroup v1, where BFQ's "
                                    "blkio.bfq.weight takes 1 to %llu",
                                    (unsigned long long)w, BFQ_WEIGHT_MAX);
                r = set_file(&out[0], "blkio.bfq.weight", "%llu", (unsigned long long)w);
                *n_out = 1;
                break;
        }
        case KT_IO_MAX: {
                char dev[32];
                const char *p = strchr(value, ' ');
                size_t n = 0;

                snprintf(dev, sizeof(dev), "%.*s", (int)(p - value), value);
                while (p && *p == ' ') {
                        const char *eq = strchr(p, '='), *end = strchr(p + 1, ' ');
                        size_t flen = (size_t)(eq - p - 1);
                        size_t vlen = end ? (size_t)(end - eq - 1) : strlen(eq + 1);

                        for (int f = 0; f < 4; f++) {
                                if (strlen(io_fields[f]) != flen ||
                                    strncmp(p + 1, io_fields[f], flen) != 0)
                                        continue;
                                /* v1 reads 0 as "remove the limit". */
                                if (vlen == 3 && strncmp(eq + 1, "max", 3) == 0)
                                        r = set_file(&out[n], io_v1_files[f], "%s 0", dev);
                                else
                                        r = set_file(&out[n], io_v1_files[f], "%s %.*s", dev,
                                                     (int)vlen, eq + 1);
                                if (r < 0)
                                        return r;
                                n++;
                        }
                        p = end;
                }
                *n_out = n;
                r = 0;
                break;
        }
        case KT_CPUSET:
                r = set_file(&out[0], key, "%s", value);
                *n_out = 1;
                break;
        default:
                return no_v1(key, why, why_size);
        }
        if (r < 0) {
                *n_out = 0;
                return cgm_why(r, why, why_size, "v1 value for `%s` does not fit", key);
        }
        return 0;
}

/**
 * key_v1_reads() - the v1 files whose contents make up @key's value
 * @key:   an allowed key
 * @out:   at least KEY_V1_FILES_MAX entries; only .name is filled (and .value cleared)
 * @n_out: number of entries filled
 *
 * The order is the one key_v1_value() expects: memory.swap.max reads memory.limit_in_bytes
 * then memory.memsw.limit_in_bytes; cpu.max reads cpu.cfs_quota_us then cpu.cfs_period_us;
 * io.max reads the read_bps, write_bps, read_iops and write_iops throttle files.
 *
 * Return: 0 or -EOPNOTSUPP.
 */
int key_v1_reads(const char *key, KeyFile *out, size_t *n_out)
{
        const char *names[KEY_V1_FILES_MAX] = { NULL };
        char hname[64];
        const KeyDef *k = key_find(key);
        size_t n = 0;

        if (n_out)
                *n_out = 0;
        if (!k || !k->v1_controller || !out || !n_out)
                return -EOPNOTSUPP;
        switch (k->type) {
        case KT_BYTES:
                names[n++] = "memory.limit_in_bytes";
                if (strcmp(key, "memory.swap.max") == 0)
                        names[n++] = "memory.memsw.limit_in_bytes";
                break;
        case KT_HUGETLB:
                if (hugetlb_v1_name(key, hname, sizeof(hname)) < 0)
                        return -EOPNOTSUPP;
                names[n++] = hname;
                break;
        case KT_CPU_MAX:
                names[n++] = "cpu.cfs_quota_us";
                names[n++] = "cpu.cfs_period_us";
                break;
        case KT_USEC:
                names[n++] = "cpu.cfs_burst_us";
                break;
        case KT_WEIGHT:
                names[n++] = "cpu.shares";
                break;
        case KT_PIDS:
                names[n++] = "pids.max";
                break;
        case KT_IO_WEIGHT:
                names[n++] = "blkio.bfq.weight";
                break;
        case KT_IO_MAX:
                for (int i = 0; i < 4; i++)
                        names[n++] = io_v1_files[i];
                break;
        case KT_CPUSET:
                names[n++] = k->name;
                break;
        default:
                return -EOPNOTSUPP;
        }
        for (size_t i = 0; i < n; i++) {
                snprintf(out[i].name, sizeof(out[i].name), "%s", names[i]);
                out[i].value[0] = '\0';
        }
        *n_out = n;
        return 0;
}

/* Copy @s without trailing whitespace into @buf. */
static int trimmed(const char *s, char *buf, size_t n)
{
        size_t len = strnlen(s, sizeof(((KeyFile *)0)->value));

        while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '\t'))
                len--;
        if (len >= n)
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = '\0';
        return 0;
}

/* Signed decimal as v1 prints it; -1 (and anything negative) means "unlimited". */
static int v1_int(const char *text, bool *unlimitedp, uint64_t *valuep)
{
        char buf[64];
        const char *p = buf;
        uint64_t v = 0;

        if (trimmed(text, buf, sizeof(buf)) < 0 || !buf[0])
                return -EINVAL;
        if (strcmp(buf, "-1") == 0 || strcmp(buf, "max") == 0) {
                *unlimitedp = true;
                *valuep = CGM_UNLIMITED;
                return 0;
        }
        for (; *p; p++) {
                if (!is_digit(*p) || v > (UINT64_MAX - 9) / 10)
                        return -EINVAL;
                v = v * 10 + (uint64_t)(*p - '0');
        }
        *unlimitedp = false;
        *valuep = v;
        return 0;
}

/* v1 memory-style value: unlimited or >= 2^62 -> "max". */
static int v1_bytes(const char *text, bool *maxp, uint64_t *valuep)
{
        bool unl;
        int r = v1_int(text, &unl, valuep);

        if (r < 0)
                return r;
        *maxp = unl || *valuep >= V1_UNLIMITED_MIN;
        return 0;
}

typedef struct IoDev {
        char dev[24];
        uint64_t val[4]; /* CGM_UNLIMITED: no limit */
} IoDev;

#define IO_DEVS_MAX 16

static int io_v1_collect(const KeyFile *files, IoDev *devs, size_t *n_devs)
{
        size_t n = 0;

        for (int f = 0; f < 4; f++) {
                const char *p = files[f].value;
                const char *end = p + strnlen(p, sizeof(files[f].value));

                while (p < end) {
                        const char *nl = memchr(p, '\n', (size_t)(end - p));
                        const char *le = nl ? nl : end;
                        unsigned long long maj, min;
                        char dev[24];
                        size_t used, i;
                        uint64_t v = 0;
                        const char *q;

                        if (le == p) { /* empty line */
                                p = le + 1;
                                continue;
                        }
                        used = parse_dev(p, &maj, &min);
                        if (used == 0 || p + used >= le || p[used] != ' ')
                                return -EINVAL;
                        q = p + used + 1;
                        if (q >= le)
                                return -EINVAL;
                        for (; q < le; q++) {
                                if (!is_digit(*q) || v > (UINT64_MAX - 9) / 10)
                                        return -EINVAL;
                                v = v * 10 + (uint64_t)(*q - '0');
                        }
                        snprintf(dev, sizeof(dev), "%llu:%llu", maj, min);
                        for (i = 0; i < n; i++)
                                if (strcmp(devs[i].dev, dev) == 0)
                                        break;
                        if (i == n) {
                                if (n == IO_DEVS_MAX)
                                        return -EINVAL;
                                memcpy(devs[n].dev, dev, sizeof(dev));
                                for (int j = 0; j < 4; j++)
                                        devs[n].val[j] = CGM_UNLIMITED;
                                n++;
                        }
                        devs[i].val[f] = v == 0 ? CGM_UNLIMITED : v;
                        p = nl ? nl + 1 : end;
                }
        }
        *n_devs = n;
        return 0;
}

/**
 * key_v1_value() - canonical v2 value from the v1 contents listed by key_v1_reads()
 * @key:        an allowed key with a v1 equivalent
 * @files:      the entries from key_v1_reads() with .value filled (trailing newline allowed)
 * @n_files:    number of entries
 * @canon:      receives the v2 value; io.max gives one "MAJ:MIN rbps=.. wbps=.. riops=..
 *              wiops=.." line per device, separated by '\n', "" when nothing is limited
 * @canon_size: size of @canon
 *
 * Return: 0; -EINVAL when the kernel's text cannot be understood or @n_files does not match;
 * -EOPNOTSUPP for a key without v1 equivalent; -ENOBUFS when @canon is too small.
 */
int key_v1_value(const char *key, const KeyFile *files, size_t n_files, char *canon,
                 size_t canon_size)
{
        KeyFile expect[KEY_V1_FILES_MAX];
        size_t n_expect;
        const KeyDef *k;
        uint64_t v, v2;
        bool m, m2;
        int r;

        if (canon && canon_size > 0)
                canon[0] = '\0';
        if (!canon || canon_size == 0)
                return -ENOBUFS;
        r = key_v1_reads(key, expect, &n_expect);
        if (r < 0)
                return r;
        if (!files || n_files != n_expect)
                return -EINVAL;
        k = key_find(key);

        switch (k->type) {
        case KT_BYTES:
        case KT_HUGETLB:
                r = v1_bytes(files[0].value, &m, &v);
                if (r < 0)
                        return r;
                if (n_files == 1) {
                        if (m)
                                return put(canon, canon_size, "max");
                        return put(canon, canon_size, "%llu", (unsigned long long)v);
                }
                /* memory.swap.max = memsw - memory */
                r = v1_bytes(files[1].value, &m2, &v2);
                if (r < 0)
                        return r;
                if (m2)
                        return put(canon, canon_size, "max");
                if (m)
                        return -EINVAL; /* memory unlimited but memory + swap limited */
                return put(canon, canon_size, "%llu",
                           (unsigned long long)(v2 > v ? v2 - v : 0));
        case KT_CPU_MAX:
                r = v1_int(files[0].value, &m, &v);
                if (r == 0)
                        r = v1_int(files[1].value, &m2, &v2);
                if (r < 0 || m2)
                        return -EINVAL;
                if (m)
                        return put(canon, canon_size, "max %llu", (unsigned long long)v2);
                return put(canon, canon_size, "%llu %llu", (unsigned long long)v,
                           (unsigned long long)v2);
        case KT_USEC:
        case KT_PIDS:
                r = v1_int(files[0].value, &m, &v);
                if (r < 0 || (m && k->type == KT_USEC))
                        return -EINVAL;
                if (m)
                        return put(canon, canon_size, "max");
                return put(canon, canon_size, "%llu", (unsigned long long)v);
        case KT_WEIGHT: {
                uint64_t w;

                r = v1_int(files[0].value, &m, &v);
                if (r < 0 || m)
                        return -EINVAL;
                w = v > UINT64_MAX / 100 ? 10000 : v * 100 / 1024;
                if (w < 1)
                        w = 1;
                if (w > 10000)
                        w = 10000;
                return put(canon, canon_size, "%llu", (unsigned long long)w);
        }
        case KT_IO_WEIGHT: {
                /* "100", or "default 100" followed by per-device lines. */
                char line[64];
                const char *t = files[0].value, *nl = strchr(t, '\n');
                size_t len = nl ? (size_t)(nl - t) : strnlen(t, sizeof(files[0].value));

                if (len >= sizeof(line))
                        return -EINVAL;
                memcpy(line, t, len);
                line[len] = '\0';
                t = strncmp(line, "default ", 8) == 0 ? line + 8 : line;
                r = v1_int(t, &m, &v);
                if (r < 0 || m || v < 1 || v > 10000)
                        return -EINVAL;
                return put(canon, canon_size, "%llu", (unsigned long long)v);
        }
        case KT_IO_MAX: {
                IoDev devs[IO_DEVS_MAX];
                size_t n_devs, o = 0;

                r = io_v1_collect(files, devs, &n_devs);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n_devs; i++) {
                        r = put(canon + o, canon_size - o, "%s%s", i ? "\n" : "", devs[i].dev);
                        if (r < 0)
                                goto nobufs;
                        o += strlen(canon + o);
                        for (int f = 0; f < 4; f++) {
                                if (devs[i].val[f] == CGM_UNLIMITED)
                                        r = put(canon + o, canon_size - o, " %s=max",
                                                io_fields[f]);
                                else
                                        r = put(canon + o, canon_size - o, " %s=%llu",
                                                io_fields[f],
                                                (unsigned long long)devs[i].val[f]);
                                if (r < 0)
                                        goto nobufs;
                                o += strlen(canon + o);
                        }
                }
                return 0;
        nobufs:
                canon[0] = '\0';
                return -ENOBUFS;
        }
        case KT_CPUSET: {
                char buf[sizeof(files[0].value)], why[8];

                if (trimmed(files[0].value, buf, sizeof(buf)) < 0)
                        return -EINVAL;
                r = parse_cpuset(k->name, buf, canon, canon_size, why, sizeof(why));
                return r == -ENOBUFS ? r : r < 0 ? -EINVAL : 0;
        }
        default:
                return -EOPNOTSUPP;
        }
}
