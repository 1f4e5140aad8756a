#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Between tests: tear down whatever a test left behind so the next one
# starts from a known state, and say what was found (a well-behaved test
# leaves nothing).  guest-runner.sh sources it in a subshell.  Zeroes the head of every test disk written since it
# was last zeroed.
#
# Runs after every guest test, where under TCG starting a process costs
# far more than the work it does (0.1 to 0.5 s each): what can be seen in
# sysfs or configfs is looked at there, and a command runs only when
# there is something for it to do.
set -u

# Device-mapper devices show as /sys/block/dm-N.
if compgen -G '/sys/block/dm-*' > /dev/null; then
	echo "dm devices left: $(dmsetup ls | awk '{print $1}' | tr '\n' ' ')"
	dmsetup remove_all --force > /dev/null 2>&1
fi
cfs=/sys/kernel/config
# shellcheck source=selftests/lib/pool.sh
. "${BASH_SOURCE[0]%/*}/../../selftests/lib/pool.sh"
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
for m in dm_slicepool sp_bench_warn; do
	[ -d "/sys/module/$m" ] || continue
	modprobe -r "$m" 2>/dev/null || echo "cannot unload module $m"
done
# 8 MiB holds every member's metadata on the 1 GiB test disks: format 2
# ends below 1 MiB (superblock, 16 volume blocks, an owner block per 127
# slices; sp-format.h), format 3 below 5 MiB (two labels and a journal of
# 4 MiB for devices up to 2 GiB, md3_default_journal_blocks() in md3-member.c).
# Only a disk written since its last zeroing is zeroed again: the sectors
# written (field 7 of /sys/block/<disk>/stat, which counts every write,
# this zeroing's too) are kept after each zeroing in $seen, on the guest's
# tmpfs, so a new boot zeroes every disk once.  The zeroing is the
# kernel's (BLKZEROOUT: a write-zeroes request, no data copied), all the
# disks at once.
seen=/run/sp/cleanup-writes
declare -A was=()
if [ -r "$seen" ]; then
	while read -r d n; do was[$d]=$n; done < "$seen"
fi
zeroed=()
for d in /sys/block/vd*; do
	d=${d##*/}
	read -r _ _ _ _ _ _ n _ < "/sys/block/$d/stat" || n=""
	[ -n "$n" ] && [ "${was[$d]:-}" = "$n" ] && continue
	zeroed+=("$d")
	if command -v blkdiscard > /dev/null; then
		blkdiscard -z -l 8MiB "/dev/$d" 2>/dev/null ||
			dd if=/dev/zero of="/dev/$d" bs=1M count=8 oflag=direct status=none 2>/dev/null &
	else
		dd if=/dev/zero of="/dev/$d" bs=1M count=8 oflag=direct status=none 2>/dev/null &
	fi
done
wait
[ ${#zeroed[@]} -eq 0 ] && exit 0
for d in /sys/block/vd*; do
	d=${d##*/}
	read -r _ _ _ _ _ _ n _ < "/sys/block/$d/stat" && echo "$d $n"
done > "$seen"
exit 0
