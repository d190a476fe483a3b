/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-dlopen: what loading a PAM module costs a login process */

/*
 * Linux-PAM loads every module of a stack with dlopen(RTLD_NOW) in each login process and
 * dlclose()s it at pam_end(), so a module's load cost is paid per login. This times
 * dlopen(RTLD_NOW | RTLD_LOCAL) + dlclose() of each module given, N times each (default 200),
 * interleaved so that all see the same machine state, and prints one line per module:
 * `Dlopen/NAME median_us= p99_us= floor_us= ratio= added_us= n=`, the floor being the first
 * module's median.
 * libpam is loaded first, as in any PAM application, so only what the module adds is timed.
 * A module linked with -z nodelete stays loaded after its first dlclose(), so its later loads
 * would cost nothing: each repetition runs in a fresh child process (fork), as a login does,
 * after one warm-up load of the first module given (pam_permit.so, the reference).
 *
 *   cc -O2 -o bench-dlopen bench/bench-dlopen.c -ldl
 *   ./bench-dlopen 200 /lib/x86_64-linux-gnu/security/pam_permit.so build/pam_cgm/.libs/pam_cgm.so
 */

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        int n = argc > 1 ? atoi(argv[1]) : 0, m = argc - 2;
        double *t;

        if (n <= 0 || n > 100000 || m <= 0) {
                fprintf(stderr, "usage: %s N MODULE...\n", argv[0]);
                return 2;
        }
        /* A PAM application has libpam loaded before any module: so has this one. */
        if (!dlopen("libpam.so.0", RTLD_NOW | RTLD_GLOBAL)) {
                fprintf(stderr, "cannot load libpam.so.0: %s\n", dlerror());
                return 1;
        }
        t = mmap(NULL, sizeof(double) * (size_t)n * (size_t)m, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (t == MAP_FAILED)
                return 1;
        for (int i = 0; i < n; i++) {
                for (int k = 0; k < m; k++) {
                        pid_t pid = fork();
                        int status;

                        if (pid < 0)
                                return 1;
                        if (pid == 0) {
                                double start;
                                void *h;

                                /* Warm up the loader in the child (its first dlopen() pays
                                 * for copy-on-write faults of its own state), with the first
                                 * module given, normally pam_permit.so. */
                                h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
                                if (!h)
                                        _exit(1);
                                dlclose(h);
                                start = now_us();
                                h = dlopen(argv[2 + k], RTLD_NOW | RTLD_LOCAL);

                                if (!h)
                                        _exit(1);
                                dlclose(h);
                                t[k * n + i] = now_us() - start;
                                _exit(0);
                        }
                        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
                            WEXITSTATUS(status) != 0) {
                                fprintf(stderr, "cannot load %s\n", argv[2 + k]);
                                return 1;
                        }
                }
        }
        /* One line per module, named after its file (Dlopen/pam_cgm for .../pam_cgm.so); the
         * floor is the first module's median (pam_permit.so, a module that loads nothing). */
        for (int k = 0; k < m; k++)
                qsort(t + k * n, (size_t)n, sizeof(double), cmp);
        for (int k = 0; k < m; k++) {
                const char *base = strrchr(argv[2 + k], '/');
                double med = t[k * n + n / 2], floor = t[n / 2];
                base = base ? base + 1 : argv[2 + k];
                printf("Dlopen/%.*s median_us=%.1f p99_us=%.1f floor_us=%.1f ratio=%.2f "
                       "added_us=%.1f n=%d\n",
                       (int)strcspn(base, "."), base, med, t[k * n + (n * 99) / 100], floor,
                       floor > 0 ? med / floor : 0.0, med - floor, n);
        }
        return 0;
}
