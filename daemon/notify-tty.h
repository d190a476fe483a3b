/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OOM notices on a login session's terminal */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "context.h"
#include "protocol.h"

/* At most one notice per session this often; the kills in between are counted into the next. */
#define NOTIFY_TTY_INTERVAL_NS (10ULL * 1000000000ULL)
/* At most this many notices per second on the whole host (a mass OOM must not turn cgmd's
 * loop into a terminal writer); the sessions left out count theirs for later. */
#define NOTIFY_TTY_PER_SECOND 20

/* OpenSSH opens the PAM session before it allocates the session's pty, with PAM_TTY "ssh".
 * Such a session's terminal is found when a notice is due: the controlling terminal (a pty)
 * of a process in the session's leaf. */
#define NOTIFY_TTY_REMOTE "ssh"

typedef struct NotifyTty NotifyTty;

/**
 * notify_tty_name_ok() - is @tty a plain terminal name: `pts/N`, `ttyN`, `ttyS0`, `ttyUSB0`
 * (letters then digits after "tty"), each also with a `/dev/` prefix; or `ssh`
 * (NOTIFY_TTY_REMOTE)?
 * @namep: set to the name without the prefix (a pointer into @tty)
 *
 * Anything else (":0", "", "/dev/tty", "pts/../x", control bytes) is no terminal.
 */
bool notify_tty_name_ok(const char *tty, const char **namep);

/**
 * notify_tty_init() - open /dev (O_PATH) and /dev/kmsg (read, non-blocking, at its end) for the
 * notices; before the capabilities are dropped. Never fails the daemon: without kmsg the
 * notice names no process, without /dev there is none.
 */
void notify_tty_init(Manager *m);
void notify_tty_deinit(Manager *m);

/**
 * notify_tty_session_start() - listen for OOM kills in @s's leaf (and below) when it has a
 * terminal; notify_tty_session_stop() before @s is freed
 */
void notify_tty_session_start(Manager *m, Session *s);
void notify_tty_session_stop(Manager *m, Session *s);

/* One `oom-kill:` line of the kernel log (mm/oom_kill.c dump_oom_summary()), parsed. */
typedef struct OomRecord {
        bool global;      /* global_oom: the whole system, not a memory cgroup's limit */
        pid_t pid;
        uid_t uid;
        char comm[64];    /* as kmsg wrote it (the kernel's \xNN escapes kept) */
        char oom_memcg[CGM_PATH_MAX + 1100];  /* the cgroup whose limit was reached ("" global) */
        char task_memcg[CGM_PATH_MAX + 1100]; /* the killed task's, in the memory hierarchy */
} OomRecord;

/**
 * notify_tty_parse_oom() - parse the message of one kmsg record (the text after `;`, up to
 * the newline); the kernel's own fields are read from the right (uid, pid), since the task's
 * name and the cgroup names are a user's text. Return: 0, or -EINVAL when it is no oom-kill
 * line.
 */
int notify_tty_parse_oom(const char *msg, size_t len, OomRecord *out);

/**
 * notify_tty_sanitize() - @s made safe for a terminal: invalid UTF-8, C0 and C1 controls and
 * DEL as `\xNN`; into @buf of @n bytes (cut at a character), returns @buf
 */
const char *notify_tty_sanitize(const char *s, char *buf, size_t n);
