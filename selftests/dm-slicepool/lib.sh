#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the dm-slicepool selftests (sourced, not run).  They follow
# Documentation/dm-slicepool.rst: configfs under $SP_CFG, table line
# "<start> <len> slicepool <pool> <volume> [<#features> <features>]".

. "$SP_TOP/selftests/lib/ktap.sh"

. "$SP_TOP/selftests/lib/pool.sh"

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

# sp_fill DEVICE MB [SEEK_MB]: MB MiB of random data at SEEK_MB (direct I/O).
sp_fill() {
	dd if=/dev/urandom of="$1" bs=1M seek="${3:-0}" count="$2" oflag=direct status=none ||
		sp_die "fill $2 MiB of $1 at $((${3:-0})) MiB"
}

# sp_sum DEVICE MB: the sha256 of the first MB MiB of DEVICE (direct I/O).
sp_sum() {
	dd if="$1" bs=1M count="$2" iflag=direct status=none | sha256sum
}

# sp_lightest POOL MEMBER: MEMBER's measured load overridden to 0 and every
# other member's to 100, so that placement by load picks MEMBER's domain.
sp_lightest() {
	local m
	for m in "$SP_CFG/$1"/members/*; do
		[ -d "$m" ] || continue
		if [ "${m##*/}" = "$2" ]; then echo 0; else echo 100; fi > "$m/load_override" ||
			sp_die "load_override of ${m##*/}"
	done
}

# sp_record_volume POOL VOLUME DEVICE DIR: the pool's uuid and slice size,
# the volume's uuid, size and map, and the sha256 of DEVICE (the volume's
# dm device) in DIR, for sp_check_recorded after a reload or a reboot.
sp_record_volume() {
	cat "$SP_CFG/$1/uuid" > "$4/uuid"
	cat "$SP_CFG/$1/slice_mb" > "$4/slice_mb"
	cat "$SP_CFG/$1/volumes/$2/uuid" > "$4/vuuid"
	cat "$SP_CFG/$1/volumes/$2/size" > "$4/size"
	cat "$SP_CFG/$1/volumes/$2/map" > "$4/map"
	sha256sum < "$3" > "$4/sum"
}

