/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fake-systemd: the little of org.freedesktop.systemd1 that cgmd's systemd mode uses, on a
 * private bus, for tests/integration/test-systemd-mode.sh
 *
 * Usage: fake-systemd ADDRESS LOG [UNIT=PROP=VALUE,...]... [--reject PROP] [--hang]
 *
 * Owns org.freedesktop.systemd1 on the bus at ADDRESS and answers:
 *   Manager.GetUnit(s)                 the unit's path, or org.freedesktop.systemd1.NoSuchUnit
 *                                      for a unit not named on the command line;
 *   Properties.GetAll(s) on that path  the unit's U64 properties (those given, then those set);
 *   Manager.SetUnitProperties(s,b,a(sv)) records them, or InvalidArgs when one is --reject'ed
 *                                      (systemd checks them all before it applies any), or no
 *                                      answer at all with --hang.
 * Every call is one line in LOG, written and flushed before the reply goes out, so a test
 * that has its reply can read the line: "GetUnit user-1.slice", "GetAll user-1.slice",
 * "SET user-1.slice runtime=1 MemoryMax=1024 IOReadBandwidthMax@/dev/block/8:0=infinity
 * AllowedCPUs=0x0f", "REJECT ...", "HANG ...". A unit given as "user-1.slice" alone has no
 * property; "user-1.slice=TasksMax=4915,MemoryMax=infinity" gives it two.
 */
#include <dbus/dbus.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNITS_MAX 16
#define PROPS_MAX 64

typedef struct Unit {
        char name[64];
        char path[128];
        struct {
                char name[64];
                uint64_t value;
        } props[PROPS_MAX];
        int n_props;
} Unit;

static Unit units[UNITS_MAX];
static int n_units;
static const char *reject;
static bool hang;
static FILE *log_file;

static Unit *unit_by(const char *name, const char *path)
{
        for (int i = 0; i < n_units; i++)
                if ((name && strcmp(units[i].name, name) == 0) ||
                    (path && strcmp(units[i].path, path) == 0))
                        return &units[i];
        return NULL;
}

static void unit_set(Unit *u, const char *name, uint64_t v)
{
        for (int i = 0; i < u->n_props; i++)
                if (strcmp(u->props[i].name, name) == 0) {
                        u->props[i].value = v;
                        return;
                }
        if (u->n_props < PROPS_MAX) {
                snprintf(u->props[u->n_props].name, sizeof(u->props[0].name), "%s", name);
                u->props[u->n_props++].value = v;
        }
}

static uint64_t parse_value(const char *s)
{
        return strcmp(s, "infinity") == 0 ? UINT64_MAX : strtoull(s, NULL, 10);
}

/* One line "TAG TEXT" (or "TAG" alone), out before the reply. */
static void log_line(const char *tag, const char *text)
{
        fprintf(log_file, "%s%s%s\n", tag, *text ? " " : "", text);
        fflush(log_file);
}

static void put_value(char *out, size_t n, uint64_t v)
{
        if (v == UINT64_MAX)
                snprintf(out, n, "infinity");
        else
                snprintf(out, n, "%" PRIu64, v);
}

