/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Methods: the table of the cgm interface, introspection, and the dispatcher
 *
 * One table lists every method with its signatures, its privilege class and its handler, as
 * dbus-broker's driver does. The dispatcher checks, in this order and before any handler
 * runs: that the caller's uid still has budget, that a caller in a container still lives in
 * the namespaces it connected from, that the method exists, that the arguments have the
 * declared signature, and that the caller's class allows it. Handlers then parse
 * typed arguments they know are there, authorize paths (auth.c) and act.
 *
 * A handler fails by filling the request's CgmError; it is turned into a named D-Bus error
 * here and nowhere else, so every refusal reaches the client with its sentence.
 *
 * Introspection XML is generated from the same table, so it cannot drift from what is
 * served. For the sake of generic D-Bus tools that expect a bus (busctl and gdbus send Hello
 * first even on a peer-to-peer address), the minimum of org.freedesktop.DBus is answered:
 * Hello returns a unique name, AddMatch is accepted and ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cleanup.h"
#include "events.h"
#include "log.h"
#include "methods.h"
#include "peer.h"
#include "protocol.h"
#include "reply.h"

static const Method methods[] = {
        { "Ping", "", "", "", "", METHOD_ANY, false, api_ping, "Liveness check." },
        { "Version", "", "", "suas", "version,api_level,features", METHOD_ANY, false,
          api_version, "Daemon version, API level and features (layout, pidfd support)." },
        { "WhoAmI", "", "", "ussa{ss}", "uid,home,cgroup,limits", METHOD_ANY, false, api_whoami,
          "The caller's uid, home, current cgroup, and the home's limits." },
        { "Layout", "", "", "busbsbua(bsstt)",
          "direct,uid,base,has_home,home,same_pids,primary,hierarchies", METHOD_ANY, false,
          api_layout,
          "Where the caller may read cgroupfs itself: the base, its home, and each hierarchy "
          "(v2, controllers, the base's path, its st_dev and st_ino). direct is false for a "
          "caller in a cgroup namespace of its own." },
        { "Create", "sa{ss}", "path,settings", "s", "created", METHOD_ANY, true, api_create,
          "Create a cgroup below the caller's home with initial settings." },
        { "Remove", "su", "path,flags", "", "", METHOD_ANY, false, api_remove,
          "Remove a cgroup; flags: 1 recursive, 2 kill its processes first." },
        { "Set", "sa{ss}", "path,settings", "", "", METHOD_ANY, false, api_set,
          "Write resource keys (memory.max, cpu.max, pids.max, ...)." },
        { "Get", "sas", "path,keys", "a{ss}", "values", METHOD_ANY, false, api_get,
          "Read resource keys; an empty list reads every key the cgroup has." },
        { "List", "sb", "path,recursive", "as", "paths", METHOD_ANY, false, api_list,
          "Child cgroups (all descendants when recursive)." },
        { "Procs", "sb", "path,recursive", "au", "pids", METHOD_ANY, false, api_procs,
          "Processes in a cgroup, as pids of the caller's pid namespace." },
        { "Move", "sah", "path,pidfds", "", "", METHOD_ANY, false, api_move,
          "Move processes, named by pidfds, into a cgroup." },
        { "MoveSelf", "s", "path", "", "", METHOD_ANY, false, api_move_self,
          "Move the process that opened this connection into a cgroup." },
        { "ProcCgroup", "h", "pidfd", "s", "path", METHOD_ANY, false, api_proc_cgroup,
          "The cgroup of a process." },
        { "Kill", "si", "path,signal", "u", "signalled", METHOD_ANY, false, api_kill,
          "Signal every process of a subtree (cgroup.kill for SIGKILL on cgroup v2)." },
        { "Freeze", "s", "path", "", "", METHOD_ANY, false, api_freeze, "Freeze a subtree." },
        { "Thaw", "s", "path", "", "", METHOD_ANY, false, api_thaw, "Thaw a subtree." },
        { "Stat", "s", "path", "a{st}", "counters", METHOD_ANY, false, api_stat,
          "Usage counters: memory, cpu, pids, oom events, populated, frozen." },
        { "Subscribe", "sas", "path,kinds", "u", "id", METHOD_ANY, false, api_subscribe,
          "Receive the Event signal on this connection for one cgroup (home or below; root: "
          "the base): populated empty oom oom_kill memory_high memory_max pids_max frozen "
          "thawed removed; an empty list is every kind the host reports there. Counters are "
          "hierarchical. Ends with the connection, Unsubscribe, or the cgroup's removal." },
        { "Unsubscribe", "u", "id", "", "", METHOD_ANY, false, api_unsubscribe,
          "End a subscription of this connection." },
        { "Chown", "su", "path,uid", "", "", METHOD_ANY, true, api_chown,
          "Delegate a cgroup to a uid: it becomes that uid's home. Root; and root of a user "
          "namespace, strictly below its home, for the uids its namespace maps." },
        { "OpenSession", "sa{ss}", "user,info", "ss", "id,path", METHOD_ROOT, false,
          api_open_session,
          "For PAM: make or refresh the user's home from the policy, create a session leaf and "
          "move the caller into it. Empty id and path: the policy excludes the user." },
        { "CloseSession", "s", "id", "", "", METHOD_ROOT, false, api_close_session,
          "For PAM: end a session (kill_on_logout); its leaf goes once empty." },
        { "Sessions", "", "", "a(ssusb)", "sessions", METHOD_ADMIN, false, api_sessions,
          "Every session: id, user, uid, leaf, populated." },
        { "Users", "", "", "a(ussub)", "users", METHOD_ADMIN, false, api_users,
          "Every home: uid, user, home, number of sessions, lingers." },
        { "ExplainPolicy", "s", "user", "uasa(sss)", "uid,groups,entries", METHOD_ADMIN, false,
          api_explain_policy, "Every effective value for a user, with the file:line it came from." },
        { "Reload", "", "", "", "", METHOD_ADMIN, false, api_reload,
          "Re-read the policy; on an error the old one stays in force." },
};

