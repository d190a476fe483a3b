/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Daemon logging: syslog, plus stderr in the foreground */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

void log_open(bool to_stderr, bool debug);
void log_close(void);
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A function that takes every line instead of syslog: tests and fuzzers check lines with it. */
typedef void (*LogSink)(int priority, const char *line);
/** log_escape_controls() - @in into @out (size @n) with every control byte as `\xNN` */
void log_escape_controls(const char *in, char *out, size_t n);
/** log_set_sink() - send every line to @sink instead of syslog (NULL: back to syslog) */
void log_set_sink(LogSink sink);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
