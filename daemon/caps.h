/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Capabilities: keep only what cgmd uses */
#pragma once

#include "error.h"

/**
 * caps_restrict() - reduce the permitted, effective, inheritable and bounding sets to the
 * capabilities cgmd needs, and set no_new_privs
 *
 * Return: 0, or a negative errno with @e filled.
 */
int caps_restrict(CgmError *e);
