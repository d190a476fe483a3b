/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgm top: a live view of a subtree's CPU, memory, pids and io, and its batch mode */

/*
 * Each snapshot is one recursive List of the subtree, then one Stat and one Get of memory.max
 * per cgroup, all through libcgm, which answers them from cgroupfs itself where it may
 * (client/direct.c): a refresh costs the daemon nothing on a host where direct reads work.
 * A Get asks for memory.max alone and a failure is taken as "no memory controller here", as
 * `tree` does with its keys.
 *
 * Rates (CPU %, io bytes per second) are the difference of two samples of the same cgroup
 * over the monotonic time between them; 100 % is one CPU busy for the whole interval. The
 * first snapshot needs an earlier sample, so one is taken silently a quarter of a second (or
 * the delay, if shorter) before it: even `-b -n 1` shows rates. A cgroup that appeared since
 * the last sample, or whose counter went backwards (removed and made again under the same
 * name), has no rate yet: "-" in the table, null in JSON.
 *
 * The live screen is plain ANSI (clear and home, then the rows that fit the window), with the
 * terminal put in non-canonical mode so that a single `q` quits; Ctrl-C, SIGTERM and SIGHUP
 * quit too, and the terminal is restored on every way out. No curses: the project links only
 * libdbus, libpam and libcap, and an ssh session with TERM=dumb still gets a usable view.
 * Batch mode (-b) prints N snapshots and never touches the terminal; --json prints one JSON
 * document per snapshot, each on one line, with the kernel's numbers.
 */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "units.h"

#define TOP_PRIME_MS 250
#define TOP_DELAY_MIN_MS 100
#define TOP_DELAY_MAX_MS 3600000

typedef enum TopSort {
        SORT_CPU,
        SORT_MEM,
        SORT_PIDS,
        SORT_IO,
        SORT_PATH,
} TopSort;

typedef struct TopRow {
        char *path; /* absolute, as the caller sees it */
        size_t depth;
        bool has_cpu, has_mem, has_mem_max, has_pids, has_io;
        uint64_t cpu_usec, mem, mem_max, pids, pids_max, io_r, io_w;
        /* Rates against the previous sample, when there was one. */
        bool has_cpu_rate, has_io_rate;
        double cpu_percent, io_r_rate, io_w_rate;
} TopRow;

typedef struct TopSample {
        TopRow *rows; /* in cli_path_compare() order */
        size_t n;
        struct timespec when; /* CLOCK_MONOTONIC */
} TopSample;

typedef struct Top {
        Cli *cli;
        cgm *h;
        const char *path; /* as given, for messages */
        char *root;       /* absolute */
        size_t depth_max; /* SIZE_MAX: no limit */
        TopSort sort;
        bool batch;
        unsigned long long iterations; /* 0: until q */
        unsigned delay_ms;
        bool human;
} Top;

static volatile sig_atomic_t top_quit;

static void on_quit_signal(int sig)
{
        (void)sig;
        top_quit = 1;
}

static void sample_clear(TopSample *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->rows[i].path);
        free(s->rows);
        *s = (TopSample){};
}

static size_t count_slashes(const char *s)
{
        size_t n = 0;

        for (; *s; s++)
                n += *s == '/';
        return n;
}

static int row_compare_path(const void *a, const void *b)
{
        const TopRow *x = a, *y = b;

        return cli_path_compare(&x->path, &y->path);
}

static const TopRow *sample_find(const TopSample *s, const char *path)
{
        TopRow key = { .path = (char *)path };

        if (!s->rows)
                return NULL;
        return bsearch(&key, s->rows, s->n, sizeof(*s->rows), row_compare_path);
}

