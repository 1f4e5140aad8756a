#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# slicepool assemble of a pool on metadata format 3
# (Documentation/slicepool-tool.rst, "assemble"): a pool of three members
# in two domains (m0 r:A, m1 r:B, m2 r:A) with two volumes of random data is
# torn down (dm devices, configfs) and the module reloaded.  The dry run
# plans it and writes nothing; assemble (a scan of /proc/partitions)
# brings back the pool (uuid, metadata format 3), the members with their
# names and domains, the volumes, their maps and data; a second run
# changes nothing and says so.  "vol remove --unbind" of v2 keeps it on
# the members (listed in discovered) and assemble binds it again with its
# data.  "pool remove --unbind" stops the pool (no dm device, no configfs
# tree).  With m2's device left out the pool comes up read-only: exit 3,
# m2 named, the hint to force, nothing bound, status shows no volume, and
# nothing written (assemble never forces); m2 back, a full assemble
# completes it.  A corrupt label A on m2 does not make it unusable: it
# comes up from label B.
. "$(dirname "$0")/lib.sh"

sp_disks 4
ktap_header
ktap_plan 44
sp_load
sp_teardown
# Every test disk: the scan must not find another test's leftovers.
sp_wipe "${DISKS[@]}"
D3=("${DISKS[@]:0:3}")

P=a3
C=$SP_CFG/$P
doms=(r:A r:B r:A)
pool3 --domains r:A,r:B,r:A $P --slice-mb 2 --min-domains 2
sum1='' sum2='' map1='' map2='' uuid=''	# set by two_volumes
two_volumes $P 8 6
# The metadata areas: every block before each member's data.
dmb=$(($(attr $P/members/m0/data_offset) >> 20))
[ "$dmb" -gt 0 ] || sp_die "m0's data_offset is below 1 MiB"

# md_sums: the sha256 of the first $dmb MiB of each of the three disks.
md_sums() {
	local d
	for d in "${D3[@]}"; do
		sum_dev "$d" "$dmb"
	done
}

# names DIR: the names in DIR, each followed by a space.
names() {
	local f out=
	for f in "$1"/*; do
		[ -e "$f" ] && out+="${f##*/} "
	done
	echo "$out"
}

# members_as_recorded: m0..m2 online with their domains, nothing else.
members_as_recorded() {
	local i
	[ "$(names "$C/members")" = "m0 m1 m2 " ] || return 1
	for i in 0 1 2; do
		[ "$(attr $P/members/m$i/state)" = online ] &&
			[ "$(attr $P/members/m$i/domain)" = "${doms[$i]}" ] &&
			[ "$(attr $P/members/m$i/path)" = "${DISKS[$i]}" ] || return 1
	done
}

# volumes_as_before: v1 and v2 bound with their maps and data.
volumes_as_before() {
	[ "$(names "$C/volumes")" = "v1 v2 " ] &&
		[ "$(cat "$C/volumes/v1/map")" = "$map1" ] &&
		[ "$(cat "$C/volumes/v2/map")" = "$map2" ] &&
		[ "$(sum_dev /dev/mapper/a3-v1 8)" = "$sum1" ] &&
		[ "$(sum_dev /dev/mapper/a3-v2 6)" = "$sum2" ]
}

pool_as_before() {
	members_as_recorded && volumes_as_before
}

# m1 draining: kept in the pool metadata through the reload.
echo 1 > "$C/members/m1/drain" || sp_die "drain m1"

# Down: no tool, the library's teardown; then the module reloaded.
sp_teardown
ktap_check "torn down: no configfs pool, no dm device" \
	test ! -d "$C" -a ! -e /dev/mapper/a3-v1 -a ! -e /dev/mapper/a3-v2
modprobe -r dm-slicepool || sp_die "modprobe -r dm-slicepool"
sp_load
before=$(md_sums)