static DBusMessage *set_properties(DBusMessage *msg, bool *no_reply)
{
        DBusMessageIter it, arr;
        const char *unit;
        dbus_bool_t runtime;
        char line[8192];
        size_t l;
        Unit *u;

        dbus_message_iter_init(msg, &it);
        dbus_message_iter_get_basic(&it, &unit);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &runtime);
        dbus_message_iter_next(&it);
        l = (size_t)snprintf(line, sizeof(line), "%s runtime=%d", unit, (int)runtime);
        u = unit_by(unit, NULL);
        /* First pass: the text, and whether systemd would refuse the whole call. */
        dbus_message_iter_recurse(&it, &arr);
        while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_STRUCT) {
                DBusMessageIter st, var, inner, dev;
                const char *name, *path;
                dbus_uint64_t v;
                char value[32];
                dbus_message_iter_recurse(&arr, &st);
                dbus_message_iter_get_basic(&st, &name);
                dbus_message_iter_next(&st);
                dbus_message_iter_recurse(&st, &var);
                if (reject && strcmp(name, reject) == 0) {
                        {
                                char what[256];
                                snprintf(what, sizeof(what), "%s %s", unit, name);
                                log_line("REJECT", what);
                        }
                        return dbus_message_new_error_printf(
                                msg, DBUS_ERROR_INVALID_ARGS,
                                "Cannot set property %s, or unknown property.", name);
                }
                switch (dbus_message_iter_get_arg_type(&var)) {
                case DBUS_TYPE_UINT64:
                        dbus_message_iter_get_basic(&var, &v);
                        put_value(value, sizeof(value), v);
                        l += (size_t)snprintf(line + l, sizeof(line) - l, " %s=%s", name, value);
                        break;
                case DBUS_TYPE_ARRAY:
                        dbus_message_iter_recurse(&var, &inner);
                        if (dbus_message_iter_get_arg_type(&inner) == DBUS_TYPE_STRUCT) {
                                dbus_message_iter_recurse(&inner, &dev);
                                dbus_message_iter_get_basic(&dev, &path);
                                dbus_message_iter_next(&dev);
                                dbus_message_iter_get_basic(&dev, &v);
                                put_value(value, sizeof(value), v);
                                l += (size_t)snprintf(line + l, sizeof(line) - l, " %s@%s=%s",
                                                      name, path, value);
                        } else {
                                const unsigned char *bytes;
                                int n = 0;
                                if (dbus_message_iter_get_arg_type(&inner) == DBUS_TYPE_BYTE)
                                        dbus_message_iter_get_fixed_array(&inner, &bytes, &n);
                                l += (size_t)snprintf(line + l, sizeof(line) - l, " %s=0x", name);
                                for (int i = n - 1; i >= 0; i--)
                                        l += (size_t)snprintf(line + l, sizeof(line) - l, "%02x",
                                                              bytes[i]);
                        }
                        break;
                default:
                        return dbus_message_new_error_printf(msg, DBUS_ERROR_INVALID_ARGS,
                                                             "property %s has a bad type", name);
                }
                if (l >= sizeof(line))
                        l = sizeof(line) - 1;
                dbus_message_iter_next(&arr);
        }
        if (hang) {
                log_line("HANG", line);
                *no_reply = true;
                return NULL;
        }
        /* Second pass: remember the U64 values, for GetAll. */
        dbus_message_iter_recurse(&it, &arr);
        while (u && dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_STRUCT) {
                DBusMessageIter st, var;
                const char *name;
                dbus_uint64_t v;
                dbus_message_iter_recurse(&arr, &st);
                dbus_message_iter_get_basic(&st, &name);
                dbus_message_iter_next(&st);
                dbus_message_iter_recurse(&st, &var);
                if (dbus_message_iter_get_arg_type(&var) == DBUS_TYPE_UINT64) {
                        dbus_message_iter_get_basic(&var, &v);
                        unit_set(u, name, v);
                }
                dbus_message_iter_next(&arr);
        }
        log_line("SET", line);
        return dbus_message_new_method_return(msg);
}

static DBusMessage *get_all(DBusMessage *msg)
{
        Unit *u = unit_by(NULL, dbus_message_get_path(msg));
        DBusMessage *reply;
        DBusMessageIter it, arr;

        if (!u)
                return dbus_message_new_error(msg, DBUS_ERROR_UNKNOWN_OBJECT, "no such unit");
        log_line("GetAll", u->name);
        reply = dbus_message_new_method_return(msg);
        dbus_message_iter_init_append(reply, &it);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &arr);
        for (int i = 0; i < u->n_props; i++) {
                DBusMessageIter e, var;
                const char *name = u->props[i].name;
                dbus_uint64_t v = u->props[i].value;
                dbus_message_iter_open_container(&arr, DBUS_TYPE_DICT_ENTRY, NULL, &e);
                dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &name);
                dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, "t", &var);
                dbus_message_iter_append_basic(&var, DBUS_TYPE_UINT64, &v);
                dbus_message_iter_close_container(&e, &var);
                dbus_message_iter_close_container(&arr, &e);
        }
        dbus_message_iter_close_container(&it, &arr);
        return reply;
}