static void row_fill(TopRow *row, const cgm_counter *c, size_t n)
{
        bool have_r = false, have_w = false;

        row->pids_max = CGM_UNLIMITED; /* Stat leaves pids.max out when it is max */
        for (size_t i = 0; i < n; i++) {
                if (strcmp(c[i].name, "cpu.usage_usec") == 0) {
                        row->has_cpu = true;
                        row->cpu_usec = c[i].value;
                } else if (strcmp(c[i].name, "memory.current") == 0) {
                        row->has_mem = true;
                        row->mem = c[i].value;
                } else if (strcmp(c[i].name, "pids.current") == 0) {
                        row->has_pids = true;
                        row->pids = c[i].value;
                } else if (strcmp(c[i].name, "pids.max") == 0) {
                        row->pids_max = c[i].value;
                } else if (strcmp(c[i].name, "io.rbytes") == 0) {
                        have_r = true;
                        row->io_r = c[i].value;
                } else if (strcmp(c[i].name, "io.wbytes") == 0) {
                        have_w = true;
                        row->io_w = c[i].value;
                }
        }
        row->has_io = have_r && have_w;
}

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
        return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void row_rates(TopRow *row, const TopRow *prev, double seconds)
{
        if (!prev || seconds <= 0)
                return;
        if (row->has_cpu && prev->has_cpu && row->cpu_usec >= prev->cpu_usec) {
                row->has_cpu_rate = true;
                row->cpu_percent = (double)(row->cpu_usec - prev->cpu_usec) / 1e4 / seconds;
        }
        if (row->has_io && prev->has_io && row->io_r >= prev->io_r && row->io_w >= prev->io_w) {
                row->has_io_rate = true;
                row->io_r_rate = (double)(row->io_r - prev->io_r) / seconds;
                row->io_w_rate = (double)(row->io_w - prev->io_w) / seconds;
        }
}

/* Stat and memory.max of one cgroup. Return: 0, or the failure of Stat (NotFound: it is
 * gone), or that of Get when the daemon went away. */
static int row_read(Top *top, TopRow *row)
{
        static const char *const keys[] = { "memory.max", NULL };
        cgm_counter *counters = NULL;
        cgm_kv *values = NULL;
        size_t n = 0;
        int r;

        r = cgm_stat(top->h, row->path, &counters, &n);
        if (r < 0)
                return r;
        row_fill(row, counters, n);
        cgm_counters_free(counters, n);

        n = 0;
        r = cgm_get(top->h, row->path, keys, &values, &n);
        if (r >= 0 && n == 1) {
                unsigned long long v;

                if (strcmp(values[0].value, "max") == 0) {
                        row->has_mem_max = true;
                        row->mem_max = CGM_UNLIMITED;
                } else if (cli_parse_uint(values[0].value, UINT64_MAX - 1, &v) == 0) {
                        row->has_mem_max = true;
                        row->mem_max = v;
                }
        }
        cgm_kv_free(values, n);
        /* Only a daemon gone away matters here: no memory.max is not an error. */
        if (r < 0 && cli_exit_code(top->h, r) == CLI_EXIT_UNREACHABLE)
                return r;
        return 0;
}

/*
 * One sample of the subtree into @s, rates against @prev. Return: 0, or an exit code after
 * the failure has been reported.
 */
static int top_sample(Top *top, const TopSample *prev, TopSample *s)
{
        _cleanup_strv_ char **paths = NULL;
        size_t n_paths = 0, root_len = strcmp(top->root, "/") == 0 ? 0 : strlen(top->root);
        double seconds;
        int r;

        r = cgm_list(top->h, top->root, true, &paths);
        if (r < 0)
                return cli_fail(top->cli, top->h, r, top->path);
        while (paths[n_paths])
                n_paths++;
        s->rows = calloc(n_paths + 1, sizeof(*s->rows));
        if (!s->rows) {
                cli_warn(top->cli, "out of memory");
                return CLI_EXIT_FAILURE;
        }
        s->rows[s->n++] = (TopRow){ .path = strdup(top->root), .depth = 0 };
        for (size_t i = 0; i < n_paths; i++) {
                size_t depth;

                if (strncmp(paths[i], top->root, root_len) != 0 || paths[i][root_len] != '/')
                        continue;
                depth = count_slashes(paths[i] + root_len);
                if (depth > top->depth_max)
                        continue;
                s->rows[s->n++] = (TopRow){ .path = strdup(paths[i]), .depth = depth };
        }
        for (size_t i = 0; i < s->n; i++)
                if (!s->rows[i].path) {
                        cli_warn(top->cli, "out of memory");
                        return CLI_EXIT_FAILURE;
                }

        for (size_t i = 0; i < s->n;) {
                r = row_read(top, &s->rows[i]);
                if (r < 0 && i > 0 && cli_exit_code(top->h, r) == CLI_EXIT_NOT_FOUND) {
                        /* Removed since the List: drop the row. */
                        free(s->rows[i].path);
                        s->rows[i] = s->rows[--s->n];
                        continue;
                }
                if (r < 0)
                        return cli_fail(top->cli, top->h, r, i == 0 ? top->path : s->rows[i].path);
                i++;
        }
        clock_gettime(CLOCK_MONOTONIC, &s->when);
        qsort(s->rows, s->n, sizeof(*s->rows), row_compare_path);

        seconds = prev && prev->rows ? seconds_between(&prev->when, &s->when) : 0;
        for (size_t i = 0; i < s->n && prev; i++)
                row_rates(&s->rows[i], sample_find(prev, s->rows[i].path), seconds);
        return 0;
}