sp_rc 0 "assemble --dry-run --json exits 0" --json assemble --dry-run
ktap_check "... plans pool a3 (format 3, read-write), its members with their domains and both volumes" \
	json '[p["name"] for p in d["pools"]] == ["a3"] and (lambda p: p["format"] == 3 and p["uuid"] == "'"$uuid"'" and p["mode"] == "read-write" and p["absent_members"] == [] and [(m["name"], m["domain"], m["device"], m["status"], m["result"]) for m in p["members"]] == [("m0", "r:A", "'"${DISKS[0]}"'", "current", "planned"), ("m1", "r:B", "'"${DISKS[1]}"'", "current", "planned"), ("m2", "r:A", "'"${DISKS[2]}"'", "current", "planned")] and [(v["name"], v["missing_slices"], v["result"]) for v in p["volumes"]] == [("v1", 0, "planned"), ("v2", 0, "planned")] and p["changes"] > 0)(d["pools"][0])'
ktap_check "... creates nothing in configfs" test ! -d "$C"
ktap_check "... and writes nothing to the members" test "$(md_sums)" = "$before"

sp_rc 0 "assemble exits 0" --json assemble
ktap_check "... reports the members enabled and the volumes started" \
	json '(lambda p: p["mode"] == "read-write" and [m["result"] for m in p["members"]] == ["enabled"] * 3 and [v["result"] for v in p["volumes"]] == ["started"] * 2)(d["pools"][0])'
ktap_check "pool a3 is back on metadata format 3 with its uuid" \
	test "$(attr $P/uuid)" = "$uuid" -a "$(attr $P/metadata_format)" = 3
ktap_check "members m0..m2 are online with their paths and recorded domains" \
	members_as_recorded
ktap_check "v1 and v2 are bound with their maps and data" volumes_as_before
ktap_check "m1 is still draining (kept in the metadata), m0 and m2 are not" \
	test "$(attr $P/members/m0/drain)$(attr $P/members/m1/drain)$(attr $P/members/m2/drain)" = 010
sp_rc 0 "inspect --json of m1's device exits 0" --json inspect "${DISKS[1]}"
ktap_check "... and shows m1 draining, m0 and m2 not" \
	json '[(m["name"], m["draining"]) for m in d["pools"][0]["members"]] == [("m0", False), ("m1", True), ("m2", False)]'
echo 0 > "$C/members/m1/drain" || sp_die "drain 0 on m1"

sp_rc 0 "a second assemble exits 0" assemble
ktap_check "... and says there is nothing to do" \
	grep -qx "  nothing to do: pool a3 is assembled" "$OUT"
sp_rc 0 "a second assemble --json exits 0" --json assemble
ktap_check "... with no change, every member and volume present" \
	json '(lambda p: p["changes"] == 0 and [m["result"] for m in p["members"]] == ["present"] * 3 and [v["result"] for v in p["volumes"]] == ["present"] * 2)(d["pools"][0])'
ktap_check "... and the pool is as it was" \
	pool_as_before

# vol remove --unbind keeps the volume on the members for assemble.
v2uuid=$(attr $P/volumes/v2/uuid)
sp_rc 0 "vol remove --unbind a3/v2 exits 0" vol remove --unbind $P/v2
ktap_check "... v2 is listed in discovered with its uuid and size, unbound, no dm device" \
	test "$(cat "$C/discovered")" = "v2 $v2uuid $((6 << 20))" -a \
	! -e "$C/volumes/v2" -a ! -e /dev/mapper/a3-v2
sp_rc 0 "assemble binds v2 again" assemble
ktap_check "... with its map and data" volumes_as_before

# m2's device missing: read-only, m2 named, nothing bound or written.
sp_rc 0 "pool remove --unbind a3 exits 0" pool remove --unbind $P
ktap_check "... and removes its dm devices and configfs tree" \
	test ! -d "$C" -a ! -e /dev/mapper/a3-v1 -a ! -e /dev/mapper/a3-v2
before=$(md_sums)
sp_rc 3 "assemble without m2's device exits 3" assemble "${DISKS[0]}" "${DISKS[1]}"
ktap_check "... names m2 as absent" \
	grep -q "^  ABSENT: member m2 (id 2, domain r:A, uuid [0-9a-f-]*): no device found$" "$OUT"
