/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Wire protocol: names, signatures, error names and limits shared by cgmd and libcgm */
#pragma once

#define CGM_DBUS_INTERFACE "org.cgm.Manager1"
#define CGM_DBUS_PATH "/org/cgm/Manager"
#define CGM_DEFAULT_SOCKET "/run/cgm/cgm.sock"
#define CGM_DEFAULT_BASE "/cgm"

/* Raised whenever a method is added or a signature changes; reported by Version. */
#define CGM_API_LEVEL 4

/* Error names. Each maps to one errno (common/error.c); the message says what and why. */
#define CGM_ERROR_PREFIX "org.cgm.Error."
#define CGM_ERR_PERMISSION_DENIED CGM_ERROR_PREFIX "PermissionDenied"
#define CGM_ERR_NOT_FOUND CGM_ERROR_PREFIX "NotFound"
#define CGM_ERR_INVALID_NAME CGM_ERROR_PREFIX "InvalidName"
#define CGM_ERR_INVALID_VALUE CGM_ERROR_PREFIX "InvalidValue"
#define CGM_ERR_INVALID_ARGS CGM_ERROR_PREFIX "InvalidArgs"
#define CGM_ERR_EXISTS CGM_ERROR_PREFIX "Exists"
#define CGM_ERR_BUSY CGM_ERROR_PREFIX "Busy"
#define CGM_ERR_LIMIT_EXCEEDED CGM_ERROR_PREFIX "LimitExceeded"
#define CGM_ERR_NOT_SUPPORTED CGM_ERROR_PREFIX "NotSupported"
#define CGM_ERR_NO_PROCESS CGM_ERROR_PREFIX "NoProcess"
#define CGM_ERR_FAILED CGM_ERROR_PREFIX "Failed"

/* Remove(path, flags) */
#define CGM_REMOVE_RECURSIVE 0x1u /* remove descendants first */
#define CGM_REMOVE_KILL 0x2u      /* kill every process in the subtree, wait, then remove */
#define CGM_REMOVE_FLAGS_ALL (CGM_REMOVE_RECURSIVE | CGM_REMOVE_KILL)

/*
 * Limits. Each one bounds what a single client can make the daemon do or hold.
 */
/* Spec §4: cgroup names are at most 64 bytes. */
#define CGM_NAME_MAX 64
/* Depth below the base, counted in components: 32 nestings is far beyond any real layout and
 * keeps every path under CGM_PATH_MAX. */
#define CGM_DEPTH_MAX 32
/* Longest path accepted on the wire: (64 + 1) * 32 rounded up, well below the 4095 bytes at
 * which the kernel truncates /proc/PID/cgroup. */
#define CGM_PATH_MAX 2176
/* Largest message a client may send: a Create with 32 settings of 256-byte values fits in
 * 12 KiB; 64 KiB leaves room and is far below libdbus' 128 MiB default. */
#define CGM_MESSAGE_SIZE_MAX (64 * 1024)
/* Bytes buffered from one connection before libdbus stops reading it. */
#define CGM_RECEIVED_SIZE_MAX (256 * 1024)
/* Replies queued for one connection that does not read them: past this many bytes the
 * daemon stops handling its requests (libdbus then stops reading it once
 * CGM_RECEIVED_SIZE_MAX is buffered) until the client has read most of them. */
#define CGM_OUTGOING_PAUSE (256 * 1024)
/* ... and past this many the connection is closed. One reply can be large (a List of
 * CGM_LIST_MAX paths), so this is well above the pause mark. */
#define CGM_OUTGOING_PEER_MAX (16 * 1024 * 1024)
/* Unread replies of all connections of one non-root uid together: past it, the connection
 * that adds to them is closed. */
#define CGM_OUTGOING_UID_MAX (8 * 1024 * 1024)
/* Connections of one non-root uid that may sit paused (not reading their replies) at once;
 * the next one to stop reading is closed. libcgm reads every reply as it comes, so a paused
 * connection is a client that stopped listening; each one pins up to CGM_RECEIVED_SIZE_MAX
 * of parsed requests and CGM_OUTGOING_PAUSE of replies. */
