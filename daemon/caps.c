/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Capabilities: keep only what cgmd uses
 *
 * cgmd runs as root because it writes cgroupfs for others, but it needs only a handful of
 * root's powers. Everything else is dropped from every set, including the bounding set, right
 * after start-up checks, so a bug in a request handler cannot, say, load a module or mount a
 * filesystem. What stays, and why:
 *   CAP_CHOWN            delegate a home: chown its directory and delegatable files
 *   CAP_DAC_OVERRIDE     write files a user now owns (its home's cgroup.subtree_control,
 *                        cgroup.procs of its cgroups) and create cgroups inside its home
 *   CAP_DAC_READ_SEARCH  read /proc and cgroupfs whatever their modes
 *   CAP_FOWNER           fchown/xattr on directories owned by a user
 *   CAP_KILL             signal a user's processes for Kill and Remove(kill)
 *   CAP_SYS_ADMIN        set the trusted.cgm.home attribute that marks homes
 *   CAP_SYS_NICE         move another user's process into a cpuset: attaching runs the
 *                        kernel's setscheduler check on the task (cpuset_can_attach)
 *   CAP_SYS_PTRACE       read /proc/PID/ns/user of peers to tell real root from root in a
 *                        container
 * no_new_privs is set as well: cgmd executes nothing, and nothing it could be tricked into
 * executing should gain privileges.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "caps.h"
#include "cleanup.h"

static const cap_value_t caps_kept[] = {
        CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
        CAP_KILL,  CAP_SYS_ADMIN,    CAP_SYS_NICE,        CAP_SYS_PTRACE,
};

static bool caps_is_kept(cap_value_t c)
{
        for (size_t i = 0; i < ELEMENTSOF(caps_kept); i++)
                if (caps_kept[i] == c)
                        return true;
        return false;
}

int caps_restrict(CgmError *e)
{
        cap_t caps;
        int r = 0;

        /* A capability the service manager already left out of the bounding set (systemd's
         * CapabilityBoundingSet=, which also leaves out CAP_SETPCAP, needed to drop one) is
         * skipped: there is nothing to drop. */
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
                if (!caps_is_kept(c) && CAP_IS_SUPPORTED(c) && cap_get_bound(c) == 1 &&
                    cap_drop_bound(c) < 0 && errno != EINVAL)
                        return cgm_error_set(e, -errno, NULL,
                                             "cannot drop capability %d from the bounding set: %m",
                                             (int)c);
        caps = cap_init();
        if (!caps)
                return cgm_error_set(e, -ENOMEM, NULL, "out of memory");
        if (cap_set_flag(caps, CAP_PERMITTED, ELEMENTSOF(caps_kept), caps_kept, CAP_SET) < 0 ||
            cap_set_flag(caps, CAP_EFFECTIVE, ELEMENTSOF(caps_kept), caps_kept, CAP_SET) < 0 ||
            cap_set_proc(caps) < 0)
                r = cgm_error_set(e, -errno, NULL, "cannot restrict capabilities: %m");
        cap_free(caps);
        if (r == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                r = cgm_error_set(e, -errno, NULL, "cannot set no_new_privs: %m");
        return r;
}