/* Descending by the key, then in path order; rows without the value sink to the bottom. */
static TopSort sort_key;

static int sort_value(const TopRow *r, double *v)
{
        switch (sort_key) {
        case SORT_CPU:
                *v = r->cpu_percent;
                return r->has_cpu_rate;
        case SORT_MEM:
                *v = (double)r->mem;
                return r->has_mem;
        case SORT_PIDS:
                *v = (double)r->pids;
                return r->has_pids;
        case SORT_IO:
                *v = r->io_r_rate + r->io_w_rate;
                return r->has_io_rate;
        case SORT_PATH:
                break;
        }
        *v = 0;
        return 0;
}

static int row_compare_sort(const void *a, const void *b)
{
        const TopRow *x = *(const TopRow *const *)a, *y = *(const TopRow *const *)b;
        double vx, vy;
        int hx = sort_value(x, &vx), hy = sort_value(y, &vy);

        if (hx != hy)
                return hy - hx;
        if (vx != vy)
                return vx < vy ? 1 : -1;
        return cli_path_compare(&x->path, &y->path);
}

static void format_time(char *buf, size_t n)
{
        struct timespec now;
        struct tm tm;
        char date[32], zone[8];

        clock_gettime(CLOCK_REALTIME, &now);
        localtime_r(&now.tv_sec, &tm);
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
        strftime(zone, sizeof(zone), "%z", &tm);
        /* +HHMM -> +HH:MM, as ISO 8601 and `cgm watch` write it */
        snprintf(buf, n, "%s.%03ld%.3s:%.2s", date, now.tv_nsec / 1000000, zone, zone + 3);
}

static void json_number_or_null(bool has, uint64_t v)
{
        if (has)
                printf("%" PRIu64, v);
        else
                fputs("null", stdout);
}

static void json_limit(bool has, uint64_t v)
{
        if (!has)
                fputs("null", stdout);
        else if (v == CGM_UNLIMITED)
                fputs("\"max\"", stdout);
        else
                printf("%" PRIu64, v);
}

static void json_rate(bool has, double v)
{
        if (has)
                printf("%.1f", v);
        else
                fputs("null", stdout);
}

static void print_json(const Top *top, const TopSample *s, TopRow *const *order, double interval)
{
        char when[48];

        format_time(when, sizeof(when));
        printf("{\"time\":\"%s\",\"interval\":%.3f,\"path\":", when, interval);
        json_string(stdout, top->root);
        printf(",\"cgroups\":[");
        for (size_t i = 0; i < s->n; i++) {
                const TopRow *r = order[i];

                printf("%s{\"path\":", i ? "," : "");
                json_string(stdout, r->path);
                printf(",\"depth\":%zu,\"cpu_percent\":", r->depth);
                json_rate(r->has_cpu_rate, r->cpu_percent);
                printf(",\"cpu_usage_usec\":");
                json_number_or_null(r->has_cpu, r->cpu_usec);
                printf(",\"memory_current\":");
                json_number_or_null(r->has_mem, r->mem);
                printf(",\"memory_max\":");
                json_limit(r->has_mem_max, r->mem_max);
                printf(",\"pids_current\":");
                json_number_or_null(r->has_pids, r->pids);
                printf(",\"pids_max\":");
                json_limit(r->has_pids, r->pids_max);
                printf(",\"io_read_bps\":");
                json_rate(r->has_io_rate, r->io_r_rate);
                printf(",\"io_write_bps\":");
                json_rate(r->has_io_rate, r->io_w_rate);
                putchar('}');
        }
        printf("]}\n");
}

