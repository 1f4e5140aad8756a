#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A pool whose members' journals have forked, for the tests of prefer
# (md3_prefer.sh, cli/assemble_prefer.sh; sourced, not run).  Needs
# selftests/dm-slicepool/lib.sh (sp_pool, sp_member, ...) and DISKS.
#
# make_fork POOL: pool POOL (1 MiB slices) on m0 (${DISKS[0]}, domain
# dA) and m1 (${DISKS[1]}, dB) with volume v (2 MiB, a slice on each,
# random data), then min_domains 1.  Then m0 alone, forced (m1 marked
# stale), gets volume w0 (1 MiB, random data); and m1 alone, forced (m0
# marked stale), volume w1: each side wrote without the other.  Nothing
# is left configured.  Sets V0 (v's logical slice on m0), VSUM0 (the
# sha256 of that MiB of v), W0SUM and W1SUM (of w0 and w1).

# fork_side POOL MEMBER DEVICE DOMAIN VOLUME: the pool from MEMBER's
# device alone, forced read-write, and VOLUME (1 MiB) written on it; sets
# SUM (the volume's sha256).
fork_side() {
	sp_pool "$1" 1
	sp_member "$1" "$2" "$3" "$4"
	echo 1 > "$SP_CFG/$1/force" || sp_die "force $1 with $2 alone"
	sp_volume "$1" "$5" 1M
	sp_dm "fork-$5" "$1" "$5"
	sp_fill "/dev/mapper/fork-$5" 1
	SUM=$(sp_sum "/dev/mapper/fork-$5" 1)
	sp_teardown
}

make_fork() {
	local p=$1
	sp_pool "$p" 1
	sp_member "$p" m0 "${DISKS[0]}" dA
	sp_member "$p" m1 "${DISKS[1]}" dB
	sp_volume "$p" v 2M
	# Each side alone then has one domain for its new volume.
	echo 1 > "$SP_CFG/$p/min_domains" || sp_die "min_domains 1"
	sp_dm fork-v "$p" v
	sp_fill /dev/mapper/fork-v 2
	V0=$(awk '$2 == "m0" { print $1 }' "$SP_CFG/$p/volumes/v/map")
	[ "$(awk '{ print $2 }' "$SP_CFG/$p/volumes/v/map" | sort | tr '\n' ' ')" = "m0 m1 " ] ||
		sp_die "v's two slices are not on m0 and m1: $(cat "$SP_CFG/$p/volumes/v/map")"
	# shellcheck disable=SC2034	# the caller's
	VSUM0=$(v0_sum fork-v)
	sp_teardown
	fork_side "$p" m0 "${DISKS[0]}" dA w0
	# shellcheck disable=SC2034
	W0SUM=$SUM
	fork_side "$p" m1 "${DISKS[1]}" dB w1
	# shellcheck disable=SC2034
	W1SUM=$SUM
}

# v0_sum DM: the sha256 of the MiB of dm device DM at v's slice on m0.
v0_sum() {
	dd if="/dev/mapper/$1" bs=1M skip="$V0" count=1 iflag=direct status=none |
		sha256sum
}

# md_sum DEVICE: the sha256 of DEVICE's first 8 MiB (labels, journal).
md_sum() {
	dd if="$1" bs=1M count=8 iflag=direct status=none | sha256sum
}
