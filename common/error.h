/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Request errors: a negative errno, a D-Bus error name and a sentence for the user */
#pragma once

#include <stddef.h>

typedef struct CgmError {
        int code;         /* negative errno */
        const char *name; /* D-Bus error name (CGM_ERR_*), static */
        char msg[320];
} CgmError;

#define CGM_ERROR_NULL                                                                             \
        {                                                                                          \
                .code = 0, .name = NULL, .msg = ""                                                 \
        }

/**
 * cgm_error_set() - record a failure
 * @e:    error to fill, may be NULL
 * @code: negative errno
 * @name: D-Bus error name, or NULL to derive it from @code
 * @fmt:  printf format of the message
 *
 * Return: @code, so that `return cgm_error_set(e, -EACCES, ...);` reads naturally.
 */
int cgm_error_set(CgmError *e, int code, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/** cgm_error_prefix() - put context in front of an existing message; returns e->code */
int cgm_error_prefix(CgmError *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** cgm_error_name_to_errno() - errno (positive) for a D-Bus error name; EIO when unknown */
int cgm_error_name_to_errno(const char *name);

/** cgm_errno_to_error_name() - default D-Bus error name for a negative or positive errno */
const char *cgm_errno_to_error_name(int code);
