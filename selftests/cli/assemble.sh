#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# slicepool assemble after a module reload: the dry run changes nothing,
# the real run brings back the pool (same UUID), its members, volumes,
# maps, dm devices and data; a second run changes nothing. With a member
# left out the pool comes back degraded (exit 3, missing slices named) and
# a later full assemble completes it. A member with a corrupt superblock
# is refused with a clear message.
. "$(dirname "$0")/lib.sh"
# Written for metadata format 2 (sp_pin_format in selftests/lib/pool.sh).
export SP_POOL_FORMAT=2

sp_disks 4
ktap_header
ktap_plan 23
sp_load
sp_teardown
# All four: a full scan must not find another test's leftovers.
sp_wipe "${DISKS[@]}"
D3=("${DISKS[@]:0:3}")

P=as
pool3 $P --slice-mb 4 --weight-space 100 --weight-load 0 --min-domains 3
sum1='' sum2='' map1='' map2='' uuid=''	# set by two_volumes
two_volumes $P 16 12

sp_rc 0 "pool remove --unbind stops the pool" pool remove --unbind $P
ktap_check "... and removes its dm devices and configfs tree" \
	test ! -d "$SP_CFG/$P" -a ! -e /dev/mapper/as-v1 -a ! -e /dev/mapper/as-v2
modprobe -r dm-slicepool || sp_die "modprobe -r dm-slicepool"
sp_load

sp_rc 0 "assemble --dry-run --json" --json assemble --dry-run
ktap_check "... finds the pool, 3 members and 2 volumes" \
	json '[p["name"] for p in d["pools"]] == ["as"] and len(d["pools"][0]["members"]) == 3 and sorted(v["name"] for v in d["pools"][0]["volumes"]) == ["v1", "v2"] and not d["pools"][0]["degraded"]'
ktap_check "... and changes nothing" test ! -d "$SP_CFG/$P"

sp_rc 0 "assemble --json" --json assemble
ktap_check "pool is back with its UUID, members online" \
	test "$(attr $P/uuid)" = "$uuid" -a "$(attr $P/members/m0/state)" = online \
	-a "$(attr $P/members/m1/state)" = online -a "$(attr $P/members/m2/state)" = online
ktap_check "volume maps are unchanged" \
	test "$(cat "$SP_CFG/$P/volumes/v1/map")" = "$map1" -a "$(cat "$SP_CFG/$P/volumes/v2/map")" = "$map2"
ktap_check "dm devices are back with their data" \
	test "$(sum_dev /dev/mapper/as-v1 16)" = "$sum1" -a "$(sum_dev /dev/mapper/as-v2 12)" = "$sum2"

sp_rc 0 "a second assemble succeeds" --json assemble
ktap_check "... and finds everything present" \
	json 'all(m["result"] == "present" for m in d["pools"][0]["members"]) and all(v["result"] == "present" for v in d["pools"][0]["volumes"])'

# vol remove --unbind keeps the volume on disk for assemble to bind again.
sp_rc 0 "vol remove --unbind as/v2" vol remove --unbind $P/v2
ktap_check "... lists v2 in discovered and removes its dm device" \
	test -n "$(grep '^v2 ' "$SP_CFG/$P/discovered")" -a ! -e /dev/mapper/as-v2
sp_rc 0 "assemble binds v2 again" assemble
ktap_check "... with its data" test "$(sum_dev /dev/mapper/as-v2 12)" = "$sum2"

# Degraded: leave m2 out (every volume spans three domains).
sp pool remove --unbind $P || sp_die "pool remove --unbind"
sp_rc 3 "assemble without m2 exits 3 (degraded)" assemble "${DISKS[0]}" "${DISKS[1]}"
ktap_check "... and names the missing slices" grep -q "MISSING: volume v1" "$OUT"
sp --json status $P
ktap_check "status shows missing slices on both volumes" \
	json 'all(v["missing_slices"] > 0 for v in d["pools"][0]["volumes"])'
sp_rc 0 "a full assemble adds m2 back" assemble
sp --json status $P
complete() {
	json 'all(v["missing_slices"] == 0 and v["dm"]["state"] == "active" for v in d["pools"][0]["volumes"])' &&
		test "$(sum_dev /dev/mapper/as-v1 16)" = "$sum1"
}
ktap_check "... reloads the tables, and the volumes are complete with their data" \
	complete

# A corrupt superblock on m2: refused, the rest comes back degraded.
sp pool remove --unbind $P || sp_die "pool remove --unbind"
saved=$(mktemp)
dd if="${DISKS[2]}" of="$saved" bs=4096 count=1 iflag=direct status=none
printf 'X' | dd of="${DISKS[2]}" bs=1 seek=200 conv=notrunc status=none
sync
sp_rc 1 "assemble with a corrupt superblock exits 1" assemble "${D3[@]}"
ktap_check "... naming the device and the checksum" \
	grep -q "refused ${DISKS[2]}: superblock (block 0): checksum mismatch" "$OUT"
ktap_check "... and assembles the other members" \
	test "$(attr $P/members/m0/state)" = online -a ! -d "$SP_CFG/$P/members/m2"
sp pool remove --unbind $P
dd if="$saved" of="${DISKS[2]}" bs=4096 count=1 oflag=direct status=none
rm -f "$saved"

sp_teardown
ktap_finish
