#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Disks, the module and teardown for every guest test that uses
# dm-slicepool (sourced, not run): the dm-slicepool, migrate and cli
# groups, and the cleanup between tests (tools/bench/guest-cleanup.sh).
# Configfs paths follow Documentation/dm-slicepool.rst.

SP_CFG=/sys/kernel/config/slicepool
export DM_DISABLE_UDEV=1

# sp_disks N: set DISKS to the first N test disks or skip the test.
sp_disks() {
	local n=$1
	read -r -a DISKS <<< "${SP_DISKS:-}"
	[ "${#DISKS[@]}" -ge "$n" ] || sp_skip "needs $n disks in SP_DISKS, have ${#DISKS[@]}"
}

# sp_start N PLAN [COMMAND]: how a guest test starts: N disks (else a
# skip), COMMAND installed (else a skip), the KTAP header and plan, the
# module loaded and nothing left of an earlier test.
sp_start() {
	sp_disks "$1"
	[ -z "${3:-}" ] || command -v "$3" > /dev/null || sp_skip "$3 not installed"
	ktap_header
	ktap_plan "$2"
	sp_load
	sp_teardown
}

sp_load() {
	modprobe dm-slicepool || sp_die "modprobe dm-slicepool failed"
	mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
	[ -d "$SP_CFG" ] || sp_die "$SP_CFG missing after modprobe"
}

# sp_pool_remove <pool dir>/: its volumes, then its members (disabled
# first), then the pool; data stays on disk.
sp_pool_remove() {
	local p=$1 v m
	for v in "$p"volumes/*/; do
		[ -d "$v" ] && rmdir "$v"
	done
	for m in "$p"members/*/; do
		[ -d "$m" ] || continue
		echo 0 > "$m/enable" 2>/dev/null
		rmdir "$m"
	done
	rmdir "$p"
}

# sp_teardown: every slicepool dm device and configfs object, without the
# tool (so that a tool bug cannot hide here); data stays on disk.
sp_teardown() {
	local d p
	for d in $(dmsetup table 2>/dev/null |
		   awk '$4 == "slicepool" { sub(":", "", $1); print $1 }' | sort -u); do
		dmsetup remove --retry "$d" > /dev/null 2>&1
	done
	[ -d "$SP_CFG" ] || return 0
	for p in "$SP_CFG"/*/; do
		[ -d "$p" ] && sp_pool_remove "$p"
	done
}

sp_unload() {
	sp_teardown
	modprobe -r dm-slicepool
}

# sp_wipe DEV...: zero the first 4 MiB (superblock and tables) so each
# device counts as blank.
sp_wipe() {
	local d
	for d in "$@"; do
		dd if=/dev/zero of="$d" bs=1M count=4 oflag=direct status=none ||
			sp_die "cannot wipe $d"
	done
}