ktap_check "... says the pool is read-only and how to force it" \
	grep -q "^  READ-ONLY: pool a3 writes nothing .*'slicepool pool force a3'" "$OUT"
ktap_check "m0 and m1 are enabled, m2 is not configured" \
	test "$(attr $P/members/m0/state)" = online -a \
	"$(attr $P/members/m1/state)" = online -a ! -e "$C/members/m2"
ktap_check "the read-only pool publishes no volume, none is bound, no dm device" \
	test -f "$C/discovered" -a ! -s "$C/discovered" -a -d "$C/volumes" -a \
	-z "$(names "$C/volumes")" -a ! -e /dev/mapper/a3-v1
mkdir "$C/volumes/w" || sp_die "mkdir volume w"
w_size() {
	echo 1M > "$C/volumes/w/size"
}
ktap_expect_fail "the pool is read-only: creating a volume is refused" w_size
rmdir "$C/volumes/w" || sp_die "rmdir volume w"
sp_rc 3 "assemble --json again without m2 exits 3" --json assemble "${DISKS[0]}" "${DISKS[1]}"
ktap_check "... read-only, m2 absent, nothing changed, volumes not bound" \
	json '(lambda p: p["mode"] == "read-only" and p["degraded"] and p["absent_members"] == ["m2"] and p["changes"] == 0 and [(m["name"], m["result"]) for m in p["members"]] == [("m0", "present"), ("m1", "present"), ("m2", "absent")] and [v["result"] for v in p["volumes"]] == ["read-only"] * 2)(d["pools"][0])'
ktap_check "... and on stderr the hint to force" \
	err_has "slicepool pool force a3"
sp --json status $P
ktap_check "status shows the read-only pool: m0 and m1 online, no volume" \
	json '(lambda p: p["name"] == "a3" and [(m["name"], m["state"]) for m in p["members"]] == [("m0", "online"), ("m1", "online")] and p["volumes"] == [])(d["pools"][0])'
ktap_check "assemble did not force: no member's metadata was written" \
	test "$(md_sums)" = "$before"

# m2 back: a full assemble completes the pool.
sp_rc 0 "with m2 back, assemble exits 0" --json assemble
ktap_check "... enables m2 only, binds and starts both volumes" \
	json '(lambda p: p["mode"] == "read-write" and [m["result"] for m in p["members"]] == ["present", "present", "enabled"] and [v["result"] for v in p["volumes"]] == ["started"] * 2)(d["pools"][0])'
ktap_check "the pool is complete: members, maps and data" \
	pool_as_before

# The dry run on an assembled pool plans nothing.
sp_rc 0 "assemble --dry-run --json of the assembled pool exits 0" --json assemble --dry-run
ktap_check "... and plans nothing for a3" \
	json '(lambda p: p["changes"] == 0 and [m["result"] for m in p["members"]] == ["present"] * 3 and [v["result"] for v in p["volumes"]] == ["present"] * 2)(d["pools"][0])'
sp_rc 0 "the pool is read-write: v2 grows to 8 MiB" vol resize $P/v2 --size 8M

# A corrupt label A (block 0) on m2: label B still names its journal.
sp pool remove --unbind $P || sp_die "pool remove --unbind"
printf 'X' | dd of="${DISKS[2]}" bs=1 seek=200 conv=notrunc status=none ||
	sp_die "corrupt m2's label A"
sync
sp_rc 0 "assemble with m2's label A corrupt exits 0" --json assemble
ktap_check "... read-write, every member enabled, both volumes started" \
	json '(lambda p: p["mode"] == "read-write" and p["absent_members"] == [] and [m["result"] for m in p["members"]] == ["enabled"] * 3 and [v["result"] for v in p["volumes"]] == ["started"] * 2)(d["pools"][0])'
m2_back() {
	members_as_recorded && [ "$(sum_dev /dev/mapper/a3-v1 8)" = "$sum1" ]
}
ktap_check "... m2 online with its path and domain, v1 with its data" m2_back

sp_teardown
ktap_finish
