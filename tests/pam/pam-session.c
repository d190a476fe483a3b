/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam-session: a tiny PAM application that opens a session, shows where it landed, closes it */

/*
 * For integration tests against a real cgmd, through a private service directory so the
 * host's /etc/pam.d stays untouched:
 *
 *     pam-session [-s] [-t TTY] [-r RHOST] [-e NAME=VALUE]... CONFDIR SERVICE USER
 *
 * It runs pam_open_session() for USER with CONFDIR/SERVICE, prints
 *
 *     open=<rc> <pam_strerror text>
 *     CGM_SESSION=<id>              (empty when none was set)
 *     cgroup=<line of /proc/self/cgroup>   (one line each)
 *     ready
 *
 * then waits for a line (or EOF) on stdin, so the test can inspect the session from outside,
 * then runs pam_close_session() and prints "close=<rc> <text>". -e puts NAME=VALUE into the
 * PAM environment before the open (XDG_SESSION_ID=..., as pam_systemd would), -t and -r set
 * PAM_TTY and PAM_RHOST, -s passes PAM_SILENT. Messages from the modules are printed as
 * "conv: <style> <text>". Exit status: 0 when both calls returned PAM_SUCCESS, 1 when one did
 * not, 2 for a usage or setup error.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>

#define ENV_MAX 16

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
        struct pam_response *r = calloc((size_t)n, sizeof(*r));

        (void)data;
        if (!r)
                return PAM_BUF_ERR;
        for (int i = 0; i < n; i++)
                printf("conv: %s %s\n",
                       msg[i]->msg_style == PAM_ERROR_MSG  ? "error" :
                       msg[i]->msg_style == PAM_TEXT_INFO ? "info" :
                                                            "prompt",
                       msg[i]->msg ? msg[i]->msg : "");
        fflush(stdout);
        *resp = r;
        return PAM_SUCCESS;
}

static void usage(void)
{
        fprintf(stderr, "usage: pam-session [-s] [-t TTY] [-r RHOST] [-e NAME=VALUE]... CONFDIR "
                        "SERVICE USER\n");
        exit(2);
}

static void print_cgroup(void)
{
        char line[4096];
        FILE *f = fopen("/proc/self/cgroup", "re");

        if (!f) {
                printf("cgroup=\n");
                return;
        }
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                printf("cgroup=%s\n", line);
        }
        fclose(f);
}

int main(int argc, char **argv)
{
        const char *tty = NULL, *rhost = NULL, *env[ENV_MAX], *id;
        struct pam_conv c = { conv, NULL };
        pam_handle_t *pamh = NULL;
        int opt, flags = 0, n_env = 0, open_rc, close_rc, rc;
        char line[256];

        while ((opt = getopt(argc, argv, "st:r:e:")) != -1) {
                switch (opt) {
                case 's':
                        flags |= PAM_SILENT;
                        break;
                case 't':
                        tty = optarg;
                        break;
                case 'r':
                        rhost = optarg;
                        break;
                case 'e':
                        if (n_env == ENV_MAX || !strchr(optarg, '='))
                                usage();
                        env[n_env++] = optarg;
                        break;
                default:
                        usage();
                }
        }
        if (argc - optind != 3)
                usage();

        rc = pam_start_confdir(argv[optind + 1], argv[optind + 2], &c, argv[optind], &pamh);
        if (rc != PAM_SUCCESS) {
                fprintf(stderr, "pam-session: pam_start_confdir: %s\n", pam_strerror(NULL, rc));
                return 2;
        }
        if ((tty && pam_set_item(pamh, PAM_TTY, tty) != PAM_SUCCESS) ||
            (rhost && pam_set_item(pamh, PAM_RHOST, rhost) != PAM_SUCCESS)) {
                fprintf(stderr, "pam-session: pam_set_item failed\n");
                return 2;
        }
        for (int i = 0; i < n_env; i++)
                if (pam_putenv(pamh, env[i]) != PAM_SUCCESS) {
                        fprintf(stderr, "pam-session: pam_putenv `%s` failed\n", env[i]);
                        return 2;
                }

        open_rc = pam_open_session(pamh, flags);
        printf("open=%d %s\n", open_rc, pam_strerror(pamh, open_rc));
        id = pam_getenv(pamh, "CGM_SESSION");
        printf("CGM_SESSION=%s\n", id ? id : "");
        print_cgroup();
        printf("ready\n");
        fflush(stdout);

        if (!fgets(line, sizeof(line), stdin))
                line[0] = '\0';

        close_rc = pam_close_session(pamh, flags);
        printf("close=%d %s\n", close_rc, pam_strerror(pamh, close_rc));
        fflush(stdout);
        pam_end(pamh, close_rc);
        return open_rc == PAM_SUCCESS && close_rc == PAM_SUCCESS ? 0 : 1;
}