static void cell_bytes(const Top *top, bool has, uint64_t v, char *buf, size_t n)
{
        if (!has)
                snprintf(buf, n, "-");
        else if (top->human)
                cgm_format_bytes_short(v, buf, n);
        else if (v == CGM_UNLIMITED)
                snprintf(buf, n, "max");
        else
                snprintf(buf, n, "%" PRIu64, v);
}

static void cell_count(bool has, uint64_t v, char *buf, size_t n)
{
        if (!has)
                snprintf(buf, n, "-");
        else if (v == CGM_UNLIMITED)
                snprintf(buf, n, "max");
        else
                snprintf(buf, n, "%" PRIu64, v);
}

static void cell_rate(const Top *top, bool has, double v, char *buf, size_t n)
{
        if (!has)
                snprintf(buf, n, "-");
        else if (top->human)
                cgm_format_bytes_short((uint64_t)(v + 0.5), buf, n);
        else
                snprintf(buf, n, "%.0f", v);
}

/* At most @room bytes of @s, control characters as '?': List returns only valid names (cgread.c
 * skips the others), but nothing from cgroupfs reaches the terminal unfiltered. */
static void print_name(const char *s, int room)
{
        for (int i = 0; s[i] && (room < 0 || i < room); i++)
                putchar((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i]);
        putchar('\n');
}

/* The path of a row below the root: relative to it, indented by depth when in tree order. */
static void print_row(const Top *top, const TopRow *r, int width)
{
        char cpu[16], mem[24], mem_max[24], pids[24], pids_max[24], rd[24], wr[24];
        const char *name = r->depth == 0 ? r->path : r->path + strlen(top->root) + 1;
        int used, indent = 0;

        if (strcmp(top->root, "/") == 0 && r->depth > 0)
                name = r->path + 1;
        if (r->has_cpu_rate)
                snprintf(cpu, sizeof(cpu), "%.1f", r->cpu_percent);
        else
                snprintf(cpu, sizeof(cpu), "-");
        cell_bytes(top, r->has_mem, r->mem, mem, sizeof(mem));
        cell_bytes(top, r->has_mem_max, r->mem_max, mem_max, sizeof(mem_max));
        cell_count(r->has_pids, r->pids, pids, sizeof(pids));
        cell_count(r->has_pids, r->pids_max, pids_max, sizeof(pids_max));
        cell_rate(top, r->has_io_rate, r->io_r_rate, rd, sizeof(rd));
        cell_rate(top, r->has_io_rate, r->io_w_rate, wr, sizeof(wr));
        used = printf("%6s %7s %7s %6s %6s %7s %7s  ", cpu, mem, mem_max, pids, pids_max, rd, wr);
        if (top->sort == SORT_PATH && r->depth > 0) {
                indent = 2 * (int)(r->depth - 1);
                name = strrchr(r->path, '/') + 1;
        }
        /* On the live screen a row never wraps: the path is cut at the window's edge. */
        printf("%*s", indent, "");
        print_name(name, width > 0 ? (width - used - indent > 0 ? width - used - indent : 0) : -1);
}

static const char *sort_name(TopSort s)
{
        static const char *const names[] = { "cpu", "mem", "pids", "io", "path" };

        return names[s];
}

static void print_table(const Top *top, const TopSample *s, TopRow *const *order, int width,
                        int height)
{
        char when[48], header[1400];
        size_t rows = s->n;

        format_time(when, sizeof(when));
        snprintf(header, sizeof(header), "cgm top%s - %s - %s: %zu cgroup%s, sorted by %s",
                 top->batch ? "" : " (q quits)", when, top->root, s->n, s->n == 1 ? "" : "s",
                 sort_name(top->sort));
        print_name(header, width > 0 ? width : -1);
        printf("%6s %7s %7s %6s %6s %7s %7s  %s\n", "CPU%", "MEM", "MEMMAX", "PIDS", "PIDMAX",
               "READ/s", "WRITE/s", "PATH");
        /* Header, column names and rows end in a newline each, so at most height - 1 lines
         * keep the header on screen; when rows are left out, one line says how many. */
        if (height > 0 && rows > (size_t)(height > 3 ? height - 3 : 0))
                rows = height > 4 ? (size_t)(height - 4) : 0;
        for (size_t i = 0; i < rows; i++)
                print_row(top, order[i], width);
        if (rows < s->n)
                printf("(%zu more)\n", s->n - rows);
}

