#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the dm-slicepool selftests (sourced, not run).  They follow
# Documentation/dm-slicepool.rst: configfs under $SP_CFG, table line
# "<start> <len> slicepool <pool> <volume> [<#features> <features>]".

. "$SP_TOP/selftests/lib/ktap.sh"

SP_CFG=/sys/kernel/config/slicepool
export DM_DISABLE_UDEV=1

# sp_disks N: set DISKS to the first N test disks or skip the test.
sp_disks() {
	local n=$1
	read -r -a DISKS <<< "${SP_DISKS:-}"
	[ "${#DISKS[@]}" -ge "$n" ] || sp_skip "needs $n disks in SP_DISKS, have ${#DISKS[@]}"
}

sp_load() {
	modprobe dm-slicepool || sp_die "modprobe dm-slicepool failed"
	mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
	[ -d "$SP_CFG" ] || sp_die "$SP_CFG missing after modprobe"
}

# Remove every slicepool dm device and configfs object; data stays on disk.
sp_teardown() {
	local d v m p
	for d in $(dmsetup table 2>/dev/null | awk '$4 == "slicepool" { sub(":", "", $1); print $1 }' | sort -u); do
		dmsetup remove --retry "$d" 2>/dev/null
	done
	[ -d "$SP_CFG" ] || return 0
	for p in "$SP_CFG"/*/; do
		[ -d "$p" ] || continue
		for v in "$p"volumes/*/; do [ -d "$v" ] && rmdir "$v"; done
		for m in "$p"members/*/; do
			[ -d "$m" ] || continue
			echo 0 > "$m/enable" 2>/dev/null
			rmdir "$m"
		done
		rmdir "$p"
	done
}

sp_unload() {
	sp_teardown
	modprobe -r dm-slicepool
}

# Zero the first MiB (superblock and tables) so the device counts as blank.
sp_wipe() {
	local d
	for d in "$@"; do
		dd if=/dev/zero of="$d" bs=1M count=4 oflag=direct status=none ||
			sp_die "cannot wipe $d"
	done
}

# sp_pool NAME [slice_mb]
sp_pool() {
	mkdir "$SP_CFG/$1" || sp_die "mkdir pool $1"
	[ -z "${2:-}" ] || echo "$2" > "$SP_CFG/$1/slice_mb" || sp_die "slice_mb $2"
}

# sp_member POOL NAME DEVICE DOMAIN [load_override]
sp_member() {
	local m=$SP_CFG/$1/members/$2
	mkdir "$m" || sp_die "mkdir member $2"
	echo "$3" > "$m/path" || sp_die "path $3"
	echo "$4" > "$m/domain" || sp_die "domain $4"
	[ -z "${5:-}" ] || echo "$5" > "$m/load_override" || sp_die "load_override $5"
	echo 1 > "$m/enable" || sp_die "enable member $2 ($3)"
}

# sp_volume POOL NAME SIZE
sp_volume() {
	mkdir "$SP_CFG/$1/volumes/$2" || sp_die "mkdir volume $2"
	echo "$3" > "$SP_CFG/$1/volumes/$2/size" || sp_die "size $3 for volume $2"
}

# sp_dm DMNAME POOL VOLUME: create the dm device for the volume.
sp_dm() {
	local bytes
	bytes=$(cat "$SP_CFG/$2/volumes/$3/size")
	dmsetup create "$1" --table "0 $((bytes / 512)) slicepool $2 $3" ||
		sp_die "dmsetup create $1"
	[ -b "/dev/mapper/$1" ] || dmsetup mknodes "$1"
}

# sp_map_count POOL VOLUME MEMBER: slices of VOLUME on MEMBER.
sp_map_count() {
	awk -v m="$3" '$2 == m { n++ } END { print n + 0 }' "$SP_CFG/$1/volumes/$2/map"
}

# sp_map_domains POOL VOLUME: number of distinct domains in the map.
sp_map_domains() {
	local m
	awk '$2 != "-" { print $2 }' "$SP_CFG/$1/volumes/$2/map" | sort -u |
		while read -r m; do
			cat "$SP_CFG/$1/members/$m/domain"
		done | sort -u | wc -l
}

# sp_write_fails CMD...: the command (a configfs write) must fail.
sp_write_fails() {
	! "$@" 2>/dev/null
}
