#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Between tests: tear down whatever a test left behind so the next one
# starts from a known state, and say what was found (a well-behaved test
# leaves nothing).  Zeroes the head of every test disk.
set -u

if dmsetup ls 2>/dev/null | grep -vq 'No devices found'; then
	echo "dm devices left: $(dmsetup ls | awk '{print $1}' | tr '\n' ' ')"
	dmsetup remove_all --force > /dev/null 2>&1
fi
cfs=/sys/kernel/config
# shellcheck source=selftests/lib/pool.sh
. "$(dirname "$0")/../../selftests/lib/pool.sh"
for pool in "$SP_CFG"/*/; do
	[ -d "$pool" ] || continue
	echo "slicepool pool left: $pool"
	sp_pool_remove "$pool" 2>/dev/null
done
if [ -d $cfs/nvmet ]; then
	for p in "$cfs"/nvmet/ports/*/; do
		[ -d "$p" ] || continue
		echo "nvmet port left: $p"
		rm -f "$p"subsystems/* 2>/dev/null
		rmdir "$p" 2>/dev/null
	done
	for s in "$cfs"/nvmet/subsystems/*/; do
		[ -d "$s" ] || continue
		echo "nvmet subsystem left: $s"
		rm -f "$s"allowed_hosts/* 2>/dev/null
		for n in "$s"namespaces/*/; do
			[ -d "$n" ] || continue
			echo 0 > "$n/enable" 2>/dev/null
			rmdir "$n"
		done
		rmdir "$s" 2>/dev/null
	done
	for h in "$cfs"/nvmet/hosts/*/; do [ -d "$h" ] && rmdir "$h"; done
fi
if command -v nvme > /dev/null && compgen -G '/sys/class/nvme-fabrics/ctl/nvme*' > /dev/null; then
	echo "nvme controllers left"
	nvme disconnect-all > /dev/null 2>&1
fi
for m in $(lsmod | awk '$1 ~ /^(dm_slicepool|sp_bench_warn)$/ {print $1}'); do
	modprobe -r "$m" 2>/dev/null || echo "cannot unload module $m"
done
# The four at once: under TCG each dd costs more to start than to write.
# 8 MiB holds every member's metadata on the 1 GiB test disks: format 2
# ends below 1 MiB (superblock, 16 volume blocks, an owner block per 127
# slices; sp-format.h), format 3 below 5 MiB (two labels and a journal of
# 4 MiB for devices up to 2 GiB, md3_default_journal_blocks() in md3.c).
for d in /sys/block/vd*; do
	dd if=/dev/zero of="/dev/${d##*/}" bs=1M count=8 oflag=direct status=none 2>/dev/null &
done
wait
exit 0
