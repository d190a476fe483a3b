/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cleanup helpers: scope-bound ownership of memory, fds and libdbus objects */
#pragma once

#include <dbus/dbus.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

#define DEFINE_CLEANUP(type, fn)                                                                   \
        static inline void fn##p(type *p)                                                          \
        {                                                                                          \
                if (*p)                                                                            \
                        fn(*p);                                                                    \
        }

/* Destructors take the invalid value and return it, so `fd = safe_close(fd)` is always safe. */
static inline int safe_close(int fd)
{
        if (fd >= 0) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return -1;
}

static inline void freep(void *p)
{
        free(*(void **)p);
}

static inline void closep(int *fd)
{
        safe_close(*fd);
}

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

static inline void strv_free(char **v)
{
        if (!v)
                return;
        for (char **i = v; *i; i++)
                free(*i);
        free(v);
}

static inline void strv_freep(char ***v)
{
        strv_free(*v);
}

DEFINE_CLEANUP(DBusMessage *, dbus_message_unref)

static inline void dbus_error_freep(DBusError *e)
{
        if (dbus_error_is_set(e))
                dbus_error_free(e);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_strv_ _cleanup_(strv_freep)
#define _cleanup_message_ _cleanup_(dbus_message_unrefp)
#define _cleanup_dbus_error_ _cleanup_(dbus_error_freep)

/* Hand ownership out: `*fdp = TAKE_FD(fd);` */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _p = (p);                                                            \
                (p) = NULL;                                                                        \
                _p;                                                                                \
        })
#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _fd = (fd);                                                                    \
                (fd) = -1;                                                                         \
                _fd;                                                                               \
        })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