static DBusHandlerResult filter(DBusConnection *c, DBusMessage *msg, void *data)
{
        DBusMessage *reply = NULL;
        bool no_reply = false;

        (void)data;
        if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_METHOD_CALL)
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        if (dbus_message_is_method_call(msg, "org.freedesktop.systemd1.Manager", "GetUnit")) {
                const char *name = "";
                Unit *u;
                dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID);
                log_line("GetUnit", name);
                u = unit_by(name, NULL);
                if (u) {
                        const char *path = u->path;
                        reply = dbus_message_new_method_return(msg);
                        dbus_message_append_args(reply, DBUS_TYPE_OBJECT_PATH, &path,
                                                 DBUS_TYPE_INVALID);
                } else
                        reply = dbus_message_new_error_printf(
                                msg, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.",
                                name);
        } else if (dbus_message_is_method_call(msg, "org.freedesktop.systemd1.Manager",
                                               "SetUnitProperties")) {
                if (strcmp(dbus_message_get_signature(msg), "sba(sv)") != 0)
                        reply = dbus_message_new_error(msg, DBUS_ERROR_INVALID_ARGS, "signature");
                else
                        reply = set_properties(msg, &no_reply);
        } else if (dbus_message_is_method_call(msg, "org.freedesktop.DBus.Properties", "GetAll")) {
                reply = get_all(msg);
        } else
                reply = dbus_message_new_error(msg, DBUS_ERROR_UNKNOWN_METHOD, "not faked");
        if (reply) {
                dbus_connection_send(c, reply, NULL);
                dbus_message_unref(reply);
        }
        (void)no_reply;
        return DBUS_HANDLER_RESULT_HANDLED;
}

int main(int argc, char **argv)
{
        DBusError e = DBUS_ERROR_INIT;
        DBusConnection *c;

        if (argc < 3) {
                fprintf(stderr, "usage: fake-systemd ADDRESS LOG [UNIT[=P=V,...]]... [--reject P] [--hang]\n");
                return 2;
        }
        log_file = fopen(argv[2], "a");
        if (!log_file)
                return 1;
        for (int i = 3; i < argc; i++) {
                char *props, *save = NULL;
                Unit *u;
                if (strcmp(argv[i], "--hang") == 0) {
                        hang = true;
                        continue;
                }
                if (strcmp(argv[i], "--reject") == 0 && i + 1 < argc) {
                        reject = argv[++i];
                        continue;
                }
                if (n_units == UNITS_MAX)
                        return 2;
                u = &units[n_units++];
                props = strchr(argv[i], '=');
                if (props)
                        *props++ = '\0';
                snprintf(u->name, sizeof(u->name), "%s", argv[i]);
                snprintf(u->path, sizeof(u->path), "/org/freedesktop/systemd1/unit/u%d", n_units);
                for (char *p = props ? strtok_r(props, ",", &save) : NULL; p;
                     p = strtok_r(NULL, ",", &save)) {
                        char *eq = strchr(p, '=');
                        if (!eq)
                                return 2;
                        *eq = '\0';
                        unit_set(u, p, parse_value(eq + 1));
                }
        }
        c = dbus_connection_open_private(argv[1], &e);
        if (!c || !dbus_bus_register(c, &e)) {
                fprintf(stderr, "fake-systemd: %s\n", e.message);
                return 1;
        }
        if (dbus_bus_request_name(c, "org.freedesktop.systemd1", DBUS_NAME_FLAG_DO_NOT_QUEUE, &e) !=
            DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
                fprintf(stderr, "fake-systemd: cannot own org.freedesktop.systemd1: %s\n",
                        e.message ? e.message : "taken");
                return 1;
        }
        dbus_connection_add_filter(c, filter, NULL, NULL);
        log_line("READY", "");
        while (dbus_connection_read_write_dispatch(c, -1))
                ;
        return 0;
}