static void print_snapshot(const Top *top, const TopSample *s, double interval, bool screen)
{
        _cleanup_free_ TopRow **order = calloc(s->n + 1, sizeof(*order));
        struct winsize ws = {};
        int width = 0, height = 0;

        if (!order)
                return;
        for (size_t i = 0; i < s->n; i++)
                order[i] = &s->rows[i];
        sort_key = top->sort;
        if (top->sort != SORT_PATH)
                qsort(order, s->n, sizeof(*order), row_compare_sort);
        if (top->cli->json) {
                print_json(top, s, order, interval);
                return;
        }
        if (screen) {
                if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
                        width = ws.ws_col;
                        height = ws.ws_row;
                } else {
                        width = 80;
                        height = 24;
                }
                fputs("\033[H\033[2J", stdout);
        }
        print_table(top, s, order, width, height);
        if (!screen && top->batch)
                putchar('\n');
}

/*
 * Wait @ms, or less when `q` is typed or a quit signal comes. Return: true to go on.
 */
static bool top_wait(unsigned ms, bool keys)
{
        struct timespec start, now;

        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
                long left;
                int r;

                if (top_quit)
                        return false;
                clock_gettime(CLOCK_MONOTONIC, &now);
                left = (long)ms - (long)(seconds_between(&start, &now) * 1000);
                if (left <= 0)
                        return true;
                r = poll(&p, keys ? 1 : 0, (int)left);
                if (r > 0 && (p.revents & POLLIN)) {
                        char c[16];
                        ssize_t n = read(STDIN_FILENO, c, sizeof(c));

                        if (n == 0)
                                keys = false; /* end of input: time alone decides */
                        for (ssize_t i = 0; i < n; i++)
                                if (c[i] == 'q' || c[i] == 'Q')
                                        return false;
                } else if (r > 0) {
                        keys = false; /* POLLHUP and the like */
                }
        }
}

static int parse_delay(const char *s, unsigned *msp)
{
        unsigned long long whole = 0, frac = 0, scale = 1;
        const char *p = s;

        if (*p < '0' || *p > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++)
                if ((whole = whole * 10 + (unsigned long long)(*p - '0')) > TOP_DELAY_MAX_MS)
                        return -ERANGE;
        if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                for (; *p >= '0' && *p <= '9'; p++)
                        if (scale < 1000) {
                                frac = frac * 10 + (unsigned long long)(*p - '0');
                                scale *= 10;
                        }
        }
        if (*p)
                return -EINVAL;
        whole = whole * 1000 + frac * 1000 / scale;
        if (whole < TOP_DELAY_MIN_MS || whole > TOP_DELAY_MAX_MS)
                return -ERANGE;
        *msp = (unsigned)whole;
        return 0;
}

static int parse_sort(const char *s, TopSort *sortp)
{
        static const struct {
                const char *name;
                TopSort sort;
        } names[] = {
                { "cpu", SORT_CPU },       { "mem", SORT_MEM },   { "memory", SORT_MEM },
                { "pids", SORT_PIDS },     { "io", SORT_IO },     { "path", SORT_PATH },
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcmp(s, names[i].name) == 0) {
                        *sortp = names[i].sort;
                        return 0;
                }
        return -EINVAL;
}

