/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Daemon logging: syslog, plus stderr in the foreground */
#pragma once

#include <stdbool.h>
#include <syslog.h>

void log_open(bool to_stderr, bool debug);
void log_close(void);
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
