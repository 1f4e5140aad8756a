#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Owner records past nr_slices are cleared, durably, before a member
# grows.  Format zeroes every owner block whole, so only a foreign or
# damaged writer leaves a record there; this test makes one: the owner
# block of a 31-slice member whose slices are all allocated is copied onto
# a 15-slice member of another pool (its own 15 records become orphans
# there, and "reclaim" clears them, keeping records 15..30 of the copied
# block).  Growing the member to 31 slices must clear those 16 records
# before its superblock says 31, so that after a module reload the new
# slices are still free and not orphans of an unknown volume.
. "$(dirname "$0")/lib.sh"
# Written for metadata format 2 (sp_pin_format in selftests/lib/pool.sh).
export SP_POOL_FORMAT=2
. "$SP_TOP/selftests/lib/kmsg.sh"

C=$SP_CFG/mgs
M=$C/members/m0
DEV=/dev/mapper/spgrow
sp_start 1 4
mg_fresh
W=$(mktemp -d)
trap mg_cleanup EXIT
slices() { echo "$(cat "$M"/total_slices) $(cat "$M"/free_slices)"; }
# Are all 127 records of the owner block (block 17) zero on disk?
owners_zero() {
	[ "$(dd if=$DEV bs=4096 skip=17 count=1 iflag=direct status=none |
		tail -c +17 | head -c $((127 * 32)) | tr -d '\0' | wc -c)" -eq 0 ]
}
member() {	# member POOL [SLICE_MB]: the pool with m0 on the device
	sp_pool "$@"
	echo 1 > "$SP_CFG/$1"/min_domains
	sp_member "$1" m0 $DEV dA
}

# A 128 MiB member (31 slices of 4 MiB) with every slice allocated.
mg_linear $((128 << 11)) || sp_die "dm-linear of 128 MiB"
member full 4
sp_volume full v 124M
[ "$(cat "$SP_CFG"/full/members/m0/free_slices)" -eq 0 ] || sp_die "v did not take every slice"
sp_teardown
dd if=$DEV of="$W"/owners bs=4096 skip=17 count=1 iflag=direct status=none ||
	sp_die "save the owner block"

# A 64 MiB member (15 slices) of another pool, with that owner block.
sp_wipe $DEV
mg_linear $((64 << 11)) || sp_die "dm-linear of 64 MiB"
member mgs 4
sp_teardown
dd if="$W"/owners of=$DEV bs=4096 seek=17 count=1 oflag=direct conv=notrunc status=none ||
	sp_die "copy the owner block"
member mgs
[ "$(slices)" = "15 0" ] || sp_die "the copied records are not orphans: $(slices)"
echo 1 > "$C"/reclaim || sp_die "reclaim"
[ "$(slices)" = "15 15" ] || sp_die "reclaim did not free the 15 orphans: $(slices)"

mg_linear $((128 << 11)) || sp_die "dm-linear of 128 MiB"
kmsg_mark
ktap_check "the member grows to 31 slices, all free" \
	sh -c "echo 1 > $M/revalidate_size && [ \"\$(cat $M/total_slices) \$(cat $M/free_slices)\" = '31 31' ]"
ktap_check "the 16 stale records past slice 15 are reported cleared" \
	kmsg_has '16 owner records past slice 15 were not zero; cleared before growing'
sp_teardown
ktap_check "the owner block on disk has no record left (records 15..30 zero)" owners_zero
sp_unload
sp_load
member mgs
ktap_check "after a module reload the member has 31 slices, all free" [ "$(slices)" = "31 31" ]
ktap_finish