/* The live loop on a terminal: raw keys, the screen redrawn each refresh, all restored. */
static int top_run(Top *top, bool screen)
{
        struct sigaction sa = { .sa_handler = on_quit_signal }, old_int, old_term, old_hup;
        struct termios saved, raw;
        bool keys = false;
        TopSample prev = {}, cur = {};
        struct timespec t0;
        int code = 0;

        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        sigaction(SIGHUP, &sa, &old_hup);
        if (screen && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
                raw = saved;
                raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
                raw.c_cc[VMIN] = 0;
                raw.c_cc[VTIME] = 0;
                keys = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
        }
        if (screen)
                fputs("\033[?25l", stdout); /* hide the cursor while redrawing */

        /* The silent first sample that the first snapshot's rates are measured against. */
        code = top_sample(top, NULL, &prev);
        if (code == 0 && top_wait(top->delay_ms < TOP_PRIME_MS ? top->delay_ms : TOP_PRIME_MS,
                                  keys && screen)) {
                for (unsigned long long i = 0; !top->iterations || i < top->iterations; i++) {
                        if (i > 0 && !top_wait(top->delay_ms, keys && screen))
                                break;
                        t0 = prev.when;
                        code = top_sample(top, &prev, &cur);
                        if (code)
                                break;
                        print_snapshot(top, &cur, seconds_between(&t0, &cur.when), screen);
                        if (fflush(stdout) != 0 || ferror(stdout)) {
                                code = CLI_EXIT_FAILURE;
                                break;
                        }
                        sample_clear(&prev);
                        prev = cur;
                        cur = (TopSample){};
                }
        }
        sample_clear(&prev);
        sample_clear(&cur);

        if (screen)
                fputs("\033[?25h", stdout);
        if (keys)
                tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        return code;
}

int cmd_top(Cli *cli, int argc, char **argv)
{
        static const struct option options[] = {
                { "batch", no_argument, NULL, 'b' },
                { "iterations", required_argument, NULL, 'n' },
                { "delay", required_argument, NULL, 'd' },
                { "sort", required_argument, NULL, 's' },
                { "depth", required_argument, NULL, 'D' },
                {},
        };
        _cleanup_(cgm_freep) cgm *h = NULL;
        _cleanup_free_ char *root = NULL;
        Top top = { .cli = cli, .path = "", .depth_max = SIZE_MAX, .delay_ms = 1000 };
        bool iterations_given = false, screen;
        unsigned long long v;
        int code, opt;

        while ((opt = cli_getopt(cli, argc, argv, "bn:d:s:", options, &code)) != -1) {
                switch (opt) {
                case CLI_OPT_STOP:
                        return code;
                case 'b':
                        top.batch = true;
                        break;
                case 'n':
                        if (cli_parse_uint(optarg, 1000000000, &v) < 0 || v == 0)
                                return cli_usage_error(cli, "-n wants a number of snapshots "
                                                            "from 1, not `%s`",
                                                       optarg);
                        top.iterations = v;
                        iterations_given = true;
                        break;
                case 'd':
                        if (parse_delay(optarg, &top.delay_ms) < 0)
                                return cli_usage_error(cli, "-d wants seconds from 0.1 to 3600, "
                                                            "not `%s`",
                                                       optarg);
                        break;
                case 's':
                        if (parse_sort(optarg, &top.sort) < 0)
                                return cli_usage_error(cli, "unknown sort key `%s`: cpu, mem, "
                                                            "pids, io or path",
                                                       optarg);
                        break;
                case 'D':
                        if (cli_parse_uint(optarg, 1000, &v) < 0)
                                return cli_usage_error(cli, "--depth wants a number of levels, "
                                                            "not `%s`",
                                                       optarg);
                        top.depth_max = (size_t)v;
                        break;
                }
        }
        if (optind < argc)
                top.path = argv[optind++];
        if (optind < argc)
                return cli_usage_error(cli, "unexpected argument `%s`", argv[optind]);

        /* The live screen only on a terminal and without --json; else snapshots on stdout. */
        screen = !top.batch && !cli->json && isatty(STDOUT_FILENO);
        if (!screen)
                top.batch = true;
        if (top.batch && !iterations_given)
                top.iterations = 1;
        top.human = cli_human(cli);

        code = cli_connect(cli, &h);
        if (code)
                return code;
        top.h = h;
        code = cli_absolute_path(cli, h, top.path, &root);
        if (code)
                return code;
        top.root = root;
        /* A frame goes out in one write, so that a slow link (ssh) never shows half of one;
         * snapshots on a pipe go out as they are made. */
        if (screen)
                setvbuf(stdout, NULL, _IOFBF, 1 << 16);
        else
                setvbuf(stdout, NULL, _IOLBF, 0);
        return top_run(&top, screen);
}
