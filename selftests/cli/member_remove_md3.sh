#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# slicepool member remove on a pool of metadata format 3
# (Documentation/slicepool-tool.rst, "member remove"): the member is taken
# out of the pool's metadata (its "remove" attribute), so the pool stays
# read-write and a reassembly after a module reload does not miss it, and
# skips the removed member's device (not refused: exit 0); a member
# holding a slice is refused and stays; a member forced out of the pool,
# which has no configfs item any more, is removed once the volume whose
# slice it held is deleted.
. "$(dirname "$0")/lib.sh"

sp_disks 3
ktap_header
ktap_plan 19
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:3}"

P=r3
C=$SP_CFG/$P
sp pool create $P --slice-mb 2 --min-domains 2 || sp_die "pool create"
echo 3 > "$C/metadata_format" || sp_die "metadata_format 3"
sp member add $P m0 --path "${DISKS[0]}" --domain dA || sp_die "member add m0"
sp member add $P m1 --path "${DISKS[1]}" --domain dB || sp_die "member add m1"
# Two slices in two domains: one on m0, one on m1.
sp vol create $P/v --size 4M || sp_die "vol create v"
sp member add $P m2 --path "${DISKS[2]}" --domain dC || sp_die "member add m2"
fill /dev/mapper/r3-v 4
sum=$(sum_dev /dev/mapper/r3-v 4)
ktap_check "v has one slice on m0 and one on m1" \
	test "$(awk '{ print $2 }' "$C/volumes/v/map" | sort | tr '\n' ' ')" = "m0 m1 "

sp_rc 1 "member remove of m0, which holds a slice of v, exits 1" member remove $P m0
ktap_check "... says it holds slices" err_has "it holds slices of a volume or of a migration"
ktap_check "... and m0 stays online" test "$(attr $P/members/m0/state)" = online

sp_rc 0 "member remove of m2, which holds none, exits 0" member remove $P m2
ktap_check "m2's configfs item is gone" test ! -e "$C/members/m2"
sp_rc 0 "the pool still writes its metadata: volume w is created" vol create $P/w --size 2M

# A module reload: the pool comes back complete without m2.  m2's device
# keeps the labels of a removed member: the scan skips it, and says so.
sp_teardown
modprobe -r dm-slicepool || sp_die "modprobe -r dm-slicepool"
sp_load
why="member m2 was removed from pool r3 (wipe blocks 0 and 1 to reuse the device)"
sp_rc 0 "assemble after a reload exits 0 (m2 is not missed)" --json assemble
ktap_check "... read-write, members m0 and m1, no absent member" \
	json '(lambda p: p["mode"] == "read-write" and p["absent_members"] == [] and [m["name"] for m in p["members"]] == ["m0", "m1"])(d["pools"][0])'
ktap_check "... m2's device is in removed_devices, none refused" \
	json 'd["removed_devices"] == [{"device": "'"${DISKS[2]}"'", "reason": "'"$why"'"}] and d["refused"] == []'
ktap_check "v's data is intact" test "$(sum_dev /dev/mapper/r3-v 4)" = "$sum"
sp_rc 0 "assemble again exits 0" assemble
ktap_check "... its report skips m2's device" \
	grep -qxF "skipped ${DISKS[2]}: $why" "$OUT"

# m1 forced out: assemble without its device, force the pool.
sp_teardown
modprobe -r dm-slicepool || sp_die "modprobe -r dm-slicepool"
sp_load
sp assemble "${DISKS[0]}"
[ "$RC" -eq 3 ] || sp_die "assemble without m1 exited $RC, not 3"
sp pool force $P || sp_die "pool force"
# Read-write now: a second assemble binds the volumes (v has lost a slice).
sp assemble "${DISKS[0]}"
[ -d "$C/volumes/v" ] || sp_die "v is not bound after the force"
# w's one slice may be on m1 as well.
sp vol remove $P/w || sp_die "vol remove w"
sp_rc 1 "member remove of m1 (forced out, a slice of v on it) exits 1" member remove $P m1
ktap_check "... and leaves no configfs item behind" test ! -e "$C/members/m1"
sp_rc 0 "vol remove of v (its slice on m1 is lost) exits 0" vol remove $P/v
sp_rc 0 "member remove of m1, forced out and without an item, exits 0" member remove $P m1
ktap_check "... no configfs item is left" test ! -e "$C/members/m1"
sp_rc 0 "the pool writes its metadata: volume x is created" vol create $P/x --size 2M

sp_teardown
ktap_finish