#define CGM_PAUSED_PER_UID_MAX 4
/* Pidfds in one Move; also the fds libdbus will queue per connection. */
#define CGM_FDS_PER_MESSAGE_MAX 64
/* Settings in one Create or Set, keys in one Get: there are fewer than 32 keys. */
#define CGM_SETTINGS_MAX 32
/* Longest value string accepted for one key (cpuset lists and io.max lines are the long ones). */
#define CGM_VALUE_MAX 256
/* Connections per uid at once; root is not limited. Picked so a user's shells and tools fit
 * while one user cannot exhaust the daemon's fds (default RLIMIT_NOFILE is 1024). */
#define CGM_CONNECTIONS_PER_UID_MAX 64
/* Requests per second per non-root uid (token bucket, burst of the same size). */
#define CGM_REQUESTS_PER_SECOND_DEFAULT 1000
/* Cgroups a non-root uid may create per second through the daemon. */
#define CGM_CREATES_PER_SECOND_DEFAULT 100
/* cgroup.max.descendants and cgroup.max.depth written on a home when it is delegated. */
#define CGM_HOME_MAX_DESCENDANTS_DEFAULT 1000
#define CGM_HOME_MAX_DEPTH_DEFAULT 16
/* Entries returned by List/Procs before the daemon refuses with LimitExceeded. */
#define CGM_LIST_MAX 100000
/* Subscribe: subscriptions one connection may hold, and all connections of one non-root uid
 * together (each costs up to four inotify watches, its three files and its parent directory,
 * shared with other subscribers of the same cgroup; on v1 an eventfd and a timerfd). Root is
 * bounded per connection only. */
#define CGM_SUBSCRIPTIONS_PER_PEER_MAX 32
#define CGM_SUBSCRIPTIONS_PER_UID_MAX 128
/* Events queued for a subscriber that does not read them: past this many events, or this
 * many bytes unread in its connection's outgoing queue, further events are dropped and
 * counted; once it has read its queue down it gets one `lost` event with the count. Well
 * below CGM_OUTGOING_PAUSE, so events alone never pause or close a connection. */
#define CGM_EVENT_QUEUE_MAX 64
#define CGM_EVENT_QUEUE_BYTES (32 * 1024)

/* Keys of OpenSession's info argument (all optional). */
#define CGM_SESSION_INFO_XDG_ID "xdg_session_id" /* names the leaf when set and valid */
#define CGM_SESSION_INFO_SERVICE "service"       /* PAM service, for the audit line */
#define CGM_SESSION_INFO_TTY "tty"
#define CGM_SESSION_INFO_RHOST "rhost"
/* The caller's remaining time budget in ms when it sent OpenSession (decimal). Once that much
 * time has passed, cgmd answers Busy and does nothing: a login that gave up is never moved. */
#define CGM_SESSION_INFO_TIMEOUT_MS "timeout_ms"

/* Concurrent NSS lookups (worker threads). A lookup that hangs occupies one; when all are
 * busy, further logins wait in the queue, and every other request is served as usual. */
#define CGM_NSS_WORKERS 4
/* How long OpenSession waits for NSS before failing with Busy (the PAM module's own timeout
 * is usually shorter). */
#define CGM_NSS_TIMEOUT_MS_DEFAULT 10000
/* Policy files: size of one file, number of sections and of settings in all files. */
#define CGM_POLICY_FILE_MAX (1024 * 1024)
#define CGM_POLICY_SECTIONS_MAX 4096
#define CGM_POLICY_FILES_MAX 256

/* Extended attribute that marks a delegated home: value = decimal uid. Only CAP_SYS_ADMIN in
 * the initial user namespace can set trusted.* attributes, so users cannot forge a home. */
#define CGM_XATTR_HOME "trusted.cgm.home"
/* Marks a session leaf: value = the session id. Unforgeable for the same reason. */
#define CGM_XATTR_SESSION "trusted.cgm.session"
/* On a home made for a login: the user's name, so a restarted daemon can apply linger and
 * kill_exempt without asking NSS. */
#define CGM_XATTR_USER "trusted.cgm.user"
/* On a session leaf whose login named a terminal: its name ("pts/3"), for the OOM notice after
 * a restart too (daemon/notify-tty.c). */
#define CGM_XATTR_TTY "trusted.cgm.tty"
/* How often sessions are checked for emptiness where cgroup.events does not exist (pure v1),
 * and how often a full check runs anyway (after an inotify queue overflow, or a missed
 * event). */
#define CGM_SWEEP_LEGACY_MS 2000
#define CGM_SWEEP_MS 30000
