#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boot 1 of every guest (tests/guest/README.md): set the host up as its admin would, install cgm
# from its .debs exactly as README.md's "Installing on Debian" says, write its "safe first
# policy", and check what the install gave. The harness then reboots the guest; boot 2 checks
# what the boot brings up (check-*.sh).
#
# Usage: install.sh HOST   (HOST: openrc-unified, openrc-legacy or systemd; prints TAP)
#
# Every README step is run with `readme`, as written there (same line, same comment); the first
# test point checks that each such line is a line of README.md, so a README change that is not
# tried here fails the tier instead of going untested. What is not in the README (the host's own
# setup: cgroup mode, the user, an ssh key; the tier's tighter limits) is run with `check`.
. "$(dirname "$0")/lib.sh"
HOST=${1:?usage: install.sh openrc-unified|openrc-legacy|systemd}
log=$OUT/install-steps.log

# readme STEP: run a README step (one or more lines) in this shell, so that `cd` carries over;
# its output goes to install-steps.log.
readme_steps=()
readme() {
	readme_steps+=("$1")
	printf '+ %s\n' "$1" >>"$log"
	if eval "$1" >>"$log" 2>&1 </dev/null; then ok "README: ${1%%$'\n'*}"
	else not_ok "README: ${1%%$'\n'*}"; diag "$(tail -n 20 "$log")"; fi
}

# ---- the host, before cgm: cgroup layout, a user, an ssh key -----------------------------------
case $HOST in
openrc-unified | openrc-legacy)
	mode=${HOST#openrc-}
	# OpenRC mounts the cgroup hierarchies at boot as rc_cgroup_mode says (the kernel gets
	# cgroup_no_v1=all for unified); this takes effect from the next boot on.
	sed -i -E "s/^#? *rc_cgroup_mode=.*/rc_cgroup_mode=\"$mode\"/" /etc/rc.conf
	check "rc.conf: rc_cgroup_mode=\"$mode\"" grep -qx "rc_cgroup_mode=\"$mode\"" /etc/rc.conf ;;
systemd) ;;
*) echo "install.sh: unknown host $HOST" >&2; exit 2 ;;
esac
check "adduser $T_USER" adduser --quiet --disabled-password --gecos "" "$T_USER"
# root logs in as the test user over ssh with this key
check "an ssh key for $T_USER" sh -c "rm -f $T_KEY $T_KEY.pub && ssh-keygen -q -t ed25519 -N '' -f $T_KEY &&
	install -d -m 700 -o $T_USER -g $T_USER /home/$T_USER/.ssh &&
	install -m 600 -o $T_USER -g $T_USER $T_KEY.pub /home/$T_USER/.ssh/authorized_keys"
# The .debs, as scripts/build-debs.sh left them in build-deb/ on the build host, copied here.
mkdir -p /root/build-deb
cp "$DATA"/debs/*.deb /root/build-deb/
cd /root || exit 1

# ---- README.md, "Installing on Debian": from the packages ----------------------------------------
readme 'cd build-deb'
readme 'apt install ./cgmd_0.1.0_amd64.deb ./libpam-cgm_0.1.0_amd64.deb ./libcgm0_0.1.0_amd64.deb'
cd /root || exit 1
for p in cgmd libpam-cgm libcgm0; do
	check "dpkg: $p is installed" sh -c "dpkg-query -W -f='\${Status}' $p | grep -qx 'install ok installed'"
done
# "cgmd is enabled and started by whatever init runs"
case $HOST in
openrc-*)
	check "OpenRC: cgmd is in the default runlevel" sh -c "rc-update show default | grep -qw cgmd"
	check "OpenRC: rc-service cgmd status says started" rc-service cgmd status ;;
systemd)
	check "systemd: cgmd.service is enabled" systemctl is-enabled cgmd
	check "systemd: cgmd.service is active" systemctl is-active cgmd ;;
esac
# "adds session optional pam_cgm.so to /etc/pam.d/common-session, for interactive logins only"
check "pam-auth-update: pam_cgm in common-session" grep -Eq '^session[[:space:]]+optional[[:space:]]+pam_cgm\.so' /etc/pam.d/common-session
check "pam-auth-update: not in common-session-noninteractive" sh -c '! grep -q pam_cgm /etc/pam.d/common-session-noninteractive'
readme 'cgm ping                              # cgmd answers'
readme 'cgm sessions                          # as root: every open login with its cgroup'

# ---- README.md: "A safe first policy" -------------------------------------------------------------
readme 'addgroup --system cgm-limited && adduser alice cgm-limited'
readme 'mkdir -p /etc/cgm/cgm.conf.d'
readme "cat > /etc/cgm/cgm.conf.d/50-first.conf <<'EOF'
# One group, modest limits: see cgm.conf(5)
[group:cgm-limited]
memory.max = 2G
pids.max = 512
cpu.max = 100%
EOF"
readme 'cgm policy check                      # /etc/cgm/cgm.conf: OK (...), or FILE:LINE: problem'
readme 'cgm reload                            # a bad file is refused; the old policy stays'
readme 'cgm policy explain alice              # memory.max = 2147483648  # /etc/cgm/cgm.conf.d/50-first.conf:3'
check "policy explain alice: memory.max = 2147483648 from 50-first.conf" \
	sh -c "cgm policy explain alice | grep -E '^memory\.max = 2147483648 .*50-first\.conf:[0-9]+'"
readme 'cgm policy explain root               # no limit: the policy touches no one else'
check "policy explain root: no memory.max" sh -c "! cgm policy explain root | grep -q '^memory\.max'"

# Every README step above must be a line of README.md, word for word.
missing=$(for s in "${readme_steps[@]}"; do
	while IFS= read -r l; do grep -qxF -- "$l" "$DATA/README.md" || echo "$l"; done <<<"$s"
done)
if [ -z "$missing" ]; then ok "every README step run here is a line of README.md"
else not_ok "every README step run here is a line of README.md"; diag "not in README.md:" "$missing"; fi

# ---- the tier's own limits, small enough to hit in a 1 GiB guest ---------------------------------
# A site's tuning on top of the first policy: a later drop-in for the same group.
check "drop-in 60-guest-tier.conf: $T_GROUP memory.max=$T_MEM pids.max=$T_PIDS" sh -c "
	printf '# tests/guest: limits a test can reach\n[group:$T_GROUP]\nmemory.max = $T_MEM\npids.max = $T_PIDS\n' \
		>/etc/cgm/cgm.conf.d/60-guest-tier.conf && cgm policy check && cgm reload"
check "policy explain alice: memory.max = $T_MEM_BYTES, pids.max = $T_PIDS" \
	sh -c "cgm policy explain alice | grep -Eq '^memory\.max = $T_MEM_BYTES ' && cgm policy explain alice | grep -Eq '^pids\.max = $T_PIDS '"

# ---- a login left open across the reboot (OpenRC guests): boot 2 checks nothing of it is left --
case $HOST in
openrc-*)
	cd / || exit 1 # not on the data disk, which the hook unmounts before the reboot
	setsid -f bash -c "$(declare -f ssh_login); T_KEY=$T_KEY T_USER=$T_USER; ssh_login 'exec sleep 100000'" \
		</dev/null >/dev/null 2>&1
	check "a login left open for the reboot is in cgm sessions" wait_until 60 sh -c "cgm sessions | grep -q '$T_USER'"
	cgm sessions >"$OUT/sessions-before-reboot.txt" 2>&1 ;;
esac
finish
