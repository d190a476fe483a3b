/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* forker: try to fork N children and report how many forks the kernel allowed
 *
 * Used by the integration tests to observe pids.max. Unlike a shell, it does not retry a
 * failed fork. Children wait on a pipe and exit when the parent closes it, so nothing is
 * left behind and no sleep is needed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        int n = argc > 1 ? atoi(argv[1]) : 0, forked = 0, failed = 0, p[2];
        int last_errno = 0;
        pid_t pids[256];

        if (n <= 0 || n > 256 || pipe(p) < 0) {
                fprintf(stderr, "usage: forker N (1..256)\n");
                return 2;
        }
        for (int i = 0; i < n; i++) {
                pid_t pid = fork();
                if (pid == 0) {
                        char c;
                        close(p[1]);
                        (void)read(p[0], &c, 1); /* returns 0 when the parent closes the pipe */
                        _exit(0);
                }
                if (pid < 0) {
                        failed++;
                        last_errno = errno;
                        continue;
                }
                pids[forked++] = pid;
        }
        close(p[1]);
        for (int i = 0; i < forked; i++)
                waitpid(pids[i], NULL, 0);
        printf("forked=%d failed=%d%s%s\n", forked, failed, failed ? " error=" : "",
               failed ? strerror(last_errno) : "");
        return 0;
}
