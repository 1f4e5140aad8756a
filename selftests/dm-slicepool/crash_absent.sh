#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# An uncommitted expand must never beat a committed one, even when the
# member holding its orphans was absent while the volume was expanded
# again:
#  - expand v, "crash" after the owner records reached member x but before
#    any volume record and before the owner records of m0 and m1 (their
#    metadata blocks are restored, x keeps its orphans);
#  - reassemble without x, expand v again (the same logical slices now go
#    to m0 and m1), write known data;
#  - bring x back, its item made first and then last: the map is the
#    committed one in both orders, the data is intact, and "reclaim" frees
#    exactly x's orphans.
. "$(dirname "$0")/lib.sh"

sp_disks 3
ktap_header
ktap_plan 14
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:3}"
W=$(mktemp -d)
trap 'dmsetup remove --retry spca 2>/dev/null; rm -rf "$W"' EXIT

# save|restore <what> <first block> <count> <disk index>...
blocks() {
	local op=$1 what=$2 first=$3 count=$4 i
	shift 4
	for i in "$@"; do
		if [ "$op" = save ]; then
			dd if="${DISKS[$i]}" of="$W/$what.$i" bs=4096 skip="$first" count="$count" iflag=direct status=none
		else
			dd if="$W/$what.$i" of="${DISKS[$i]}" bs=4096 seek="$first" count="$count" oflag=direct conv=notrunc status=none
		fi
	done
}
m0() { sp_member ca m0 "${DISKS[0]}" dA; }
m1() { sp_member ca m1 "${DISKS[1]}" dB; }
mx() { sp_member ca x "${DISKS[2]}" dC; }
map() { cat "$SP_CFG"/ca/volumes/v/map; }
used() {
	echo $(( $(cat "$SP_CFG/ca/members/$1/total_slices") - $(cat "$SP_CFG/ca/members/$1/free_slices") ))
}
checksum() {
	sp_dm spca ca v
	md5sum < /dev/mapper/spca | cut -d' ' -f1
	dmsetup remove --retry spca
}

# v (2 slices) lives on m0 and m1 only; x joins afterwards.
sp_pool ca 4
m0
m1
sp_volume ca v 8M
mx
blocks save vol 1 8 0 1 2
blocks save own 9 16 0 1

# Expand to 10 slices; some of the 8 new ones land on x.
echo 40M > "$SP_CFG"/ca/volumes/v/size || sp_die "first expand"
nx=$(sp_map_count ca v x)
[ "$nx" -gt 0 ] || sp_die "the first expand placed nothing on x"
sp_teardown
# Crash: x's owner records are durable, nothing else of the expand is.
blocks restore vol 1 8 0 1 2
blocks restore own 9 16 0 1

# Reassemble without x and expand again.
sp_pool ca
m0
m1
mkdir "$SP_CFG"/ca/volumes/v
ktap_check "without x the committed size wins (2 slices)" \
	[ "$(map | wc -l)" -eq 2 ]
echo 40M > "$SP_CFG"/ca/volumes/v/size || sp_die "second expand"
committed=$(map)
ktap_check "the second expand put all 10 slices on m0 and m1" \
	[ "$(sp_map_count ca v m0)" -eq $(( 10 - $(sp_map_count ca v m1) )) ]
sp_dm spca ca v
head -c $((40 << 20)) /dev/urandom > "$W/data"
dd if="$W/data" of=/dev/mapper/spca bs=1M oflag=direct status=none || sp_die "write data"
dmsetup remove --retry spca
sum=$(md5sum < "$W/data" | cut -d' ' -f1)
sp_teardown

# x back, its item made first, then last.
for order in first last; do
	sp_pool ca
	if [ "$order" = first ]; then
		mx
		m0
		m1
	else
		m0
		m1
		mx
	fi
	mkdir "$SP_CFG"/ca/volumes/v
	ktap_check "x enabled $order: no slice of v maps to x" [ "$(sp_map_count ca v x)" -eq 0 ]
	ktap_check "x enabled $order: the map is the committed one" [ "$(map)" = "$committed" ]
	ktap_check "x enabled $order: the data is intact" [ "$(checksum)" = "$sum" ]
	ktap_check "x enabled $order: x's $nx slices are orphans (still allocated)" \
		[ "$(used x)" -eq "$nx" ]
	sp_teardown
done

sp_pool ca
mx
m0
m1
echo 1 > "$SP_CFG"/ca/reclaim
ktap_check "reclaim frees exactly x's $nx orphans" \
	[ "$(cat "$SP_CFG"/ca/reclaimed)" -eq "$nx" ]
sp_teardown
sp_pool ca
mx
m0
m1
mkdir "$SP_CFG"/ca/volumes/v
ktap_check "after reclaim the map is still the committed one" [ "$(map)" = "$committed" ]
ktap_check "after reclaim the data is intact" [ "$(checksum)" = "$sum" ]
ktap_check "no duplicate claim was resolved in favour of x" \
	sh -c "! dmesg | grep -q 'ca: volume v slice [0-9]* claimed twice.*, keeping x/'"
sp_unload
ktap_finish
