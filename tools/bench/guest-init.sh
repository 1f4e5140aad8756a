#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of a bench guest, after the initramfs has switched to the overlay
# on the host's root.  Sets up the guest, installs the freshly built
# modules, then runs the mode named on the kernel command line:
#   sp_mode=tests  run the plan (tools/bench/guest-runner.sh)
#   sp_mode=shell  an interactive shell on the console
#   sp_mode=demo   run the demo script, output on the event port
# and powers off.  PID 1 must never exit (the kernel would panic).

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=${TERM:-linux} DM_DISABLE_UDEV=1 LANG=C.UTF-8

. "$(dirname "$0")/guest-cmdline.sh"

poweroff_now() {
	sync
	echo o > /proc/sysrq-trigger
	sleep 60
}

# /tmp stays the overlay's (already writable, tmpfs-backed): a tmpfs
# mounted over it would hide a source tree that lives under /tmp.
mount -t tmpfs tmpfs /run
mkdir -p /dev/pts /dev/shm /run/sp/results /run/sp/sync
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
hostname "${P[sp_host]:-spguest}"
ln -sf /proc/self/fd /dev/fd 2>/dev/null

kver=$(uname -r)
modprobe configfs
mount -t configfs configfs /sys/kernel/config

# Results and artefacts go to a writable 9p export of the host.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 spres /run/sp/results ||
	echo "guest-init: cannot mount results export" > /dev/ttyS0
if [ -n "${P[sp_sync]:-}" ]; then
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 spsync /run/sp/sync
fi

# The event port to the host: raw, so lines arrive as written.
stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec 9> /dev/ttyS1

# Fail loudly rather than hang silently.
echo 30 > /proc/sys/kernel/hung_task_timeout_secs
echo 0 > /proc/sys/kernel/hung_task_panic
echo 1 > /proc/sys/kernel/sysrq
dmesg -n 4

# Install the freshly built modules where modprobe finds them, exactly as
# 'make install' does on a storage node.  The host staged them and ran
# depmod for this kernel (sp_mods=); depmod here, over 9p, takes minutes.
if [ -d "${P[sp_mods]:-}" ]; then
	cp -r "${P[sp_mods]}/." "/lib/modules/$kver/"
else
	mkdir -p "/lib/modules/$kver/updates"
	depmod -a "$kver"
fi

# Networking for two-guest runs: loopback always, eth0 only when asked.
ip link set lo up
if [ -n "${P[sp_ip]:-}" ]; then
	ip link set eth0 up
	ip addr add "${P[sp_ip]}/24" dev eth0
fi

# The test disks: every virtio disk (file-backed on the host).
SP_DISKS=$(for d in /sys/block/vd*; do
	[ -e "$d" ] && printf '/dev/%s ' "${d##*/}"
done)
export SP_DISKS=${SP_DISKS% } SP_TOP=${P[sp_top]}
# Knobs passed from the host as sp_env_NAME=value (e.g. bench rounds).
for k in "${!P[@]}"; do
	case $k in sp_env_*) export "${k#sp_env_}=${P[$k]}" ;; esac
done

if [ ! -x "${P[sp_top]}/tools/bench/guest-runner.sh" ]; then
	printf 'guest-init: the source tree %s is not visible in the guest\n' \
		"${P[sp_top]}" | tee /dev/console >&9
fi

case "${P[sp_mode]:-shell}" in
tests)
	"${P[sp_top]}/tools/bench/guest-runner.sh" >&9 2>&1
	;;
demo)
	# Two-guest demos (selftests/run --demo2) get what two-guest tests
	# get: their role and addresses, and a shared directory for barriers.
	export SP_ROLE=${P[sp_role]:-a} SP_MY_IP=${P[sp_ip]:-} SP_PEER_IP=${P[sp_peer]:-}
	if [ -n "${P[sp_sync]:-}" ]; then
		export SP_SYNC=/run/sp/sync/demo
		mkdir -p "$SP_SYNC"
	fi
	printf '@@SP READY\n' >&9
	(cd "${P[sp_top]}" && "${P[sp_top]}/${P[sp_demo]}") >&9 2>&1
	printf '@@SP DEMO-EXIT %s\n@@SP DONE\n' "$?" >&9
	;;
*)
	echo "slicepool bench guest ($kver); 'poweroff' or Ctrl-D ends it." > /dev/console
	cat > /root/.bashrc <<'RC'
poweroff() { sync; echo o > /proc/sysrq-trigger; }
PS1='spguest# '
RC
	setsid -c bash -i < /dev/ttyS0 > /dev/ttyS0 2>&1
	;;
esac
poweroff_now
