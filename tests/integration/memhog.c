/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memhog: touch N MiB of anonymous memory, to observe memory.max
 *
 * Used by the integration tests on cgroup v2: in a cgroup whose memory.max is below N MiB
 * (and with no swap, as in the test VM) the kernel's OOM killer ends it with SIGKILL, so the
 * caller sees exit status 137 and memory.events counts an oom_kill. Every page is written, not
 * just allocated, because untouched pages are never charged. Exits 0 when it survived, 2 when
 * the allocation itself failed (an overcommit limit, not the cgroup), 1 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MIB (1024UL * 1024UL)

int main(int argc, char **argv)
{
        long n = argc > 1 ? strtol(argv[1], NULL, 10) : 0;

        if (argc != 2 || n <= 0 || n > 65536) {
                fprintf(stderr, "usage: memhog MIB (1..65536)\n");
                return 1;
        }
        for (long i = 0; i < n; i++) {
                char *p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED) {
                        printf("mmap failed after %ld MiB\n", i);
                        return 2;
                }
                memset(p, 0x5a, MIB);
        }
        printf("survived %ld MiB\n", n);
        return 0;
}
