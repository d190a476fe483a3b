/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cgroup operations: what cgroup.c, cg-proc.c and cg-remove.c share, and nothing else uses */
#pragma once

#include <stdbool.h>

#include "cgfs.h"

/* cg_strip_newline() and cg_populated(), which they share with the reads, are declared in
 * common/cgread.h (included through cgfs.h). */
