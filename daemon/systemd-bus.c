/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd mode's bus client: the calls to systemd, only ever in a worker thread
 *
 * One apply (systemd.c prepares it on the loop) is a private connection to the system bus,
 * kept between applies, and three calls: GetUnit (the slice must be loaded already: asking
 * for an unloaded one would make systemd load it and write drop-ins for nobody), GetAll for
 * the values cgm must be able to put back, and SetUnitProperties(runtime). Every step, the
 * connection and its authentication included, is bounded by one deadline
 * (SYSTEMD_CALL_TIMEOUT_MS): libdbus would otherwise authenticate inside the first blocking
 * call, without bound. Results and the error text go into the apply; nothing here touches the
 * loop or the daemon's state.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "reply.h"
#include "systemd-internal.h"
#include "systemd.h"

void sd_bus_drop(DBusConnection **c)
{
        if (!*c)
                return;
        dbus_connection_close(*c);
        dbus_connection_unref(*c);
        *c = NULL;
}

static int bus_connect(SdApply *a, int64_t deadline)
{
        DBusError e = DBUS_ERROR_INIT;
        DBusMessage *hello, *reply;

        a->conn = dbus_connection_open_private(a->address, &e);
        if (!a->conn) {
                snprintf(a->error, sizeof(a->error), "cannot connect to the system bus at `%s`: %s",
                         a->address, e.message ? e.message : e.name);
                dbus_error_free(&e);
                return -ECONNREFUSED;
        }
        dbus_connection_set_exit_on_disconnect(a->conn, FALSE);
        /* libdbus would authenticate inside the first blocking call, with no bound. */
        while (!dbus_connection_get_is_authenticated(a->conn)) {
                int64_t left = deadline - now_ms();
                if (!dbus_connection_get_is_connected(a->conn) || left <= 0) {
                        snprintf(a->error, sizeof(a->error),
                                 "the system bus at `%s` did not complete authentication within "
                                 "%d ms",
                                 a->address, SYSTEMD_CALL_TIMEOUT_MS);
                        sd_bus_drop(&a->conn);
                        return -ETIMEDOUT;
                }
                (void)dbus_connection_read_write(a->conn, (int)left);
        }
        hello = dbus_message_new_method_call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                             "org.freedesktop.DBus", "Hello");
        if (!hello) {
                sd_bus_drop(&a->conn);
                return -ENOMEM;
        }
        reply = dbus_connection_send_with_reply_and_block(
                a->conn, hello, (int)(deadline - now_ms() > 0 ? deadline - now_ms() : 1), &e);
        dbus_message_unref(hello);
        if (!reply) {
                snprintf(a->error, sizeof(a->error), "the system bus refused Hello: %s",
                         e.message ? e.message : e.name);
                dbus_error_free(&e);
                sd_bus_drop(&a->conn);
                return -ECONNREFUSED;
        }
        dbus_message_unref(reply);
        return 0;
}

/* One call to systemd, bounded by @deadline; the error goes to a->error. */
static DBusMessage *bus_call(SdApply *a, DBusMessage *msg, int64_t deadline, char *ename,
                             size_t en)
{
        DBusError e = DBUS_ERROR_INIT;
        int64_t left = deadline - now_ms();
        DBusMessage *reply;

        if (ename)
                ename[0] = '\0';
        if (left <= 0) {
                snprintf(a->error, sizeof(a->error), "systemd did not answer within %d ms",
                         SYSTEMD_CALL_TIMEOUT_MS);
                return NULL;
        }
        reply = dbus_connection_send_with_reply_and_block(a->conn, msg, (int)left, &e);
        if (!reply) {
                const char *member = dbus_message_get_member(msg);
                if (dbus_error_has_name(&e, DBUS_ERROR_NO_REPLY) ||
                    dbus_error_has_name(&e, DBUS_ERROR_TIMEOUT))
                        snprintf(a->error, sizeof(a->error),
                                 "systemd did not answer %s within %d ms", member,
                                 SYSTEMD_CALL_TIMEOUT_MS);
                else
                        snprintf(a->error, sizeof(a->error), "systemd refused %s: %s (%s)",
                                 member, e.message ? e.message : "", e.name);
                if (ename)
                        snprintf(ename, en, "%s", e.name ? e.name : "");
                dbus_error_free(&e);
        }
        return reply;
}

static bool append_string(DBusMessage *msg, const char *s)
{
        DBusMessageIter it;

        dbus_message_iter_init_append(msg, &it);
        return reply_append_string(&it, s);
}

static DBusMessage *manager_call(const char *member)
{
        return dbus_message_new_method_call(SD_DEST, SD_PATH, SD_MANAGER, member);
}

static int set_properties(SdApply *a, const SdProp *props, size_t n, int64_t deadline,
                          char *ename, size_t en)
{
        DBusMessage *msg = manager_call("SetUnitProperties"), *reply;
        const char *unit = a->unit;
        dbus_bool_t runtime = TRUE;
        DBusMessageIter it;
        int r;

        if (!msg)
                return -ENOMEM;
        dbus_message_iter_init_append(msg, &it);
        if (!reply_append_string(&it, unit) ||
            !dbus_message_iter_append_basic(&it, DBUS_TYPE_BOOLEAN, &runtime)) {
                dbus_message_unref(msg);
                return -ENOMEM;
        }
        r = sd_props_append(&it, props, n);
        if (r < 0) {
                dbus_message_unref(msg);
                snprintf(a->error, sizeof(a->error), "cannot build SetUnitProperties: %s",
                         strerror(-r));
                return r;
        }
        reply = bus_call(a, msg, deadline, ename, en);
        dbus_message_unref(msg);
        if (!reply)
                return -EIO;
        dbus_message_unref(reply);
        return 0;
}

