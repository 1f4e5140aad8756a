#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Placement on disk: a distinct 4 KiB pattern written through the dm device
# into every logical slice (at two offsets) is found on the raw member at
# data_offset + physical * slice_size + offset, as the volume's map says.
. "$(dirname "$0")/lib.sh"

sp_disks 4
ktap_header
ktap_plan 5
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:4}"

SLICE_MB=4
SLICE=$((SLICE_MB << 20))
NSL=16
sp_pool pd $SLICE_MB
sp_member pd m0 "${DISKS[0]}" rackA
sp_member pd m1 "${DISKS[1]}" rackA
sp_member pd m2 "${DISKS[2]}" rackB
sp_member pd m3 "${DISKS[3]}" rackC
sp_volume pd v $((NSL * SLICE_MB))M
sp_dm spv pd v
MAP=$SP_CFG/pd/volumes/v/map

ktap_check "map lists $NSL logical slices" [ "$(wc -l < "$MAP")" -eq $NSL ]
ktap_check "volume spans at least min_domains (2) domains" [ "$(sp_map_domains pd v)" -ge 2 ]

tok=$(od -An -tx8 -N8 /dev/urandom | tr -d ' ')
blk=$(mktemp)
trap 'rm -f "$blk"' EXIT
pattern() {	# pattern <logical> <which>
	printf '%-4095s\n' "slicepool $tok logical $1 part $2" > "$blk"
}
# offsets <logical>: offs[] = two 4 KiB block offsets inside the slice
# (set without a subshell: each program or fork costs much under TCG)
offsets() {
	offs=($((($1 % 7) * 4096)) $((SLICE - 4096)))
}

werr=0
for ((i = 0; i < NSL; i++)); do
	offsets $i
	for part in 0 1; do
		off=${offs[$part]}
		pattern $i $part
		dd if="$blk" of=/dev/mapper/spv bs=4096 seek=$(((i * SLICE + off) / 4096)) \
			conv=notrunc oflag=direct status=none || werr=1
	done
done
ktap_check "patterns written through /dev/mapper/spv" [ $werr -eq 0 ]

found=0 missing=0
while read -r l m p; do
	read -r dev < "$SP_CFG/pd/members/$m/path"
	read -r doff < "$SP_CFG/pd/members/$m/data_offset"
	offsets "$l"
	for part in 0 1; do
		off=${offs[$part]}
		pattern "$l" $part
		if dd if="$dev" bs=4096 skip=$(((doff + p * SLICE + off) / 4096)) count=1 \
			iflag=direct status=none | cmp -s - "$blk"; then
			found=$((found + 1))
		else
			missing=$((missing + 1))
			echo "# logical $l part $part not at $dev physical $p"
		fi
	done
done < "$MAP"
ktap_check "all $((NSL * 2)) patterns found where the map predicts ($found found)" \
	[ $found -eq $((NSL * 2)) -a $missing -eq 0 ]

# Label A (block 0, magic "SP3L") holds data_offset in sectors (le64 at
# byte 88, Documentation/dm-slicepool-metadata.rst, "Label"); it agrees
# with configfs.
dd if="${DISKS[0]}" of="$blk" bs=4096 count=1 iflag=direct status=none
lb_magic=$(dd if="$blk" bs=1 skip=4 count=4 status=none)
lb_off=$(($(od -An -tu8 -j88 -N8 "$blk" | tr -d ' ') * 512))
ktap_check "label A (magic '$lb_magic') data_offset matches configfs ($lb_off)" \
	[ "$lb_magic" = SP3L -a "$lb_off" -eq "$(cat "$SP_CFG/pd/members/m0/data_offset")" ]

sp_unload
ktap_finish