static void xml_args(char **buf, size_t *len, FILE *f, const char *sig, const char *names,
                     const char *dir)
{
        DBusSignatureIter it;
        char namebuf[256];
        char *save = NULL, *name;

        (void)buf;
        (void)len;
        if (!*sig)
                return;
        snprintf(namebuf, sizeof(namebuf), "%s", names);
        name = strtok_r(namebuf, ",", &save);
        dbus_signature_iter_init(&it, sig);
        do {
                char *s = dbus_signature_iter_get_signature(&it);
                fprintf(f, "      <arg name=\"%s\" type=\"%s\" direction=\"%s\"/>\n",
                        name ? name : "arg", s, dir);
                dbus_free(s);
                name = strtok_r(NULL, ",", &save);
        } while (dbus_signature_iter_next(&it));
}

static char *introspect_xml(const char *path)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return NULL;
        fputs(DBUS_INTROSPECT_1_0_XML_DOCTYPE_DECL_NODE "<node>\n", f);
        if (strcmp(path, CGM_DBUS_PATH) == 0) {
                fputs("  <interface name=\"" DBUS_INTERFACE_INTROSPECTABLE "\">\n"
                      "    <method name=\"Introspect\">\n"
                      "      <arg name=\"xml\" type=\"s\" direction=\"out\"/>\n"
                      "    </method>\n"
                      "  </interface>\n"
                      "  <interface name=\"" DBUS_INTERFACE_PEER "\">\n"
                      "    <method name=\"Ping\"/>\n"
                      "    <method name=\"GetMachineId\">\n"
                      "      <arg name=\"machine_uuid\" type=\"s\" direction=\"out\"/>\n"
                      "    </method>\n"
                      "  </interface>\n"
                      "  <interface name=\"" DBUS_INTERFACE_PROPERTIES "\">\n"
                      "    <method name=\"Get\">\n"
                      "      <arg name=\"interface\" type=\"s\" direction=\"in\"/>\n"
                      "      <arg name=\"property\" type=\"s\" direction=\"in\"/>\n"
                      "      <arg name=\"value\" type=\"v\" direction=\"out\"/>\n"
                      "    </method>\n"
                      "    <method name=\"GetAll\">\n"
                      "      <arg name=\"interface\" type=\"s\" direction=\"in\"/>\n"
                      "      <arg name=\"properties\" type=\"a{sv}\" direction=\"out\"/>\n"
                      "    </method>\n"
                      "  </interface>\n"
                      "  <interface name=\"" CGM_DBUS_INTERFACE "\">\n",
                      f);
                for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
                        fprintf(f, "    <!-- %s%s -->\n", methods[i].doc,
                                methods[i].class == METHOD_ROOT    ? " Root only."
                                : methods[i].class == METHOD_ADMIN ? " Root and the admin group."
                                                                   : "");
                        fprintf(f, "    <method name=\"%s\">\n", methods[i].name);
                        xml_args(&buf, &len, f, methods[i].in, methods[i].in_names, "in");
                        xml_args(&buf, &len, f, methods[i].out, methods[i].out_names, "out");
                        fputs("    </method>\n", f);
                }
                fputs("    <!-- A subscription's event, sent on the subscriber's connection "
                      "only. details: count and total for oom, oom_kill, memory_high, "
                      "memory_max, pids_max; empty for the others; id 0 and kind lost with "
                      "count when events were dropped for a full queue. -->\n"
                      "    <signal name=\"Event\">\n"
                      "      <arg name=\"id\" type=\"u\"/>\n"
                      "      <arg name=\"path\" type=\"s\"/>\n"
                      "      <arg name=\"kind\" type=\"s\"/>\n"
                      "      <arg name=\"details\" type=\"a{st}\"/>\n"
                      "    </signal>\n",
                      f);
                fputs("  </interface>\n", f);
        } else {
                /* Let tools walk down from "/" to the object. */
                const char *rest = CGM_DBUS_PATH;
                size_t pl = strcmp(path, "/") == 0 ? 0 : strlen(path);
                if (strncmp(rest, path, pl) == 0 && (rest[pl] == '/' || pl == 0)) {
                        char child[64];
                        const char *start = rest + pl + (rest[pl] == '/' ? 1 : 0);
                        snprintf(child, sizeof(child), "%.*s", (int)strcspn(start, "/"), start);
                        fprintf(f, "  <node name=\"%s\"/>\n", child);
                }
        }
        fputs("</node>\n", f);
        fclose(f);
        return buf;
}