/* WorkerRun: GetUnit, GetAll for the values to capture, SetUnitProperties. */
void sd_apply_run(WorkerJob *job)
{
        SdApply *a = container_of(job, SdApply, job);
        int64_t deadline = now_ms() + SYSTEMD_CALL_TIMEOUT_MS;
        DBusMessage *msg, *reply;
        const char *unit = a->unit, *iface = "org.freedesktop.systemd1.Slice", *path = NULL;
        char ename[256], upath[256] = "";
        bool need_capture = false, found[SD_APPLY_PROPS_MAX];
        int r;

        a->result = 0;
        for (size_t i = 0; i < a->n_props; i++)
                a->prop_result[i] = -ECANCELED;
        if (a->conn && !dbus_connection_get_is_connected(a->conn))
                sd_bus_drop(&a->conn);
        if (!a->conn) {
                r = bus_connect(a, deadline);
                if (r < 0) {
                        a->result = r;
                        return;
                }
        }

        /* The slice must be there already (logind made it for the session): asking for an
         * unloaded one would make systemd load it and write drop-ins for nobody. */
        msg = manager_call("GetUnit");
        if (!msg || !append_string(msg, unit)) {
                if (msg)
                        dbus_message_unref(msg);
                a->result = -ENOMEM;
                return;
        }
        reply = bus_call(a, msg, deadline, ename, sizeof(ename));
        dbus_message_unref(msg);
        if (!reply) {
                if (strcmp(ename, "org.freedesktop.systemd1.NoSuchUnit") == 0) {
                        snprintf(a->error, sizeof(a->error),
                                 "%s is not loaded: logind has no session for uid %u (is "
                                 "pam_systemd in the PAM stack before pam_cgm?)",
                                 a->unit, (unsigned)a->uid);
                        a->result = -ENOENT;
                } else
                        a->result = -EIO;
                if (!dbus_connection_get_is_connected(a->conn) || !*ename)
                        sd_bus_drop(&a->conn);
                return;
        }
        if (dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID))
                snprintf(upath, sizeof(upath), "%s", path);
        dbus_message_unref(reply);

        for (size_t i = 0; i < a->n_props; i++)
                need_capture |= a->capture[i];
        if (need_capture && *upath) {
                msg = dbus_message_new_method_call(SD_DEST, upath,
                                                   "org.freedesktop.DBus.Properties", "GetAll");
                if (!msg || !append_string(msg, iface)) {
                        if (msg)
                                dbus_message_unref(msg);
                        a->result = -ENOMEM;
                        return;
                }
                reply = bus_call(a, msg, deadline, NULL, 0);
                dbus_message_unref(msg);
                if (!reply) {
                        a->result = -EIO;
                        return;
                }
                if (sd_props_from_getall(reply, a->undo, found, a->n_props) < 0) {
                        dbus_message_unref(reply);
                        snprintf(a->error, sizeof(a->error),
                                 "systemd's properties of %s are not a{sv}", a->unit);
                        a->result = -EBADMSG;
                        return;
                }
                dbus_message_unref(reply);
                /* A value systemd did not report is put back as unset when undone. */
                for (size_t i = 0; i < a->n_props; i++)
                        if (a->capture[i] && !found[i])
                                sd_prop_reset(&a->undo[i]);
        }

        r = set_properties(a, a->props, a->n_props, deadline, ename, sizeof(ename));
        if (r == 0) {
                for (size_t i = 0; i < a->n_props; i++)
                        a->prop_result[i] = 0;
                return;
        }
        /* A property this systemd does not know (or refuses) fails the whole call, which
         * systemd checks before it changes anything: then one call per property, so that the
         * others still apply and each failure is reported on its own. */
        if (a->n_props > 1 && (strcmp(ename, DBUS_ERROR_INVALID_ARGS) == 0 ||
                               strcmp(ename, "org.freedesktop.DBus.Error.PropertyReadOnly") == 0 ||
                               strcmp(ename, DBUS_ERROR_NOT_SUPPORTED) == 0)) {
                char first[sizeof(a->error)];
                bool any = false;
                snprintf(first, sizeof(first), "%s", a->error);
                for (size_t i = 0; i < a->n_props; i++) {
                        a->prop_result[i] = set_properties(a, &a->props[i], 1, deadline, ename,
                                                           sizeof(ename));
                        any |= a->prop_result[i] == 0;
                        if (a->prop_result[i] < 0 && !*ename)
                                break; /* the bus, not the property: stop */
                }
                snprintf(a->error, sizeof(a->error), "%s", first);
                a->result = any ? 0 : -EIO;
                return;
        }
        a->result = r;
        if (!dbus_connection_get_is_connected(a->conn) || !*ename)
                sd_bus_drop(&a->conn);
}
