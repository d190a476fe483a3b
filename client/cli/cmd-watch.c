/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgm watch: print the events of a cgroup as they happen */

/*
 * One subscription (cgm_subscribe()), one line per event on stdout, line-buffered so that a
 * pipe (`cgm watch | grep oom`) sees each line when it happens. The time is when cgm received
 * the event, in local time with its offset and milliseconds, so that lines from two machines
 * or two time zones still compare.
 *
 * `removed` is always part of the subscription, also when --kinds leaves it out, and is
 * always printed: it is why watch ends (exit 0). A daemon that goes away ends it with exit 10,
 * after every event that arrived before. Other exits are those of every command (cli.h): the
 * cgroup does not exist (4), belongs to someone else (3), a kind this host cannot report (8,
 * with the daemon's sentence saying why).
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "json.h"

/* More names than kinds exist is a mistake; the daemon refuses unknown names itself. */
#define WATCH_KINDS_MAX 16

/* Kinds that carry a counter's increase and new total; "lost" carries a count only. */
static bool kind_is_counter(const char *kind)
{
        static const char *const counters[] = { "oom",        "oom_kill", "memory_high",
                                                "memory_max", "pids_max", NULL };

        for (size_t i = 0; counters[i]; i++)
                if (strcmp(kind, counters[i]) == 0)
                        return true;
        return false;
}

/* "2026-12-06T14:03:22.123+00:00": ISO 8601, local time, milliseconds. */
static void format_now(char *buf, size_t size)
{
        struct timespec ts;
        struct tm tm;
        char date[32], zone[8];

        clock_gettime(CLOCK_REALTIME, &ts);
        if (!localtime_r(&ts.tv_sec, &tm) ||
            strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0 ||
            strftime(zone, sizeof(zone), "%z", &tm) != 5) {
                snprintf(buf, size, "%lld.%03ld", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
                return;
        }
        snprintf(buf, size, "%s.%03ld%.3s:%.2s", date, ts.tv_nsec / 1000000, zone, zone + 3);
}

/* A path on one line: control characters (a cgroup name may hold a newline) as \xNN. */
static void print_path(FILE *f, const char *s)
{
        if (!s[0]) {
                fputc('-', f);
                return;
        }
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;

                if (c < 0x20 || c == 0x7f || c == '\\')
                        fprintf(f, "\\x%02x", c);
                else
                        fputc(c, f);
        }
}

static void print_event(const Cli *cli, const cgm_event *ev)
{
        char now[64];

        format_now(now, sizeof(now));
        if (cli->json) {
                printf("{\"time\":\"%s\",\"id\":%u,\"path\":", now, (unsigned)ev->id);
                json_string(stdout, ev->path);
                fputs(",\"kind\":", stdout);
                json_string(stdout, ev->kind);
                printf(",\"count\":%llu,\"total\":%llu}\n", (unsigned long long)ev->count,
                       (unsigned long long)ev->total);
                return;
        }
        printf("%s ", now);
        print_path(stdout, ev->path);
        printf(" %s", ev->kind);
        if (kind_is_counter(ev->kind))
                printf(" count=%llu total=%llu", (unsigned long long)ev->count,
                       (unsigned long long)ev->total);
        else if (strcmp(ev->kind, "lost") == 0)
                printf(" count=%llu", (unsigned long long)ev->count);
        fputc('\n', stdout);
}

/*
 * Split "a,b,c" into @kinds (pointing into @list, which is modified), with "removed" added
 * when missing (*@added_removedp). Return: 0, or a usage error's exit code.
 */
static int parse_kinds(const Cli *cli, char *list, const char **kinds, bool *added_removedp)
{
        size_t n = 0;
        bool has_removed = false;

        for (char *save = NULL, *k = strtok_r(list, ",", &save); k;
             k = strtok_r(NULL, ",", &save)) {
                if (n >= WATCH_KINDS_MAX - 1)
                        return cli_usage_error(cli, "more than %d kinds in --kinds",
                                               WATCH_KINDS_MAX - 2);
                has_removed |= strcmp(k, "removed") == 0;
                kinds[n++] = k;
        }
        if (n == 0)
                return cli_usage_error(cli, "--kinds needs at least one kind, e.g. "
                                            "--kinds oom_kill,pids_max");
        if (!has_removed)
                kinds[n++] = "removed";
        kinds[n] = NULL;
        *added_removedp = !has_removed;
        return 0;
}

int cmd_watch(Cli *cli, int argc, char **argv)
{
        static const struct option options[] = {
                { "kinds", required_argument, NULL, 'k' },
                { "quiet", no_argument, NULL, 'q' },
                {},
        };
        _cleanup_(cgm_freep) cgm *h = NULL;
        _cleanup_free_ char *list = NULL;
        const char *kinds[WATCH_KINDS_MAX + 1] = {};
        const char *path = "";
        bool added_removed = false, quiet = false;
        uint32_t id;
        int code, opt, r, fd;

        while ((opt = cli_getopt(cli, argc, argv, "k:q", options, &code)) != -1) {
                if (opt == CLI_OPT_STOP)
                        return code;
                if (opt == 'q')
                        quiet = true;
                if (opt == 'k') {
                        free(list);
                        list = strdup(optarg);
                        if (!list) {
                                cli_warn(cli, "out of memory");
                                return CLI_EXIT_FAILURE;
                        }
                }
        }
        if (optind < argc)
                path = argv[optind++];
        if (optind < argc)
                return cli_usage_error(cli, "unexpected argument `%s`", argv[optind]);
        if (list) {
                code = parse_kinds(cli, list, kinds, &added_removed);
                if (code)
                        return code;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);

        code = cli_connect(cli, &h);
        if (code)
                return code;
        r = cgm_subscribe(h, path, list ? kinds : NULL, &id);
        if (r == -EOPNOTSUPP && added_removed) {
                /* A host that cannot tell removal: watch what was asked, until interrupted. */
                for (size_t i = 0; kinds[i]; i++)
                        if (!kinds[i + 1])
                                kinds[i] = NULL;
                r = cgm_subscribe(h, path, kinds, &id);
        }
        if (r < 0)
                return cli_fail(cli, h, r, path);
        fd = cgm_event_fd(h);
        if (fd < 0)
                return cli_fail(cli, h, fd, path);
        /* As inotifywait does: say on stderr once the subscription is in place, so that a
         * script (or a person) knows that what happens from now on will be seen. */
        if (!quiet) {
                _cleanup_free_ char *abs = NULL;

                code = cli_absolute_path(cli, h, path, &abs);
                if (code)
                        return code;
                fputs("Watching ", stderr);
                print_path(stderr, abs);
                fputs(".\n", stderr);
        }

        for (;;) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                cgm_event ev;

                while ((r = cgm_event_next(h, &ev)) == 0) {
                        bool done = ev.id == id && strcmp(ev.kind, "removed") == 0;

                        print_event(cli, &ev);
                        cgm_event_clear(&ev);
                        if (done)
                                return CLI_EXIT_OK;
                }
                if (r != -EAGAIN)
                        return cli_fail(cli, h, r, path);
                if (ferror(stdout))
                        return CLI_EXIT_FAILURE; /* main() reports it */
                if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
                        cli_warn(cli, "poll: %s", strerror(errno));
                        return CLI_EXIT_FAILURE;
                }
        }
}