static DBusHandlerResult reply_and_unref(DBusConnection *conn, DBusMessage *reply)
{
        if (!reply)
                return DBUS_HANDLER_RESULT_NEED_MEMORY;
        dbus_message_set_no_reply(reply, TRUE);
        (void)dbus_connection_send(conn, reply, NULL);
        dbus_message_unref(reply);
        return DBUS_HANDLER_RESULT_HANDLED;
}

static DBusHandlerResult handle_standard(DBusConnection *conn, DBusMessage *msg, Peer *p)
{
        const char *iface = dbus_message_get_interface(msg);
        const char *member = dbus_message_get_member(msg);
        const char *path = dbus_message_get_path(msg);
        DBusMessage *reply = NULL;

        if (!iface || !member)
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        if (strcmp(iface, DBUS_INTERFACE_INTROSPECTABLE) == 0 && strcmp(member, "Introspect") == 0) {
                char *xml = introspect_xml(path ? path : "/");
                if (!xml)
                        return DBUS_HANDLER_RESULT_NEED_MEMORY;
                reply = reply_strings(msg, 1, (const char *const[]){ xml });
                free(xml);
                return reply_and_unref(conn, reply);
        }
        if (strcmp(iface, DBUS_INTERFACE_PEER) == 0 && strcmp(member, "Ping") == 0)
                return reply_and_unref(conn, dbus_message_new_method_return(msg));
        if (strcmp(iface, DBUS_INTERFACE_PEER) == 0 && strcmp(member, "GetMachineId") == 0) {
                char *id = dbus_try_get_local_machine_id(NULL);
                reply = id ? reply_strings(msg, 1, (const char *const[]){ id })
                           : reply_error(msg, DBUS_ERROR_FAILED, "no machine id");
                dbus_free(id);
                return reply_and_unref(conn, reply);
        }
        if (strcmp(iface, DBUS_INTERFACE_PROPERTIES) == 0 && strcmp(member, "GetAll") == 0) {
                DBusMessageIter it, arr;
                reply = dbus_message_new_method_return(msg);
                if (reply) {
                        dbus_message_iter_init_append(reply, &it);
                        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &arr);
                        dbus_message_iter_close_container(&it, &arr);
                }
                return reply_and_unref(conn, reply);
        }
        if (strcmp(iface, DBUS_INTERFACE_PROPERTIES) == 0)
                return reply_and_unref(conn, reply_error(msg, DBUS_ERROR_UNKNOWN_PROPERTY,
                                                                    "cgm has no properties"));
        if (strcmp(iface, DBUS_INTERFACE_DBUS) == 0) {
                /* Bus emulation for generic tools; see the comment at the top. */
                if (strcmp(member, "Hello") == 0) {
                        char name[32];
                        snprintf(name, sizeof(name), ":1.%llu", (unsigned long long)p->id);
                        return reply_and_unref(conn,
                                               reply_strings(msg, 1, (const char *const[]){ name }));
                }
                if (strcmp(member, "AddMatch") == 0 || strcmp(member, "RemoveMatch") == 0)
                        return reply_and_unref(conn, dbus_message_new_method_return(msg));
                return reply_and_unref(conn, reply_error(msg, DBUS_ERROR_NOT_SUPPORTED,
                                                                    "cgmd is a peer, not a bus"));
        }
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

static const Method *method_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(methods); i++)
                if (strcmp(methods[i].name, name) == 0)
                        return &methods[i];
        return NULL;
}

