#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Online resize: expand takes new slices from the lightest domain first
# (here one the volume did not use), existing data keeps its checksum, the
# dm device follows after a table reload, shrink releases the tail, is
# refused below a live table and below min_domains.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

sp_start 3 14
sp_wipe "${DISKS[@]:0:3}"

P=rs
C=$SP_CFG/$P
sp_pool_by_load $P 4
sp_member $P m0 "${DISKS[0]}" dA 0
sp_member $P m1 "${DISKS[1]}" dB 0
sp_member $P m2 "${DISKS[2]}" dC 100
sp_volume $P v 16M
sp_dm rsv $P v
ktap_check "created on dA and dB only (2/2/0)" \
	[ "$(sp_map_count $P v m0)" -eq 2 -a "$(sp_map_count $P v m1)" -eq 2 -a "$(sp_map_count $P v m2)" -eq 0 ]

sp_fill /dev/mapper/rsv 16
sum16=$(sp_sum /dev/mapper/rsv 16)
free2=$(cat "$C"/members/m2/free_slices)

# Now dC is the lightest: the expansion goes there.
sp_lightest $P m2
ktap_check "online expand to 24M with the table live" sh -c "echo 24M > $C/volumes/v/size"
ktap_check "expand took both new slices from dC, the lightest" \
	[ "$(sp_map_count $P v m2)" -eq 2 -a "$(cat "$C"/members/m2/free_slices)" -eq $((free2 - 2)) ]
ktap_check "data unchanged after expand" \
	[ "$(sp_sum /dev/mapper/rsv 16)" = "$sum16" ]
dmsetup reload rsv --table "0 $((24 << 11)) slicepool $P v" && dmsetup resume rsv
ktap_check "dm device follows the expand after reload (24 MiB)" \
	[ "$(blockdev --getsize64 /dev/mapper/rsv)" -eq $((24 << 20)) ]
sp_fill /dev/mapper/rsv 8 16
sum12=$(sp_sum /dev/mapper/rsv 12)

ktap_check "shrink below the live table is refused" sp_write_fails sh -c "echo 12M > $C/volumes/v/size"
dmsetup reload rsv --table "0 $((12 << 11)) slicepool $P v" && dmsetup resume rsv
free0=$(cat "$C"/members/m0/free_slices)
free1=$(cat "$C"/members/m1/free_slices)
free2=$(cat "$C"/members/m2/free_slices)
ktap_check "shrink to 12M after reloading the table" sh -c "echo 12M > $C/volumes/v/size"
ktap_check "shrink released the tail (3 slices left)" [ "$(wc -l < "$C"/volumes/v/map)" -eq 3 ]
f=$(( $(cat "$C"/members/m0/free_slices) + $(cat "$C"/members/m1/free_slices) + $(cat "$C"/members/m2/free_slices) - free0 - free1 - free2 ))
ktap_check "three slices returned to the pool ($f)" [ $f -eq 3 ]
ktap_check "data of the kept slices unchanged" \
	[ "$(sp_sum /dev/mapper/rsv 12)" = "$sum12" ]
# Logical 0 and 2 are on dA, 1 on dB: 1 slice would leave one domain.
dmsetup reload rsv --table "0 $((4 << 11)) slicepool $P v" && dmsetup resume rsv
kmsg_mark
ktap_check "shrink below min_domains refused" sp_write_fails sh -c "echo 4M > $C/volumes/v/size"
ktap_check "the refusal names min_domains" kmsg_has 'min_domains is 2'
dmsetup remove rsv
# free_sum / total_sum: over the pool's three members
free_sum() { echo $(( $(cat "$C"/members/m0/free_slices) + $(cat "$C"/members/m1/free_slices) + $(cat "$C"/members/m2/free_slices) )); }
total_sum() { echo $(( $(cat "$C"/members/m0/total_slices) + $(cat "$C"/members/m1/total_slices) + $(cat "$C"/members/m2/total_slices) )); }
held=$(wc -l < "$C"/volumes/v/map)
freed_before=$(free_sum)
ktap_check "delete (size 0) is accepted and empties the map" \
	sh -c "echo 0 > $C/volumes/v/size && [ \$(wc -c < $C/volumes/v/map) -eq 0 ]"
freed_after=$(free_sum)
ktap_check "delete frees every slice: free_slices rose by the $held the volume held ($freed_before -> $freed_after), all $(total_sum) free" \
	[ "$held" -gt 0 -a $((freed_after - freed_before)) -eq "$held" -a "$freed_after" -eq "$(total_sum)" ]

sp_unload
ktap_finish