# sp_check_recorded WHEN POOL VOLUME DMNAME DIR: the reassembled POOL is the
# one sp_record_volume recorded in DIR (7 checks): uuid and slice size
# adopted, VOLUME discovered with its uuid and size, bound (mkdir) with
# them and no longer listed, its map unchanged, and its data read through
# a new dm device DMNAME unchanged.
sp_check_recorded() {
	local c=$SP_CFG/$2 d=$5
	ktap_check "$1: pool uuid adopted from the members" \
		[ "$(cat "$c"/uuid)" = "$(cat "$d"/uuid)" ]
	ktap_check "$1: slice size adopted ($(cat "$d"/slice_mb) MiB)" \
		[ "$(cat "$c"/slice_mb)" = "$(cat "$d"/slice_mb)" ]
	ktap_check "$1: discovered lists volume $3 (uuid and size)" \
		grep -qx "$3 $(cat "$d"/vuuid) $(cat "$d"/size)" "$c"/discovered
	mkdir "$c/volumes/$3" || sp_die "bind $3"
	ktap_check "$1: the bound volume keeps its uuid and is no longer discovered" \
		[ "$(cat "$c/volumes/$3"/uuid)" = "$(cat "$d"/vuuid)" -a ! -s "$c"/discovered ]
	ktap_check "$1: its size is kept" [ "$(cat "$c/volumes/$3"/size)" = "$(cat "$d"/size)" ]
	# (cmp would compare st_size: configfs reports 4096 for every file)
	ktap_check "$1: map unchanged" [ "$(cat "$c/volumes/$3"/map)" = "$(cat "$d"/map)" ]
	sp_dm "$4" "$2" "$3"
	ktap_check "$1: data unchanged" \
		[ "$(sha256sum < "/dev/mapper/$4")" = "$(cat "$d"/sum)" ]
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

# md3_head JSON DEVICE...: the seq of the winning head of the one v3 pool
# on DEVICEs, as "slicepool inspect" (a nowrite assembly) reads it, or "-"
# if it cannot; its JSON is left in JSON.
md3_head() {
	local js=$1
	shift
	"$SP_TOP/tools/slicepool/slicepool" --json inspect "$@" > "$js" 2>/dev/null
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
p = [p for p in d["pools"] if p["format"] == 3]
print(p[0]["winner"]["seq"] if len(p) == 1 else "-")' "$js" 2>/dev/null || echo -
}

# sp_write_fails CMD...: the command (a configfs write) must fail.
sp_write_fails() {
	! "$@" 2>/dev/null
}

# pc_every K: the power-cut tests check every K-th flush point (plus the
# first after each mark and the last) in make check, every point in make
# check-full (SP_FULL=1).
pc_every() {
	if [ "${SP_FULL:-0}" = 1 ]; then echo 1; else echo "$1"; fi
}

# pc_counts OUTPUT: "POINTS CHECKED" from powercut-replay.py's
# "points=N checked=C failed=M" line (0 0 when it is missing).
pc_counts() {
	local p c
	p=$(sed -n 's/^points=\([0-9]*\) .*/\1/p' <<< "$1")
	c=$(sed -n 's/^points=[0-9]* checked=\([0-9]*\) .*/\1/p' <<< "$1")
	echo "${p:-0} ${c:-0}"
}

# sp_pool_by_load NAME SLICE_MB: a pool that places by load alone
# (weight_space 0, weight_load 100).
sp_pool_by_load() {
	sp_pool "$1" "$2"
	echo 0 > "$SP_CFG/$1"/weight_space
	echo 100 > "$SP_CFG/$1"/weight_load
}

# The member_grow tests: the member is /dev/mapper/spgrow ($DEV), a
# dm-linear device over DISKS[0].
# mg_linear SECTORS|error: (re)load its dm-linear table with that length
# (or an error table of the size it has).
mg_linear() {
	local t="0 $1 linear ${DISKS[0]} 0"
	[ "$1" = error ] && t="0 $(blockdev --getsz "$DEV") error"
	if dmsetup info spgrow > /dev/null 2>&1; then
		dmsetup suspend spgrow && dmsetup load spgrow --table "$t" &&
			dmsetup resume spgrow
	else
		dmsetup create spgrow --table "$t" &&
			{ [ -b "$DEV" ] || dmsetup mknodes spgrow; }
	fi
}

# mg_fresh: no spgrow left of an earlier test, DISKS[0] blank.
mg_fresh() {
	dmsetup remove spgrow 2> /dev/null
	sp_wipe "${DISKS[0]}"
}

# mg_cleanup (the EXIT trap): the module, spgrow and the directory $W if
# the test made one.
mg_cleanup() {
	sp_unload
	dmsetup remove spgrow 2> /dev/null
	[ -z "${W:-}" ] || rm -rf "$W"
}

# pc_check_open PREFIX N PIECE POINT POOL [SLICE_MB]: the start of a
# power-cut test's --check at flush/FUA point POINT.  A throw-away snapshot
# PREFIXss of the replay device PREFIXrp on the scratch PREFIXsc (the
# check writes to it, the replay goes on from the state as logged), the N
# members PREFIXk0 .. of PIECE sectors each over it, and pool POOL under
# $SP_CFG with members m0 .. m<N-1> in domains d0 .., given the slice size
# SLICE_MB if set, enabled.  One dmsetup and one mkdir: the check runs at
# every checked point and each program costs much under TCG.  Sets P
# (the pool's directory) and bad MESSAGE (a "# point POINT: MESSAGE" line)
# for the rest of the check; status 1 if a member was refused.
pc_check_open() {
	local pre=$1 n=$2 piece=$3 pool=$5 slice_mb=${6:-} i devs mem=() ret=0
	pc_point=$4
	bad() { echo "# point $pc_point: $*"; }
	devs="${pre}ss,,,,0 $((n * piece)) snapshot /dev/mapper/${pre}rp /dev/mapper/${pre}sc N 8"
	P=$SP_CFG/$pool
	for ((i = 0; i < n; i++)); do
		devs+=";${pre}k$i,,,,0 $piece linear /dev/mapper/${pre}ss $((i * piece))"
		mem+=("$P/members/m$i")
	done
	dmsetup create --concise "$devs" || exit 1
	mkdir "$P" || exit 1
	mkdir "${mem[@]}" || exit 1
	[ -z "$slice_mb" ] || echo "$slice_mb" > "$P/slice_mb"
	for ((i = 0; i < n; i++)); do
		echo "/dev/mapper/${pre}k$i" > "$P/members/m$i/path"
		echo "d$i" > "$P/members/m$i/domain"
		echo 1 > "$P/members/m$i/enable" || { bad "member m$i refused"; ret=1; }
	done
	return $ret
}

# pc_maps_check VOLUME_DIR...: the maps of a power-cut test's reassembled
# volumes, each line "<logical> <member> <physical>": no slice missing and
# no physical slice in two places (each a "bad" line and status 1).
pc_maps_check() {
	local d m ps ret=0
	local -A phys
	for d in "$@"; do
		while read -r _ m ps; do
			if [ "$m $ps" = "- -" ]; then
				bad "a slice of ${d##*/} is missing"; ret=1
			elif [ -n "${phys[$m:$ps]:-}" ]; then
				bad "physical slice $m $ps is mapped twice"; ret=1
			fi
			phys[$m:$ps]=1
		done < "$d/map"
	done
	return $ret
}

# pc_sum_teardown PREFIX N [VOLUME_DIR...]: the end of a power-cut test's
# --check of pool $P (members m0 .. m<N-1>, after its reclaim): used +
# free = total over the members, used the slices the volumes' maps hold
# (else a "bad" line of the test and status 1), then the volumes'
# directories, the members (disabled), the pool and the check's devices
# PREFIXk0 .. and PREFIXss go (those pc_check_open made).
pc_sum_teardown() {
	local pre=$1 n=$2 used=0 i d t f tot=0 free=0 rc=0 mem=() dev=() map
	shift 2
	for d in "$@"; do
		mapfile -t map < "$d/map"
		used=$((used + ${#map[@]}))
	done
	for ((i = 0; i < n; i++)); do
		read -r t < "$P/members/m$i/total_slices"
		read -r f < "$P/members/m$i/free_slices"
		tot=$((tot + t)) free=$((free + f))
		mem+=("$P/members/m$i") dev+=("${pre}k$i")
	done
	if [ $((used + free)) -ne "$tot" ]; then
		bad "after reclaim used $used + free $free != total $tot"; rc=1
	fi
	# Volumes first (a member cannot be disabled under them), then the
	# members, disabled, and the pool.
	[ $# -eq 0 ] || rmdir "$@"
	for ((i = 0; i < n; i++)); do echo 0 > "$P/members/m$i/enable"; done
	rmdir "${mem[@]}" "$P"
	dmsetup remove "${dev[@]}" "${pre}ss"
	return $rc
}

# pc_replay PREFIX SECTORS EVERY MIN WHAT [OPTION...]: the power-cut tests'
# replay of the log on DISKS[1] (powercut-replay.py with OPTIONs) onto the
# dm-linear PREFIXrp over DISKS[2], with the scratch PREFIXsc over
# DISKS[3], both SECTORS long; every pc_every EVERY-th point is checked by
# this test run with --check.  Two checks: each checked point passed ("...
# flush/FUA points WHAT"), and at least MIN points were logged and one in
# pc_every EVERY of them checked.
pc_replay() {
	local pre=$1 sz=$2 every min=$4 what=$5 out rc points checked
	every=$(pc_every "$3")
	shift 5
	dmsetup create "${pre}rp" --table "0 $sz linear ${DISKS[2]} 0" || sp_die "replay device"
	dmsetup create "${pre}sc" --table "0 $sz linear ${DISKS[3]} 0" || sp_die "scratch device"
	dd if=/dev/zero of="/dev/mapper/${pre}rp" bs=1M count=$((sz / 2048)) oflag=direct status=none
	out=$(python3 "$SP_TOP/selftests/dm-slicepool/powercut-replay.py" "$@" \
		--every "$every" "${DISKS[1]}" "/dev/mapper/${pre}rp" \
		"$(cd "$(dirname "$0")" && pwd)/$(basename "$0")" --check)
	rc=$?
	echo "$out" | sed -e '/^#/!s/^/# /'
	read -r points checked <<< "$(pc_counts "$out")"
	ktap_check "each of the $checked checked of the $points flush/FUA points $what" \
		[ $rc -eq 0 ]
	ktap_check "enough points were logged ($points >= $min) and checked ($checked >= $((points / every)))" \
		[ "$points" -ge "$min" -a "$checked" -ge $((points / every)) ]
	dmsetup remove "${pre}rp"
	dmsetup remove "${pre}sc"
}