DBusHandlerResult methods_filter(DBusConnection *conn, DBusMessage *msg, void *data)
{
        Peer *p = data;
        Manager *m = p->manager;
        CgmError e = CGM_ERROR_NULL;
        const char *iface, *member, *path;
        const Method *method = NULL;
        MethodCall call;
        DBusHandlerResult hr;
        int r;

        if (dbus_message_is_signal(msg, DBUS_INTERFACE_LOCAL, "Disconnected")) {
                log_debug("peer %llu (uid %u) disconnected", (unsigned long long)p->id,
                          (unsigned)p->principal.uid);
                dbus_connection_set_data(conn, m->peer_slot, NULL, NULL);
                peer_free(p);
                return DBUS_HANDLER_RESULT_HANDLED;
        }
        if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_METHOD_CALL)
                return DBUS_HANDLER_RESULT_HANDLED; /* a peer has nothing to tell us otherwise */


        iface = dbus_message_get_interface(msg);
        member = dbus_message_get_member(msg);
        path = dbus_message_get_path(msg);
        method = member && (!iface || strcmp(iface, CGM_DBUS_INTERFACE) == 0) ? method_find(member)
                                                                             : NULL;
        r = peer_charge_request(p, method && method->creates);
        if (r < 0) {
                if (peer_should_log_refusal(p))
                        log_warning("uid %u exceeds its request budget (%u/s, %u creations/s); "
                                    "refusing requests for now",
                                    (unsigned)p->principal.uid, m->requests_per_second,
                                    m->creates_per_second);
                r = cgm_error_set(&e, -EDQUOT, CGM_ERR_LIMIT_EXCEEDED,
                                  "too many requests from uid %u: at most %u per second and %u "
                                  "creations per second; retry shortly",
                                  (unsigned)p->principal.uid, m->requests_per_second,
                                  m->creates_per_second);
                goto error;
        }
        /* A caller in a container must still be where it connected from (nsview.c). */
        r = nsview_verify(&p->ns, p->pidfd, &e);
        if (r < 0) {
                audit_write_why(p->principal.uid, p->pid, member ? member : "", "", "", r, e.name,
                                e.msg);
                goto error;
        }
        hr = handle_standard(conn, msg, p);
        if (hr != DBUS_HANDLER_RESULT_NOT_YET_HANDLED)
                return hr;
        if ((iface && strcmp(iface, CGM_DBUS_INTERFACE) != 0) || !path ||
            strcmp(path, CGM_DBUS_PATH) != 0 || !method) {
                char text[256];
                snprintf(text, sizeof(text), "no method %s.%s on %s; see Introspect",
                         iface ? iface : "", member ? member : "", path ? path : "");
                return reply_and_unref(conn, reply_error(msg, DBUS_ERROR_UNKNOWN_METHOD,
                                                                    text));
        }
        if (!dbus_message_has_signature(msg, method->in)) {
                char text[256];
                snprintf(text, sizeof(text), "%s takes arguments (%s), not (%s)", method->name,
                         method->in, dbus_message_get_signature(msg));
                return reply_and_unref(conn, reply_error(msg, CGM_ERR_INVALID_ARGS,
                                                                    text));
        }
        if (method->class == METHOD_ROOT && !p->principal.is_root) {
                r = cgm_error_set(&e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                  "%s is for root only (uid %u asked)", method->name,
                                  (unsigned)p->principal.uid);
                goto error;
        }
        if (method->class == METHOD_ADMIN && !p->principal.is_root &&
            !(m->have_admin_gid && peer_in_group(p, m->admin_gid))) {
                r = cgm_error_set(&e, -EACCES, CGM_ERR_PERMISSION_DENIED,
                                  "%s is for root and the admin group (admin_group in cgm.conf: "
                                  "%s); uid %u is in neither",
                                  method->name,
                                  m->have_admin_gid ? "set" : "not set", (unsigned)p->principal.uid);
                goto error;
        }
        call = (MethodCall){ .manager = m, .peer = p, .msg = msg, .error = &e };
        r = method->handler(&call);
        if (r == METHOD_PENDING)
                return DBUS_HANDLER_RESULT_HANDLED; /* the reply comes later */
        if (r >= 0) {
                if (!call.reply)
                        call.reply = dbus_message_new_method_return(msg);
                return reply_and_unref(conn, call.reply);
        }
        if (call.reply)
                dbus_message_unref(call.reply);
error:
        if (!e.code)
                cgm_error_set(&e, r, NULL, "%s failed: %s", method ? method->name : "call",
                              strerror(-r));
        nsview_message_out(&p->ns, e.msg, sizeof(e.msg)); /* paths as a container sees them */
        return reply_and_unref(conn, reply_error(msg,
                                                            e.name ? e.name
                                                                   : cgm_errno_to_error_name(e.code),
                                                            e.msg));
}
