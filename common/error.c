/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Request errors: filling a CgmError and the D-Bus error name <-> errno table */

/*
 * A request that fails carries three things back to the caller: a negative errno (what the
 * library returns), a D-Bus error name (what travels on the wire) and one sentence that says
 * what was refused and why. The daemon fills them with cgm_error_set() at the place where the
 * decision is taken and may add context on the way out with cgm_error_prefix(); the
 * dispatcher turns the result into a D-Bus error in one place.
 *
 * The table below is the single mapping between the two vocabularies. It is used in both
 * directions: the daemon derives a default name from an errno, and libcgm recovers the errno
 * from the name it received. Several errnos share a name (EPERM and EACCES are both
 * PermissionDenied) and several names share an errno (the three "invalid" names are all
 * EINVAL), so the two directions are separate lists rather than one inverted table.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "error.h"
#include "protocol.h"

typedef struct ErrorName {
        const char *name;
        int errnum; /* positive */
} ErrorName;

/* D-Bus error name -> errno, as libcgm reports it. */
static const ErrorName name_to_errno[] = {
        { CGM_ERR_PERMISSION_DENIED, EACCES }, { CGM_ERR_NOT_FOUND, ENOENT },
        { CGM_ERR_INVALID_NAME, EINVAL },      { CGM_ERR_INVALID_VALUE, EINVAL },
        { CGM_ERR_INVALID_ARGS, EINVAL },      { CGM_ERR_EXISTS, EEXIST },
        { CGM_ERR_BUSY, EBUSY },               { CGM_ERR_LIMIT_EXCEEDED, EDQUOT },
        { CGM_ERR_NOT_SUPPORTED, EOPNOTSUPP }, { CGM_ERR_NO_PROCESS, ESRCH },
        { CGM_ERR_FAILED, EIO },
};

/* errno -> default D-Bus error name, when the code that failed did not pick one. */
static const ErrorName errno_to_name[] = {
        { CGM_ERR_PERMISSION_DENIED, EACCES }, { CGM_ERR_PERMISSION_DENIED, EPERM },
        { CGM_ERR_NOT_FOUND, ENOENT },         { CGM_ERR_INVALID_ARGS, EINVAL },
        { CGM_ERR_INVALID_VALUE, ERANGE },     { CGM_ERR_EXISTS, EEXIST },
        { CGM_ERR_BUSY, EBUSY },               { CGM_ERR_LIMIT_EXCEEDED, EDQUOT },
        { CGM_ERR_LIMIT_EXCEEDED, EAGAIN },    { CGM_ERR_LIMIT_EXCEEDED, EUSERS },
        { CGM_ERR_NOT_SUPPORTED, EOPNOTSUPP }, { CGM_ERR_NO_PROCESS, ESRCH },
        { CGM_ERR_FAILED, EIO },
};

/**
 * cgm_errno_to_error_name() - default D-Bus error name for an errno
 * @code: errno, negative or positive
 *
 * Return: one of the CGM_ERR_* names; CGM_ERR_FAILED for anything not in the table
 * (including 0).
 */
const char *cgm_errno_to_error_name(int code)
{
        int errnum = code < 0 ? -code : code;

        for (size_t i = 0; i < ELEMENTSOF(errno_to_name); i++)
                if (errno_to_name[i].errnum == errnum)
                        return errno_to_name[i].name;
        return CGM_ERR_FAILED;
}

/**
 * cgm_error_name_to_errno() - errno for a D-Bus error name
 * @name: a D-Bus error name, may be NULL
 *
 * Return: the positive errno of a CGM_ERR_* name; EIO for NULL or any other name.
 */
int cgm_error_name_to_errno(const char *name)
{
        if (!name)
                return EIO;
        for (size_t i = 0; i < ELEMENTSOF(name_to_errno); i++)
                if (strcmp(name_to_errno[i].name, name) == 0)
                        return name_to_errno[i].errnum;
        return EIO;
}

/* After a cut at the end of @s: drop a UTF-8 sequence the cut left incomplete, so a message
 * that was valid UTF-8 stays so (D-Bus refuses strings that are not). */
static void utf8_trim_cut(char *s)
{
        size_t len = strlen(s), start = len;
        unsigned char lead;
        size_t need;

        while (start > 0 && len - start < 3 && ((unsigned char)s[start - 1] & 0xc0) == 0x80)
                start--;
        if (start == 0)
                return;
        lead = (unsigned char)s[start - 1];
        if (lead < 0xc0)
                return; /* ASCII, or stray continuation bytes that were there before the cut */
        need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
        if (len - (start - 1) < need)
                s[start - 1] = '\0';
}

/**
 * cgm_error_set() - record a failure
 * @e:    error to fill, may be NULL
 * @code: negative errno
 * @name: D-Bus error name, or NULL to derive it from @code
 * @fmt:  printf format of the message
 *
 * The message is truncated to fit e->msg, never inside a UTF-8 sequence.
 *
 * Return: @code.
 */
int cgm_error_set(CgmError *e, int code, const char *name, const char *fmt, ...)
{
        va_list ap;
        int l;

        if (!e)
                return code;
        e->code = code;
        e->name = name ? name : cgm_errno_to_error_name(code);
        va_start(ap, fmt);
        l = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
        if (l >= (int)sizeof(e->msg))
                utf8_trim_cut(e->msg);
        return code;
}

/**
 * cgm_error_prefix() - put context in front of an existing message
 * @e:   error filled earlier by cgm_error_set(), may be NULL
 * @fmt: printf format of the context
 *
 * The message becomes "<context>: <old message>" (just "<context>" when there was none),
 * truncated to fit (never inside a UTF-8 sequence). Code and name are kept.
 *
 * Return: e->code; -EIO when @e is NULL (there is no code to give back, and 0 would read
 * as success).
 */
int cgm_error_prefix(CgmError *e, const char *fmt, ...)
{
        char old[sizeof(e->msg)];
        char ctx[sizeof(e->msg)];
        va_list ap;

        if (!e)
                return -EIO;
        memcpy(old, e->msg, sizeof(old));
        old[sizeof(old) - 1] = '\0';
        va_start(ap, fmt);
        if (vsnprintf(ctx, sizeof(ctx), fmt, ap) >= (int)sizeof(ctx))
                utf8_trim_cut(ctx);
        va_end(ap);
        /* Assembled by hand: both parts may fill the buffer, and truncation is intended. */
        size_t len = strlen(ctx);
        memcpy(e->msg, ctx, len + 1);
        if (old[0] && len + 2 < sizeof(e->msg)) {
                size_t room = sizeof(e->msg) - len - 2 - 1;
                size_t n_old = strnlen(old, room);

                memcpy(e->msg + len, ": ", 2);
                memcpy(e->msg + len + 2, old, n_old);
                e->msg[len + 2 + n_old] = '\0';
                if (old[n_old])
                        utf8_trim_cut(e->msg);
        }
        return e->code;
}
