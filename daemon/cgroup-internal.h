/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cgroup operations: what cgroup.c, cg-proc.c and cg-remove.c share, and nothing else uses */
#pragma once

#include <stdbool.h>

#include "cgfs.h"

/** cg_strip_newline() - cut @s at its first newline (cgroupfs values end in one) */
void cg_strip_newline(char *s);

/** cg_populated() - does @rel hold a process (cgroup.events on v2, else its cgroup.procs)? */
bool cg_populated(const Cgfs *cg, const char *rel);
