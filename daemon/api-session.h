/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sessions and administration: what main.c needs from api-session.c */
#pragma once

#include "context.h"
#include "error.h"

/**
 * manager_reload() - re-read the policy (SIGHUP, Reload); on error the old one stays
 *
 * Return: 0, or negative errno with @e as "FILE:LINE: problem".
 */
int manager_reload(Manager *m, CgmError *e);

/**
 * manager_apply_options() - take the policy's global options into the manager (main.c)
 * @resolve_admin_group: look admin_group up in NSS here (start-up); reloads pass false and
 *                       resolve it on a worker
 */
void manager_apply_options(Manager *m, bool resolve_admin_group);
